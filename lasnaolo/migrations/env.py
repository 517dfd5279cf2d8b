"""Alembic environment: runs on the connection handed over by `lasnaolo.store.migrate`."""

from alembic import context
from sqlalchemy import create_engine

from lasnaolo.store import Base, database_url

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # plain `alembic` command line use
    with create_engine(database_url()).begin() as conn:
        _run(conn)
