"""Shared screen pieces: headline figures, charts with their text alternative, formatted tables."""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from lasnaolo import charts, export, i18n, reference, results
from lasnaolo.contract import SUPPRESSION
from lasnaolo.metrics import Change
from lasnaolo.scope import Unit
from lasnaolo.ui import data
from lasnaolo.ui.session import language, t


def headline(changes: list[Change], metrics: list[str]) -> None:
    """One metric card per figure: the value so far, the change against the same point last
    year (a rise in absence is shown red), and whether the change is larger than chance."""
    lang = language()
    by_metric = {c.metric: c for c in changes}
    for column, metric in zip(st.columns(len(metrics)), metrics):
        change = by_metric.get(metric)
        with column:
            if change is None or change.current is None:
                st.metric(t(f"metric.{metric}"), t("metric.suppressed", n=SUPPRESSION.min_pupils))
                continue
            delta = None if change.difference is None else f"{i18n.points(change.difference, lang)} {t('unit.points')}"
            # A direction is drawn only for a change larger than chance: an arrow on +0,0 misleads.
            clear = bool(change.larger_than_chance)
            st.metric(t(f"metric.{metric}"), i18n.percent(change.current, lang), delta=delta,
                      delta_color="inverse" if clear else "off", delta_arrow="auto" if clear else "off")
            if change.previous is not None:
                verdict = t("overview.change_real") if change.larger_than_chance else t("overview.change_chance")
                st.caption(t("overview.vs_last_year", previous=i18n.percent(change.previous, lang)) + " " + verdict)


def chart_with_table(chart: alt.Chart, table: pd.DataFrame, name: str) -> None:
    """The chart, and the same numbers as a table (the text alternative for screen readers, and
    the exact figures), with the table as CSV and XLSX. `name` names the downloaded files.

    The chart's data is cut to the fields it draws once more here (the builders in
    lasnaolo.charts already do it), so a chart made anywhere else cannot send the browser more."""
    lang = language()
    shown = charts.as_shown(chart, lang)
    _chart_and_table(charts.browser_spec(shown), charts.keeps_own_size(shown), table,
                     export.display_frame(table, lang), name, lambda: shown)


def figure(name: str, chart: Callable[..., alt.Chart], table: Callable[..., pd.DataFrame], *args) -> None:
    """`chart_with_table(chart(*args), table(*args), name)`, what the page sends built once per
    distinct input and language (`data.built`: in this server process, and kept in the database
    for the others): a warm rerun of the trends page spent about half its time building and
    converting its ten charts again from unchanged figures."""
    lang, key = language(), _content_key(args)
    builders = f"{results.name_of(chart)}+{results.name_of(table)}"
    spec, own_size, frame, shown = data.built(builders, key, lang, lambda: _sent_parts(chart, table, args, lang))
    # The chart itself only for its downloads, once the table is opened.
    _chart_and_table(spec, own_size, frame, shown, name,
                     lambda: _built_chart(results.name_of(chart), key, lang, chart, args))


