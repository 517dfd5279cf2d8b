"""What every page starts with: the access check, and the signed-in context."""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from lasnaolo import accounts
from lasnaolo.accounts import Account
from lasnaolo.scope import Scope
from lasnaolo.ui.session import ACCOUNT_KEY, language, t
from lasnaolo.ui.data import current_engine


@dataclass(frozen=True)
class PageContext:
    account: Account
    scope: Scope
    language: str
    engine: Engine


def start(page: str) -> PageContext:
    """Stop, showing nothing of the page, unless the signed-in role may open it. The router already
    routes only allowed pages; this second check holds even if a page runs some other way."""
    account = st.session_state.get(ACCOUNT_KEY)
    if account is None:
        _through_the_router()
        # Still here: run some other way (a test running the page file itself). Nothing of the page.
        st.warning(t("app.not_signed_in"))
        # A plain link in this tab (st.link_button opens a new one); the app's root is "./" of a page's URL.
        st.markdown(f'<a href="./" target="_self">{html.escape(t("app.open_again"))}</a>', unsafe_allow_html=True)
        st.stop()
    if not accounts.may_open(account.role, page):
        st.error(t("app.no_access"))
        st.stop()
    return PageContext(account, account.scope(), language(), current_engine())


REROUTED_KEY = "lasnaolo_rerouted"


def _through_the_router() -> None:
    """Runs the session again through app.py, once. A server process starts in Streamlit's old
    multipage mode because a `pages/` folder exists, and until some session has run app.py's
    `st.navigation` every session asking for a page by its URL (a bookmark, a tab reconnecting
    after a restart or from another process) runs that page's file by itself, without the
    router and its sign-in (review: /trends in a fresh process showed a warning until someone
    opened "/"). `st.navigation` ends that mode for the whole process; the rerun then goes
    through app.py, which signs in by the cookie and opens the page the URL names if the role may."""
    if st.session_state.get(REROUTED_KEY):
        return
    st.session_state[REROUTED_KEY] = True
    st.navigation([st.Page(_nothing, title="Läsnäolo", url_path="rerouting")], position="hidden")
    st.rerun()


def _nothing() -> None:
    """The placeholder page of `_through_the_router`'s navigation, never run."""
