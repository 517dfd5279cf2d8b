"""Small hand-made files and a database snapshot for comparing before and after."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from support.pgserver import free_port

SCHOOLS = """school_id,school_name,municipality_code,school_type,language
00123,Testikoulu A,091,primary,fi
04567,Testskola B,049,comprehensive,sv
"""

# Two months of school 00123 grade 1, one month of 04567 grades 7 and 8.
ABSENCES = """school_id,school_year,month,grade,pupils,lesson_hours,illness_hours,authorised_hours,unauthorised_hours,tier1_pupils,tier2_pupils,tier3_pupils
00123,2024-2025,2024-09,1,20,1680,60,20,4,3,1,0
00123,2024-2025,2024-10,1,21,1512,90,30,6,4,2,1
04567,2024-2025,2024-09,7,30,3780,150,60,40,5,3,1
04567,2024-2025,2024-09,8,3,378,40,0,0,0,1,1
"""

WELLBEING = """unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct
school,04567,2025,8-9,belonging,25,64.0
municipality,091,2025,4-5,likes_school,900,73.5
"""

MEASURES = """school_id,measure,tier,start,end,fte
04567,school_coach,1,2024-08-01,,1.0
00123,class_grouping,1,1.8.2024,31.5.2025,
"""

VALID = {"schools.csv": SCHOOLS, "absences.csv": ABSENCES, "wellbeing.csv": WELLBEING, "measures.csv": MEASURES}


def files(**overrides: str | bytes) -> list[tuple[str, bytes]]:
    """The valid set with some files replaced (keys use _ for .: absences_csv)."""
    contents = dict(VALID)
    for key, value in overrides.items():
        contents[key.replace("_csv", ".csv")] = value
    return [(n, v if isinstance(v, bytes) else v.encode("utf-8")) for n, v in contents.items() if v is not None]


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every data table, sorted, so two snapshots compare exactly."""
    tables = ("school", "absence", "wellbeing", "measure", "import_log")
    out = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.execute(sa.text(f"SELECT * FROM {table}")).fetchall()
            out[table] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


@contextmanager
def streamlit_server(script: list[str], *, cwd: Path, env: dict, log_path: Path, port: int | None = None):
    """A real `streamlit run` (or a wrapper script given in `script`, before Streamlit's options) on
    `port` (by default a free one) of 127.0.0.1, waited for until healthy; yields its base URL and
    stops it after."""
    port = port or free_port()
    options = ["--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
               "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, *script, *options], cwd=cwd, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        pytest.fail(f"streamlit did not start: {log_path.read_text()}")
                    time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def rejected(engine, file_list, **options) -> list:
    """The problems of an import that must be refused, checking that it changed nothing."""
    from lasnaolo import importer

    before = snapshot(engine)
    with pytest.raises(importer.ImportRejected) as caught:
        importer.import_files(engine, file_list, **options)
    assert snapshot(engine) == before, "a rejected import changed the database"
    return caught.value.problems.items


def _table_expander() -> re.Pattern:
    """A chart table expander's element id: Streamlit's prefix and hash, then its widget key."""
    from lasnaolo.ui.widgets import table_key

    return re.compile(r"^\$\$ID-[0-9a-f]+-(" + re.escape(table_key("")) + r".+)$")


def open_tables(at) -> None:
    """Opens every chart's table on an AppTest page, as a user clicking each "as a table" does
    (the tables are built only once opened: lasnaolo.ui.widgets), and reruns when any was closed,
    so that what a test reads or forbids includes every table the page can show."""
    closed, tables, pattern = [], 0, _table_expander()
    for expander in at.expander:
        found = pattern.match(expander.proto.id)
        tables += bool(found)
        if found and not (found.group(1) in at.session_state and at.session_state[found.group(1)]):
            closed.append(found.group(1))
    # Every chart has its table: fewer found means the expanders are no longer recognised (another
    # Streamlit's ids), and a test would read the page without its tables unawares (review).
    charts = len(at.get("vega_lite_chart"))
    assert tables >= charts, f"{charts} charts but {tables} table expanders recognised"
    for key in closed:
        at.session_state[key] = True
    if closed:
        at.run()


# The pages drawn one section (tab) at a time, and the name of their tab bar (filters.sections).
PAGE_SECTIONS = {"trends": "trends.section", "comparison": "compare.section", "present": "deck.slide"}


def sections_of(page: str, role: str) -> tuple[str, ...]:
    """The sections of a page as `role` sees it, the one it opens on first ((""), drawn whole).
    The presentation's are the catalogue's slides: a deck leaves out those with nothing to show
    in its scope."""
    from lasnaolo import comparison, deck, trends

    if page == "trends":
        return trends.SECTIONS
    if page == "comparison" and role != "rector":  # a rector's comparison is the school alone
        return comparison.SECTIONS
    if page == "present":
        return deck.SLIDES
    return ("",)


def drawn_sections(page: str, role: str, tabs: list[str], language: str = "fi") -> list[str]:
    """The sections after the first of `page` as drawn for `role`, whose tabs' labels are `tabs`
    (read from an AppTest or a browser page): every one of `sections_of`'s, save the deck's slides
    with nothing to show in the scope (a deck leaves them out and says so; whether targets are set
    depends on the tests run before)."""
    from lasnaolo import i18n

    codes = sections_of(page, role)[1:]
    drawn = [code for code in codes if i18n.t(f"{PAGE_SECTIONS[page]}.{code}", language) in tabs]
    assert page == "present" or drawn == list(codes), f"{page}: tabs missing"
    return drawn


def open_section(at, page: str, section: str, language: str = "fi") -> None:
    """Opens one section (tab) of a page drawn one section at a time (PAGE_SECTIONS) on an AppTest
    page, as a user clicking its tab does."""
    from lasnaolo import i18n
    from lasnaolo.ui.filters import section_key

    bar = PAGE_SECTIONS[page]
    label = i18n.t(f"{bar}.{section}", language)
    assert label in [tab.label for tab in at.tabs], f"{page}: no tab {label}"
    at.session_state[section_key(bar, language)] = label
    at.run()
    assert not at.exception, [e.message for e in at.exception]
