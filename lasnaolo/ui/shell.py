"""The app's frame: configuration, login, language and the pages a role may open (used by app.py)."""

from __future__ import annotations

import gc
import logging
import os
import sys
from datetime import datetime, timedelta

import streamlit as st
import streamlit_authenticator as stauth
from streamlit import config as st_config
from streamlit.errors import StreamlitSecretNotFoundError

from lasnaolo import accounts, bootstrap, charts, contract, i18n, login, policy, reference, scope, settings
from lasnaolo.accounts import Account, AuthConfig
from lasnaolo.text import md
from lasnaolo.ui import data
from lasnaolo.ui.session import ACCOUNT_KEY, LANGUAGE_KEY, language, t

log = logging.getLogger(__name__)

SIGN_OUT_KEY = "sign_out"  # not "logout": streamlit-authenticator keeps its own flag under that key
TOKEN_KEY = "lasnaolo_login_token"  # the claims of this session's re-login cookie (lasnaolo.login)


@st.cache_resource(show_spinner=False)
def freeze_long_lived() -> int:
    """Once per server process, as its first signed-in page is about to be drawn: every object the
    process holds then (the libraries' modules, classes and functions, about 200,000) is moved out
    of the garbage collector's reach (`gc.freeze`), as they live as long as the process. Full
    collections traverse every tracked object, and Streamlit makes one after every run
    (`runner.postScriptGC`) besides the collector's own; in a new process one fell on the first
    visit to a page or two, 0.1-0.25 s each on this project's 2-core machine (the comparison page's
    first visit 0.57 -> 0.28 s against a repeat visit of 0.13 s). Frozen before the page, not
    after it (review): the page's figures, kept in caches that expire, stay collectable, and the
    sign-in form's run has just ended with a full collection, so little garbage is frozen. Every
    page's widgets and charts (Altair) are imported first, to be frozen too. What is frozen is
    still freed by reference counting; only a cycle among it is never collected. Freezing takes
    microseconds. Returns how many objects are frozen.

    Before freezing, the process does once what every page's first visit in it did on top of a
    repeat visit (`_prepare_process`), so that a second process's first visit costs what the first
    process's repeat visit does."""
    _prepare_process()
    gc.freeze()
    _modules_when_frozen[0] = len(sys.modules)
    return gc.get_freeze_count()


_modules_when_frozen = [0]  # this process's count of imported modules at its last freeze


def freeze_newly_imported() -> bool:
    """After a signed-in run that imported modules (a figure computed in this process brings in
    scikit-learn, SciPy, linearmodels or python-pptx: about 90,000 objects), the same as
    `freeze_long_lived` for them: collected once and frozen, or every later run's full collection
    (`runner.postScriptGC`) traverses them again, about 30 ms on this project's machine (freezing
    only while a process held one session, its repeat visits cost 40-90 ms more in the benchmark,
    most likely for this; not traced). Rare: once per library and process (three times over
    every page of the five demo roles, review). A freeze keeps whatever lives then, and what
    holds cycles among it is never collected: this and the other connected sessions' state
    (outliving its session), the shared caches' entries - a one-off cost per library, chosen
    over the collection's cost on every run. Returns whether it froze."""
    if len(sys.modules) <= _modules_when_frozen[0]:
        return False
    gc.collect()
    gc.freeze()
    _modules_when_frozen[0] = len(sys.modules)
    return True


# Not imported ahead: the command line, the demo data's generators (SciPy) and alembic's scripts.
NOT_FOR_PAGES = ("lasnaolo.__main__", "lasnaolo.cli", "lasnaolo.demo", "lasnaolo.pupil_demo", "lasnaolo.migrations")


def _prepare_process() -> None:
    """Imports every module of the package a page may use (a page imports some only when drawn:
    where Python may not write bytecode, as in many containers, each is compiled from source on
    the first visit) - the heavy libraries (scikit-learn, SciPy, linearmodels, python-pptx) stay
    imported only when a figure is computed - and has Altair compile the regular expressions it
    parses a field's shorthand with (about ten, compiled on a process's first chart), and draws
    a chart as the pages send it: the first named dataset had narwhals look for plugins among
    every installed package's entry points, 38 ms of a moved tab's first page."""
    import importlib
    import pkgutil

    import altair as alt
    import pandas as pd

    import lasnaolo

    def unreadable(name: str) -> None:
        log.warning("package %s not imported ahead", name)

    for module in pkgutil.walk_packages(lasnaolo.__path__, "lasnaolo.", onerror=unreadable):
        if not module.name.startswith(NOT_FOR_PAGES):
            try:
                importlib.import_module(module.name)
            except Exception:  # left to the page that uses it, which says what is wrong (review)
                log.exception("%s not imported ahead", module.name)
    # An untyped field is tried against every shorthand pattern, so all are compiled.
    alt.Chart(pd.DataFrame({"x": [0]})).mark_point().encode(x="x").to_dict()
    sent = alt.Chart(pd.DataFrame({"x": [0]})).mark_point().encode(x="x:Q")
    charts.browser_spec(charts.as_shown(sent, i18n.DEFAULT_LANGUAGE))