def _content_key(args: tuple) -> str:
    """A digest of the arguments' pickled content: exact for frames (every cell, dtypes with a
    category's order, index and its name, attrs) and for every other value. Streamlit's own hash
    samples frames of 50,000 rows or more and takes 1 and "1" in an object column, or a date
    and its ISO text, alike (review), so different figures could have shared a chart. Equal
    figures pickled differently only miss the cache."""
    return hashlib.sha256(pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def _sent_parts(chart: Callable[..., alt.Chart], table: Callable[..., pd.DataFrame], args: tuple,
                lang: str) -> tuple[dict, bool, pd.DataFrame, pd.DataFrame]:
    """The spec the browser receives, whether the chart keeps its own size (the tile map's squares
    are not stretched to the page's width), the table and the table as shown."""
    shown = charts.as_shown(chart(*args), lang)
    frame = table(*args)
    return charts.browser_spec(shown), charts.keeps_own_size(shown), frame, export.display_frame(frame, lang)


# Keyed as `data.built`'s entries; entries are shared and never changed.
@st.cache_resource(max_entries=64, ttl=900, show_spinner=False)
def _built_chart(builder: str, key: str, lang: str, _build: Callable, _args: tuple) -> alt.Chart:
    return charts.as_shown(_build(*_args), lang)


def _chart_and_table(spec: dict, own_size: bool, table: pd.DataFrame, shown: pd.DataFrame, name: str,
                     chart: Callable[[], alt.Chart]) -> None:
    # The page gets a copy of the spec (Streamlit adjusts it); the datasets it only reads.
    spec = {key: value if key == "datasets" else copy.deepcopy(value) for key, value in spec.items()}
    st.vega_lite_chart(spec, width="content" if own_size else "stretch")
    # Built and sent only once opened (Streamlit's lazy expander; opening reruns the page): a
    # collapsed table still cost the browser its data grid and four download buttons, about
    # 0.16 s of a repeat visit to the trends page's ten charts on this project's 2-core machine.
    box = st.expander(t("overview.table_caption"), key=table_key(name), on_change="rerun")
    if box.open:
        with box:
            _shown_table(table, shown, name)
            chart_downloads(chart(), name)


def table_key(name: str) -> str:
    """The widget key of a chart's table expander (its open state lives in the session)."""
    return f"table_{name}"


def chart_downloads(chart: alt.Chart, name: str) -> None:
    """The chart as a high-resolution PNG and as SVG, rendered only when clicked."""
    png, svg = st.columns(2)
    png.download_button(t("download.png"), lambda: export.chart_png(chart), file_name=f"{name}.png",
                        mime="image/png", key=f"png_{name}")
    svg.download_button(t("download.svg"), lambda: export.chart_svg(chart), file_name=f"{name}.svg",
                        mime="image/svg+xml", key=f"svg_{name}")


def table_with_downloads(table: pd.DataFrame, name: str, wrap: bool = False) -> None:
    """A table written the language's way, with its numbers as CSV and XLSX. `wrap`: a short table
    whose cells hold sentences, drawn as a static table whose text wraps (a data grid cuts it)."""
    _shown_table(table, export.display_frame(table, language()), name, wrap)


def _shown_table(table: pd.DataFrame, shown: pd.DataFrame, name: str, wrap: bool = False) -> None:
    if wrap:
        st.table(shown.set_index(shown.columns[0]))
    else:
        st.dataframe(shown, hide_index=True, width="stretch", column_config=_first_column_pinned(shown))
    _table_downloads(table, name)


def _first_column_pinned(shown: pd.DataFrame) -> dict:
    """The first column (what each row is: a school, a month, a region) stays in sight while a
    table wider than the page scrolls sideways (review: the attention table's last columns need
    scrolling at 1400 px in Swedish and English)."""
    return {shown.columns[0]: st.column_config.Column(pinned=True)} if len(shown.columns) else {}


def _table_downloads(table: pd.DataFrame, name: str) -> None:
    """The table as CSV and XLSX, built only when clicked, not on every rerun of the page."""
    lang = language()
    csv, xlsx = st.columns(2)
    csv.download_button(t("download.csv"), lambda: export.table_csv(table, lang), file_name=f"{name}.csv",
                        mime="text/csv", key=f"csv_{name}")
    xlsx.download_button(t("download.xlsx"), lambda: export.table_xlsx(table), file_name=f"{name}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"xlsx_{name}")


def table_choosing(table: pd.DataFrame, keys: list, name: str, chooses: str,
                   then: Callable[[], None] = lambda: None) -> None:
    """A table (as `table_with_downloads`) whose row, when chosen, sets the widget `chooses` to
    that row's key for the next run, and calls `then` (e.g. to open the tab the widget is in)."""
    def chosen() -> None:
        rows = st.session_state[f"table_{name}"].selection.rows
        if rows:
            st.session_state[chooses] = keys[rows[0]]
            then()

    shown = export.display_frame(table, language())
    st.dataframe(shown, hide_index=True, width="stretch", key=f"table_{name}", on_select=chosen,
                 selection_mode="single-row", column_config=_first_column_pinned(shown))
    _table_downloads(table, name)


def school_choices(schools: pd.DataFrame) -> dict[str, str]:
    """School code -> the school as lists show it (with its municipality where the schools are of
    several, in the UI language)."""
    return dict(zip(schools["school_id"], reference.school_labels(schools["school_name"].tolist(),
                                                                  schools["municipality_code"].tolist(), language())))


def unit_selectbox(schools: pd.DataFrame, label: str, key: str, municipalities: bool = True) -> Unit:
    """A municipality of the schools (unless `municipalities` is False) or one of the schools."""
    lang = language()
    codes = sorted(set(schools["municipality_code"])) if municipalities else []
    units = [Unit("municipality", m) for m in codes] + [Unit("school", s) for s in schools["school_id"]]
    labels = {**{f"school:{s}": n for s, n in school_choices(schools).items()},
              **{f"municipality:{m}": t("targets.municipality_unit", name=reference.municipality_name(m, lang)) for m in codes}}
    return st.selectbox(label, units, format_func=lambda u: labels[str(u)], key=key)
