"""Drawings made for slides only: the headline's key figures and changes, a few municipalities'
wellbeing as big numbers."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import i18n
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import CURRENT_COLOUR


@only_what_is_shown
def headline_chart(changes: dict, metrics: list[str], language: str, scale: float = 1.0) -> alt.Chart:
    """The headline figures as large numbers with their change against the same point last year;
    `scale` enlarges the type (a slide)."""
    rows = []
    for metric in metrics:
        change = changes.get(metric)
        withheld = change is None or change.current is None
        rows.append({
            "label": i18n.t(f"metric.{metric}", language),
            "value": i18n.t("deck.withheld_short", language) if withheld else i18n.percent(change.current, language),
            "delta": "" if withheld or change.difference is None else
            i18n.t("deck.vs_last_year", language, change=i18n.points(change.difference, language)),
        })
    return figures_chart(rows, scale)


@only_what_is_shown
def figures_chart(rows: list[dict[str, str]], scale: float = 1.0) -> alt.Chart:
    """A few figures side by side as large numbers: each row's label above, value, and a line
    below (`delta`)."""
    base = alt.Chart(pd.DataFrame(rows).assign(position=range(len(rows)))).encode(x=alt.X("position:O", axis=None))
    return alt.layer(
        base.mark_text(fontSize=18 * scale, dy=-55 * scale).encode(text=alt.Text("label:N")),
        base.mark_text(fontSize=44 * scale, fontWeight="bold", color=CURRENT_COLOUR).encode(text=alt.Text("value:N")),
        base.mark_text(fontSize=16 * scale, dy=45 * scale).encode(text=alt.Text("delta:N")),
    ).properties(height=220 * scale).configure_view(strokeWidth=0)  # figures, not a plot: no frame