def read_secrets() -> settings.SecretsFile:
    """What Streamlit finds in its secrets files (`.streamlit/secrets.toml` in the working
    directory and in the home directory, or the `secrets.files` option): the values, which files
    exist, and why they could not be read. A file that cannot be parsed is a problem to report,
    never "no secrets"."""
    paths = tuple(str(p) for p in st_config.get_option("secrets.files") if os.path.exists(p))
    try:
        return settings.SecretsFile(st.secrets.to_dict(), paths)
    except StreamlitSecretNotFoundError as error:
        if not paths:  # no secrets file at all
            return settings.SecretsFile({}, ())
        return settings.SecretsFile({}, paths, str(error))
    except Exception as error:  # e.g. a file that exists but cannot be opened
        return settings.SecretsFile({}, paths, f"{type(error).__name__}: {error}")


def _refused() -> None:
    """The only page while the configuration is refused: the reasons shown above it."""


def secrets() -> dict:
    """The parsed secrets, empty when there are none (for other settings, e.g. the map's file);
    auth_config has already stopped the app when they cannot be read."""
    return dict(read_secrets().values)


def auth_config() -> AuthConfig:
    """The account configuration; a wrong one stops the app here with the reasons. Also sets the
    process's pseudonym key (the demo key only in demo mode)."""
    try:
        loaded = settings.load(read_secrets(), os.environ)
        if loaded.suppression != contract.SUPPRESSION:  # the environment changed after the package loaded
            raise accounts.ConfigError([f"the suppression thresholds in the environment ({loaded.suppression}) are not "
                                        f"the ones this process started with ({contract.SUPPRESSION}): restart the app"])
    except accounts.ConfigError as error:
        st.error(t("app.config_error"))
        st.code("\n".join(f"- {m}" for m in error.messages), language=None, wrap_lines=True)
        # No page of any kind is routed (without st.navigation Streamlit would list pages/).
        st.navigation([st.Page(_refused, title=t("app.title"), url_path="refused", default=True)],
                      position="hidden").run()
        st.stop()
    scope.configure_pseudonym_key(loaded.pseudonym_key)
    bootstrap.allow_demo_data(loaded.demo_mode)
    config = loaded.auth if loaded.auth is not None else accounts.demo_config(_demo_rector_school())
    login.prepare(config)
    return config


def _demo_rector_school() -> str | None:
    return accounts.demo_rector_school(data.schools(accounts.DEMO_MUNICIPALITY_SCOPE))


def authenticator(config: AuthConfig) -> stauth.Authenticate:
    return stauth.Authenticate(config.credentials, config.cookie_name, config.cookie_key,
                               config.cookie_expiry_days, auto_hash=False)


def _remember_language() -> None:
    st.session_state[LANGUAGE_KEY] = st.session_state["language_choice"]


def language_selector() -> str:
    """The sidebar's language choice, remembered for the session in a key of its own (a widget's
    state may be dropped when the page changes; the choice must not be)."""
    # The label names itself in every language, so a user who cannot read the current one finds it.
    label = " / ".join(i18n.t("app.language", code) for code in i18n.LANGUAGES)
    st.sidebar.selectbox(
        label, i18n.LANGUAGES, index=i18n.LANGUAGES.index(language()),
        format_func=lambda code: i18n.LANGUAGE_NAMES[code], key="language_choice", on_change=_remember_language,
    )
    return language()


def client_address(config: AuthConfig) -> str | None:
    """The client's address for throttling: the connection's, or X-Forwarded-For's entry written
    by the outermost trusted proxy when `trusted_proxies` is configured."""
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no request headers (e.g. AppTest)
        forwarded = None
    return login.client_address(st.context.ip_address, forwarded, config.trusted_proxies)


