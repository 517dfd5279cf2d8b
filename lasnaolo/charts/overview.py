"""The overview page: the year's months and the tiers."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import contract, i18n
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import (CURRENT_COLOUR, EARLIER_COLOUR, LINE_LEGEND, TIER_AXIS, TIER_COLOURS,
                                   month_name, percent_axis_labels)


@only_what_is_shown
def seasonal_rate_chart(monthly: pd.DataFrame, language: str, metric: str = "absence_rate") -> alt.Chart:
    """One line per school year over August..June, so a year is read against the same months
    of earlier years. `monthly` has school_year, month and the metric."""
    newest = monthly["school_year"].max()
    frame = monthly.assign(
        month_label=monthly["month"].map(lambda m: month_name(int(m[5:7]), language)),
        series=monthly["school_year"].map(i18n.school_year),
        value_text=monthly[metric].map(lambda v: i18n.percent(v, language)),
    )
    order = [month_name(m, language) for m in contract.SCHOOL_YEAR_MONTHS]
    series = sorted(frame["series"].unique())
    colours = [CURRENT_COLOUR if s == i18n.school_year(newest) else EARLIER_COLOUR for s in series]
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("month_label:N", sort=order, title=i18n.t("overview.month", language), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{metric}:Q", title=i18n.t(f"metric.{metric}", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("series:N", title=i18n.t("overview.series", language),
                            scale=alt.Scale(domain=series, range=colours), legend=LINE_LEGEND),
            # Dashes as well as colours, so the years differ without colour vision too.
            strokeDash=alt.StrokeDash("series:N", title=i18n.t("overview.series", language),
                                      scale=alt.Scale(domain=series, range=[[1, 0] if c == CURRENT_COLOUR else [5, 3] for c in colours])),
            tooltip=[alt.Tooltip("series:N", title=i18n.t("overview.series", language)),
                     alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)),
                     alt.Tooltip("value_text:N", title=i18n.t(f"metric.{metric}", language))],
        )
        .properties(height=260)
    )


@only_what_is_shown
def tier_chart(shares: pd.DataFrame, language: str) -> alt.Chart:
    """Horizontal bars of the tier shares; `shares` has tier (1-3) and share (percent)."""
    frame = shares.assign(
        label=shares["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
        share_text=shares["share"].map(lambda v: i18n.percent(v, language)),
    )
    labels = [i18n.t(f"tier.{t}", language) for t in contract.TIERS]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=labels, title=None, axis=TIER_AXIS),
            x=alt.X("share:Q", title=i18n.t("overview.share", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", legend=None,
                            scale=alt.Scale(domain=labels, range=[TIER_COLOURS[t] for t in contract.TIERS])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("share_text:N", title=i18n.t("overview.share", language))],
        )
        .properties(height=140)
    )


def seasonal_rate_table(monthly: pd.DataFrame, language: str, metric: str = "absence_rate") -> pd.DataFrame:
    ordered = monthly.sort_values(["school_year", "month"])
    return pd.DataFrame({
        i18n.t("overview.series", language): ordered["school_year"].map(i18n.school_year),
        i18n.t("overview.month", language): ordered["month"].map(lambda m: i18n.month(m, language)),
        i18n.t(f"metric.{metric}", language): ordered[metric],
    })


def tier_table(shares: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        "": shares["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
        i18n.t("overview.share", language): shares["share"],
    })


def tier_shares(figures) -> pd.DataFrame:
    """tier, share for the tiers whose share is not withheld (from KeyFigures)."""
    shares = pd.DataFrame({"tier": list(contract.TIERS),
                           "share": [getattr(figures, f"tier{t}_share") for t in contract.TIERS]})
    return shares.dropna().reset_index(drop=True)
