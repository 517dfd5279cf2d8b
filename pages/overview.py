"""Overview: the headline figures of the user's scope for a school year against the same point
last year, the months so far, the tiers, and which schools' data is missing."""

import pandas as pd
import streamlit as st

from lasnaolo import charts, i18n
from lasnaolo.ui import data, page, shell, widgets
from lasnaolo.ui.session import t

ctx = page.start("overview")
st.title(t("overview.heading", scope=shell.scope_text(ctx.account)))

years = data.school_years(ctx.scope)
if not years:
    st.info(t("overview.no_data"))
    st.stop()
year = st.selectbox(t("overview.school_year"), years, format_func=i18n.school_year)
view = data.overview(ctx.scope, year)
if view.data_up_to:
    st.caption(t("overview.data_up_to", date=i18n.day(view.data_up_to, ctx.language), year=i18n.school_year(year)))
st.caption(t("overview.change_method"))

widgets.headline(view.report, ["absence_rate", "tier23_share", "unauthorised_rate"])

trend, tiers = st.columns(2)
with trend:
    st.subheader(t("overview.trend"))
    table = widgets.percent_columns(view.monthly, ["absence_rate"])[["school_year", "month", "absence_rate"]]
    widgets.chart_with_table(charts.seasonal_rate_chart(view.monthly, ctx.language), table.rename(columns={
        "school_year": t("overview.series"), "month": t("overview.month"), "absence_rate": t("metric.absence_rate")}))
with tiers:
    st.subheader(t("overview.tiers"))
    shares = pd.DataFrame({"tier": [1, 2, 3], "share": [view.report.figures.tier1_share, view.report.figures.tier2_share,
                                                         view.report.figures.tier3_share]}).dropna()
    if shares.empty:
        st.write(t("metric.suppressed", n=5))
    else:
        table = widgets.percent_columns(shares.assign(tier=shares["tier"].map(lambda n: t(f"tier.{n}"))), ["share"])
        widgets.chart_with_table(charts.tier_chart(shares, ctx.language), table.rename(
            columns={"tier": "", "share": t("overview.share")}))

if view.report.figures.latest_month and not view.schools_missing_latest.empty:
    st.warning(t("overview.missing", month=i18n.month(view.report.figures.latest_month, ctx.language),
                 count=len(view.schools_missing_latest)))
    names = data.schools(ctx.scope).set_index("school_id")["school_name"]
    missing = view.schools_missing_latest.assign(
        school=lambda f: f["school_id"].map(names).fillna(f["school_id"]),
        latest=lambda f: f["latest_month"].map(lambda m: i18n.month(m, ctx.language) if isinstance(m, str) else "–"))
    st.dataframe(missing[["school", "latest"]].rename(columns={"school": t("overview.school"), "latest": t("overview.latest_month")}),
                 hide_index=True)
elif view.report.figures.latest_month:
    st.success(t("overview.all_present"))

st.info(t("overview.targets_placeholder"), icon=":material/flag:")
