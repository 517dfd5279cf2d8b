"""The app through Streamlit's AppTest: login, role × page, typed URLs, languages, the data page,
and configuration errors. The database is a real SQLite file; nothing is mocked.

AppTest reruns only the page script after a widget on a file page is used (the entrypoint does
not run again), so sign-out, which app.py handles, is tested in the browser (test_browser.py)."""

from __future__ import annotations

import datetime
import json

from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from lasnaolo import accounts, environment, i18n, importer, queries, scope, store
from lasnaolo.scope import Scope
from lasnaolo.ui import session

from conftest import SHARED
from support.helpers import ABSENCES, SCHOOLS, files, open_tables, open_section, snapshot

ROLE_OF = {"admin": "admin", "johtaja": "director", "rehtori": "rector", "ohjausryhma": "steering_group",
           "koordinaattori": "coordinator"}
TIMEOUT = 60
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_db(demo_files, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'lasnaolo.db'}"
    engine = store.make_engine(url)
    store.init_database(engine)
    importer.import_paths(engine, sorted(demo_files.glob("*.csv")))
    return url


COOKIE_KEY = "r8Yq2vLx-0fKpT3wZs9N_cB6mHj4DgUe1aVoXi7RtPnQ5yWlEkMb"  # random, as generated
PSEUDONYM_KEY = "Zt3_pQm8vWc1-XyR6nL0sBfK9uGhJ2aTe5dNo4iY7kVrMxCqHwEj"


def demo_mode_on(monkeypatch, url: str) -> None:
    """Demo mode is the embedded default database with nothing configured: here the embedded file
    is the test's own, and nothing that would mean production is in the environment."""
    monkeypatch.setattr(store, "DEFAULT_DB_PATH", Path(url.split("///", 1)[1]))
    for name in (*environment.PRODUCTION, "LASNAOLO_DEMO_DATA"):
        monkeypatch.delenv(name, raising=False)


def production_on(monkeypatch, tmp_path, url: str, users: dict | None = None) -> str:
    """Production: a configured database, an account file and strong keys. The users default to the
    demo usernames and roles with the password "demo" (a cost-12 hash) but are real accounts."""
    users = users or {"admin": {"name": "Aino Ylläpito", "password": accounts.DEMO_PASSWORD_HASH, "role": "admin"}}
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"credentials": {"usernames": users}}), encoding="utf-8")
    monkeypatch.setenv("LASNAOLO_DB_URL", url)
    monkeypatch.setenv(environment.USERS_FILE, str(path))
    monkeypatch.setenv(environment.COOKIE_KEY, COOKIE_KEY)
    monkeypatch.setenv(environment.PSEUDONYM_KEY, PSEUDONYM_KEY)
    monkeypatch.delenv("LASNAOLO_DEMO_DATA", raising=False)
    return str(path)


@pytest.fixture
def app_env(monkeypatch, demo_db):
    demo_mode_on(monkeypatch, demo_db)
    yield demo_db
    scope.configure_pseudonym_key(None)  # the app set the process's key; the next test starts afresh


