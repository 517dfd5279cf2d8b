"""End to end in a real headless Chromium against a real `streamlit run` server: login through
the real form, each role's pages, typed URLs to forbidden pages, logout. Screenshots of every
page go to test-artifacts/ for a person to look at."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from lasnaolo import accounts, environment, i18n, trends
from lasnaolo.deck import SLIDES as PRESENT_SLIDES
from support.helpers import PAGE_SECTIONS, drawn_sections, free_port, streamlit_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("LASNAOLO_CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium from reaching out to the network on its own (closed network here).
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROLE_OF = {"admin": "admin", "johtaja": "director", "rehtori": "rector", "ohjausryhma": "steering_group",
           "koordinaattori": "coordinator"}
PAGE_HEADINGS = {"overview": "Yleiskuva", "trends": "Kehitys ja alueelliset erot",
                 "comparison": "Koulun vertailu samankaltaisiin kouluihin", "clusters": "Koulujen riskiprofiilit",
                 "targets": "Vuositavoitteet ja niiden seuranta", "impact": "Toimenpiteiden vaikutus poissaoloihin",
                 "evaluation": "Läsnäolomallin itsearviointi", "present": "Esitys webinaariin",
                 "data": "Aineiston hallinta"}
SERVER_DB: dict[str, str] = {}  # server address -> its database URL


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server on a free port in demo mode (nothing configured) whose embedded database, a
    fresh file in the test's folder, the app fills with demo data on first run."""
    folder = tmp_path_factory.mktemp("server")
    env = {k: v for k, v in os.environ.items() if k not in (*environment.PRODUCTION, "LASNAOLO_DEMO_DATA")}
    with streamlit_server([str(ROOT / "tests" / "support" / "demo_server.py"), str(folder / "lasnaolo.db"), "app.py"], cwd=ROOT,
                          env=env, log_path=folder / "server.log") as base:
        SERVER_DB[base] = f"sqlite:///{folder / 'lasnaolo.db'}"
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("LASNAOLO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required (LASNAOLO_REQUIRE_BROWSER=1) but {CHROMIUM} does not exist")
        pytest.skip(f"no Chromium at {CHROMIUM} (tests/run.sh installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


PROJECTOR = {"width": 1920, "height": 1080}


@pytest.fixture
def page(browser, request):
    yield from _tab(browser, request, {"width": 1400, "height": 1000})


@pytest.fixture
def tall_page(browser, request):
    """A tab tall enough that a whole page is in one screenshot (Streamlit scrolls its main
    area inside the window, so a full-page screenshot of a short window would cut it)."""
    yield from _tab(browser, request, {"width": 1400, "height": 4000})


@pytest.fixture
def projector(browser, request):
    """A tab the size of a 1920 × 1080 projector."""
    yield from _tab(browser, request, PROJECTOR)


def _tab(browser, request, viewport):
    context = browser.new_context(viewport=viewport, locale="fi-FI")
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # what the browser showed when it failed
        shot(tab, "FAILED-" + re.sub(r"\W+", "-", request.node.name))
    context.close()


def settle(page) -> None:
    """Wait until the script run has finished (Streamlit shows a status widget while running)."""
    # Network idle lets a component's frame (the cookie manager) load before the next input,
    # which its rerun would otherwise swallow; on a loaded CI machine a late request once kept it
    # from coming within 30 s, so past 20 s the app's own state below decides alone.
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_load_state("networkidle", timeout=20_000)
    except PlaywrightTimeoutError:
        page.wait_for_load_state("load", timeout=60_000)
    # The app's own state: the status widget shows only once a run has taken a while.
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=30_000)
    # The previous run's elements, faded while a rerun replaces them, are gone (axe would read
    # their faded text as too little contrast).
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
    page.wait_for_timeout(300)


def click_until(page, button, appears, tries: int = 3) -> None:
    """Click, and click again if a rerun started by a component (the cookie manager) swallowed
    the click, as a person would."""
    for _ in range(tries):
        settle(page)
        if button.count():
            button.click()
        try:
            appears.wait_for(timeout=10_000)
            settle(page)
            return
        except Exception:
            continue
    pytest.fail("the click never took effect")


