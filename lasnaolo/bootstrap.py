"""First run: an empty embedded database is migrated and filled with the demo data set. Any other
database (a configured LASNAOLO_DB_URL or --db) is only migrated, never filled with demo data."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine

from lasnaolo import importer, store

DEMO_IMPORTER = "first-run demo"  # the import log's "imported by" for the demo data (shown in words)


_demo_data_allowed = True


def allow_demo_data(allowed: bool) -> None:
    """The app says at start whether it runs in demo mode; in production even the embedded file
    is only migrated, never filled with demo data."""
    global _demo_data_allowed
    _demo_data_allowed = allowed


def is_embedded_default(engine: Engine) -> bool:
    """Whether the engine is the embedded SQLite file (store.DEFAULT_DB_PATH), the only database
    that may ever receive demo data."""
    database = engine.url.database
    return (engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"
            and Path(database).resolve() == Path(store.DEFAULT_DB_PATH).resolve())


def ensure_database(engine: Engine, *, with_demo: bool = True) -> bool:
    """Migrate; load the demo data into an empty embedded database (never into another one, even
    when asked). True when demo data was loaded."""
    store.init_database(engine)
    if not (with_demo and _demo_data_allowed) or not is_embedded_default(engine) or not store.is_empty(engine):
        return False
    from lasnaolo import demo  # only on the very first run: it brings SciPy

    data = demo.generate("demo")
    with tempfile.TemporaryDirectory() as folder:
        paths = [p for p in data.write(folder) if p.suffix == ".csv"]
        importer.import_paths(engine, paths, imported_by=DEMO_IMPORTER)
    return True