def start() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def login(username: str, password: str = "demo", at: AppTest | None = None) -> AppTest:
    at = at or start()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def visible_text(at: AppTest) -> str:
    """Everything the page shows in words as it stands (a chart's table once opened: open_tables)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value.to_string() for e in [*at.dataframe, *at.table]]
    parts += [str(e.label) for e in at.get("file_uploader")]
    return "\n".join(parts)


def routable(at: AppTest, page_file: str) -> bool:
    """Whether the router registered the page for this session (AppTest only switches to those)."""
    try:
        at.switch_page(page_file)
    except ValueError:
        return False
    return True


def test_before_login_only_the_login_form_is_routable(app_env):
    at = start()
    assert [t.label for t in at.text_input] == ["Käyttäjätunnus", "Salasana"]
    assert "Esittelytila" in at.warning[0].value and "rehtori" in visible_text(at)
    assert not at.metric and not routable(at, "pages/overview.py") and not routable(at, "pages/data.py")


def test_wrong_password_is_refused(app_env):
    at = login("johtaja", "wrong")
    assert "Väärä käyttäjätunnus tai salasana." in [e.value for e in at.error]
    assert not at.metric and not routable(at, "pages/overview.py")


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_each_role_sees_its_overview_and_only_its_pages(app_env, username):
    at = login(username)
    role = ROLE_OF[username]
    text = visible_text(at)
    assert at.title[0].value.startswith("Yleiskuva: ")
    assert [m.label for m in at.metric] == ["Poissaoloprosentti", "Oppilaat tasoilla 2–3", "Luvattomat poissaolot"]
    assert all(m.value.endswith("\u00a0%") and "," in m.value for m in at.metric)  # 3,9 %: decimal comma
    assert "Esittelytila" in text and "Tiedot 30.6.2025 asti" in text
    for page in accounts.PAGE_ROLES:
        assert routable(at, f"pages/{page}.py") == accounts.may_open(role, page), page


def test_a_new_process_imports_the_pages_modules_and_freezes_with_the_first_page_reads_kept_risk_profiles_without_scikit_learn_and_freezes_it_once_imported(
        monkeypatch, tmp_path, demo_db):
    """Two server processes in turn on one database. Each freezes what it holds once, with its
    first signed-in page, not at the sign-in form and not again on the next page (a full garbage
    collection in a new process fell on a page's first visit, 0.1-0.25 s). The first computes the risk profiles and keeps them;
    the second shows them without importing scikit-learn (0.9 s of a new process's first visit).
    With the first page every module of the package a page may use is imported, and none of the
    heavy libraries the overview does not use; the process that imports scikit-learn to compute freezes it after that run
    (`freeze_newly_imported`, as app.py after every signed-in run), once."""
    import subprocess
    import sys

    production_on(monkeypatch, tmp_path, demo_db)
    probe = (
        "import gc, sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "freezes, freeze = [], gc.freeze\n"
        "gc.freeze = lambda: (freezes.append(len(sys.modules)), freeze())[1]  # counted, with the modules then\n"
        "at = AppTest.from_file('app.py', default_timeout=120)\n"
        "at.run()\n"
        "assert len(at.text_input) == 2 and gc.get_freeze_count() == 0  # the sign-in form\n"
        "at.text_input[0].input('admin'); at.text_input[1].input('demo'); at.button[0].click(); at.run()\n"
        "assert at.title[0].value.startswith('Yleiskuva') and not at.exception\n"
        "frozen, first_freezes = gc.get_freeze_count(), len(freezes)\n"
        "assert first_freezes in (1, 2), freezes  # freeze_long_lived's, and one of what the run imported after it\n"
        "assert all(b > a for a, b in zip(freezes, freezes[1:])), freezes  # never again without new modules\n"
        "assert freezes[-1] == len(sys.modules), freezes  # app.py froze what the page imported after the first\n"
        "import re, altair\n"
        "compiled, compile_ = [], re._compiler.compile\n"
        "re._compiler.compile = lambda *a: (compiled.append(a[0]), compile_(*a))[1]  # a miss of re's cache\n"
        "assert altair.utils.parse_shorthand('untyped') == {'field': 'untyped'}  # tried against every pattern\n"
        "re._compiler.compile = compile_\n"
        "assert not compiled, compiled  # Altair's shorthand patterns were compiled ahead\n"
        "ahead = [m for m in ('lasnaolo.impact', 'lasnaolo.deck', 'lasnaolo.risk', 'lasnaolo.evaluation',\n"
        "                     'lasnaolo.pupil_import', 'lasnaolo.ui.upload', 'lasnaolo.ui.slides') if m not in sys.modules]\n"
        "assert not ahead, ahead  # the overview uses none of them\n"
        "heavy = [m for m in ('sklearn', 'linearmodels', 'pptx') if m in sys.modules]  # SciPy: the overview's own\n"
        "assert not heavy, heavy\n"
        "at.switch_page('pages/clusters.py').run()\n"
        "assert not at.exception and at.title[0].value == 'Koulujen riskiprofiilit', at.title\n"
        "from lasnaolo.ui import shell\n"
        "shell.freeze_long_lived()  # as app.py on every signed-in run (AppTest reruns only the page)\n"
        "assert len(freezes) == first_freezes, freezes  # once per process\n"
        "imported = 'sklearn' in sys.modules\n"
        "if imported:  # as app.py after every signed-in run\n"
        "    assert shell.freeze_newly_imported() and len(freezes) == first_freezes + 1\n"
        "    from sklearn.cluster import KMeans\n"
        "    assert not any(o is KMeans for o in gc.get_objects()), 'scikit-learn left to every collection'\n"
        "    assert not shell.freeze_newly_imported() and len(freezes) == first_freezes + 1  # once\n"
        "print(frozen, imported)\n")

    def process() -> tuple[int, bool]:
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        frozen, imported = done.stdout.split()[-2:]
        return int(frozen), imported == "True"

    first_frozen, first_imported = process()
    second_frozen, second_imported = process()
    assert first_frozen > 50_000 and second_frozen > 50_000  # the libraries' objects: about 100,000 and more
    assert first_imported  # it computed the profiles
    assert not second_imported  # it read them


def test_a_module_that_cannot_be_imported_ahead_is_logged_and_the_rest_are_imported(monkeypatch, caplog):
    """A page's module that fails to import fails that page, not every signed-in page (review)."""
    import importlib

    from lasnaolo.ui import shell

    real, tried = importlib.import_module, []

    def failing(name, *args):
        tried.append(name)
        if name == "lasnaolo.deck":
            raise ImportError("a library this installation lacks")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", failing)
    with caplog.at_level("ERROR", logger="lasnaolo.ui.shell"):
        shell._prepare_process()
    assert "lasnaolo.deck not imported ahead" in caplog.text
    assert tried.index("lasnaolo.deck") < tried.index("lasnaolo.ui.widgets")  # the walk went on after it
    assert not [name for name in tried if name.startswith(shell.NOT_FOR_PAGES)]


def test_scope_decides_what_the_overview_counts(app_env):
    director, admin = login("johtaja"), login("admin")
    assert director.title[0].value == "Yleiskuva: Hyvinkää"
    assert admin.title[0].value == "Yleiskuva: kaikki aineisto"
    assert director.metric[0].value != admin.metric[0].value


def test_the_earliest_year_says_there_is_no_year_to_compare_with_and_a_rector_hears_of_one_school(app_env):
    director = login("johtaja")
    assert "Aineistossa ei ole edellistä lukuvuotta" not in visible_text(director)  # the newest year has one
    year = next(box for box in director.selectbox if box.label == "Lukuvuosi")
    year.select_index(year.options.index("2020–2021")).run()  # the earliest school year
    assert "Aineistossa ei ole edellistä lukuvuotta, joten muutosta edellisvuoteen ei voi laskea." in visible_text(director)
    rector = login("rehtori")
    assert [s.value for s in rector.success] == ["Koulun tiedot ovat mukana viimeisimmältä kuukaudelta."]


def test_a_coordinator_sees_no_school_name(app_env):
    at = login("koordinaattori")
    text = visible_text(at)
    open_tables(at)  # the charts' tables too (AppTest reruns the page without the app's frame: both texts)
    text += visible_text(at)
    assert "(kaikki tiedot anonymisoituina)" in text
    names = queries.schools(store.make_engine(app_env), Scope.everything())["school_name"]
    assert not [n for n in names if n in text]


def test_language_switch_is_remembered_across_pages(app_env):
    at = login("admin")
    at.selectbox(key="language_choice").select("sv").run()
    assert at.title[0].value == "Översikt: alla data"
    assert [m.label for m in at.metric][0] == "Frånvaroprocent"
    at.switch_page("pages/data.py").run()
    assert at.title[0].value == "Datahantering"


def test_language_chosen_before_login_holds_after_it(app_env):
    at = start()
    at.selectbox(key="language_choice").select("en").run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at = login("johtaja", at=at)
    assert at.title[0].value == "Overview: Hyvinkää"
    assert [m.label for m in at.metric] == ["Absence rate", "Pupils in tiers 2–3", "Unauthorised absence"]
    assert all(m.value.endswith("%") and "." in m.value for m in at.metric)  # 3.9%: decimal point


@pytest.mark.parametrize("username", ["johtaja", "rehtori", "ohjausryhma", "koordinaattori"])
def test_a_forbidden_page_run_directly_shows_nothing_of_itself(app_env, username):
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=TIMEOUT)
    at.session_state["lasnaolo_account"] = accounts.demo_accounts("00000")[username]
    at.run()
    assert [e.value for e in at.error] == ["Sinulla ei ole oikeutta tähän näkymään."]
    assert not at.title and not at.get("file_uploader") and not at.dataframe


def test_a_page_run_without_login_shows_nothing_of_itself_and_offers_to_open_the_app_again(app_env):
    """A page file run as the main script (no router to pass through): after its one attempt to
    rerun through the router (`page._through_the_router`) it still shows nothing of itself."""
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=TIMEOUT)
    at.run()
    assert [w.value for w in at.warning] == ["Tämä sivu avautui ilman kirjautumista: yhteys on voinut siirtyä "
                                             "toiselle palvelimelle. Avaa Läsnäolo uudelleen."]
    assert [m.value for m in at.markdown] == ['<a href="./" target="_self">Avaa Läsnäolo</a>']
    assert not at.metric and not at.title and not at.error


@pytest.fixture
def empty_db(monkeypatch, tmp_path):
    """A configured, empty database (production: never filled with demo data) with an admin."""
    url = f"sqlite:///{tmp_path / 'upload.db'}"
    engine = store.make_engine(url)
    store.init_database(engine)
    production_on(monkeypatch, tmp_path, url)
    yield engine
    scope.configure_pseudonym_key(None)


def main_uploader(at: AppTest):
    """The data page's upload of contract files (the pupil-level conversion has uploaders too)."""
    return next(u for u in at.get("file_uploader") if str(u.label).startswith("Tuo CSV-tiedostot"))


def admin_on_data_page() -> AppTest:
    at = login("admin")
    at.switch_page("pages/data.py").run()
    assert at.title[0].value == "Aineiston hallinta"
    return at


def test_upload_checks_previews_and_imports_only_on_confirmation(empty_db):
    at = admin_on_data_page()
    main_uploader(at).set_value([(name, content, "text/csv") for name, content in files()]).run()
    [check] = [b for b in at.button if b.label == "Tarkista tiedostot"]
    check.click().run()
    assert "Tiedostot ovat kunnossa" in visible_text(at)
    preview = at.dataframe[0].value
    assert preview.set_index("Tiedosto")["Uusia"].to_dict() == {"schools.csv": 2, "absences.csv": 4, "wellbeing.csv": 2, "measures.csv": 2}
    assert snapshot(empty_db)["absence"] == []  # checked, not yet written
    [confirm] = [b for b in at.button if b.label == "Tuo tiedot tietokantaan"]
    confirm.click().run()
    assert not at.exception
    assert "Tuonti valmis" in visible_text(at)
    stored = snapshot(empty_db)
    assert len(stored["absence"]) == 4 and len(stored["import_log"]) == 4
    assert {row[2] for row in stored["import_log"]} == {"admin"}


