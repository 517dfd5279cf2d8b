"""Annual targets (steering groups and directors set them, rectors follow their school's and
comment): the meeting table with statuses, a new target with a suggestion, one target's progress,
changes, comments and history."""

import streamlit as st

from lasnaolo import charts, contract, i18n, targets
from lasnaolo.ui import data, page, target_forms, widgets
from lasnaolo.ui import target_forms as targets_ui
from lasnaolo.text import md
from lasnaolo.ui.session import t

ctx = page.start("targets")
st.title(t("targets.heading"))
editor = ctx.scope.role in targets.EDITORS
years = data.school_years(ctx.scope)
if not years:
    st.info(t("overview.no_data"))
    st.stop()
year = st.selectbox(t("overview.school_year"), *targets.year_choices(years), format_func=i18n.school_year,
                    key="target_year")
targets_ui.confirm_saved()

st.subheader(t("targets.table"))
table = data.target_overview(ctx.scope, year)
if table.empty:
    st.write(t("targets.none"))
else:
    counts = table["status"].value_counts()
    st.markdown(" · ".join(f"{t(f'targets.status.{s}')}: **{counts[s]}**" for s in targets.STATUSES if s in counts))
    st.caption(t("targets.status_rule"))
    widgets.table_with_downloads(charts.targets_table(table, ctx.language), f"targets-{year}")

schools = data.schools(ctx.scope)
if editor:
    with st.expander(t("targets.new"), expanded=table.empty):
        unit = widgets.unit_selectbox(schools, t("targets.unit"), "new_unit")
        metric = st.selectbox(t("targets.metric"), targets.METRICS, format_func=lambda m: charts.metric_label(m, ctx.language),
                              key="new_metric")
        earlier = [y for y in years if y < year]
        baseline_year = st.selectbox(t("targets.baseline_year"), earlier, format_func=i18n.school_year,
                                     key=f"new_baseline_year_{year}") if earlier else None
        start = data.target_baseline(ctx.scope, unit, metric, year, baseline_year)
        suggestion = data.target_suggestion(ctx.scope, unit, metric, year)
        st.caption(target_forms.describe_suggestion(suggestion, metric))
        # The fields belong to this unit, metric and years: another choice starts them afresh.
        form = f"new_{unit}_{metric}_{year}_{baseline_year}"
        baseline, goal, reason = target_forms.values_inputs(start, None, suggestion.value if suggestion else None, form)
        measures = target_forms.measures_picker((), "new_measures")
        responsible = st.text_input(t("targets.responsible"), key="new_responsible")
        note = st.text_area(t("targets.note"), key="new_note")
        if st.button(t("targets.save"), key="new_save", type="primary"):
            previous = contract.previous_school_year(year)
            draft = targets.TargetDraft(unit.level, unit.code, year, metric, baseline, goal, reason, measures, responsible,
                                        note, None if baseline_year in (None, previous) else baseline_year)
            targets_ui.save(lambda: targets.create(ctx.engine, ctx.scope, ctx.account.username, draft))

if table.empty:
    st.stop()
st.subheader(t("targets.single_heading"))
row_of = {int(r.id): r for r in table.itertuples()}
unit_of = dict(zip(table["id"].astype(int), charts.target_units(table, ctx.language)))
chosen = st.selectbox(t("targets.choose"), list(row_of), key="target_choice",
                      format_func=lambda i: f"{unit_of[i]}: {charts.metric_label(row_of[i].metric, ctx.language)}")
record = data.target(ctx.scope, chosen)
state = data.target_progress(ctx.scope, record)
targets_ui.describe_progress(record, state)
if not state.monthly.empty:
    widgets.chart_with_table(charts.target_progress_chart(state.monthly, record.baseline_value, record.target_value, ctx.language),
                             charts.target_progress_table(state.monthly, ctx.language), f"target-{record.id}-progress")

if editor:
    with st.expander(t("targets.edit")):
        version_key = f"target_{record.id}_version"
        based_on = st.session_state.setdefault(version_key, record.version)  # the version this editor read
        computed = data.target_baseline(ctx.scope, targets_ui.unit_of(record), record.metric, record.school_year,
                                        record.baseline_year)
        baseline, goal, reason = target_forms.values_inputs(computed, record.baseline_value, record.target_value,
                                                            f"edit_{record.id}")
        measures = target_forms.measures_picker(record.measures, f"edit_{record.id}_measures")
        responsible = st.text_input(t("targets.responsible"), record.responsible, key=f"edit_{record.id}_responsible")
        note = st.text_area(t("targets.note"), record.note, key=f"edit_{record.id}_note")
        save, remove = st.columns(2)
        try:
            if save.button(t("targets.save"), key=f"edit_{record.id}_save", type="primary"):
                targets_ui.save(lambda: targets.change(
                    ctx.engine, ctx.scope, ctx.account.username, record.id, based_on, baseline_value=baseline,
                    target_value=goal, baseline_reason=reason or record.baseline_reason, measures=measures,
                    responsible=responsible, note=note), forget=version_key)
            if remove.button(t("targets.delete"), key=f"edit_{record.id}_delete"):
                targets.delete(ctx.engine, ctx.scope, ctx.account.username, record.id, based_on)
                st.session_state.pop(version_key)
                data.forget_cached_figures()
                st.rerun()
        except targets.Conflict as conflict:
            target_forms.show_conflict(conflict)
            st.session_state[version_key] = conflict.current.version  # the next save builds on what was seen
        except targets.InvalidTarget as error:
            st.error(t("targets.invalid", field=md(error.field), reason=md(error.reason)))

text = st.text_input(t("targets.comment"), key=f"comment_{record.id}")
if st.button(t("targets.add_comment"), key=f"comment_{record.id}_save") and text.strip():
    targets.comment(ctx.engine, ctx.scope, ctx.account.username, record.id, text)
    st.rerun()
st.caption(t("targets.history"))
widgets.table_with_downloads(charts.target_history_table(data.target_history(ctx.scope, record.id), ctx.language),
                             f"target-{record.id}-history")
