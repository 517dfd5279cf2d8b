"""What every page starts with: the access check, and the signed-in context."""

from __future__ import annotations

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
    if account is None or not accounts.may_open(account.role, page):
        st.error(t("app.no_access"))
        st.stop()
    return PageContext(account, account.scope(), language(), current_engine())