def test_a_bad_upload_is_explained_in_the_users_language_and_nothing_is_written(empty_db):
    at = admin_on_data_page()
    bad = ABSENCES.replace(",20,1680,", ",-20,1680,")
    before = snapshot(empty_db)
    main_uploader(at).set_value([("schools.csv", SCHOOLS.encode(), "text/csv"),
                                          ("absences.csv", bad.encode(), "text/csv")]).run()
    [check] = [b for b in at.button if b.label == "Tarkista tiedostot"]
    check.click().run()
    assert "1 ongelma – mitään ei tallennettu" in visible_text(at)
    problems = at.dataframe[0].value
    assert problems.iloc[0].to_dict() == {"Tiedosto": "absences.csv", "Rivi": 2, "Sarake": "pupils", "Arvo": "-20",
                                          "Syy": "ei saa olla negatiivinen"}
    assert not [b for b in at.button if b.label == "Tuo tiedot tietokantaan"]
    assert snapshot(empty_db) == before


def write_account_file(path, password_hash: str) -> str:
    users = {"maija": {"name": "Maija Meikäläinen", "password": password_hash, "role": "director",
                       "municipalities": ["106"]}}
    path.write_text(yaml.safe_dump({"credentials": {"usernames": users}}), encoding="utf-8")
    return str(path)


