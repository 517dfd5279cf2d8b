"""The target editor's form pieces (Streamlit), shared by creating and changing a target."""

from __future__ import annotations

import streamlit as st

from lasnaolo import charts, contract, i18n, targets
from lasnaolo.text import md
from lasnaolo.ui.session import language, t


def measures_picker(default: tuple[str, ...], key: str) -> tuple[str, ...]:
    lang = language()
    return tuple(st.multiselect(t("targets.measures"), list(contract.MEASURES), default=list(default), key=key,
                                placeholder=t("targets.choose_measures"),
                                format_func=lambda c: f"{i18n.t(f'measure.{c}', lang)} ({t('targets.tier', n=contract.MEASURES[c].tier)})"))


def values_inputs(baseline: float | None, target: float | None, key: str) -> tuple[float, float, str | None]:
    """Baseline (pre-filled from the previous year, editable with a reason) and target value."""
    left, middle = st.columns(2)
    filled = round(baseline, 2) if baseline is not None else 0.0
    chosen = left.number_input(t("targets.baseline"), 0.0, 100.0, filled, 0.1, format="%.2f", key=f"{key}_baseline")
    goal = middle.number_input(t("targets.target"), 0.0, 100.0, round(target if target is not None else filled, 2), 0.1,
                               format="%.2f", key=f"{key}_target")
    reason = None
    if baseline is None or abs(chosen - filled) > 1e-9:
        reason = st.text_input(t("targets.baseline_reason"), key=f"{key}_reason") or None
    return float(chosen), float(goal), reason


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
