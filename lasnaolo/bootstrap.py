"""First run: an empty embedded database is migrated and filled with the demo data set."""

from __future__ import annotations

import tempfile

from sqlalchemy.engine import Engine

from lasnaolo import importer, store


def ensure_database(engine: Engine, *, with_demo: bool = True) -> bool:
    """Migrate; load the demo data into an empty database. True when demo data was loaded."""
    store.init_database(engine)
    if not with_demo or not store.is_empty(engine):
        return False
    from lasnaolo import demo  # only on the very first run: it brings SciPy

    data = demo.generate("demo")
    with tempfile.TemporaryDirectory() as folder:
        paths = [p for p in data.write(folder) if p.suffix == ".csv"]
        importer.import_paths(engine, paths, imported_by="first-run demo")
    return True