def login(page, base: str, username: str) -> None:
    page.goto(base + "/")
    # The cookie manager component reruns the script once it has loaded, which can swallow a
    # click or clear the inputs: try again as a person would, unless the login went through.
    page.locator('iframe[title*="CookieManager"]').first.wait_for(state="attached", timeout=30_000)
    home = page.get_by_role("heading", name=re.compile("^Yleiskuva"))
    form_or_home = page.get_by_label("Käyttäjätunnus").or_(home)
    for _ in range(3):
        form_or_home.first.wait_for(timeout=30_000)
        settle(page)
        if home.count():
            break
        try:
            # Mid-rerun the old form can stand beside the new one (a CI run met two): fill the one form.
            page.wait_for_function(
                "() => document.querySelectorAll('input[aria-label=\"Käyttäjätunnus\"]').length === 1", timeout=10_000)
            page.get_by_label("Käyttäjätunnus").fill(username)
            page.get_by_label("Salasana").fill("demo")
            page.get_by_role("button", name="Kirjaudu").click()
            home.wait_for(timeout=15_000)
            break
        except Exception:
            continue
    else:
        pytest.fail(f"could not log in as {username}")
    settle(page)
    wait_for_login_cookie(page)


def open_from_sidebar(page, name: str, heading: str) -> None:
    """Open a page through the sidebar, as a user goes. A click that a component's rerun swallowed
    (the sign-in cookie's, right after signing in: a loaded CI run met it) is made again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    # .first: while Streamlit reruns, the old heading may still stand beside the new one.
    target = page.get_by_role("heading", name=re.compile("^" + re.escape(heading)), level=1).first
    for _ in range(2):
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').first.click()
        try:
            target.wait_for(timeout=20_000)
            return
        except PlaywrightTimeoutError:
            continue
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').first.click()
    target.wait_for(timeout=30_000)


def wait_for_login_cookie(page, seconds: float = 15) -> None:
    """The re-login cookie is written by a component once the browser has mounted it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(c["name"] == "lasnaolo_auth" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    pytest.fail("the re-login cookie was never set")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def accounts_title(page_name: str) -> str:
    from lasnaolo import i18n

    return i18n.t(f"page.{page_name}", "fi")


def no_exception(page) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, shown.all_inner_texts()


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_each_role_sees_only_its_pages_in_the_sidebar_and_typed_urls_to_others_show_nothing(server, page, username):
    """Opening each allowed page is the walk of the language test below; here: the sidebar, and
    the pages a role may not open typed by hand."""
    role = ROLE_OF[username]
    login(page, server, username)
    allowed = accounts.pages_for(role)
    links = page.locator('[data-testid="stSidebarNav"] a')
    # The sidebar lists exactly the allowed pages (Streamlit hides the list when there is one).
    assert (links.count() if len(allowed) > 1 else 0) == (len(allowed) if len(allowed) > 1 else 0)
    shown = sorted(text.split("\n")[-1] for text in links.all_inner_texts())  # after the icon's name
    assert shown == (sorted(accounts_title(n) for n in allowed) if len(allowed) > 1 else [])
    for name, heading in PAGE_HEADINGS.items():
        if name in allowed:
            continue
        page.goto(f"{server}/{name}")  # typed by hand
        settle(page)
        page.get_by_role("heading", name=re.compile("^Yleiskuva")).wait_for(timeout=30_000)
        assert page.get_by_role("heading", name=re.compile(f"^{heading}")).count() == 0
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        no_exception(page)
        shot(page, f"{username}-{name}-typed-url")
        page.goto(server + "/")  # away from the "page not found" dialog
        settle(page)


def test_after_logout_no_page_is_reachable(server, page, browser):
    login(page, server, "admin")
    click_until(page, page.get_by_role("button", name="Kirjaudu ulos"), page.get_by_label("Käyttäjätunnus"))
    assert not [c for c in page.context.cookies() if c["name"] == "lasnaolo_auth"]  # no silent re-login
    for name, heading in PAGE_HEADINGS.items():
        page.goto(f"{server}/{name}")
        settle(page)
        page.get_by_label("Käyttäjätunnus").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name=re.compile(f"^{heading}")).count() == 0
        assert page.locator('[data-testid="stMetric"]').count() == 0


def test_a_shared_link_opens_the_same_view_after_login_with_its_filters_in_sight(server, page):
    login(page, server, "johtaja")
    link = f"{server}/trends?grades=7%2C8%2C9&metric=unauthorised_rate"
    page.goto(link)  # a new page load: the session signs in again from the cookie
    settle(page)
    page.get_by_role("heading", name="Kehitys ja alueelliset erot").wait_for(timeout=30_000)
    assert page.url.endswith("/trends?grades=7%2C8%2C9&metric=unauthorised_rate")
    no_exception(page)
    # The filters a link brought are in sight without a click (the panel opens by itself).
    page.get_by_text("Luvattomat poissaolot").first.wait_for(timeout=10_000)
    shot(page, "johtaja-trends-shared-link")


