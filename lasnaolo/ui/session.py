"""Per-session state: the signed-in account and the chosen language."""

from __future__ import annotations

import streamlit as st

from lasnaolo import i18n

ACCOUNT_KEY = "lasnaolo_account"
LANGUAGE_KEY = "lasnaolo_language"


def language() -> str:
    return st.session_state.get(LANGUAGE_KEY, i18n.DEFAULT_LANGUAGE)


def t(key: str, /, **values: object) -> str:
    """Catalogue text in the session's language."""
    return i18n.t(key, language(), **values)
