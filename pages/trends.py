"""Trends and regional differences (directors, steering groups, coordinators): the year so far,
then one section at a time: the months by reason, the school years side by side and the tiers;
groups over the years; where each region and municipality stands; wellbeing beside absence."""

import streamlit as st

from lasnaolo import charts, i18n, trends
from lasnaolo.contract import SUPPRESSION
from lasnaolo.ui import data, filters, maps, page, widgets
from lasnaolo.ui.session import t

ctx = page.start("trends")
st.title(t("trends.heading"))

years = sorted(data.school_years(ctx.scope))
view = filters.trend_view(data.schools(ctx.scope), years)
shown = data.trends(ctx.scope, view)
if shown.monthly.empty:
    st.info(t("trends.no_data") if shown.published else t("trends.not_published"))
    st.stop()
newest = shown.school_years[-1]

st.subheader(t("trends.ytd", year=i18n.school_year(newest), month=i18n.month(shown.latest_month, ctx.language)))
widgets.headline(shown.year_to_date, ["absence_rate", "tier23_share", "unauthorised_rate"])

view, tab = filters.trend_section(view)  # one section drawn at a time
with tab:
    if view.section == "time":
        st.subheader(t("trends.by_category"))
        st.caption(t("trends.by_category_caption"))
        widgets.figure("absence-by-reason", charts.category_chart, charts.category_table, shown.monthly, ctx.language)

        st.subheader(t("trends.by_year"))
        st.caption(t("trends.by_year_caption"))
        widgets.figure("absence-by-school-year", charts.category_chart, charts.category_table, shown.yearly, ctx.language)

        st.subheader(t("trends.seasonality"))
        st.caption(t("trends.seasonality_caption"))
        widgets.figure("school-years", charts.seasonal_rate_chart, charts.seasonal_rate_table, shown.monthly, ctx.language,
                       view.metric)

        st.subheader(t("trends.tiers"))
        st.caption(t("trends.tiers_caption"))
        widgets.figure("tiers-by-month", charts.tier_trend_chart, charts.tier_trend_table, shown.monthly, ctx.language)
    elif view.section == "groups":
        st.subheader(t("trends.groups"))
        for column, (frame, group, heading) in zip(st.columns(3), [
            (shown.by_band, "grade_band", "trends.by_band"), (shown.by_type, "school_type", "trends.by_type"),
            (shown.by_language, "language", "trends.by_language"),
        ]):
            with column:
                st.markdown(f"**{t(heading)}**")
                if frame.empty:
                    st.caption(t("trends.group_not_published"))
                    continue
                labels = {code: t(f"{group}.{code}") for code in sorted(frame[group].unique())}
                widgets.figure(f"by-{group}", charts.group_trend_chart, charts.group_trend_table, frame, group, labels,
                               view.metric, ctx.language)
    elif view.section == "areas":
        st.subheader(t("trends.regions", year=i18n.school_year(newest)))
        st.caption(t("trends.regions_caption"))
        widgets.figure("regions", charts.region_tile_chart, charts.region_tile_table, shown.regions, view.metric,
                       ctx.language)

        if not shown.municipalities.empty:
            st.subheader(t("trends.ranking", year=i18n.school_year(newest)))
            st.caption(t("trends.ranking_caption", n=SUPPRESSION.min_pupils))
            region = filters.ranking_region(view, shown.municipalities)  # one region at a time when there are several
            widgets.figure("municipalities", charts.ranking_chart, charts.ranking_table,
                           trends.in_region(shown.municipalities, region), ctx.language)

        boundaries = maps.municipality_boundaries()
        if boundaries and not shown.municipalities.empty:
            st.subheader(t("trends.map", year=i18n.school_year(newest)))
            st.caption(t("trends.map_caption", n=SUPPRESSION.min_pupils))
            widgets.chart_with_table(charts.choropleth_chart(boundaries, shown.municipalities, ctx.language),
                                     charts.ranking_table(shown.municipalities, ctx.language), "municipality-map")
    elif shown.wellbeing.empty:
        st.info(t("trends.no_wellbeing"))
    else:
        st.subheader(t("trends.wellbeing", indicator=t(f"indicator.{view.indicator}"),
                       grades=view.grade_group.replace("-", "–")))
        withheld = int(shown.wellbeing["value"].isna().sum())
        st.caption(t("trends.wellbeing_caption", n=SUPPRESSION.min_respondents)
                   + (" " + t("trends.wellbeing_withheld", count=withheld) if withheld else ""))
        widgets.figure("wellbeing", charts.wellbeing_chart, charts.wellbeing_table, shown.wellbeing, view.indicator,
                       ctx.language)