# Accessibility: axe-core (through axe-playwright-python, which carries axe's own script) runs in
# the same Chromium on every page a role may open. Serious and critical findings fail the test.
# Findings in markup that Streamlit itself draws and we cannot change would be listed here with
# their upstream issue; at present there are none.
STREAMLIT_OWN_FINDINGS: dict[str, str] = {}


def serious_findings(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} – {n['html'][:120]}"
            for v in violations if v["impact"] in ("serious", "critical") and v["id"] not in STREAMLIT_OWN_FINDINGS
            for n in v["nodes"]]


def test_the_login_page_is_accessible(server, page):
    page.goto(server + "/")
    page.get_by_label("Käyttäjätunnus").wait_for(timeout=30_000)
    settle(page)
    assert serious_findings(page) == []


def test_a_coordinator_downloads_an_anonymised_deck(server, page, tmp_path):
    from pptx import Presentation

    from lasnaolo import queries, store

    login(page, server, "koordinaattori")
    open_from_sidebar(page, "present", PAGE_HEADINGS["present"])
    settle(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Lataa PowerPoint (PPTX)").click()
    path = tmp_path / "deck.pptx"
    download.value.save_as(path)
    presentation = Presentation(str(path))
    # The title and the catalogue's slides, less the targets slide when no targets are set.
    assert len(PRESENT_SLIDES) <= len(presentation.slides) <= 1 + len(PRESENT_SLIDES)
    text = " ".join(shape.text_frame.text for slide in presentation.slides for shape in slide.shapes
                    if shape.has_text_frame)
    text += " ".join(slide.notes_slide.notes_text_frame.text for slide in presentation.slides if slide.has_notes_slide)
    assert "Anonymisoitu" in text
    names = queries.schools(store.make_engine(SERVER_DB[server]), queries.Scope.everything())["school_name"]
    assert len(names) > 100 and not [n for n in names if n in text]
    page.get_by_role("button", name="Esitä koko näytöllä").click()
    settle(page)
    page.get_by_text("Dia 1 / ").wait_for(timeout=30_000)
    # Full screen: the slide only. Streamlit keeps the previous run's elements until the rerun
    # replaces them, so wait for the sidebar to go rather than look once.
    page.get_by_role("link", name=accounts_title("overview")).wait_for(state="hidden", timeout=30_000)
    settle(page)
    shot(page, "koordinaattori-presenting")
    page.get_by_role("button", name="Seuraava").click()
    settle(page)
    page.get_by_text("Dia 2 / ").wait_for(timeout=30_000)
    settle(page)  # "Dia 2" may show before the run that drew it has finished
    assert serious_findings(page) == []


SLIDE_TEXT_JS = """() => {
    // The slide's picture as drawn (the PPTX picture, in pixels), and where the page's last text ends.
    const img = [...document.querySelectorAll('[data-testid="stImage"] img')].pop();
    if (!img) return null;
    const box = img.getBoundingClientRect();
    // The note (the slide's last caption) is the last thing the audience must see.
    const note = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stCaptionContainer"]')].pop();
    return {width: box.width, natural: img.naturalWidth, right: box.right, alt: img.alt,
            bottom: Math.max(box.bottom, note ? note.getBoundingClientRect().bottom : 0)};
}"""


def drawn_text_sizes(drawn: dict) -> float:
    """The slide's type as drawn on the screen: Vega drew it at charts.SLIDE_TEXT pixels of the
    chart box (`tests/test_deck.py` checks every text there), the picture is twice the box's
    pixels, and the screen shows it at its drawn width."""
    from lasnaolo import charts, deck
    return charts.SLIDE_TEXT * drawn["width"] / deck.CHART_BOX.pixels[0]


def presenting_slide(page, number: int, total: int, title: str) -> dict:
    page.get_by_text(f"Dia {number} / {total}").wait_for(timeout=30_000)
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)  # full screen: the slide's title
    page.locator('[data-testid="stImage"] img').last.wait_for(timeout=30_000)
    settle(page)
    return page.evaluate(SLIDE_TEXT_JS)


