"""School comparison (rectors, directors, steering groups): the school against similar schools
of its region, in a funnel plot and in words, and month by month. Those who lead several schools
see it as one of three sections, one drawn at a time: the schools needing attention (a row opens
the school), the school, and the positive outliers."""

import streamlit as st

from lasnaolo import charts, comparison, i18n, reference
from lasnaolo.contract import SUPPRESSION
from lasnaolo.scope import Unit
from lasnaolo.stats import PeerCriteria
from lasnaolo.ui import data, filters, page, widgets
from lasnaolo.ui.session import t

ctx = page.start("comparison")
st.title(t("compare.heading"))

schools = data.schools(ctx.scope)
years = data.school_years(ctx.scope)
if schools.empty or not years:
    st.info(t("overview.no_data"))
    st.stop()
names = widgets.school_choices(schools)
several = ctx.account.role != "rector"  # those who lead several schools: where to look first, whom to learn from
left, middle = st.columns(2)
year = (left if several else middle).selectbox(t("overview.school_year"), years, format_func=i18n.school_year,
                                               key="compare_year")
with st.expander(t("compare.peer_group")):
    criteria = PeerCriteria(
        same_type=st.checkbox(t("compare.same_type"), value=True),
        same_language=st.checkbox(t("compare.same_language"), value=True),
        size_factor=st.select_slider(t("compare.size_factor"), [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0], value=2.0,
                                     format_func=lambda f: i18n.number(f, ctx.language, 1)),
    )
if several:
    asked = st.query_params.get("section", comparison.SECTIONS[0])
    opening = asked if asked in comparison.SECTIONS else comparison.SECTIONS[0]
    section, shown = filters.sections("compare.section", comparison.SECTIONS, opening)
    st.query_params["section"] = section
else:
    section, shown = "school", st.container()

with shown:
    if section == "attention":
        st.subheader(t("attention.heading"))
        st.caption(t("attention.caption"))
        regions = sorted(set(schools["region_code"]))
        area = None  # a scope of several regions lists one region at a time: thousands of rows guide no one
        if len(regions) > 1:
            area = Unit("region", st.selectbox(t("attention.region"), regions, key="attention_region", persist_state="page",
                                               format_func=lambda code: reference.region_name(code, ctx.language)))
        verdicts = comparison.by_attention(data.school_verdicts(ctx.scope, year, criteria, area))
        widgets.table_choosing(charts.attention_table(verdicts, ctx.language), list(verdicts["school_id"]), "attention",
                               chooses="compare_school",
                               then=lambda: filters.open_section("compare.section", "school"))
        if verdicts["latest_month"].nunique(dropna=False) == 1 and isinstance(verdicts["latest_month"].iloc[0], str):
            st.caption(t("attention.through", month=i18n.month(verdicts["latest_month"].iloc[0], ctx.language)))
    elif section == "outliers":
        st.subheader(t("compare.outliers"))
        st.caption(t("compare.outliers_caption"))
        outliers = data.positive_outliers(ctx.scope, year, criteria)
        if outliers.empty:
            st.write(t("compare.none"))
        else:
            widgets.table_with_downloads(charts.outliers_table(outliers, ctx.language), "positive-outliers", wrap=True)
    else:
        # The choice lasts while another section is open (its selectbox not drawn); a rector has one school.
        school = (st.columns(2)[0] if several else left).selectbox(
            t("compare.school"), list(names), format_func=names.get, key="compare_school", persist_state="page")
        try:
            result = data.comparison(ctx.scope, school, year, criteria)
        except comparison.NoData as missing:
            reason = {comparison.Incomplete: "compare.incomplete", comparison.Withheld: "compare.withheld"}
            st.info(t(reason.get(type(missing), "compare.no_school_data"), year=i18n.school_year(year),
                      n=SUPPRESSION.min_pupils))
            st.stop()
        st.caption(t("compare.period", year=i18n.school_year(year),
                     month=i18n.month(result.latest_month, ctx.language)))
        st.markdown(comparison.describe_peers(result, ctx.language))
        if result.peers.criteria != criteria:
            st.caption(t("compare.widened", n=comparison.MIN_PEERS))
        if result.funnel is None:
            st.info(t("compare.no_peers"))
            st.stop()

        st.subheader(t("compare.funnel"))
        st.markdown(f"**{comparison.verdict_text(result, ctx.language)}**")
        st.caption(t("compare.funnel_caption"))
        widgets.figure("funnel", charts.funnel_chart, charts.funnel_table, result.funnel, school, ctx.language)

        st.subheader(t("compare.trend"))
        widgets.figure("school-and-peers", charts.school_vs_peers_chart, charts.school_vs_peers_table, result.monthly,
                       ctx.language)

        st.subheader(t("compare.grades"))
        st.caption(t("compare.grades_caption"))
        widgets.figure("grades-and-peers", charts.grades_vs_peers_chart, charts.grades_vs_peers_table, result.grades,
                       ctx.language)

        st.subheader(t("compare.tiers"))
        widgets.figure("tiers-and-peers", charts.tiers_vs_peers_chart, charts.tiers_vs_peers_table, result.tiers,
                       ctx.language)

        profile = data.wellbeing_profile(ctx.scope, school, schools.set_index("school_id").at[school, "school_type"])
        if not profile.empty:
            first = profile.iloc[0]
            st.subheader(t("compare.wellbeing", year=first["survey_year"],
                           grades=first["grade_group"].replace("-", "–")))
            st.caption(t("compare.wellbeing_caption", n=SUPPRESSION.min_respondents,
                         reference=charts.reference_name(profile, ctx.language, in_sentence=True)))
            widgets.figure("wellbeing-profile", charts.wellbeing_profile_chart, charts.wellbeing_profile_table, profile,
                           ctx.language)
