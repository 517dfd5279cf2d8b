"""Pages' choices bound to the URL and the session: the trends page's view, and a page's sections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lasnaolo import contract, i18n, reference, trends
from lasnaolo.trends import TrendView
from lasnaolo.ui.session import language, t


def _areas(schools: pd.DataFrame) -> dict[str, str]:
    """'' (whole scope), then the scope's regions and municipalities, with their names."""
    lang = language()
    regions = reference.regions().set_index("region_code")[reference.name_column(lang, english=True)]
    municipalities = reference.municipalities().set_index("municipality_code")[reference.name_column(lang)]
    options = {"": t("trends.whole_scope")}
    for code in sorted(schools["region_code"].unique()):
        options[f"r:{code}"] = str(regions.get(code, code))
    for code in sorted(schools["municipality_code"].unique(), key=lambda c: municipalities.get(c, c)):
        options[f"m:{code}"] = f"– {municipalities.get(code, code)}"
    return options


def trend_view(schools: pd.DataFrame, school_years: list[str]) -> TrendView:
    """Widgets for every part of TrendView, started from the URL; the URL follows the choices."""
    lang = language()
    asked = TrendView.from_params(st.query_params.to_dict())
    areas = _areas(schools)
    # Open when a link or a reload brought choices: what narrows the page is then in sight.
    with st.expander(t("trends.filters"), expanded=replace(asked, section=TrendView.section, ranking_region="") != TrendView()):
        left, middle, right = st.columns(3)
        years = left.multiselect(t("trends.school_years"), school_years, default=[y for y in asked.school_years if y in school_years],
                                 format_func=i18n.school_year, placeholder=t("trends.all"), key="trend_years")
        grades = middle.multiselect(t("trends.grades"), list(range(1, 10)), default=list(asked.grades),
                                    placeholder=t("trends.all"), key="trend_grades")
        area = right.selectbox(t("trends.area"), list(areas), index=list(areas).index(asked.area) if asked.area in areas else 0,
                               format_func=areas.get, key="trend_area")
        types = left.multiselect(t("trends.school_types"), list(contract.SCHOOL_TYPES), default=list(asked.school_types),
                                 format_func=lambda c: i18n.t(f"school_type.{c}", lang), placeholder=t("trends.all"),
                                 key="trend_types")
        languages = middle.multiselect(t("trends.languages"), list(contract.SCHOOL_LANGUAGES), default=list(asked.languages),
                                       format_func=lambda c: i18n.t(f"language.{c}", lang), placeholder=t("trends.all"),
                                       key="trend_languages")
        metric = right.selectbox(t("trends.metric"), trends.METRICS, index=trends.METRICS.index(asked.metric),
                                 format_func=lambda m: i18n.t(f"metric.{m}", lang), key="trend_metric")
        indicator = left.selectbox(t("trends.indicator"), list(contract.INDICATORS),
                                   index=list(contract.INDICATORS).index(asked.indicator),
                                   format_func=lambda c: i18n.t(f"indicator.{c}", lang), key="trend_indicator")
        grade_group = middle.selectbox(t("trends.grade_group"), contract.SURVEY_GRADE_GROUPS,
                                       index=contract.SURVEY_GRADE_GROUPS.index(asked.grade_group), key="trend_grade_group",
                                       format_func=lambda group: group.replace("-", "–"))
        st.caption(t("trends.link"))
    # Narrowing the page to another area opens the ranking on that area's region.
    view = TrendView(tuple(sorted(years)), tuple(sorted(grades)), tuple(types), tuple(languages), area, metric,
                     indicator, grade_group, asked.section, asked.ranking_region if area == asked.area else "")
    st.query_params.from_dict(view.to_params())
    return view


def trend_section(view: TrendView) -> tuple[TrendView, DeltaGenerator]:
    """The trends page's sections (`sections`); the view with the open one (the URL follows it)."""
    section, tab = sections("trends.section", trends.SECTIONS, view.section)
    view = replace(view, section=section)
    st.query_params.from_dict(view.to_params())
    return view, tab


def sections(bar: str, codes: Sequence[str], opening: str) -> tuple[str, DeltaGenerator]:
    """A page's sections as tabs of which only the open one is drawn (the browser drawing every
    chart and table of a page was most of a visit): the open section's code and its tab to draw
    in. `bar` names the tab bar: its tabs' labels are the catalogue's `bar.<code>`, and its state
    is kept under `section_key(bar)`. The tabs open on `opening` (the URL's section) by their
    state, not their `default`: a tab bar whose default changes is a new widget, and the user's
    next click was undone. A tab's state is its label, so the key carries the language: a switch
    opens the URL's section again."""
    labels = {code: t(f"{bar}.{code}") for code in codes}
    key = section_key(bar)
    # Set before each drawing: a bar whose tabs change (a deck's slides) is a new widget to
    # Streamlit, which opened it on its first tab.
    st.session_state[key] = st.session_state.get(key, labels[opening])
    tabs = st.tabs(list(labels.values()), key=key, on_change="rerun")
    return next((code, tab) for code, tab in zip(labels, tabs) if tab.open)


def section_key(bar: str, lang: str | None = None) -> str:
    """The session's key of the `sections` tab bar `bar` in the language shown (or `lang`)."""
    return f"{bar}_{lang or language()}"


def open_section(bar: str, code: str) -> None:
    """Opens the `sections` tab bar `bar` on `code` at the next run (from a callback, before it is
    drawn)."""
    st.session_state[section_key(bar)] = t(f"{bar}.{code}")


def ranking_region(view: TrendView, ranking: pd.DataFrame) -> str | None:
    """The region whose municipalities the ranking shows, picked when it holds several (None
    when it holds one); the URL follows the choice."""
    opening = trends.opening_region(ranking, view)
    if opening is None:
        return None
    regions = trends.ranking_regions(ranking)
    chosen = st.selectbox(t("trends.ranking_region"), regions, index=regions.index(opening),
                          format_func=lambda code: reference.region_name(code, language()), key=f"trend_ranking_region_{view.area}")
    st.query_params.from_dict(replace(view, ranking_region=chosen).to_params())
    return chosen