def test_full_screen_at_1920_draws_axis_text_of_18_px_or_more_and_keeps_the_deck_across_stop_restart_and_reload(
        server, projector):
    """A coordinator's own deck (three slides, chosen in a link), presented on a 1920 × 1080
    projector: the chart's axis and legend text is measured as drawn; stopping, presenting again
    and reloading the browser keep the deck and the slide."""
    page = projector
    login(page, server, "koordinaattori")
    page.goto(f"{server}/present?year=2024-2025&slides=tiers%2Cranking%2Cheadline")
    settle(page)
    page.get_by_role("heading", name=PAGE_HEADINGS["present"]).wait_for(timeout=30_000)
    chosen = page.locator('[data-testid="stMultiSelect"]')
    deck_of_three = re.compile("Läsnäolomallin tasot.*Kuntien vertailu.*Tunnusluvut", re.S)
    assert deck_of_three.search(chosen.inner_text()) and "Yleiskuva" not in chosen.inner_text()
    assert "Choose an option" not in page.locator("body").inner_text()
    page.get_by_role("button", name="Esitä koko näytöllä").click()
    drawn = presenting_slide(page, 1, 3, "Läsnäolomallin tasot")
    assert drawn_text_sizes(drawn) >= 18 and drawn["alt"].startswith("Läsnäolomallin tasot. "), drawn
    # Title, chart, caption and the anonymisation note on the screen together: no scrolling.
    assert drawn["bottom"] <= PROJECTOR["height"] and drawn["right"] <= PROJECTOR["width"], drawn
    assert page.locator('[data-testid="stSidebar"]').is_hidden()
    shot(page, "koordinaattori-presenting-1920")
    page.get_by_role("button", name="Seuraava").click()
    drawn = presenting_slide(page, 2, 3, "Kuntien vertailu")
    assert drawn_text_sizes(drawn) >= 18 and drawn["bottom"] <= PROJECTOR["height"], drawn
    shot(page, "koordinaattori-presenting-1920-ranking")
    assert "slide=2" in page.url
    page.reload()  # the browser reloads mid-presentation: same deck, same slide, drawn as wide
    reloaded = presenting_slide(page, 2, 3, "Kuntien vertailu")
    assert (reloaded["width"], reloaded["right"]) == (drawn["width"], drawn["right"]), (drawn, reloaded)
    page.get_by_role("button", name="Lopeta esitys").click()
    page.get_by_role("heading", name=PAGE_HEADINGS["present"]).wait_for(timeout=30_000)
    settle(page)
    assert deck_of_three.search(chosen.inner_text()) and "Choose an option" not in page.locator("body").inner_text()
    page.get_by_text(re.compile(r"Tuusula, 2024–2025$")).wait_for(timeout=10_000)  # the deck's area and year
    assert "slide=" not in page.url and "slides=tiers%2Cranking%2Cheadline" in page.url
    page.get_by_role("button", name="Esitä koko näytöllä").click()  # presenting again: the same three
    presenting_slide(page, 1, 3, "Läsnäolomallin tasot")
    no_exception(page)


# Words: what a native reader must never meet on a page (issue 18). Python's and Vega's empty
# values, and a label inside a label ("Yleiskuva: kunnat: Hyvinkää").
SLIPS = re.compile(r"\b(?:null|None|nan|NaN)\b|:\s[^:.!?\n]{1,60}:\s")


def choose_language(page, language: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=i18n.LANGUAGE_NAMES[language]).click()
    settle(page)


HEADING_KEYS = {"overview": "page.overview", "trends": "trends.heading", "comparison": "compare.heading",
                "clusters": "risk.heading", "targets": "targets.heading", "impact": "impact.heading",
                "evaluation": "evaluation.heading", "present": "present.heading", "data": "data.heading"}


# Per page drawn one section at a time, each section's first heading (h3).
SECTION_HEADINGS = {"trends": {"time": "trends.by_category", "groups": "trends.groups", "areas": "trends.regions",
                               "wellbeing": "trends.wellbeing"},
                    "comparison": {"attention": "attention.heading", "school": "compare.funnel",
                                   "outliers": "compare.outliers"},
                    "present": {kind: f"deck.slide.{kind}" for kind in PRESENT_SLIDES}}  # a slide's title is its tab's label


def heading_start(key: str, language: str) -> str:
    return i18n.t(key, language, year="", indicator="", grades="")[:12]


