"""The targets page: the meeting table, a target's progress and history, status counts."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import contract, i18n
from lasnaolo.charts.labels import metric_label, target_units
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import (CURRENT_COLOUR, EARLIER_COLOUR, OKABE_ITO, STATUS_COLOURS, month_name,
                                   percent_axis_labels)


def targets_table(overview: pd.DataFrame, language: str) -> pd.DataFrame:
    """The steering group's meeting table: one row per target with its status."""
    units = target_units(overview, language)
    return pd.DataFrame({
        i18n.t("targets.unit", language): units,
        i18n.t("targets.metric", language): overview["metric"].map(lambda m: metric_label(m, language)),
        i18n.t("targets.baseline", language): overview["baseline"].astype(float),
        i18n.t("targets.target", language): overview["target"].astype(float),
        i18n.t("targets.current", language): overview["current"].astype(float),
        i18n.t("targets.projected", language): overview["projected"].astype(float),
        i18n.t("targets.status", language): overview["status"].map(lambda s: i18n.t(f"targets.status.{s}", language)),
        i18n.t("targets.measures", language): overview["measures"].map(
            lambda codes: "; ".join(i18n.t(f"measure.{c}", language) for c in codes)),
        i18n.t("targets.responsible", language): overview["responsible"],
    })


@only_what_is_shown
def target_progress_chart(monthly: pd.DataFrame, baseline: float, target: float, language: str) -> alt.Chart:
    """Year to date month by month: the target year, the baseline year, and the pace the target
    needs (the baseline year's same months scaled by target / baseline)."""
    this_year, last_year = sorted(monthly["school_year"].unique())[-1], sorted(monthly["school_year"].unique())[0]
    base = monthly[monthly["school_year"] == last_year]
    needed = base.assign(value=base["value"] * (target / baseline if baseline else 1.0), series=i18n.t("targets.pace", language))
    frame = pd.concat([monthly.assign(series=monthly["school_year"].map(i18n.school_year)), needed], ignore_index=True)
    frame = frame.assign(month_label=frame["month"].map(lambda m: month_name(int(m[5:7]), language)),
                         value_text=frame["value"].map(lambda v: i18n.percent(v, language, 2)))
    order = [month_name(m, language) for m in contract.SCHOOL_YEAR_MONTHS]
    domain = [i18n.school_year(this_year), i18n.school_year(last_year), i18n.t("targets.pace", language)]
    return (
        alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X("month_label:N", title=None, sort=order),
            y=alt.Y("value:Q", title=i18n.t("targets.ytd", language), axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=[CURRENT_COLOUR, EARLIER_COLOUR, OKABE_ITO["green"]]),
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            strokeDash=alt.StrokeDash("series:N", legend=None, scale=alt.Scale(domain=domain, range=[[1, 0], [1, 0], [6, 4]])),
            tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)),
                     alt.Tooltip("value_text:N", title=i18n.t("targets.ytd", language))])
        .properties(height=300)
    )


def target_progress_table(monthly: pd.DataFrame, language: str) -> pd.DataFrame:
    wide = monthly.pivot(index="month_index", columns="school_year", values="value").sort_index()
    table = pd.DataFrame({i18n.t("overview.month", language): [month_name(contract.SCHOOL_YEAR_MONTHS[i], language) for i in wide.index]})
    for year in wide.columns:
        table[i18n.school_year(year)] = wide[year].astype(float).to_numpy()
    return table


def target_history_table(history: pd.DataFrame, language: str) -> pd.DataFrame:
    """Who changed what and when, in words: each field by its name and each value the way the
    form shows it (decimal commas, measures and school years by name)."""
    def value(field: str, raw) -> str:
        if raw is None or raw == "":
            return "–"
        if field in ("baseline_value", "target_value"):
            return i18n.percent(float(raw), language, 2)
        if field == "measures":
            return "; ".join(i18n.t(f"measure.{c}", language) for c in str(raw).split(",") if c) or "–"
        if field == "baseline_year":
            return i18n.school_year(str(raw))
        if field == "metric":
            return metric_label(str(raw), language)
        return str(raw)

    def describe(old, new):
        if new and "comment" in new:
            return new["comment"]
        old, new = old or {}, new or {}
        shown = [k for k in sorted(set(old) | set(new)) if i18n.has(f"targets.field.{k}") and k not in ("unit_level", "unit_code")]
        parts = []
        for k in shown:
            name = i18n.t(f"targets.field.{k}", language)
            before, after = value(k, old.get(k)), value(k, new.get(k))
            parts.append(f"{name}: {after}" if not old else f"{name}: {before} → {after}")
        return "; ".join(parts)

    return pd.DataFrame({
        i18n.t("targets.when", language): history["at"].map(lambda v: i18n.timestamp(v, language)),
        i18n.t("targets.who", language): history["actor"],
        i18n.t("targets.action", language): history["action"].map(lambda a: i18n.t(f"targets.action.{a}", language)),
        i18n.t("targets.version", language): history["version"].astype("Int64"),
        i18n.t("targets.change", language): [describe(o, n) for o, n in zip(history["old"], history["new"])],
    })


@only_what_is_shown
def status_counts_chart(counts: pd.Series, language: str) -> alt.Chart:
    frame = pd.DataFrame({"status": counts.index, "count": counts.to_numpy()})
    frame["label"] = frame["status"].map(lambda s: i18n.t(f"targets.status.{s}", language))
    title = i18n.t("deck.targets_count", language)
    return (
        alt.Chart(frame).mark_bar().encode(
            y=alt.Y("label:N", title=None, sort=list(frame["label"])),
            x=alt.X("count:Q", title=title, axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("status:N", legend=None, scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))),
            tooltip=[alt.Tooltip("label:N", title=i18n.t("targets.status", language)), alt.Tooltip("count:Q", title=title)])
        .properties(height=40 * max(len(frame), 1))
    )


def status_counts_table(counts: pd.Series, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("targets.status", language): [i18n.t(f"targets.status.{s}", language) for s in counts.index],
        i18n.t("deck.targets_count", language): counts.astype("Int64").to_numpy(),
    })
