"""The target editor's form pieces (Streamlit), shared by creating and changing a target."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lasnaolo import charts, contract, i18n, targets
from lasnaolo.scope import Unit
from lasnaolo.text import md
from lasnaolo.ui import data
from lasnaolo.ui.session import language, t

SAVED = "targets_saved"


def unit_of(record: targets.TargetRecord) -> Unit:
    return Unit(record.unit_level, record.unit_code)


def confirm_saved() -> None:
    if st.session_state.pop(SAVED, False):
        st.success(t("targets.saved"))


def save(write: Callable[[], object], forget: str | None = None) -> None:
    """Write (create or change), then say so on the next run; a refused value is said in place."""
    try:
        write()
    except targets.InvalidTarget as error:
        st.error(t("targets.invalid", field=md(t(f"targets.field.{error.field}") if i18n.has(f"targets.field.{error.field}")
                                               else error.field), reason=md(error.reason)))
        return
    if forget:
        st.session_state.pop(forget, None)
    st.session_state[SAVED] = True
    data.forget_cached_figures()
    st.rerun()


def describe_progress(record: targets.TargetRecord, state: targets.Progress) -> None:
    """The status in words, the projection's band, the year the baseline describes, and a warning
    when lesson hours per pupil moved so far that the two years' rates are not alike."""
    lang = language()
    finished = state.status in ("achieved", "missed")
    st.markdown(t("targets.state_final" if finished else "targets.state", status=t(f"targets.status.{state.status}"),
                  current=i18n.percent(state.current, lang, 2), projected=i18n.percent(state.projected, lang, 2),
                  target=i18n.percent(record.target_value, lang, 2)))
    if state.projected_low is not None:
        st.caption(t("targets.band", low=i18n.percent(state.projected_low, lang, 1),
                     high=i18n.percent(state.projected_high, lang, 1)))
    if state.baseline_year:
        st.caption(t("targets.baseline_of", year=i18n.school_year(state.baseline_year),
                     same=i18n.percent(state.baseline_same_months, lang, 2)))
    if state.lesson_hours_change is not None:
        st.warning(t("targets.lesson_hours_break", change=i18n.number(abs(state.lesson_hours_change), lang, 1)))


def measures_picker(default: tuple[str, ...], key: str) -> tuple[str, ...]:
    lang = language()
    return tuple(st.multiselect(t("targets.measures"), list(contract.MEASURES), default=list(default), key=key,
                                placeholder=t("targets.choose_measures"),
                                format_func=lambda c: f"{i18n.t(f'measure.{c}', lang)} ({t('targets.tier', n=contract.MEASURES[c].tier)})"))


def values_inputs(computed: float | None, baseline: float | None, target: float | None,
                  key: str) -> tuple[float | None, float | None, str | None]:
    """Baseline (the one computed for its year unless the target has its own) and target value,
    typed the user's way (decimal comma or point); a baseline other than the computed one asks
    for its reason. The key names what the values belong to, so they follow a new choice."""
    lang = language()
    left, middle = st.columns(2)
    start = baseline if baseline is not None else computed
    typed = left.text_input(t("targets.baseline"), "" if start is None else i18n.number(start, lang, 2), key=f"{key}_baseline")
    left.caption(t("targets.computed_baseline", value=i18n.percent(computed, lang, 2)) if computed is not None
                 else t("targets.no_computed_baseline"))
    goal_start = target if target is not None else start
    goal = middle.text_input(t("targets.target"), "" if goal_start is None else i18n.number(goal_start, lang, 2),
                             key=f"{key}_target")
    chosen, wanted = i18n.parse_number(typed), i18n.parse_number(goal)
    reason = None
    if chosen is not None and computed is not None and abs(chosen - computed) > targets.BASELINE_TOLERANCE:
        reason = st.text_input(t("targets.baseline_reason"), key=f"{key}_reason") or None
    return chosen, wanted, reason


def show_conflict(conflict: targets.Conflict) -> None:
    newer = conflict.current
    lang = language()
    st.error(t("targets.conflict", who=md(newer.updated_by), version=newer.version,
               when=i18n.timestamp(newer.updated_at, lang) if newer.updated_at else "–"))
    st.dataframe({t("targets.field"): [t("targets.baseline"), t("targets.target"), t("targets.responsible"), t("targets.note")],
                  t("targets.newer"): [i18n.number(newer.baseline_value, lang, 2), i18n.number(newer.target_value, lang, 2),
                                       newer.responsible, newer.note]}, hide_index=True)


def describe_suggestion(suggestion: targets.Suggestion | None, metric: str) -> str:
    lang = language()
    if suggestion is None:
        return t("targets.no_suggestion")
    return t("targets.suggestion", value=i18n.percent(suggestion.value, lang, 2), peers=suggestion.peers,
             improvement=i18n.number(suggestion.improvement, lang, 2), metric=charts.metric_label(metric, lang).lower())