# True once the page shows the section's heading (`want`) and no other section's (`others`).
SECTION_DRAWN = """([want, others]) => { const hs = [...document.querySelectorAll('[data-testid="stMain"] h3')].map(h => h.innerText);
  return hs.some(h => h.startsWith(want)) && !others.some(o => hs.some(h => h.startsWith(o))); }"""


def section_headings(section: str, language: str, of: str = "trends") -> list:
    """SECTION_DRAWN's argument for `section` of the page `of`: its heading's start and the other
    sections'."""
    return [heading_start(SECTION_HEADINGS[of][section], language),
            [heading_start(key, language) for other, key in SECTION_HEADINGS[of].items() if other != section]]


def open_tab(page, section: str, language: str = "fi", of: str = "trends") -> None:
    """Clicks a section's tab on the page `of` and waits until it is selected and the page shows
    that section's heading and no other's (the tab is marked selected before the rerun that draws
    it); a click that a rerun swallowed (as the sign-in cookie's can) is made again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    label = i18n.t(f"{PAGE_SECTIONS[of]}.{section}", language)
    headings = section_headings(section, language, of)
    for _ in range(3):
        page.get_by_role("tab", name=label).click()
        try:
            page.get_by_role("tab", name=label, selected=True).wait_for(timeout=10_000)
            page.wait_for_function(SECTION_DRAWN, arg=headings, timeout=30_000)
            break
        except PlaywrightTimeoutError:
            continue
    settle(page)
    assert page.get_by_role("tab", name=label, selected=True).count() == 1, f"the tab {label} did not stay open"
    assert page.evaluate(SECTION_DRAWN, headings), f"the section {section} is not the one drawn"


def tab_labels(page) -> list[str]:
    """The labels of the tabs the page shows."""
    return [label.strip() for label in page.get_by_role("tab").all_inner_texts()]


def test_a_tab_whose_server_process_changes_is_signed_in_again_by_its_cookie_through_the_router(server, browser, tmp_path):
    """A new server process starts in Streamlit's old multipage mode (a `pages/` folder exists) and
    runs a page asked for by URL by itself, without the router, until some session has run
    app.py: a tab reconnecting after a restart showed "no access" beside a list of page files.
    The page now sends its session through the router once: the tab is signed in again by its
    cookie, with the role's navigation and no warning. A fresh load of a page's URL on a new
    process is the same case (it lands on the overview the first time, on the page afterwards)."""
    db = SERVER_DB[server].split("///", 1)[1]
    env = {k: v for k, v in os.environ.items() if k not in (*environment.PRODUCTION, "LASNAOLO_DEMO_DATA")}
    command = [str(ROOT / "tests" / "support" / "demo_server.py"), db, "app.py"]
    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fi-FI")
    tab = context.new_page()
    try:
        with streamlit_server(command, cwd=ROOT, env=env, log_path=tmp_path / "first.log", port=port) as base:
            login(tab, base, "johtaja")
            tab.goto(base + "/trends")
            tab.get_by_role("heading", name=PAGE_HEADINGS["trends"]).wait_for(timeout=30_000)
            settle(tab)
        with streamlit_server(command, cwd=ROOT, env=env, log_path=tmp_path / "second.log", port=port) as base:
            tab.get_by_role("heading", name=PAGE_HEADINGS["overview"] + ": Hyvinkää").wait_for(timeout=60_000)
            settle(tab)
            assert not tab.get_by_text("Tämä sivu avautui ilman kirjautumista").count()
            assert not tab.get_by_text("Sinulla ei ole oikeutta").count()
            assert tab.locator('[data-testid="stSidebarNav"]').inner_text().split("\n\n")[1] == "Yleiskuva"  # not "app"
            later = context.new_page()  # a page's URL loaded afresh, now that the process has its router
            later.goto(base + "/trends")
            later.get_by_role("heading", name=PAGE_HEADINGS["trends"]).wait_for(timeout=30_000)
    finally:
        context.close()


def test_each_trends_section_opens_from_its_tab_stays_open_and_a_link_opens_it(server, page):
    """The trends page draws one section at a time. Each tab, clicked in turn and back, shows its
    own section and stays open (a tab bar whose default followed the URL was a new widget on the
    next run, which undid every second click); the URL names the section, and opens it."""
    from lasnaolo import i18n

    login(page, server, "johtaja")
    open_from_sidebar(page, "trends", i18n.t("trends.heading", "fi"))
    settle(page)
    for section in [*trends.SECTIONS[1:], trends.SECTIONS[0], "areas"]:
        open_tab(page, section)  # fails unless the section's heading, and no other's, is drawn
    assert "section=areas" in page.url
    page.goto(page.url)  # the link, in a new session
    settle(page)
    page.get_by_role("tab", name=i18n.t("trends.section.areas", "fi"), selected=True).wait_for(timeout=30_000)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h3").filter(has_text=i18n.t("trends.ranking", "fi", year="")[:12]).count() == 1


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("username", list(ROLE_OF))
def test_every_page_of_every_role_is_accessible_explains_its_charts_and_reads_without_slips_in_each_language(
        server, tall_page, username, language):
    """Every page a role may open, in the language chosen in the sidebar: its heading and the demo
    banner, no exception, no serious or critical axe finding, a table for every chart, and no
    "null", "None", "nan" or doubled colon anywhere; photographed whole for a person to read
    (test-artifacts/<user>-<page>-<language>.png)."""
    page = tall_page
    login(page, server, username)
    if language != i18n.DEFAULT_LANGUAGE:
        choose_language(page, language)
    for name in accounts.pages_for(ROLE_OF[username]):
        # Through the sidebar, as a user goes: a typed URL would start a new session in Finnish.
        links = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]')
        if links.count():
            links.first.click()
        heading = i18n.t(HEADING_KEYS[name], language)
        # .first: while Streamlit reruns, the old heading may still stand beside the new one.
        page.get_by_role("heading", name=re.compile("^" + re.escape(heading)), level=1).first.wait_for(timeout=30_000)
        settle(page)
        page.get_by_text(i18n.t("app.demo_banner", language)).first.wait_for(timeout=30_000)
        # The trends page, a comparison of several schools and the deck's preview draw one
        # section at a time: each is opened from its tab and read.
        sections = [""] + [f"-{code}" for code in drawn_sections(name, ROLE_OF[username], tab_labels(page), language)]
        for section in sections:
            if section:
                open_tab(page, section[1:], language, of=name)
            where = f"{name}{section} ({language})"
            no_exception(page)
            shot(page, f"{username}-{name}{section}-{language}")
            text = page.locator('[data-testid="stSidebar"]').inner_text() + "\n" + page.locator('[data-testid="stMain"]').inner_text()
            assert [m.group(0) for m in SLIPS.finditer(text)] == [], where
            assert serious_findings(page) == [], where
            charts = page.locator('[data-testid="stVegaLiteChart"]').count()
            tables = page.locator('[data-testid="stExpander"]').filter(has_text=i18n.t("overview.table_caption", language)).count()
            assert charts <= tables, f"{where}: {charts} charts, {tables} tables"  # a text alternative each


# Failing closed (issue #15: 1, 8)

def test_a_configured_database_with_a_broken_secrets_file_refuses_to_start_and_no_one_signs_in(browser, tmp_path):
    """The real server reads .streamlit/secrets.toml from its working directory, as in production."""
    (tmp_path / ".streamlit").mkdir()
    secrets_file = tmp_path / ".streamlit" / "secrets.toml"
    secrets_file.write_text("[auth]\nusers_file = /etc/lasnaolo/users.yaml\n", encoding="utf-8")  # no quotes
    env = {k: v for k, v in os.environ.items() if k not in (*environment.PRODUCTION, "LASNAOLO_DEMO_DATA")}
    env["LASNAOLO_DB_URL"] = f"sqlite:///{tmp_path / 'configured.db'}"
    with streamlit_server(["-m", "streamlit", "run", str(ROOT / "app.py")], cwd=tmp_path, env=env,
                          log_path=tmp_path / "server.log") as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fi-FI")
        page = context.new_page()
        for path in ("/", "/overview", "/data"):
            page.goto(base + path)
            page.get_by_text("Läsnäoloa ei voi käynnistää").first.wait_for(timeout=30_000)
            page.get_by_text("cannot be read").first.wait_for(timeout=30_000)
            settle(page)
            shown = page.locator("body").inner_text()
            assert f"the secrets file {secrets_file} cannot be read" in shown and "Fix the file" in shown
            assert page.get_by_label("Käyttäjätunnus").count() == 0 and "Esittelytila" not in shown
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no page is routed
        shot(page, "refused-broken-secrets")
        context.close()


def test_a_copied_login_cookie_no_longer_signs_in_after_sign_out(server, page, browser):
    login(page, server, "johtaja")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "lasnaolo_auth"]
    click_until(page, page.get_by_role("button", name="Kirjaudu ulos"), page.get_by_label("Käyttäjätunnus"))
    other = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fi-FI")
    other.add_cookies([cookie])  # a copy kept from before the sign-out
    tab = other.new_page()
    tab.goto(f"{server}/overview")
    tab.get_by_label("Käyttäjätunnus").wait_for(timeout=30_000)
    settle(tab)
    assert tab.get_by_role("heading", name=re.compile("^Yleiskuva")).count() == 0
    assert tab.locator('[data-testid="stMetric"]').count() == 0
    other.close()


def test_a_director_opens_a_school_from_the_attention_list(server, page):
    """The list of the director's schools is a way into each school's comparison: choosing a row
    opens the school's section on that school's funnel and verdict, which stays chosen while
    another section is open."""
    from lasnaolo import comparison, i18n, queries, store

    login(page, server, "johtaja")
    page.goto(server + "/comparison")
    settle(page)
    engine = store.make_engine(SERVER_DB[server])
    director = accounts.demo_accounts(None)["johtaja"].scope()
    year = sorted(queries.school_years(engine, director))[-1]
    listed = comparison.by_attention(comparison.school_verdicts(engine, director, year))
    engine.dispose()
    third = listed.iloc[2]
    verdict = page.get_by_text(f"Koulun poissaoloprosentti {i18n.percent(third['school_rate'], 'fi')}")
    open_tab(page, "school", of="comparison")
    assert page.get_by_text("Koulun poissaoloprosentti ").count() and not verdict.count()  # another school first
    open_tab(page, "attention", of="comparison")
    grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 * 3 + 17)  # the third row's selection box
    verdict.first.wait_for(timeout=30_000)  # the school's section opens on the school chosen
    settle(page)
    school_tab = i18n.t("compare.section.school", "fi")
    assert page.get_by_role("tab", name=school_tab, selected=True).count() == 1 and "section=school" in page.url
    shot(page, "johtaja-comparison-chosen-from-the-list")
    # The school stays chosen while another section is open (a widget a run does not draw is forgotten).
    open_tab(page, "outliers", of="comparison")
    open_tab(page, "school", of="comparison")
    assert verdict.count() == 1


def test_the_decks_preview_opens_each_slide_from_its_tab_and_still_does_after_the_slides_change_and_a_reload(server, page):
    """The preview draws one slide at a time, in its tab. Taking a slide out of the deck while
    another is open changes the tab bar (a new widget to Streamlit): the slide open stays open,
    and the next click on a tab is not undone. The URL names the open slide: a reload opens it."""
    from playwright.sync_api import expect

    from lasnaolo import i18n

    login(page, server, "koordinaattori")
    open_from_sidebar(page, "present", PAGE_HEADINGS["present"])
    settle(page)
    for kind in ["ranking", "tiers", "headline", "tiers"]:
        open_tab(page, kind, of="present")  # fails unless that slide's title, and no other's, is drawn
    tabs = page.get_by_role("tab")
    leaving = {i18n.t(f"deck.slide.{kind}", "fi") for kind in PRESENT_SLIDES[-2:]}  # the last two chosen
    staying = [label for label in tabs.all_inner_texts() if label not in leaving]
    assert i18n.t("deck.slide.clusters", "fi") in tabs.all_inner_texts()  # a tab leaves (targets may not be one)
    chosen = page.locator('[data-testid="stMultiSelect"]').last
    chosen.locator("input").click()
    page.keyboard.press("Backspace")  # the last two slides chosen leave the deck
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    for label in leaving:
        expect(chosen.get_by_text(label, exact=True)).to_have_count(0, timeout=30_000)
    expect(tabs).to_have_count(len(staying), timeout=30_000)  # the run it starts has drawn the deck
    settle(page)
    assert tabs.all_inner_texts() == staying
    assert page.evaluate(SECTION_DRAWN, section_headings("tiers", "fi", of="present")), "the open slide did not stay"
    # One click on another tab, not made again (open_tab would): it opens the slide, which stays.
    page.get_by_role("tab", name=i18n.t("deck.slide.regions", "fi"), exact=True).click()
    page.wait_for_function(SECTION_DRAWN, arg=section_headings("regions", "fi", of="present"), timeout=30_000)
    settle(page)
    assert page.evaluate(SECTION_DRAWN, section_headings("regions", "fi", of="present")), "the click was undone"
    assert "preview=regions" in page.url
    page.reload()
    page.wait_for_function(SECTION_DRAWN, arg=section_headings("regions", "fi", of="present"), timeout=60_000)
    assert page.get_by_role("tab").all_inner_texts() == staying  # the deck, from the URL too
    open_tab(page, "headline", of="present")
    shot(page, "koordinaattori-present-preview")


def test_a_charts_table_is_sent_only_once_opened_and_then_shows_its_figures_and_downloads(server, page):
    """The tables beside the charts are built when opened (a collapsed one cost the browser its
    data grid and four buttons on every visit): before, the page holds no grid; opening one
    draws its figures, its CSV / XLSX and PNG / SVG downloads, and leaves the others closed."""
    from lasnaolo import i18n

    login(page, server, "johtaja")
    page.goto(server + "/trends")
    settle(page)
    main = page.locator('[data-testid="stMain"]')
    expanders = main.locator('[data-testid="stExpander"]').filter(has_text=i18n.t("overview.table_caption", "fi"))
    charts = main.locator('[data-testid="stVegaLiteChart"]').count()
    assert charts == expanders.count() >= 4  # the open section's
    assert main.locator('[data-testid="stDataFrame"]').count() == 0 and main.locator('[data-testid="stDownloadButton"]').count() == 0
    expanders.first.locator("summary").click()
    grid = main.locator('[data-testid="stDataFrame"]')
    grid.first.wait_for(timeout=30_000)
    settle(page)
    assert grid.count() == 1 and main.locator('[data-testid="stDownloadButton"]').count() == 4
    assert i18n.t("download.csv", "fi") in expanders.first.inner_text()


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_directors_attention_table_shows_every_column_at_1400_px_in_every_language(server, page, language):
    """Issue 18: at 1400 px the Finnish table's last column needed scrolling (the wide layout's
    5rem margins); the grid's scroll width must not exceed its width."""
    login(page, server, "johtaja")
    choose_language(page, language)
    # Through the sidebar: the language lives in the session, which a typed URL would start anew.
    open_from_sidebar(page, "comparison", i18n.t("compare.heading", language))
    settle(page)
    assert page.get_by_role("heading", name=i18n.t("attention.heading", language), level=3).count()
    grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"] .dvn-scroller').first
    grid.wait_for()
    scroll_width, width = grid.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
    assert page.viewport_size["width"] == 1400 and scroll_width <= width, (language, scroll_width, width)


