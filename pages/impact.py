"""Impact of measures (directors, steering groups, coordinators): did the schools that started a
measure change more than comparable schools that did not? An estimate with its interval, the
month-by-month chart that shows its own assumption, and what it cannot say."""

import streamlit as st

from lasnaolo import charts, contract, i18n
from lasnaolo import impact as impact_module
from lasnaolo.ui import data, page, widgets
from lasnaolo.ui.session import t

ctx = page.start("impact")
st.title(t("impact.heading"))
st.caption(t("impact.intro"))

regional = ctx.account.role != "admin"
default_measure, default_regional = data.impact_default(ctx.scope, regional)
left, middle, right = st.columns(3)
measure = left.selectbox(t("impact.measure"), list(contract.MEASURES), key="impact_measure",
                         index=list(contract.MEASURES).index(default_measure),
                         format_func=lambda m: i18n.name_of("measure", m, ctx.language))
outcome = middle.selectbox(t("impact.outcome"), impact_module.OUTCOMES, key="impact_outcome",
                           format_func=lambda m: t(f"metric.{m}"))
band = right.selectbox(t("impact.grade_band"), [None, *contract.GRADE_BANDS], key="impact_band",
                       format_func=lambda b: t("impact.all_grades") if b is None else t("impact.grades", band=b))
whole_region = regional and st.radio(
    t("impact.area"), [False, True], horizontal=True, key="impact_area", index=int(default_regional),
    format_func=lambda r: t("impact.area.region" if r else "impact.area.own"))

try:
    result = data.impact(ctx.scope, impact_module.Question(measure, outcome, band), whole_region)
except impact_module.NotEstimated as error:
    st.info(t(error.reason, **error.values))
    if not whole_region and ctx.account.role != "admin":
        st.caption(t("impact.try_region"))
    st.stop()

st.markdown(f"**{impact_module.sentence(result, ctx.language)}**")
for kind, note in impact_module.notes(result, ctx.language):
    (st.warning if kind == "warning" else st.info)(note)
st.info(t("impact.cannot_say"))

st.subheader(t("impact.event_study"))
st.caption(t("impact.event_caption", guard=impact_module.GUARD_MONTHS,
             first=i18n.number(-impact_module.GUARD_MONTHS - impact_module.ANCHOR_MONTHS, ctx.language, 0),
             last=i18n.number(-impact_module.GUARD_MONTHS - 1, ctx.language, 0)))
widgets.chart_with_table(charts.event_study_chart(result, ctx.language),
                         charts.event_study_table(result, ctx.language), "event-study")

st.subheader(t("impact.balance"))
st.caption(t("impact.balance_caption", guard=impact_module.GUARD_MONTHS,
             limit=i18n.number(impact_module.BALANCE_LIMIT, ctx.language, 1)))
widgets.table_with_downloads(charts.impact_balance_table(result, ctx.language), "impact-balance")

st.subheader(t("impact.groups"))
st.caption(t("impact.groups_caption", k=impact_module.NEIGHBOURS, guard=impact_module.GUARD_MONTHS,
             caliper=i18n.number(impact_module.CALIPER, ctx.language, 1)))
widgets.table_with_downloads(charts.impact_groups_table(result, ctx.language), "impact-groups")
if ctx.scope.anonymised or whole_region:
    st.caption(t("impact.anonymised_note"))
else:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('impact.treated_list')}**")
        widgets.table_with_downloads(charts.impact_schools_table(result.treated, ctx.language), "impact-treated")
    with right:
        st.markdown(f"**{t('impact.control_list')}**")
        widgets.table_with_downloads(charts.impact_schools_table(result.controls, ctx.language), "impact-controls")
st.caption(t("impact.method_caption", treated=result.n_treated, control=result.n_control))