def _login_form(auth: stauth.Authenticate, config: AuthConfig) -> bool:
    """Our own localised form; the credential check is streamlit-authenticator's, wrapped in the
    throttle and the same work for unknown usernames (lasnaolo.login). True on success."""
    st.title(t("app.title"))
    st.caption(t("app.tagline"))
    with st.form("login"):
        st.subheader(t("login.form"))
        username = st.text_input(t("login.username"), autocomplete="username")
        password = st.text_input(t("login.password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(t("login.submit"))
    if submitted:
        result = login.attempt(data.current_engine(), config, username, password, client_address(config),
                               check=lambda u, p: bool(auth.authentication_controller.login(u, p)))
        if result.ok:
            return True
        if result.status == "locked":
            st.error(t("login.locked", minutes=result.retry_after_minutes))
        else:
            st.error(t("login.failed"))
    if config.demo_mode:
        st.info(t("app.demo_accounts"))
    return False


def _set_login_cookie(auth: stauth.Authenticate, config: AuthConfig) -> None:
    """A new re-login cookie with its own token id and the password's fingerprint (lasnaolo.login),
    written by streamlit-authenticator's cookie component."""
    value, claims = login.issue_token(config, st.session_state["username"])
    st.session_state[TOKEN_KEY] = claims
    if config.cookie_expiry_days > 0:
        auth.cookie_controller.cookie_model.cookie_manager.set(
            config.cookie_name, value, expires_at=datetime.now() + timedelta(days=config.cookie_expiry_days))


def sign_in(auth: stauth.Authenticate, config: AuthConfig) -> Account | None:
    """The signed-in account, or None with the login form shown.

    A valid re-authentication cookie signs in without the form. The form lives in a placeholder
    that is emptied on success, and the cookie is set outside it, so the first page renders in
    the same run as the login and the cookie still reaches the browser. An open session ends
    when its sign-in was revoked or the user's password changed in the account file."""
    engine = data.current_engine()
    if st.session_state.get("authentication_status") and not login.still_valid(
            st.session_state.get(TOKEN_KEY), config, engine, session=True):
        auth.logout(location="unrendered")
        st.session_state.pop(TOKEN_KEY, None)
        st.warning(t("login.session_ended"))
    if not st.session_state.get("authentication_status") and not st.session_state.get("logout"):
        # The cookie as the browser sent it when the session opened: no wait for the cookie
        # component, so the first run completes and a typed or bookmarked URL keeps its page.
        claims = login.read_login_cookie(st.context.cookies.get(config.cookie_name), config, engine)
        if claims:
            auth.authentication_controller.login(token=claims)
            st.session_state[TOKEN_KEY] = claims
    if not st.session_state.get("authentication_status"):
        form = st.empty()
        with form.container():
            if not _login_form(auth, config):
                st.session_state.pop(ACCOUNT_KEY, None)
                return None
        form.empty()
        _set_login_cookie(auth, config)
    account = config.accounts.get(st.session_state.get("username") or "")
    if account is None:  # e.g. removed from the account file while signed in
        st.session_state.pop(ACCOUNT_KEY, None)
        st.error(t("app.unknown_user"))
        auth.logout(t("login.logout"), location="main", key="logout_unknown")
        st.stop()
    st.session_state[ACCOUNT_KEY] = account
    return account


def _nothing_before_login() -> None:
    """Before login every path shows only the form; no page runs."""


def login_navigation():
    """Before login every known path is routed to nothing but the login form, so a typed or
    bookmarked URL keeps its path: after a cookie re-login it opens that page if the role may."""
    paths = ["login", *policy.PAGES]
    return st.navigation([st.Page(_nothing_before_login, title=t("login.form"), url_path=path, default=(i == 0))
                          for i, path in enumerate(paths)], position="hidden")


def scope_text(account: Account) -> str:
    lang = language()
    if account.role == "admin":
        return t("scope.everything")
    if account.role == "rector":
        schools = data.schools(account.scope())
        name = schools["school_name"].iloc[0] if not schools.empty else account.school or "?"
        return t("scope.school", name=md(name))  # data: shown literally in the title and sidebar
    parts = []
    if account.municipalities:
        names = ", ".join(reference.municipality_name(m, lang) for m in account.municipalities)
        parts.append(t("scope.municipalities", names=md(names), n=len(account.municipalities)))
    if account.regions:
        parts.append(t("scope.regions", names=md(", ".join(reference.region_name(r, lang) for r in account.regions)),
                       n=len(account.regions)))
    text = "; ".join(parts)
    return t("scope.anonymised", scope=text) if account.scope().anonymised else text


def sign_out_if_asked(auth: stauth.Authenticate) -> None:
    """The sign-out button's click is handled at the top of the next run, before anything is
    shown, so that run already shows the login form and deletes the re-login cookie."""
    if st.session_state.get(SIGN_OUT_KEY):
        login.revoke(data.current_engine(), st.session_state.pop(TOKEN_KEY, None))
        auth.logout(location="unrendered")


def sidebar(account: Account) -> None:
    st.sidebar.markdown(t("app.signed_in_as", name=md(account.name), role=t(f"role.{account.role}")))
    st.sidebar.caption(t("app.scope", scope=scope_text(account)))
    st.sidebar.button(t("login.logout"), key=SIGN_OUT_KEY)


# Streamlit writes input hints ("Press Enter to submit form", "Press Enter to apply") in English
# whatever the language and lets no app set them; the inputs work the same without the hint.
# Streamlit's English "Press Enter to apply" hints hidden; and narrower side margins than the wide
# layout's 5rem, so that the attention table's eight Finnish columns fit at 1400 px (issue 18).
APP_STYLE = """<style>
[data-testid="InputInstructions"] {display: none;}
@media (min-width: 1000px) {[data-testid="stMainBlockContainer"] {padding-left: 2.5rem; padding-right: 2.5rem;}}
</style>"""


def app_style() -> None:
    st.html(APP_STYLE)


def demo_banner(config: AuthConfig) -> None:
    if config.demo_mode:
        st.warning(t("app.demo_banner"), icon=":material/science:")


def navigation(account: Account):
    """Only the pages this role may open are routable: a typed URL to any other finds nothing."""
    pages = [
        st.Page(page.file, title=t(page.title_key), icon=page.icon, url_path=page.name, default=(i == 0))
        for i, page in enumerate(policy.PAGE_BY_NAME[name] for name in accounts.pages_for(account.role))
    ]
    return st.navigation(pages)