def test_outside_demo_mode_a_bad_configuration_stops_the_app(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv(environment.USERS_FILE, write_account_file(tmp_path / "users.yaml", "plain-text"))
    at = start()
    text = visible_text(at)
    assert "Läsnäoloa ei voi käynnistää" in text
    assert "cookie key is missing" in text and "password is not a bcrypt hash" in text
    assert not at.text_input and not at.metric


def test_outside_demo_mode_configured_users_sign_in_without_demo_banner(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv(environment.USERS_FILE, write_account_file(tmp_path / "users.yaml", accounts.hash_password("s3cret-pass")))
    monkeypatch.setenv(environment.COOKIE_KEY, COOKIE_KEY)
    monkeypatch.setenv(environment.PSEUDONYM_KEY, PSEUDONYM_KEY)
    assert "Esittelytila" not in visible_text(start())
    assert login("admin").metric == []  # demo accounts do not exist here
    at = login("maija", "s3cret-pass")
    assert at.title[0].value == "Yleiskuva: Hyvinkää" and "Esittelytila" not in visible_text(at)



def test_overview_names_the_schools_whose_latest_month_is_missing(empty_db):
    importer.import_files(empty_db, files())
    at = login("admin")
    text = visible_text(at)
    assert "Tiedot 31.10.2024 asti (lukuvuosi 2024–2025)." in text
    assert "Kouluja, joilta puuttuu viimeisimmän kuukauden (10/2024) tiedot: 1" in text
    table = at.dataframe[-1].value
    assert table.to_dict("records") == [{"Koulu": "Testskola B", "Viimeisin kuukausi": "9/2024"}]


@pytest.mark.parametrize("username", ["admin", "johtaja", "ohjausryhma", "koordinaattori"])
def test_trends_page_draws_only_its_open_section_and_every_section_its_charts_and_tables(app_env, username):
    at = login(username)
    at.switch_page("pages/trends.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [tab.label for tab in at.tabs] == ["Kuukaudet ja vuodet", "Ryhmät", "Alueet", "Hyvinvointi"]
    # Each section holds its charts only while open: months and years by reason, years side by
    # side and tiers; three groups; regions and municipalities; wellbeing.
    expected = {"time": 4, "groups": 3, "areas": 2, "wellbeing": 1}
    for section, charts in expected.items():
        if section != "time":
            open_section(at, "trends", section)
        assert at.query_params.get("section", "time") in (section, [section])
        headings = [s.value for s in at.subheader]
        assert ("Poissaolot kuukausittain syyn mukaan" in headings) == (section == "time")
        assert any(h.startswith("Kunnat maakunnittain") for h in headings) == (section == "areas")
        assert len(at.get("vega_lite_chart")) == charts
        assert len(at.expander) >= charts and not at.dataframe  # each table built only once opened
        open_tables(at)
        # Every chart has its table (the text alternative), the table as CSV and XLSX, the chart as PNG and SVG.
        assert len(at.dataframe) == charts and len(at.get("download_button")) == 4 * charts
        if section == "areas":
            assert {"csv_regions", "xlsx_regions", "png_regions", "svg_regions"} <= {b.key for b in at.get("download_button")}
            ranking = next(d.value for d in at.dataframe if "Kunta" in d.value.columns)
    # The ranking's figure for Hyvinkää (in every one of these roles' areas) is its hours as stored.
    shown = ranking.loc[ranking["Kunta"] == "Hyvinkää", "Poissaoloprosentti"]
    engine = store.make_engine(app_env)
    with engine.connect() as connection:
        year = connection.exec_driver_sql("SELECT max(school_year) FROM absence").scalar()
        absent, lessons = connection.exec_driver_sql(
            "SELECT sum(illness_hours + authorised_hours + unauthorised_hours), sum(lesson_hours) FROM absence "
            "JOIN school USING (school_id) WHERE municipality_code = '106' AND school_year = ?", (year,)).one()
    engine.dispose()
    assert shown.tolist() == [f"{100 * absent / lessons:.1f}\u00a0%".replace(".", ",")]


def test_a_trends_link_opens_its_section_and_a_language_switch_keeps_it(app_env):
    at = login("johtaja")
    at.query_params["section"] = "areas"
    at.switch_page("pages/trends.py").run()
    assert any(s.value.startswith("Kunnat maakunnittain") for s in at.subheader) and len(at.get("vega_lite_chart")) == 2
    open_section(at, "trends", "groups")
    at.session_state[session.LANGUAGE_KEY] = "sv"  # as the sidebar's choice sets it (not in AppTest's page run)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.tabs[1].label == "Grupper" and "Per grupp och läsår" in [s.value for s in at.subheader]
    open_section(at, "trends", "time", language="sv")
    at.session_state[session.LANGUAGE_KEY] = "fi"  # back: the section opened in Swedish, not the one left in Finnish
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Poissaolot kuukausittain syyn mukaan" in [s.value for s in at.subheader]
    fresh = login("johtaja")
    fresh.query_params["section"] = "nonsense"  # a hand-typed link opens the first section
    fresh.switch_page("pages/trends.py").run()
    assert "Poissaolot kuukausittain syyn mukaan" in [s.value for s in fresh.subheader]


def _ranking_shown(at) -> tuple[list[str], int]:
    """The municipalities of the trends page's ranking table, and how many the chart draws."""
    open_tables(at)
    table = next(d.value for d in at.dataframe if "Kunta" in d.value.columns)
    drawn = [pa.ipc.open_stream(e.proto.datasets[0].data.data).read_all() for e in at.get("vega_lite_chart")
             if e.proto.datasets and "interval_text" in pa.ipc.open_stream(e.proto.datasets[0].data.data).schema.names]
    assert len(drawn) == 1
    return table["Kunta"].tolist(), drawn[0].num_rows


@pytest.fixture
def three_regions(monkeypatch, tmp_path):
    """Simulated schools of three regions, two municipalities in each of the first two (Askola
    and Helsinki in Uusimaa, Aura and Turku in Southwest Finland, Eura in Satakunta), in a
    production database; the administrator, a coordinator of Turku and Eura, and Eura's director."""
    from support import pupil_simulation as simulation

    schools, absences, _ = simulation.simulate(simulation.Design(regions=3, schools_per_region=14, seed=5))
    moved = schools.groupby("municipality_code").cumcount() >= 7
    schools.loc[moved, "municipality_code"] = schools.loc[moved, "municipality_code"].map({"018": "091", "019": "853"}).fillna(
        schools.loc[moved, "municipality_code"])
    engine = simulation.imported(schools, absences, tmp_path)
    hashed = accounts.DEMO_PASSWORD_HASH
    production_on(monkeypatch, tmp_path, str(engine.url), {
        "admin": {"name": "Aino Ylläpito", "password": hashed, "role": "admin"},
        "koordinaattori": {"name": "Kaisa Koordinaattori", "password": hashed, "role": "coordinator",
                           "municipalities": ["853", "050"]},
        "johtaja": {"name": "Juha Johtaja", "password": hashed, "role": "director", "municipalities": ["050"]}})
    yield engine
    engine.dispose()
    scope.configure_pseudonym_key(None)


def test_the_trends_ranking_of_several_regions_shows_one_region_at_a_time_and_a_link_keeps_it(three_regions):
    """The whole country's municipalities in one chart were 6,000 pixels tall (issue 21): a
    ranking that spans several regions shows one, picked, and every municipality is reachable."""
    by_region = {"01": {"Askola", "Helsinki"}, "02": {"Aura", "Turku"}, "04": {"Eura"}}
    at = login("admin")
    at.switch_page("pages/trends.py").run()
    open_section(at, "trends", "areas")
    picker = at.selectbox(key="trend_ranking_region_")
    assert picker.options == ["Uusimaa", "Varsinais-Suomi", "Satakunta"] and picker.value == "01"
    assert "ranking_region" in at.query_params  # a link keeps the region shown
    for region, expected in by_region.items():
        at.selectbox(key="trend_ranking_region_").set_value(region).run()
        assert not at.exception, [e.message for e in at.exception]
        listed, drawn = _ranking_shown(at)
        assert set(listed) == expected and len(listed) == drawn == len(expected)
    # A link opens on its region; narrowing the page to another area opens on that area's.
    link = login("admin")
    link.query_params.update({"ranking_region": "02", "section": "areas"})
    link.switch_page("pages/trends.py").run()
    assert link.selectbox(key="trend_ranking_region_").value == "02"
    assert set(_ranking_shown(link)[0]) == by_region["02"]
    link.selectbox(key="trend_area").set_value("m:050").run()
    assert link.selectbox(key="trend_ranking_region_m:050").value == "04"
    assert _ranking_shown(link)[0] == ["Eura"]
    # A coordinator of Turku and Eura picks between their two regions; Eura's director has one, no choice.
    coordinator = login("koordinaattori")
    coordinator.switch_page("pages/trends.py").run()
    open_section(coordinator, "trends", "areas")
    assert coordinator.selectbox(key="trend_ranking_region_").options == ["Varsinais-Suomi", "Satakunta"]
    assert set(_ranking_shown(coordinator)[0]) == by_region["02"]
    director = login("johtaja")
    director.switch_page("pages/trends.py").run()
    open_section(director, "trends", "areas")
    assert not [box for box in director.selectbox if (box.key or "").startswith("trend_ranking_region")]
    assert _ranking_shown(director)[0] == ["Eura"]


def test_trends_view_comes_from_the_url_and_goes_back_to_it(app_env):
    at = login("johtaja")
    at.query_params["metric"] = "unauthorised_rate"
    at.query_params["grades"] = "7,8,9"
    at.switch_page("pages/trends.py").run()
    assert at.selectbox(key="trend_metric").value == "unauthorised_rate"
    assert at.multiselect(key="trend_grades").value == [7, 8, 9]
    at.selectbox(key="trend_metric").select("illness_rate").run()
    assert dict(at.query_params) == {"metric": "illness_rate", "grades": "7,8,9"}


def test_a_coordinators_trends_answer_one_slice_and_explain_a_cross_of_two(app_env):
    at = login("koordinaattori")
    at.query_params["languages"] = "sv"
    at.switch_page("pages/trends.py").run()
    assert not at.exception, [e.message for e in at.exception]
    # One language: published; its cross with grade bands and school types is not.
    assert "Poissaolot kuukausittain syyn mukaan" in [s.value for s in at.subheader]
    open_section(at, "trends", "groups")
    assert visible_text(at).count("Ei julkaista tällä rajauksella anonymisoidussa näkymässä.") == 2
    at.multiselect(key="trend_types").select("primary").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "julkaistaan vain yhdellä rajauksella kerrallaan" in visible_text(at)
    assert not at.get("vega_lite_chart")


@pytest.mark.parametrize("username", ["admin", "johtaja", "ohjausryhma", "rehtori"])
def test_comparison_page_says_in_words_where_the_school_stands_in_its_section_of_three(app_env, username):
    at = login(username)
    at.switch_page("pages/comparison.py").run()
    assert not at.exception, [e.message for e in at.exception]
    several = username != "rehtori"
    if several:
        # Those who lead several schools first see every school of theirs, furthest above its peers
        # first, in the first of three sections; only the open one is drawn.
        assert [tab.label for tab in at.tabs] == ["Huomiota kaipaavat koulut", "Koulu ja sen vertailuryhmä",
                                                  "Myönteiset poikkeamat"]
        assert [s.value for s in at.subheader] == ["Koulut, jotka kaipaavat huomiota"]
        assert not at.get("vega_lite_chart") and len(at.get("download_button")) == 2  # the list as CSV and XLSX
        attention = at.dataframe[0].value
        assert attention["Suhteessa vertailuryhmään"].isin(["Korkeampi kuin sattuma selittää", "Ei näyttöä erosta",
                                                  "Matalampi kuin sattuma selittää", "Ei verrattu: kuukausi puuttuu"]).all()
        # The change in signed points (the unit in the header), its reading in a column of its own.
        changes = attention["Muutos (%-yks.)"]
        assert changes.str.fullmatch(r"[+\u2212±]\d+,\d|–").all() and (changes != "–").any()
        assert attention["Suhteessa maakuntaan"].isin(["Korkeampi kuin maakunnassa", "Matalampi kuin maakunnassa", "Samaa luokkaa", "–"]).all()
        assert at.query_params.get("section") in ("attention", ["attention"])
        open_section(at, "comparison", "school")
        assert at.query_params.get("section") in ("school", ["school"])
    assert not at.tabs or several
    open_tables(at)  # every chart's table as well: what the page can show
    text = visible_text(at)
    assert "Vertailuryhmässä on " in text and "oulun poissaoloprosentti " in text  # the verdict in words
    schools = at.selectbox(key="compare_school").options
    assert (len(schools) == 1) == (not several)  # a rector compares their own school only
    assert len(at.get("vega_lite_chart")) == 5 and len(at.get("download_button")) == 20
    assert "Koulut, jotka kaipaavat huomiota" not in [s.value for s in at.subheader]
    if several:
        assert sorted(attention["Koulu"]) == sorted(schools)  # the options are shown by name
        open_section(at, "comparison", "outliers")
        assert [s.value for s in at.subheader] == [i18n.t("compare.outliers", "fi")]
        assert not at.get("vega_lite_chart") and len(at.get("download_button")) == 2


@pytest.mark.parametrize("username, asked, drawn", [
    ("johtaja", "outliers", "compare.outliers"), ("johtaja", "school", "compare.funnel"),
    ("johtaja", "nonsense", "attention.heading"), ("rehtori", "outliers", "compare.funnel")])
def test_the_comparison_opens_on_the_section_its_link_names_the_list_for_another_and_a_rector_on_the_school(
        app_env, username, asked, drawn):
    at = login(username)
    at.query_params["section"] = asked
    at.switch_page("pages/comparison.py").run()
    assert not at.exception, [e.message for e in at.exception]
    headings = [s.value for s in at.subheader]
    assert headings[0] == i18n.t(drawn, "fi")
    others = {"compare.outliers", "compare.funnel", "attention.heading"} - {drawn}
    assert not [h for h in headings if h in {i18n.t(key, "fi") for key in others}]
    if username == "johtaja":
        assert at.query_params["section"] in (asked if asked != "nonsense" else "attention",
                                              [asked if asked != "nonsense" else "attention"])


@pytest.mark.skipif(not (SHARED / "data" / "geo" / "kuntarajat-2023.geojson").exists(), reason="official boundaries absent")
def test_a_configured_boundary_file_adds_the_municipality_map(app_env, monkeypatch):
    monkeypatch.setenv(environment.MUNICIPALITY_GEOJSON, str(SHARED / "data" / "geo" / "kuntarajat-2023.geojson"))
    at = login("admin")
    at.switch_page("pages/trends.py").run()
    open_section(at, "trends", "areas")
    assert any(s.value.startswith("Kunnat kartalla") for s in at.subheader)
    assert len(at.get("vega_lite_chart")) == 3  # the areas section's regions and municipalities, and the map


def test_an_unusable_boundary_file_is_said_not_hidden(app_env, monkeypatch, tmp_path):
    (tmp_path / "bad.geojson").write_text("{}", encoding="utf-8")
    monkeypatch.setenv(environment.MUNICIPALITY_GEOJSON, str(tmp_path / "bad.geojson"))
    at = login("admin")
    at.switch_page("pages/trends.py").run()
    open_section(at, "trends", "areas")
    from lasnaolo.text import unescaped  # the reason holds data, escaped for markdown

    assert any("Kuntarajoja ei voi näyttää" in w.value and "bad.geojson" in unescaped(w.value) for w in at.warning)


def test_every_page_explains_an_empty_database_instead_of_failing(empty_db):
    at = login("admin")
    no_data = i18n.t("overview.no_data", "fi")
    assert no_data == "Sinulle ei ole vielä näytettäviä poissaolotietoja."
    explained = {}
    for page in accounts.pages_for("admin"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        explained[page] = [i.value for i in at.info]
    # Every page that reads figures says there are none; the data page offers the upload instead.
    for page in ("overview", "trends", "comparison", "clusters", "targets", "evaluation", "present"):
        assert explained[page] and explained[page][0] in (no_data, i18n.t("trends.no_data", "fi")), (page, explained[page])
    assert explained["impact"], "the impact page says why it cannot estimate"
    assert list(accounts.pages_for("admin"))[-1] == "data"  # the page `at` is on
    assert any(str(u.label).startswith("Tuo CSV-tiedostot") for u in at.get("file_uploader"))


def test_a_school_without_data_that_year_is_said_plainly(empty_db):
    importer.import_files(empty_db, files())
    older = ABSENCES.replace("2024-2025,2024-09", "2023-2024,2023-09").splitlines()
    rows = [line for line in older if line.startswith("04567") and "2023-09" in line]
    importer.import_files(empty_db, [("absences.csv", ("\n".join([older[0], *rows]) + "\n").encode())])
    at = login("admin")
    at.switch_page("pages/comparison.py").run()
    open_section(at, "comparison", "school")
    at.selectbox(key="compare_school").select("00123").run()
    at.selectbox(key="compare_year").select("2023-2024").run()
    assert not at.exception
    assert "Koululla ei ole poissaolotietoja lukuvuodelta 2023–2024." in [i.value for i in at.info]


@pytest.mark.parametrize("username", ["admin", "ohjausryhma", "koordinaattori"])
def test_clusters_page_shows_profiles_members_and_factors(app_env, username):
    at = login(username)
    at.switch_page("pages/clusters.py").run()
    open_tables(at)  # every chart's table as well: what the page can show
    assert not at.exception, [e.message for e in at.exception]
    text = visible_text(at)
    assert at.title[0].value == "Koulujen riskiprofiilit"
    assert "ryhmää" in text and "eivät syitä" in text  # the count of clusters and the caveat
    assert len(at.get("vega_lite_chart")) == 3  # profiles heatmap, schools on components, factors
    small_municipality = username == "ohjausryhma"  # Hyvinkää: clustered among its region
    assert ("koko maakunnan koulujen joukossa" in text) == small_municipality
    at.selectbox(key="risk_k").select(3).run()
    assert any(m.value.startswith("**3 ryhmää**") for m in at.markdown)
    # The members table puts every school in one of the three clusters chosen, each school once.
    members = next(d.value for d in at.dataframe if "Ryhmä" in d.value.columns and "Koulu" in d.value.columns)
    assert set(members["Ryhmä"].astype(int)) == {1, 2, 3} and members["Koulu"].is_unique and len(members) >= 6


def test_steering_group_sets_a_target_and_the_rector_follows_it(app_env):
    at = login("ohjausryhma")
    at.switch_page("pages/targets.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Vuositavoitteet ja niiden seuranta"
    assert "Tälle lukuvuodelle ei ole vielä asetettu tavoitteita." in visible_text(at)
    # Targets are set ahead: the current school year by the calendar is the default.
    today = datetime.date.today()
    current = f"{today.year - (today.month < 8)}-{today.year - (today.month < 8) + 1}"
    assert at.selectbox(key="target_year").value == current
    at.selectbox(key="target_year").select("2024-2025").run()  # the demo's newest year, which the overview shows
    assert any(c.value.startswith("Ehdotus: ") for c in at.caption)  # the municipality's suggestion
    assert any(c.value.startswith("Laskettu lähtötaso: ") for c in at.caption)
    assert len(at.selectbox(key="new_unit").options) > 1  # the municipality and its schools
    at.text_input(key="new_responsible").input("Rehtori Virtanen").run()
    at.button(key="new_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = visible_text(at)
    assert "Rehtori Virtanen" in text and "Tila: **" in text
    assert "Tavoite tallennettu." in [m.value for m in at.success]  # the save is confirmed
    assert "Luotu" in text and "lähtötaso: " in text and "baseline_value" not in text  # the history in words
    assert len(at.get("download_button")) >= 4  # the meeting table and the history as CSV and XLSX
    overview = login("ohjausryhma")
    assert "Rehtori Virtanen" in visible_text(overview)  # the overview shows the user's targets


def test_a_rector_may_comment_but_not_edit_targets(app_env):
    from lasnaolo import targets as target_core

    engine = store.make_engine(app_env)
    steering = accounts.demo_accounts(None)["ohjausryhma"].scope()
    schools = queries.schools(engine, steering)
    school = schools.loc[schools["school_type"] == "comprehensive", "school_id"].iloc[0]  # the demo rector's
    target_core.create(engine, steering, "ohjausryhma", target_core.TargetDraft(
        "school", school, "2024-2025", "absence_rate", 6.0, 5.0, responsible="Rehtori", baseline_reason="pyöreä luku"))
    at = login("rehtori")
    at.switch_page("pages/targets.py").run()
    at.selectbox(key="target_year").select("2024-2025").run()  # the default is the current school year
    assert not at.exception, [e.message for e in at.exception]
    keys = {b.key for b in at.button}
    assert "new_save" not in keys and not [k for k in keys if k and k.startswith("edit_")]
    comment_key = [k for k in keys if k and k.startswith("comment_")][0]
    at.text_input(key=comment_key.removesuffix("_save")).input("Kokeilemme joustavaa aloitusta").run()
    at.button(key=comment_key).click().run()
    assert "Kokeilemme joustavaa aloitusta" in visible_text(at)


def test_two_editors_the_second_save_shows_the_newer_version(app_env):
    from lasnaolo import targets as target_core

    engine = store.make_engine(app_env)
    steering = accounts.demo_accounts(None)["ohjausryhma"].scope()
    record = target_core.create(engine, steering, "ohjausryhma", target_core.TargetDraft(
        "municipality", accounts.DEMO_MUNICIPALITY, "2024-2025", "unauthorised_rate", 1.2, 1.0, baseline_reason="pyöreä luku"))
    first, second = login("ohjausryhma"), login("johtaja")
    for at in (first, second):
        at.switch_page("pages/targets.py").run()
        at.selectbox(key="target_year").select("2024-2025").run()  # the default is the current school year
        at.selectbox(key="target_choice").select(record.id).run()
        assert not at.exception, [e.message for e in at.exception]
    first.text_input(key=f"edit_{record.id}_target").input("0,9").run()  # a decimal comma
    first.button(key=f"edit_{record.id}_save").click().run()
    second.text_input(key=f"edit_{record.id}_target").input("1.1").run()
    second.button(key=f"edit_{record.id}_save").click().run()
    assert any("Tallennus estettiin: ohjausryhma muutti tavoitetta" in e.value for e in second.error)
    stored = target_core.get(engine, steering, record.id)
    assert (stored.target_value, stored.version, stored.updated_by) == (0.9, 2, "ohjausryhma")
    # Having seen the newer version, the second editor can save on top of it.
    second.button(key=f"edit_{record.id}_save").click().run()
    assert target_core.get(engine, steering, record.id).target_value == 1.1


def test_a_change_made_by_another_server_process_is_shown_on_the_next_rerun(app_env):
    """Another process saves a target (no cache of this process is cleared): the data version in
    every cache key makes this process read afresh instead of serving its cached meeting table."""
    from lasnaolo import targets as target_core

    at = login("ohjausryhma")
    at.switch_page("pages/targets.py").run()
    at.selectbox(key="target_year").select("2024-2025").run()  # the default is the current school year
    at.run()  # the meeting table now comes from this process's cache
    assert "Toisen palvelimen tavoite" not in visible_text(at)
    engine = store.make_engine(app_env)
    steering = accounts.demo_accounts(None)["ohjausryhma"].scope()
    target_core.create(engine, steering, "johtaja", target_core.TargetDraft(
        "municipality", accounts.DEMO_MUNICIPALITY, "2024-2025", "tier23_share", 4.0, 3.8,
        responsible="Toisen palvelimen tavoite", baseline_reason="pyöreä luku"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Toisen palvelimen tavoite" in visible_text(at)


def test_a_pages_run_asks_the_database_for_the_data_version_once(app_env, monkeypatch):
    """Every cached figure's key holds the data version: read once per run, not once per figure
    (a score of queries a run, each a round trip to PostgreSQL)."""
    asked = []
    data_version = queries.data_version
    monkeypatch.setattr(queries, "data_version", lambda engine: asked.append(1) or data_version(engine))
    at = login("johtaja")
    at.switch_page("pages/trends.py").run()
    asked.clear()
    at.run()  # a repeat: every figure from this process's cache
    assert not at.exception, [e.message for e in at.exception]
    assert at.get("vega_lite_chart") and len(asked) == 1


def _version_across_a_rerun(url: str) -> None:
    """An app of one page: reads the data version, has another process record a self-evaluation,
    reruns (st.rerun: the same script runner and context, as a server reruns) and reads it again."""
    import sqlalchemy as sa
    import streamlit as st

    from lasnaolo.ui import data

    versions = st.session_state.setdefault("versions", [])
    versions.append((data._data_version(url), data._data_version(url)))
    if len(versions) == 1:
        with sa.create_engine(url).begin() as other_process:
            other_process.execute(sa.text(
                "INSERT INTO self_evaluation (unit_level, unit_code, school_year, recommendation, score, note, recorded_by,"
                " recorded_at) VALUES ('municipality', '106', '2024-2025', 'x', 1, '', 'toinen', CURRENT_TIMESTAMP)"))
        st.rerun()


def test_the_data_version_is_read_afresh_in_a_run_that_follows_st_rerun_and_kept_within_a_run(tmp_path):
    """The version is remembered per run by a marker Streamlit replaces when a run starts: a
    rerun in the same script runner (not a new one, as AppTest makes for every `run()`) must read
    the change another process made in between."""
    url = f"sqlite:///{tmp_path / 'lasnaolo.db'}"
    store.init_database(store.make_engine(url))
    at = AppTest.from_function(_version_across_a_rerun, args=(url,), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.message for e in at.exception]
    (first, again), (after, after_again) = at.session_state["versions"]
    assert first == again and after == after_again  # once a run
    assert after != first and after[-1] == first[-1] + 1  # the other process's self-evaluation counted


@pytest.mark.parametrize("username", ["koordinaattori", "johtaja"])
def test_presentation_previews_each_slide_in_its_tab_alone_anonymised_keeps_it_open_while_others_leave_and_presents_the_chosen_ones_in_order(
        app_env, username):
    from lasnaolo import deck

    at = login(username)
    at.switch_page("pages/present.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Esitys webinaariin"
    tabs = [tab.label for tab in at.tabs]  # the preview: a tab per slide
    # The catalogue's slides, less those with nothing to show in this scope (no targets set; a
    # director's municipality too small for risk profiles).
    assert len(tabs) >= 6 and set(tabs) >= {"Tunnusluvut", "Kuntien vertailu", "Poissaolot kuukausittain"}
    kinds = [kind for kind in deck.SLIDES if i18n.t(f"deck.slide.{kind}", "fi") in tabs]
    assert [i18n.t(f"deck.slide.{kind}", "fi") for kind in kinds] == tabs  # in the deck's order
    names = set(queries.schools(store.make_engine(app_env), Scope.everything())["school_name"])
    keys = set()
    for number, (kind, label) in enumerate(zip(kinds, tabs), start=1):
        if number > 1:
            open_section(at, "present", kind)
        open_tables(at)  # the chart's table as well: what the page can show
        assert not at.exception, [e.message for e in at.exception]
        assert [s.value for s in at.subheader][1:] == [label]  # this slide, and no other, drawn
        text = visible_text(at)
        assert text.count("Anonymisoitu: ei koulujen nimiä") == 1  # the note on the slide
        assert not [n for n in names if n in text]
        keys |= {b.key for b in at.get("download_button")}
    numbers = range(1, len(kinds) + 1)
    assert {"present_pptx", "present_pdf"} | {f"{kind}_slide-{n}" for kind in ("png", "svg") for n in numbers} <= keys
    open_section(at, "present", "tiers")
    # Other slides leave the deck (a new tab bar to Streamlit): the open one stays open.
    at.multiselect(key="present_slides").set_value(["headline", "tiers", "ranking"]).run()
    assert [tab.label for tab in at.tabs] == ["Tunnusluvut", "Läsnäolomallin tasot", "Kuntien vertailu"]
    assert [s.value for s in at.subheader][1:] == ["Läsnäolomallin tasot"]
    at.multiselect(key="present_slides").set_value(["ranking", "headline"]).run()
    assert [tab.label for tab in at.tabs] == ["Kuntien vertailu", "Tunnusluvut"]  # the order chosen
    assert [s.value for s in at.subheader][1:] == ["Kuntien vertailu"]  # the open slide left the deck: the first
    at.button(key="present_start").click().run()
    assert at.title[0].value == "Kuntien vertailu" and "Dia 1 / 2" in visible_text(at)
    at.button(key="present_next").click().run()
    assert at.title[0].value == "Tunnusluvut" and "Dia 2 / 2" in visible_text(at)
    at.button(key="present_stop").click().run()
    assert at.title[0].value == "Esitys webinaariin"
    assert at.multiselect(key="present_slides").value == ["ranking", "headline"]  # the choices are kept
    assert not [w.value for w in at.warning if "Session State" in w.value]


def test_the_previews_open_slide_is_in_the_url_so_a_language_switch_a_reload_and_a_link_open_it_and_trends_section_does_not(
        app_env):
    at = login("koordinaattori")
    at.switch_page("pages/trends.py").run()
    open_section(at, "trends", "wellbeing")  # ?section=wellbeing, carried along by a page change
    at.switch_page("pages/present.py").run()
    assert [s.value for s in at.subheader][1:] == ["Tunnusluvut"]  # not the wellbeing slide
    assert at.query_params.get("preview") in ("headline", ["headline"])  # the first slide's
    open_section(at, "present", "tiers")
    assert at.query_params.get("preview") in ("tiers", ["tiers"])
    at.button(key="present_start").click().run()  # presenting names its slide by number, not the preview's
    assert at.query_params.get("slide") in ("1", ["1"]) and "preview" not in at.query_params
    at.button(key="present_stop").click().run()
    assert at.query_params.get("preview") in ("tiers", ["tiers"]) and "slide" not in at.query_params
    at.session_state[session.LANGUAGE_KEY] = "sv"  # as the sidebar's choice sets it (not in AppTest's page run)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [s.value for s in at.subheader][1:] == [i18n.t("deck.slide.tiers", "sv")]
    reloaded = login("koordinaattori")  # a new session from a link: the deck and the open slide
    reloaded.query_params.update({"slides": "ranking,tiers,headline", "preview": "headline"})
    reloaded.switch_page("pages/present.py").run()
    assert [tab.label for tab in reloaded.tabs] == ["Kuntien vertailu", "Läsnäolomallin tasot", "Tunnusluvut"]
    assert [s.value for s in reloaded.subheader][1:] == ["Tunnusluvut"]
    typed = login("koordinaattori")
    typed.query_params["preview"] = "nonsense"  # a hand-typed link opens the first slide
    typed.switch_page("pages/present.py").run()
    assert [s.value for s in typed.subheader][1:] == ["Tunnusluvut"] and typed.query_params["preview"] in ("headline", ["headline"])


def test_the_decks_targets_slide_counts_the_targets_set_under_the_decks_own_note_and_a_new_one_on_the_next_run(
        app_env, monkeypatch):
    """The targets slide is built apart from the kept slides (it changes with every save) and
    shares their note: not as a deck of its own, whose note would read a whole country's months."""
    import functools

    from lasnaolo import deck
    from lasnaolo import targets as target_core

    build, built = deck.build, []

    @functools.wraps(build)  # the same name: the same cache entries
    def recording_build(engine, user, request):
        built.append(request.slides)
        return build(engine, user, request)

    monkeypatch.setattr(deck, "build", recording_build)

    engine = store.make_engine(app_env)
    steering = accounts.demo_accounts(None)["ohjausryhma"].scope()

    def set_target(metric: str) -> None:  # as another server process would
        target_core.create(engine, steering, "ohjausryhma", target_core.TargetDraft(
            "municipality", accounts.DEMO_MUNICIPALITY, "2024-2025", metric, 4.0, 3.8, baseline_reason="pyöreä luku"))

    def caption() -> str:  # the area's targets so far (others' tests set some in this database too)
        counts = target_core.status_counts(engine, accounts.demo_accounts(None)["johtaja"].scope(), "2024-2025")
        return i18n.t("deck.caption.targets", "fi", n=int(counts.sum()))

    set_target("unauthorised_rate")
    before = caption()
    at = login("johtaja")
    at.switch_page("pages/present.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [tab.label for tab in at.tabs][-1] == "Tavoitteiden tilanne"
    notes = [c.value for c in at.caption if "Anonymisoitu" in c.value]  # the first slide's
    open_section(at, "present", "targets")
    assert [s.value for s in at.subheader][1:] == ["Tavoitteiden tilanne"]
    assert before in visible_text(at)
    assert len(notes) == 1 and [c.value for c in at.caption if "Anonymisoitu" in c.value] == notes
    set_target("absence_rate")
    at.run()
    assert caption() != before and caption() in visible_text(at)
    assert not [slides for slides in built if "targets" in slides]  # the slide shown came from target_slides


def test_impact_page_estimates_the_coach_effect_and_shows_its_assumptions(app_env):
    at = login("johtaja")  # Hyvinkää: too few coach schools of its own
    at.switch_page("pages/impact.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Toimenpiteiden vaikutus poissaoloihin"
    assert "Arviota ei tehdä" not in visible_text(at)  # it opens on a view that can be estimated
    assert "Herkkyys:" in visible_text(at) and "Ryhmien vertailtavuus" in visible_text(at)
    at.selectbox(key="impact_measure").select("school_coach").run()
    at.radio(key="impact_area").set_value(False).run()
    assert "Arviota ei tehdä" in visible_text(at) and "koko maakunta" in visible_text(at)
    at.selectbox(key="impact_band").select("7-9").run()
    at.radio(key="impact_area").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    text = visible_text(at)
    assert "Kouluvalmentaja: poissaoloprosentti" in text and "prosenttiyksikköä pienempi kuin vertailukouluissa" in text
    assert "ryhmät kehittyivät samansuuntaisesti" in text and "ei jaettu kouluille arpomalla" in text
    assert len(at.get("vega_lite_chart")) == 1  # the event study
    assert "Koulut näytetään vain ryhminä." in text  # the region is anonymised
    open_tables(at)  # the event study's table too
    text += visible_text(at)
    names = queries.schools(store.make_engine(app_env), Scope.everything())["school_name"]
    assert not [n for n in names if n in text]


def test_impact_page_names_a_directors_own_schools_but_never_a_coordinators(app_env):
    admin = login("admin")
    admin.switch_page("pages/impact.py").run()
    admin.selectbox(key="impact_band").select("7-9").run()
    text = visible_text(admin)
    assert "Aloittaneet koulut" in text and "Vertailukoulut" in text
    names = set(queries.schools(store.make_engine(app_env), Scope.everything())["school_name"])
    assert [n for n in names if n in text]  # the administrator sees the schools by name
    coordinator = login("koordinaattori")
    coordinator.switch_page("pages/impact.py").run()
    coordinator.selectbox(key="impact_band").select("7-9").run()
    open_tables(coordinator)  # the event study's table too
    assert not coordinator.exception
    text = visible_text(coordinator)
    assert "prosenttiyksikköä" in text and not [n for n in names if n in text]


def test_self_evaluation_is_recorded_on_the_page_and_read_in_the_profile(app_env):
    from lasnaolo import evaluation

    at = login("ohjausryhma")  # Hyvinkää's steering group: the municipality is the first unit
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Läsnäolomallin itsearviointi"
    year = at.selectbox(key="evaluation_year").value
    unit = at.selectbox(key="evaluation_unit").value
    assert unit.level == "municipality" and unit.code == "106"
    at.radio(key=f"score_staff_competence_{unit}_{year}").set_value(3)
    at.text_area(key=f"note_staff_competence_{unit}_{year}").input("Koulutuspäivä syksyllä")
    at.button[0].click().run()  # the form's save
    assert not at.exception, [e.message for e in at.exception]
    assert "Tallennettu: 1 muuttunut arvio." in [s.value for s in at.success]
    engine = store.make_engine(app_env)
    steering = Scope("steering_group", municipality_codes=frozenset({"106"}))
    saved = evaluation.current(engine, steering, year)
    assert saved[["unit_code", "recommendation", "score", "note"]].values.tolist() == [
        ["106", "staff_competence", 3, "Koulutuspäivä syksyllä"]]
    text = visible_text(at)
    assert "Toteutumisprofiili ja poissaolot" in text and "Koulutuspäivä syksyllä" in text  # history
    assert len(at.get("vega_lite_chart")) == 1
    rector = login("rehtori")
    rector.switch_page("pages/evaluation.py").run()
    assert not rector.exception
    options = rector.selectbox(key="evaluation_unit").options  # the labels shown
    assert len(options) == 1 and not options[0].startswith("Kunta:")
    assert "Toteutumisprofiili ja poissaolot" not in visible_text(rector)  # one school is no profile
    director = login("johtaja")
    director.switch_page("pages/evaluation.py").run()
    assert not director.exception and not director.radio  # directors read only
    assert "Toteutumisprofiili ja poissaolot" in visible_text(director)


# Failing closed (issue #15: 1, 2, 8): anything configured is production; production refuses to
# start on a wrong configuration and never offers demo accounts; sign-ins are throttled in the database.

def start_with(secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.secrets.update(secrets or {})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_configured_database_with_a_mistyped_auth_key_refuses_to_start_and_offers_no_login(app_env, monkeypatch, tmp_path):
    path = write_account_file(tmp_path / "users.yaml", accounts.hash_password("s3cret-pass"))
    monkeypatch.setenv("LASNAOLO_DB_URL", app_env)
    at = start_with({"auth": {"user_file": path, "cookie_key": COOKIE_KEY}, "privacy": {"pseudonym_key": PSEUDONYM_KEY}})
    text = visible_text(at)
    assert "Läsnäoloa ei voi käynnistää" in text
    assert "unknown key `user_file` in [auth]; did you mean `users_file`?" in text
    assert "no account file is configured" in text
    assert not at.text_input and not at.metric and "Esittelytila" not in text


def test_a_configured_database_without_accounts_or_keys_refuses_to_start(app_env, monkeypatch):
    monkeypatch.setenv("LASNAOLO_DB_URL", app_env)
    text = visible_text(at := start())
    assert "no account file is configured, and outside demo mode there are no demo accounts" in text
    assert "the pseudonym key is missing" in text
    assert not at.text_input and "Esittelytila" not in text


def test_a_demo_cookie_key_refuses_to_start(app_env, monkeypatch, tmp_path):
    production_on(monkeypatch, tmp_path, app_env)
    monkeypatch.setenv(environment.COOKIE_KEY, "demo-mode-cookie-key-not-a-secret")
    at = start()
    assert "the cookie key is a known default" in visible_text(at) and not at.text_input


@pytest.fixture
def production_db(monkeypatch, tmp_path, demo_files):
    url = f"sqlite:///{tmp_path / 'production.db'}"
    engine = store.make_engine(url)
    store.init_database(engine)
    production_on(monkeypatch, tmp_path, url)
    yield engine
    scope.configure_pseudonym_key(None)


def test_demo_accounts_do_not_exist_in_production(production_db):
    at = login("johtaja")
    assert "Väärä käyttäjätunnus tai salasana." in [e.value for e in at.error] and not at.metric
    assert store.is_empty(production_db)  # and the configured database got no demo data


def test_five_failures_in_one_session_lock_the_username_in_another_session(production_db):
    first = start()
    for _ in range(5):
        login("admin", "wrong", at=first)
        assert [e.value for e in first.error] == ["Väärä käyttäjätunnus tai salasana."]
    second = login("admin", "demo")  # another session (as if another server process) on the same database
    assert [e.value for e in second.error] == [
        "Liian monta epäonnistunutta kirjautumisyritystä. Yritä uudelleen 15 minuutin kuluttua."]
    assert not second.metric and second.text_input



def test_pupil_level_exports_are_converted_on_the_data_page_and_imported_through_the_one_flow(empty_db, tmp_path):
    from lasnaolo import pupil_demo

    paths = {p.name: p.read_bytes() for p in pupil_demo.generate().write(tmp_path)}
    at = admin_on_data_page()
    uploaders = {str(u.label): u for u in at.get("file_uploader")}
    uploaders["Oppilasluettelo ja poissaolomerkinnät (CSV)"].set_value(
        [(n, paths[n], "text/csv") for n in ("oppilaat.csv", "poissaolot.csv")])
    uploaders["Koulun työpäiväkalenteri (CSV)"].set_value(("kalenteri.csv", paths["kalenteri.csv"], "text/csv"))
    at.run()
    # Schools the database does not have: each roster row located, no code or pupil shown.
    [convert] = [b for b in at.button if b.label == "Muunna"]
    convert.click().run()
    assert not at.exception and not at.success
    assert "koulua ei ole tietokannassa" in visible_text(at) and "demo-" not in visible_text(at)
    # With the export's schools imported first, the conversion goes through.
    importer.import_files(empty_db, [("schools.csv", paths["schools.csv"])])
    [convert] = [b for b in at.button if b.label == "Muunna"]
    convert.click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Muunnettu: 90 riviä, 2 koulua (2024–2025). Tarkista ja tuo alla."]
    assert "demo-" not in visible_text(at)  # no pupil on the page
    [check] = [b for b in at.button if b.label == "Tarkista tiedostot"]
    check.click().run()
    [preview] = [d.value for d in at.dataframe if "Uusia" in d.value and "Aika" not in d.value]
    assert preview.set_index("Tiedosto")["Uusia"].to_dict() == {"absences.csv": 90}  # 9 grades × 10 months
    assert preview["Tyyppi"].tolist() == ["Poissaolot"]
    assert snapshot(empty_db)["absence"] == []  # converted and checked, not written
    # An export with a reason the mapping does not know: located, nothing converted.
    broken = paths["poissaolot.csv"].decode("cp1252").replace("Selvittämätön poissaolo", "Myöhästyminen").encode("cp1252")
    uploaders = {str(u.label): u for u in at.get("file_uploader")}
    uploaders["Oppilasluettelo ja poissaolomerkinnät (CSV)"].set_value(
        [("oppilaat.csv", paths["oppilaat.csv"], "text/csv"), ("poissaolot.csv", broken, "text/csv")]).run()
    [convert] = [b for b in at.button if b.label == "Muunna"]
    convert.click().run()
    assert "1 ongelma – mitään ei tallennettu" in visible_text(at) and "Myöhästyminen" in visible_text(at)
    assert "demo-" not in visible_text(at)


def test_a_presentation_link_naming_an_area_outside_the_scope_shows_no_slide_and_the_form_falls_back(app_env):
    director = login("johtaja")  # Hyvinkää only
    director.query_params.update({"year": "2024-2025", "municipality": "091", "slide": "1"})  # Helsinki, presenting
    director.switch_page("pages/present.py").run()
    assert not director.exception
    assert [e.value for e in director.error] == ["Linkin alue on oman alueesi ulkopuolella tai siltä ei ole tietoja, joten esitystä ei tehdä."]
    assert "Tunnusluvut" not in visible_text(director) and not director.get("vega_lite_chart")  # no slide
    assert "Helsinki" not in visible_text(director)
    director = login("johtaja")
    director.query_params.update({"year": "2024-2025", "municipality": "091", "slides": "ranking,headline"})
    director.switch_page("pages/present.py").run()  # the form: Helsinki is no choice, the whole area is shown
    assert not director.exception and not director.error
    assert "Hyvinkää, 2024–2025" in visible_text(director) and director.query_params.get("municipality") is None
    assert director.query_params["slides"] == "ranking,headline"


def test_the_attention_tables_school_column_stays_in_sight_when_the_table_scrolls_sideways(app_env):
    """The attention table is wider than the page at 1400 px in Swedish and English (review): its
    first column, the school, is pinned, and so is every data table's first column."""
    at = login("johtaja")
    at.switch_page("pages/comparison.py").run()
    tables = list(at.dataframe)  # the attention list
    open_section(at, "comparison", "school")
    open_tables(at)
    tables += list(at.dataframe)  # the school's charts' tables
    assert len(tables) >= 2
    for table in tables:
        config = json.loads(table.proto.columns)
        first = table.value.columns[0]
        assert config[first] == {"pinned": True} and not any(c.get("pinned") for k, c in config.items() if k != first)


def test_thresholds_changed_after_the_package_loaded_stop_the_app_instead_of_showing_a_mixture(app_env, monkeypatch):
    """contract.SUPPRESSION is read once, when the package loads; an environment that says another
    (stricter or looser) policy when the app starts must not run with the old one unnoticed."""
    monkeypatch.setenv(environment.MIN_PUPILS, "8")  # after the package loaded with the product's 5
    at = start()
    text = visible_text(at)
    assert "Läsnäoloa ei voi käynnistää" in text and "restart the app" in text
    assert not at.text_input and not at.metric


def test_a_school_missing_a_month_of_its_own_is_said_to_be_incomplete_instead_of_failing(empty_db):
    importer.import_files(empty_db, files())  # school 00123 has September and October, not August
    at = login("admin")
    at.switch_page("pages/comparison.py").run()
    open_section(at, "comparison", "school")
    at.selectbox(key="compare_school").select("00123").run()
    assert not at.exception, [e.message for e in at.exception]
    assert ("Koulun tiedoista puuttuu jokin lukuvuoden 2024–2025 kuukausi tähän mennessä, joten koulua ei voi "
            "verrata muihin kouluihin samoilta kuukausilta.") in [i.value for i in at.info]
