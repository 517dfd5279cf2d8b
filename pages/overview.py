"""Overview: the headline figures of the user's scope for a school year against the same point
last year, the months so far, the tiers, and which schools' data is missing."""

import streamlit as st

from lasnaolo import charts, i18n
from lasnaolo.contract import SUPPRESSION
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
# The earliest year has no year before it: say so instead of promising a comparison.
has_previous = any(change.previous is not None for change in view.report.changes)
st.caption(t("overview.change_method") if has_previous else t("overview.no_previous_year"))

widgets.headline(view.report.changes, ["absence_rate", "tier23_share", "unauthorised_rate"])

trend, tiers = st.columns(2)
with trend:
    st.subheader(t("overview.trend"))
    widgets.figure("absence-by-month", charts.seasonal_rate_chart, charts.seasonal_rate_table, view.monthly, ctx.language)
with tiers:
    st.subheader(t("overview.tiers"))
    shares = charts.tier_shares(view.report.figures)
    if shares.empty:
        st.write(t("metric.suppressed", n=SUPPRESSION.min_pupils))
    else:
        widgets.figure("tiers", charts.tier_chart, charts.tier_table, shares, ctx.language)

missing = view.schools_missing_latest
if view.report.figures.latest_month and not missing.empty:
    st.warning(t("overview.missing", month=i18n.month(view.report.figures.latest_month, ctx.language), count=len(missing)))
    names = data.schools(ctx.scope).set_index("school_id")["school_name"].dropna()
    st.dataframe({
        t("overview.school"): missing["school_id"].map(names).fillna(missing["school_id"]),
        t("overview.latest_month"): missing["latest_month"].map(lambda m: i18n.month(m, ctx.language) if m else "–"),
    }, hide_index=True)
elif view.report.figures.latest_month:
    st.success(t("overview.all_present", n=len(data.schools(ctx.scope))))

st.subheader(t("overview.targets"))
goals = data.target_overview(ctx.scope, year)
if goals.empty:
    st.info(t("overview.no_targets"), icon=":material/flag:")
else:
    widgets.table_with_downloads(charts.targets_table(goals, ctx.language), f"targets-{year}")
