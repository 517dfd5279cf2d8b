"""Risk-factor clusters (directors, steering groups, coordinators): schools that share a risk
profile, and which survey factors go with high absence."""

import streamlit as st

from lasnaolo import charts, i18n, risk
from lasnaolo.ui import data, page, widgets
from lasnaolo.ui.session import t

ctx = page.start("clusters")
st.title(t("risk.heading"))
st.caption(t("risk.intro"))

years = data.school_years(ctx.scope)
if not years:
    st.info(t("overview.no_data"))
    st.stop()
left, right = st.columns(2)
year = left.selectbox(t("overview.school_year"), years, format_func=i18n.school_year, key="risk_year")
k = right.selectbox(t("risk.k"), [None, *risk.K_RANGE], key="risk_k",
                    format_func=lambda v: t("risk.k_auto") if v is None else str(v))

try:
    analysis = data.risk_analysis(ctx.scope, year, k)
except risk.TooFewSchools as reason:
    st.info(t("risk.no_variation") if isinstance(reason, risk.NoVariation) else t("risk.too_few", n=risk.MIN_SCHOOLS))
    st.stop()
result = analysis.clusters
if not result.schools["in_scope"].all():
    st.info(t("risk.regional_note"))
survey = str(result.survey_year) if result.survey_year else t("risk.no_survey_year")
st.markdown(t("risk.summary_auto" if result.k_chosen else "risk.summary_fixed", k=result.k,
              schools=len(result.schools), survey=survey,
              score=i18n.number(result.silhouettes[result.k], ctx.language, 2)))
if result.survey_reference:
    st.caption(risk.survey_reference_text(result, ctx.language))
shuffled = dict(beaten=result.shuffled_as_distinct, rounds=risk.NULL_ROUNDS)
if result.distinct:
    st.caption(t("risk.distinct", **shuffled))
else:
    st.info(t("risk.not_distinct", **shuffled))
missing = [t("risk.imputed_note", imputed=sum(result.imputed.values())) if result.imputed else "",
           t("risk.excluded_note", excluded=len(result.not_clustered)) if result.not_clustered else ""]
if any(missing):
    st.caption(" ".join(note for note in missing if note))
with st.expander(t("risk.silhouettes")):
    widgets.table_with_downloads(charts.silhouette_table(result, ctx.language), "silhouettes")

st.subheader(t("risk.profiles"))
st.caption(t("risk.profiles_caption"))
widgets.chart_with_table(charts.cluster_profile_chart(result, ctx.language),
                         charts.cluster_profile_table(result, ctx.language), "cluster-profiles")
widgets.table_with_downloads(charts.cluster_sizes_table(result, ctx.language), "cluster-sizes", wrap=True)

st.subheader(t("risk.map"))
st.caption(t("risk.map_caption"))
widgets.chart_with_table(charts.cluster_scatter_chart(result, ctx.language),
                         charts.cluster_members_table(result, ctx.language), "cluster-members")

st.subheader(t("risk.factors"))
st.warning(t("risk.caveat"))
st.caption(t("risk.factors_caption", schools=analysis.factors.schools,
             r2=i18n.number(analysis.factors.r_squared, ctx.language, 2)))
widgets.chart_with_table(charts.factors_chart(analysis.factors, ctx.language),
                         charts.factors_table(analysis.factors, ctx.language), "absence-factors")
