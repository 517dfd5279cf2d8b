"""Markdown in data is shown, never rendered (issue #15, finding 10), in a real headless Chromium
against a real `streamlit run` configured for production (account file, keys, a database of its
own): the rector's school and the rector's own name are markdown, HTML and Streamlit directives;
the pages show them literally, the DOM holds no image from them and the browser never requests the
image's address."""

from __future__ import annotations

import os
import re
import secrets

import pytest
import sqlalchemy as sa

from lasnaolo import accounts, environment, importer, store
from support.helpers import streamlit_server

from test_browser import ROOT, browser, no_exception, page, settle, shot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
TRACKER = "127.0.0.1:9"
PAYLOAD = f"![t](http://{TRACKER}/track.png) **bold** <img src=x> :red[x] $x$"
USER_NAME = f"Rehtori <img src=http://{TRACKER}/u.png> _em_ :material/home:"
PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def hostile_server(demo_files, tmp_path_factory):
    """The demo data with every school of Hyvinkää (106) renamed to the payload and its code, and a
    rector of one of them whose own name is a payload too, served by a real production server."""
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'lasnaolo.db'}"
    engine = store.make_engine(url)
    store.init_database(engine)
    importer.import_paths(engine, sorted(demo_files.glob("*.csv")))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE school SET school_name = :name || ' ' || school_id WHERE municipality_code = '106'"),
                           {"name": PAYLOAD})
        school = connection.execute(sa.text("SELECT min(school_id) FROM school WHERE municipality_code = '106'")).scalar_one()
    engine.dispose()
    users = folder / "users.yaml"
    accounts.add_user(users, "rehtori", USER_NAME, PASSWORD, "rector", school=school)
    env = {k: v for k, v in os.environ.items() if k not in (environment.USERS_FILE, environment.COOKIE_KEY)}
    env |= {"LASNAOLO_DB_URL": url, environment.USERS_FILE: str(users), environment.COOKIE_KEY: secrets.token_urlsafe(48),
            "LASNAOLO_PSEUDONYM_KEY": secrets.token_urlsafe(48)}
    with streamlit_server(["-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env, log_path=folder / "server.log") as base:
        yield base


def login(page, base: str) -> None:
    """Sign in through the real form (the cookie component may rerun once and swallow a click)."""
    page.goto(base + "/")
    home = page.get_by_role("heading", name=re.compile("^Yleiskuva"))
    for _ in range(3):
        page.get_by_label("Käyttäjätunnus").or_(home).first.wait_for(timeout=30_000)
        settle(page)
        if home.count():
            break
        page.get_by_label("Käyttäjätunnus").fill("rehtori")
        page.get_by_label("Salasana").fill(PASSWORD)
        page.get_by_role("button", name="Kirjaudu").click()
        try:
            home.wait_for(timeout=15_000)
            break
        except Exception:
            continue
    else:
        pytest.fail("could not log in")
    settle(page)


def visible(page, selector: str) -> str:
    """The text of the elements as a reader sees it (the invisible word joiners left out)."""
    return " ".join(page.locator(selector).all_inner_texts()).replace("\u2060", "")


def test_school_names_holding_markdown_html_and_directives_are_shown_literally_and_fetch_nothing(hostile_server, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, hostile_server)
    heading = page.get_by_role("heading", level=1).first
    heading.wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    shot(page, "rector-overview-hostile-school-name")
    assert PAYLOAD in heading.inner_text().replace("\u2060", "")  # the overview's title, literally
    sidebar = visible(page, '[data-testid="stSidebar"]')
    assert PAYLOAD in sidebar and USER_NAME in sidebar  # the scope caption and "signed in: <name>"
    rendered = page.locator('[data-testid="stMarkdownContainer"]')
    assert rendered.locator("img").count() == 0  # no image from the name (Streamlit's own icons are not <img>)
    assert page.locator(f'img[src*="{TRACKER}"], img[src="x"]').count() == 0
    assert rendered.locator("strong, em, .stMarkdownColoredText, .katex, a[href*='127.0.0.1']").count() == 0
    assert not [url for url in requested if TRACKER in url]


def test_every_page_of_a_rector_with_a_hostile_school_name_runs_without_error_image_or_request_to_its_address(hostile_server, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, hostile_server)
    for name in accounts.pages_for("rector"):
        page.goto(f"{hostile_server}/{name}")
        settle(page)
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=30_000)
        no_exception(page)
        assert page.locator('[data-testid="stMarkdownContainer"] img').count() == 0, name
    assert not [url for url in requested if TRACKER in url]
