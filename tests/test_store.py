"""The alembic migration creates exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from lasnaolo import store


def test_migration_matches_models_and_fills_reference(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), store.Base.metadata) == []
        assert connection.execute(select(func.count()).select_from(store.Municipality)).scalar_one() == 309


def test_init_is_repeatable(engine):
    store.init_database(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(store.Municipality)).scalar_one() == 309
