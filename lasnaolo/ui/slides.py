"""Showing a deck on screen: the slide preview and the full-screen presenting view."""

from __future__ import annotations

import streamlit as st

from lasnaolo import deck as decks
from lasnaolo import i18n, reference
from lasnaolo.deck import Deck, DeckRequest, Slide
from lasnaolo.ui import data, filters, widgets
from lasnaolo.ui.page import PageContext
from lasnaolo.ui.session import t

# Presenting: no sidebar or toolbar, large type. Only this view adds the style.
PRESENTING_STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"] {display: none;}
[data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 1rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 2.6rem; padding-top: 0.5rem;}
[data-testid="stMainBlockContainer"] p {font-size: 1.5rem;}
</style>
"""

# The slide's drawing on a 1920 × 1080 screen: its type (22 px in the 1771-px chart box) stays at
# 18 px or more, and title, chart, caption and note fit the screen's height together.
FULL_SCREEN_CHART_WIDTH = 1500
POSITION_KEY = "present_slide"
PRESENTING_KEY = "presenting"
PREVIEW_BAR = "deck.slide"  # the preview's tabs: the slides' names in the catalogue
# The URL's name for the slide open in the preview: not `section`, which trends' and the
# comparison's tabs use and a page change carries along (trends' "wellbeing" is a slide too).
PREVIEW_PARAM = "preview"
FORM_KEYS = ("present_region", "present_year", "present_municipalities", "present_slides")


def deck_form(ctx: PageContext, years: list[str], asked: DeckRequest) -> DeckRequest:
    """The deck's area, year and slides. They start from what the user chose before presenting,
    else from the URL (a reload or a shared link), else the defaults; codes outside the user's
    area fall back to the whole area."""
    restore(FORM_KEYS)  # Streamlit forgets the choices of widgets a run did not draw (presenting)
    own = data.schools(ctx.scope)
    regions = sorted(set(own["region_code"]))
    # "" is the whole area: a None value would show Streamlit's "Choose an option" instead.
    asked_region = next(iter(asked.region_codes)) if asked.region_codes else ""
    st.session_state.setdefault("present_region", asked_region if asked_region in regions else "")
    st.session_state.setdefault("present_year", asked.school_year)
    st.session_state.setdefault("present_municipalities", next(iter(asked.municipality_codes)) if asked.municipality_codes else "")
    st.session_state.setdefault("present_slides", list(asked.slides))
    region_names = reference.regions().set_index("region_code")[reference.name_column(ctx.language, english=True)]
    left, right = st.columns(2)
    region = left.selectbox(t("present.region"), ["", *regions], key="present_region",
                            format_func=lambda r: region_names[r] if r else t("present.all_regions"))
    year = right.selectbox(t("overview.school_year"), years, format_func=i18n.school_year, key="present_year")
    choices = sorted(set(own.loc[own["region_code"] == region, "municipality_code"] if region else own["municipality_code"]))
    # One municipality or the whole area: every deck is a cell of the presenter's one publication.
    if st.session_state.get("present_municipalities") not in ["", *choices]:
        st.session_state["present_municipalities"] = ""  # e.g. a municipality of another region
    municipality = st.selectbox(t("present.municipality"), ["", *choices], key="present_municipalities",
                                format_func=lambda m: reference.municipality_name(m, ctx.language) if m else
                                t("present.whole_area"))
    chosen = st.multiselect(t("present.slides"), list(decks.SLIDES), key="present_slides",
                            format_func=lambda s: t(f"deck.slide.{s}"), placeholder=t("present.slides_placeholder"))
    remember(FORM_KEYS)
    return DeckRequest(year, region_codes=frozenset({region}) if region else None,
                       municipality_codes=frozenset({municipality}) if municipality else None,
                       slides=tuple(chosen) or decks.SLIDES, language=ctx.language)


def resume_from_url() -> None:
    """A reload while presenting (the URL names the slide) goes on presenting at that slide."""
    shown = str(st.query_params.get("slide", ""))
    if PRESENTING_KEY not in st.session_state and shown.isdigit():
        st.session_state.update({PRESENTING_KEY: True, POSITION_KEY: int(shown) - 1})


def follow_in_url(request: DeckRequest) -> None:
    """The URL names the deck, and the slide: presented (`slide`, its number) or open in the
    preview (`preview`, its kind, which the preview keeps)."""
    params = request.to_params()
    if st.session_state.get(PRESENTING_KEY):
        params["slide"] = str(st.session_state.get(POSITION_KEY, 0) + 1)
    elif PREVIEW_PARAM in st.query_params:
        params[PREVIEW_PARAM] = st.query_params[PREVIEW_PARAM]
    st.query_params.from_dict(params)


def start_presenting() -> None:
    st.session_state.update({PRESENTING_KEY: True, POSITION_KEY: 0})
    st.rerun()


def stop_presenting() -> None:
    st.session_state[PRESENTING_KEY] = False
    st.rerun()


def show_slide(slide: Slide, deck: Deck, name: str, large: bool = False) -> None:
    """A slide in the preview (the interactive chart) or full screen (`large`: the very picture of
    the PPTX slide, as pixels: an SVG's text drawn in the browser's own font ran past the edges)."""
    (st.title if large else st.subheader)(slide.title)
    if slide.chart is None:
        st.info(t("present.empty_slide"))
    elif large:
        st.image(decks.slide_png(slide), width=FULL_SCREEN_CHART_WIDTH, alt=f"{slide.title}. {slide.caption}")
    else:
        widgets.chart_with_table(slide.chart, slide.table, name)
    st.markdown(slide.caption)
    st.caption(deck.note)
    if large and slide.chart is not None:  # the numbers below the screen's fold: the audience sees the slide
        with st.expander(t("overview.table_caption")):
            widgets.table_with_downloads(slide.table, name)


def preview(deck: Deck) -> None:
    """The deck's slides in tabs, one drawn at a time (the browser drawing every slide's chart was
    most of a visit), from the URL's slide (a reload, a language switch, a link) or the first."""
    kinds = [slide.kind for slide in deck.slides]
    if not kinds:  # every chosen slide had nothing to show (the page names them)
        return
    asked = st.query_params.get(PREVIEW_PARAM, "")
    kind, tab = filters.sections(PREVIEW_BAR, kinds, asked if asked in kinds else kinds[0])
    st.query_params[PREVIEW_PARAM] = kind
    index = kinds.index(kind)
    with tab:
        show_slide(deck.slides[index], deck, f"slide-{index + 1}")


