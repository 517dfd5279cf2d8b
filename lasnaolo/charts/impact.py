"""The impact page: the event study and the comparison groups."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import export, i18n
from lasnaolo.charts.labels import school_names
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import OKABE_ITO


@only_what_is_shown
def event_study_chart(impact, language: str) -> alt.Chart:
    """The difference between the groups by school month relative to the start, with intervals:
    before the start (left of the dashed line) the points should hover around zero."""
    frame = impact.event_study.assign(
        text=[f"{i18n.points(e, language, 2)} ({i18n.points(lo, language, 2)} … {i18n.points(hi, language, 2)})"
              for e, lo, hi in zip(impact.event_study["estimate"], impact.event_study["ci_low"], impact.event_study["ci_high"])])
    x = alt.X("event_month:Q", title=i18n.t("impact.event_month", language))
    title = i18n.t("impact.difference", language)
    band = alt.Chart(frame).mark_area(opacity=0.2, color=OKABE_ITO["blue"]).encode(x=x, y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"))
    line = alt.Chart(frame).mark_line(point=True, color=OKABE_ITO["blue"]).encode(
        x=x, y=alt.Y("estimate:Q", title=title),
        tooltip=[alt.Tooltip("event_month:Q", title=i18n.t("impact.event_month", language)),
                 alt.Tooltip("text:N", title=title)])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=OKABE_ITO["black"]).encode(y=alt.Y("y:Q"))
    start = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(color=OKABE_ITO["grey"], strokeDash=[4, 4]).encode(x=alt.X("x:Q"))
    return (band + line + zero + start).properties(height=320)


def event_study_table(impact, language: str) -> pd.DataFrame:
    study = impact.event_study
    return pd.DataFrame({
        i18n.t("impact.event_month", language): study["event_month"].astype(int),
        i18n.t("impact.difference", language): study["estimate"].astype(float),
        i18n.t("impact.ci_low", language): study["ci_low"].astype(float),
        i18n.t("impact.ci_high", language): study["ci_high"].astype(float),
    })


def impact_groups_table(impact, language: str) -> pd.DataFrame:
    groups = impact.groups
    types = [", ".join(f"{i18n.name_of('school_type', k, language)} {v}" for k, v in mix.items())
             for mix in groups["school_types"]]
    return pd.DataFrame({
        i18n.t("impact.group", language): groups["group"].map(lambda g: i18n.t(f"impact.group.{g}", language)),
        i18n.t("impact.schools", language): groups["schools"].astype(int),
        i18n.t("impact.school_types", language): types,
    })


def impact_balance_table(impact, language: str) -> pd.DataFrame:
    """One row per measure of likeness; its rows hold levels (percent) and pupils (a count), so
    the groups' values are written here, each by its kind."""
    balance = impact.balance

    def value(variable: str, number: float) -> str:
        if pd.isna(number):
            return "–"
        return i18n.number(number, language, 0) if variable == "pupils" else i18n.percent(number, language)

    difference = i18n.t("impact.balance.standardised_difference", language)
    table = pd.DataFrame({
        i18n.t("impact.balance.variable", language): balance["variable"].map(lambda v: i18n.t(f"impact.balance.{v}", language)),
        i18n.t("impact.group.treated", language): [value(v, n) for v, n in zip(balance["variable"], balance["treated"])],
        i18n.t("impact.group.comparison", language): [value(v, n) for v, n in zip(balance["variable"], balance["comparison"])],
        difference: balance["standardised_difference"].astype(float),
    })
    return export.plain_numbers(table, {difference: 2})


def impact_schools_table(schools: pd.DataFrame, language: str) -> pd.DataFrame:
    """Treated or comparison schools by name where the user may see it, else by pseudonym."""
    out = {i18n.t("impact.school", language): pd.Series(school_names(schools, language), index=schools.index)
           .fillna(schools["school_key"])}
    if "start_month" in schools:
        out[i18n.t("impact.start_month", language)] = schools["start_month"].map(
            lambda m: i18n.month(m, language) if isinstance(m, str) else m)
    return pd.DataFrame(out)
