"""Shared fixtures: a real SQLite file and a real PostgreSQL server started for the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lasnaolo import demo, store
from support.pgserver import ThrowawayPostgres, postgres_bin_dir

SHARED = Path(__file__).resolve().parents[2] / "shared"
REQUIRE_POSTGRES = os.environ.get("LASNAOLO_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (LASNAOLO_REQUIRE_POSTGRES=1) but initdb was not found")
        pytest.skip("PostgreSQL server binaries not installed (tests/run.sh installs them)")
    server = ThrowawayPostgres(bin_dir)
    yield server
    server.stop()


def migrated_engine(request, folder: Path):
    """A fresh, migrated database of the kind the fixture's param names."""
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'lasnaolo.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    eng = store.make_engine(url)
    store.init_database(eng)
    return eng


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    eng = migrated_engine(request, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_data():
    return demo.generate("demo")


@pytest.fixture(scope="session")
def demo_files(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    demo_data.write(out)
    return out


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_engine(request, demo_files, tmp_path_factory):
    """A database of each kind holding the demo data set (read-only for the tests that use it)."""
    from lasnaolo import importer

    eng = migrated_engine(request, tmp_path_factory.mktemp("demo-db"))
    importer.import_paths(eng, sorted(demo_files.glob("*.csv")))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_sqlite(demo_files, tmp_path_factory):
    """The demo data in one SQLite file, for tests whose subject is not the database (read-only)."""
    from lasnaolo import importer

    eng = store.make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo-sqlite') / 'lasnaolo.db'}")
    store.init_database(eng)
    importer.import_paths(eng, sorted(demo_files.glob("*.csv")))
    yield eng
    eng.dispose()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can react to a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
