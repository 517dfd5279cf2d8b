"""Self-evaluation of the attendance model (rectors for their school, steering groups for their
municipality and schools; directors read): how far each recommendation is implemented this school
year, its history, and the implementation profile next to absence, for the annual welfare report."""

import streamlit as st

from lasnaolo import charts, contract, evaluation, export, i18n, reference
from lasnaolo.ui import data, page, widgets
from lasnaolo.text import md
from lasnaolo.ui.session import t

ctx = page.start("evaluation")
st.title(t("evaluation.heading"))
st.caption(t("evaluation.intro"))

years = data.school_years(ctx.scope)
schools = data.schools(ctx.scope)
if not years or schools.empty:
    st.info(t("overview.no_data"))
    st.stop()
names = widgets.school_choices(schools)
left, right = st.columns(2)
with left:
    year = st.selectbox(t("overview.school_year"), years, format_func=i18n.school_year, key="evaluation_year")
with right:
    unit = widgets.unit_selectbox(schools, t("evaluation.unit"), "evaluation_unit",
                                  municipalities=ctx.scope.role != "rector")

assessed = data.self_evaluations(ctx.scope, year)
stored = assessed[(assessed["unit_level"] == unit.level) & (assessed["unit_code"] == unit.code)]
stored = stored.set_index("recommendation")
if ctx.scope.role in evaluation.RECORDERS:
    with st.form(f"evaluation_{unit}_{year}"):
        st.subheader(t("evaluation.form"))
        given = {}
        for code in contract.RECOMMENDATIONS:
            st.markdown(f"**{t(f'recommendation.{code}')}**")
            score_column, note_column = st.columns([1, 2])
            before = int(stored.at[code, "score"]) if code in stored.index else None
            given[code] = (
                score_column.radio(t("evaluation.score"), contract.IMPLEMENTATION_LEVELS, key=f"score_{code}_{unit}_{year}",
                                   index=None if before is None else contract.IMPLEMENTATION_LEVELS.index(before),
                                   format_func=lambda n: t(f"evaluation.level.{n}")),
                note_column.text_area(t("evaluation.note"), value=stored.at[code, "note"] if code in stored.index else "",
                                      max_chars=contract.EVALUATION_NOTE_MAX, key=f"note_{code}_{unit}_{year}", height=90))
        saved = st.form_submit_button(t("evaluation.save"), type="primary")
    if saved:
        try:
            added = evaluation.record(ctx.engine, ctx.scope, ctx.account.username, unit, year,
                                      [evaluation.Assessment(code, score, note.strip())
                                       for code, (score, note) in given.items() if score is not None])
        except evaluation.InvalidAssessment as error:
            st.error(t("evaluation.invalid", reason=md(error)))
        else:
            data.forget_cached_figures()
            st.success(t("evaluation.saved", n=added) if added else t("evaluation.unchanged"))

with st.expander(t("evaluation.history")):
    history = data.evaluation_history(ctx.scope, unit)
    widgets.table_with_downloads(charts.evaluation_notes_table(history, names, ctx.language), f"self-evaluation-history-{unit.code}")

if ctx.scope.role != "rector":
    st.subheader(t("evaluation.profile"))
    municipalities = sorted(set(schools["municipality_code"]))
    area = st.selectbox(t("evaluation.profile_of"), [None, *municipalities], index=int(len(municipalities) == 1),
                        key="evaluation_area", format_func=lambda m: t("evaluation.all_municipalities") if m is None
                        else t("evaluation.municipality_and_schools", name=reference.municipality_name(m, ctx.language)))
    profile = data.evaluation_profile(ctx.scope, year, area)
    table = charts.evaluation_profile_table(profile, ctx.language)
    if profile["mean_score"].isna().all():  # an all-grey frame says nothing: the sentence does
        st.info(t("evaluation.no_profile"))
    else:
        latest = profile["latest_month"].dropna()
        st.caption(t("evaluation.profile_caption", month=i18n.month(latest.iloc[0], ctx.language) if not latest.empty else "–"))
        widgets.chart_with_table(charts.evaluation_profile_chart(profile, ctx.language), table, f"implementation-profile-{year}")
    notes = charts.evaluation_notes_table(data.self_evaluations(ctx.scope, year), names, ctx.language)
    st.download_button(t("evaluation.download"), lambda: export.workbook_xlsx(
        {t("evaluation.sheet.profile"): table, t("evaluation.sheet.notes"): notes}),
        file_name=f"self-evaluation-{year}-{area or 'municipalities'}.xlsx", key="evaluation_workbook",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
