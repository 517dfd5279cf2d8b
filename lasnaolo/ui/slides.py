"""Showing a deck on screen: the slide preview and the full-screen presenting view."""

from __future__ import annotations

import streamlit as st

from lasnaolo import charts
from lasnaolo.deck import Deck, Slide
from lasnaolo.ui import widgets
from lasnaolo.ui.session import t

# Presenting: no sidebar or toolbar, large type. Only this view adds the style.
PRESENTING_STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"] {display: none;}
[data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 1.5rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 3rem;}
[data-testid="stMainBlockContainer"] p {font-size: 1.5rem;}
</style>
"""

POSITION_KEY = "present_slide"


def show_slide(slide: Slide, deck: Deck, name: str, large: bool = False) -> None:
    (st.title if large else st.subheader)(slide.title)
    if slide.chart is not None:
        widgets.chart_with_table(charts.for_presenting(slide.chart) if large else slide.chart, slide.table, name)
    else:
        st.info(t("present.empty_slide"))
    st.markdown(slide.caption)
    st.caption(deck.note)


def presenting(deck: Deck) -> None:
    """One slide at a time with previous / next; the buttons work from the keyboard (Tab, Enter)."""
    st.html(PRESENTING_STYLE)
    total = len(deck.slides)
    if total == 0:  # every chosen slide had nothing to show, and was left out
        st.info(t("present.empty"))
        if st.button(t("present.stop"), key="present_stop"):
            st.session_state["presenting"] = False
            st.rerun()
        return
    position = min(st.session_state.get(POSITION_KEY, 0), total - 1)
    back, where, forward, stop = st.columns([1, 2, 1, 1])
    if back.button(t("present.previous"), disabled=position == 0, key="present_previous"):
        st.session_state[POSITION_KEY] = position - 1
        st.rerun()
    where.markdown(t("present.position", n=position + 1, total=total))
    if forward.button(t("present.next"), disabled=position >= total - 1, key="present_next", type="primary"):
        st.session_state[POSITION_KEY] = position + 1
        st.rerun()
    if stop.button(t("present.stop"), key="present_stop"):
        st.session_state["presenting"] = False
        st.rerun()
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
