"""The alembic migration creates exactly the schema the models describe, on both databases, and
a migration that changes rows changes those it should."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from lasnaolo import results, store


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    """A database of each kind with no schema yet."""
    url = (f"sqlite:///{tmp_path / 'empty.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_server").new_database())
    eng = store.make_engine(url)
    yield eng
    eng.dispose()


def test_migration_matches_models_and_fills_reference(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), store.Base.metadata) == []
        assert connection.execute(select(func.count()).select_from(store.Municipality)).scalar_one() == 309


def test_init_is_repeatable(engine):
    store.init_database(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(store.Municipality)).scalar_one() == 309


def test_migration_0009_marks_the_charts_kept_before_it_as_built_and_nothing_else(empty_engine):
    store.migrate(empty_engine, "0008")
    names = [results.BUILT + "lasnaolo.charts.trends.category_chart", "lasnaolo.comparison.placed_schools",
             "x" + results.BUILT, results.BUILT.rstrip(":") + "-no-colon"]
    with empty_engine.begin() as connection:
        for number, name in enumerate(names):
            connection.execute(text("INSERT INTO computed_result (result_key, data_version, name, size, created_at, "
                                    "payload, question, signature) VALUES (:key, '1', :name, 1, 0, :blob, :blob, 's')"),
                               {"key": f"{number:064d}", "name": name, "blob": b"x"})
    store.migrate(empty_engine)
    with empty_engine.connect() as connection:
        marked = dict(connection.execute(select(store.ComputedResult.name, store.ComputedResult.built)).all())
        assert compare_metadata(MigrationContext.configure(connection), store.Base.metadata) == []
    assert marked == {names[0]: True, names[1]: False, names[2]: False, names[3]: False}
