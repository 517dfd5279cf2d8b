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
        # Run without the router: a browser reconnecting to a new server process (a restart, another
        # process behind a load balancer) asks the new session for its page by itself. Opening the
        # app again signs in by the cookie, if any.
        st.warning(t("app.not_signed_in"))
        # A plain link in this tab (st.link_button opens a new one); the app's root is "./" of a page's URL.
        st.markdown(f'<a href="./" target="_self">{html.escape(t("app.open_again"))}</a>', unsafe_allow_html=True)
        st.stop()
    if not accounts.may_open(account.role, page):
        st.error(t("app.no_access"))
        st.stop()
    return PageContext(account, account.scope(), language(), current_engine())