def presenting(deck: Deck) -> None:
    """One slide at a time with previous / next; the buttons work from the keyboard (Tab, Enter)."""
    st.html(PRESENTING_STYLE)
    total = len(deck.slides)
    if total == 0:  # every chosen slide had nothing to show, and was left out
        st.info(t("present.empty"))
        if st.button(t("present.stop"), key="present_stop"):
            stop_presenting()
        return
    position = min(max(st.session_state.get(POSITION_KEY, 0), 0), total - 1)
    back, where, forward, stop = st.columns([1, 2, 1, 1])
    if back.button(t("present.previous"), disabled=position == 0, key="present_previous"):
        st.session_state[POSITION_KEY] = position - 1
        st.rerun()
    where.markdown(t("present.position", n=position + 1, total=total))
    if forward.button(t("present.next"), disabled=position >= total - 1, key="present_next", type="primary"):
        st.session_state[POSITION_KEY] = position + 1
        st.rerun()
    if stop.button(t("present.stop"), key="present_stop"):
        stop_presenting()
    show_slide(deck.slides[position], deck, f"slide-{position + 1}", large=True)


def remember(keys: tuple[str, ...]) -> None:
    """Keep the form's choices while the presenting view, which draws no form, is shown."""
    for key in keys:
        if key in st.session_state:
            st.session_state[f"kept_{key}"] = st.session_state[key]


def restore(keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in st.session_state and f"kept_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"kept_{key}"]