def test_all_eight_slide_tabs_fit_the_presentations_tab_bar_at_1400_px_in_every_language(server, page):
    """With a target set, the coordinator's deck has every slide; at 1400 px the eight tabs must
    fit the bar without scrolling sideways in each language (the English ones ran past it). The
    target is taken away again: the other tests on this server meet the demo data as it was."""
    from lasnaolo import queries, store, targets

    login(page, server, "koordinaattori")  # the app fills its database on its first run
    engine = store.make_engine(SERVER_DB[server])
    steering = accounts.demo_accounts(None)["ohjausryhma"].scope()
    year = queries.school_years(engine, accounts.demo_accounts(None)["koordinaattori"].scope())[0]
    record = targets.create(engine, steering, "ohjausryhma", targets.TargetDraft(
        "municipality", accounts.DEMO_MUNICIPALITY, year, "absence_rate", 6.0, 5.0, baseline_reason="pyöreä luku"))
    try:
        for language in ("fi", "sv", "en"):
            choose_language(page, language)
            open_from_sidebar(page, "present", i18n.t("present.heading", language))
            settle(page)
            labels = [i18n.t(f"deck.slide.{kind}", language) for kind in PRESENT_SLIDES]
            assert tab_labels(page) == labels, language
            bar = page.locator('[data-testid="stMain"] [role="tablist"]').first
            # The bar's own overflow, and its last tab's right edge against the main area's.
            scroll_width, width, last_right, main_right = bar.evaluate(
                """(bar) => [bar.scrollWidth, bar.clientWidth, [...bar.querySelectorAll('[role="tab"]')].pop().getBoundingClientRect().right,
                             bar.closest('[data-testid="stMain"]').getBoundingClientRect().right]""")
            assert page.viewport_size["width"] == 1400 and scroll_width <= width and last_right <= main_right, \
                (language, scroll_width, width, last_right, main_right)
            shot(page, f"koordinaattori-present-eight-slides-{language}")
    finally:
        targets.delete(engine, steering, "ohjausryhma", record.id, record.version)
        engine.dispose()
