"""The self-evaluation page: each unit's assessment profile and notes."""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from lasnaolo import contract, export, i18n, reference
from lasnaolo.charts.labels import unit_names
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import NO_DATA_GREY, OKABE_ITO


def evaluation_profile_table(profile: pd.DataFrame, language: str) -> pd.DataFrame:
    """The implementation profile: a unit per row, its score on each recommendation and its absence."""
    out = {i18n.t("evaluation.unit_name", language): unit_names(profile, language)}
    for code in contract.RECOMMENDATIONS:
        out[i18n.t(f"recommendation.{code}", language)] = profile[code].astype(float)
    out[i18n.t("evaluation.mean_score", language)] = profile["mean_score"].astype(float).round(2)
    out[i18n.t("evaluation.absence_now", language)] = profile["absence_rate"].astype(float)
    out[i18n.t("evaluation.absence_before", language)] = profile["absence_rate_previous"].astype(float)
    out[i18n.t("evaluation.absence_change", language)] = profile["absence_change"].astype(float)
    out[i18n.t("evaluation.tier23", language)] = profile["tier23_share"].astype(float)
    scores = {i18n.t(f"recommendation.{code}", language): 0 for code in contract.RECOMMENDATIONS}
    return export.plain_numbers(pd.DataFrame(out), {**scores, i18n.t("evaluation.mean_score", language): 2})


@only_what_is_shown
def evaluation_profile_chart(profile: pd.DataFrame, language: str) -> alt.Chart:
    """Units × recommendations, each cell coloured and labelled by its score (1-4); grey: not
    assessed. The absence rate follows the unit's name, so the two are read side by side."""
    labels = [f"{name} ({i18n.percent(rate, language)})" for name, rate in zip(unit_names(profile, language), profile["absence_rate"])]
    long = profile.assign(unit=labels).melt(id_vars=["unit"], value_vars=list(contract.RECOMMENDATIONS),
                                            var_name="recommendation", value_name="score")
    long["recommendation"] = long["recommendation"].map(lambda c: i18n.t(f"recommendation.{c}", language))
    long["recommendation_lines"] = long["recommendation"].map(lambda text: "|".join(textwrap.wrap(text, 16, break_long_words=False)))
    long["level"] = long["score"].map(lambda s: i18n.t("evaluation.not_assessed", language) if pd.isna(s)
                                      else i18n.t(f"evaluation.level.{int(s)}", language))
    domain = [i18n.t(f"evaluation.level.{n}", language) for n in contract.IMPLEMENTATION_LEVELS]
    domain.append(i18n.t("evaluation.not_assessed", language))
    colours = [OKABE_ITO["vermillion"], OKABE_ITO["orange"], OKABE_ITO["sky"], OKABE_ITO["blue"], NO_DATA_GREY]
    # Long recommendation names on lines of their own, every label kept, units in alphabetical order
    # (review finding: 2 of 7 column labels drawn, cut; every other unit dropped).
    base = alt.Chart(long).encode(
        x=alt.X("recommendation_lines:N", title=None, sort=None,
                axis=alt.Axis(labelAngle=0, labelLimit=0, labelOverlap=False, labelExpr="split(datum.label, '|')")),
        y=alt.Y("unit:N", title=None, sort=sorted(labels), axis=alt.Axis(labelLimit=0, labelOverlap=False)))
    cells = base.mark_rect().encode(
        color=alt.Color("level:N", title=i18n.t("evaluation.score", language), scale=alt.Scale(domain=domain, range=colours)),
        tooltip=[alt.Tooltip("unit:N", title=i18n.t("evaluation.unit_name", language)),
                 alt.Tooltip("recommendation:N", title=i18n.t("evaluation.recommendation", language)),
                 alt.Tooltip("level:N", title=i18n.t("evaluation.score", language))])
    # Scores only where there is one: an empty cell is grey, never the word "null".
    text = base.transform_filter("isValid(datum.score)").mark_text().encode(text=alt.Text("score:Q", format=".0f"))
    return (cells + text).properties(height=max(120, 26 * len(profile)), width=alt.Step(115))  # a column per wrapped label


def evaluation_notes_table(assessed: pd.DataFrame, names: dict[str, str], language: str) -> pd.DataFrame:
    """Assessments with their notes (the current ones, or a unit's history)."""
    units = [reference.municipality_name(code, language) if level == "municipality"
             else names.get(code, code) for level, code in zip(assessed["unit_level"], assessed["unit_code"])]
    return pd.DataFrame({
        i18n.t("evaluation.unit_name", language): units,
        i18n.t("overview.school_year", language): assessed["school_year"].map(i18n.school_year),
        i18n.t("evaluation.recommendation", language): assessed["recommendation"].map(lambda c: i18n.t(f"recommendation.{c}", language)),
        i18n.t("evaluation.score", language): assessed["score"].astype(int),
        i18n.t("evaluation.note", language): assessed["note"],
        i18n.t("evaluation.recorded_by", language): assessed["recorded_by"],
        i18n.t("evaluation.recorded_at", language): assessed["recorded_at"].map(lambda v: i18n.timestamp(v, language)),
    })
