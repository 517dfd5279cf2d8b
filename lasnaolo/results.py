"""Heavy results computed once per data version and kept in the database, so that a second server
process, a restart or a second user reads what one computed instead of computing it again (a
national analysis takes seconds; reading it back, milliseconds).

A result is found by a keyed hash of everything it depends on: the function's name, the scope
(every role and area apart, as the pages' caches keep them), the question's arguments, the data
version (every import, target change and self-evaluation), the code that computes it and the
installation's pseudonym key (results carry pseudonyms). Its payload is signed with a key derived
from the pseudonym key, and a payload whose signature does not match is never unpickled: only what
this installation stored is read back. A question that cannot be keyed exactly is computed, not
stored. Storing never fails a page: a locked or unavailable table only means computing again.

Bounded: a result over MAX_RESULT_BYTES is not kept; results of older data versions are deleted
when a newer one is stored, and the oldest go first when the table would pass MAX_STORED_BYTES."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import pickle
import time
import zlib
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from lasnaolo import queries, store
from lasnaolo import scope as scope_module
from lasnaolo.store import ComputedResult

MAX_RESULT_BYTES = 32 * 2**20  # compressed
MAX_STORED_BYTES = 512 * 2**20
WRITE_WAIT_MS = 200  # a page does not wait on an import's write lock to keep a result: it skips keeping it

T = TypeVar("T")
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the package's files: results computed by other code are never read back."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def canonical(value: Any) -> Any:
    """`value` as JSON that is the same in every process (sets sorted, dataclasses by field);
    TypeError for anything else, which is then not kept."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, (date, datetime)):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, (tuple, list)):
        return ["seq", [canonical(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))]
    if isinstance(value, dict):
        return ["map", sorted(([canonical(k), canonical(v)] for k, v in value.items()),
                              key=lambda kv: json.dumps(kv[0], sort_keys=True))]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        return ["dataclass", kind, [[f.name, canonical(getattr(value, f.name))] for f in dataclasses.fields(value)]]
    raise TypeError(f"cannot key a {type(value).__name__}")


def result_key(name: str, version: tuple[int, ...], scope: scope_module.Scope, args: tuple) -> str | None:
    """The stored result's key, or None when the question cannot be keyed exactly."""
    try:
        text = json.dumps([name, list(version), canonical(scope), canonical(args), code_version()], sort_keys=True)
    except TypeError:
        return None
    return hmac.new(scope_module.derived_key("result-key"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _signature(key: str, payload: bytes) -> str:
    return hmac.new(scope_module.derived_key("result-signature"), key.encode("ascii") + b"\0" + payload,
                    hashlib.sha256).hexdigest()


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


def computed(engine: Engine, version: tuple[int, ...], name: str, scope: scope_module.Scope, args: tuple,
             compute: Callable[[], T]) -> T:
    """The stored result of this question at this data version, or `compute()` kept for the next."""
    key = result_key(name, version, scope, args)
    if key is None:
        return compute()
    found = _fetch(engine, key)
    if found is not None:
        return found[0]
    value = compute()
    _keep(engine, key, version, name, value)
    return value


def _fetch(engine: Engine, key: str) -> tuple[Any] | None:
    try:
        with engine.connect() as connection:
            row = connection.execute(select(ComputedResult.payload, ComputedResult.signature)
                                     .where(ComputedResult.result_key == key)).first()
    except SQLAlchemyError as error:
        log.warning("stored results unavailable, computing: %s", error)
        return None
    if row is None:
        return None
    payload = bytes(row.payload)
    if not hmac.compare_digest(_signature(key, payload), row.signature):
        log.warning("a stored result's signature does not match; computing it again")
        return None
    return (pickle.loads(zlib.decompress(payload)),)


def _keep(engine: Engine, key: str, version: tuple[int, ...], name: str, value: Any) -> None:
    try:
        payload = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    if len(payload) > MAX_RESULT_BYTES:
        return
    text = _version_text(version)
    try:
        with engine.connect() as connection:
            _wait_briefly(connection)
            try:
                # Computed from data an import has since replaced: not kept under the old version's key.
                if queries.data_version(engine) != version:
                    return
                connection.execute(delete(ComputedResult).where(
                    (ComputedResult.data_version != text) | (ComputedResult.result_key == key)))
                connection.execute(ComputedResult.__table__.insert().values(
                    result_key=key, data_version=text, name=name[:200], size=len(payload), created_at=time.time(),
                    payload=payload, signature=_signature(key, payload)))
                _trim(connection)
                connection.commit()
            finally:
                connection.rollback()
                _wait_as_usual(connection)
    except SQLAlchemyError as error:  # another process kept it first, or the table is locked: fine
        log.info("a result was not kept: %s", error)


def _wait_briefly(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={WRITE_WAIT_MS}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{WRITE_WAIT_MS}ms'")


def _wait_as_usual(connection) -> None:
    """The pooled connection goes back with the usual wait (SET LOCAL ended with its transaction)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={store.SQLITE_BUSY_TIMEOUT_MS}")
        connection.commit()


def _trim(connection) -> None:
    """The oldest results go first while the table holds more than MAX_STORED_BYTES."""
    total = connection.execute(select(func.coalesce(func.sum(ComputedResult.size), 0))).scalar_one()
    if total <= MAX_STORED_BYTES:
        return
    rows = connection.execute(select(ComputedResult.result_key, ComputedResult.size)
                              .order_by(ComputedResult.created_at.desc())).fetchall()
    kept, drop = 0, []
    for row in rows:
        kept += row.size
        if kept > MAX_STORED_BYTES:
            drop.append(row.result_key)
    if drop:
        connection.execute(delete(ComputedResult).where(ComputedResult.result_key.in_(drop)))


def forget(engine: Engine) -> None:
    """Delete every stored result (the administrator's "recompute", and tests)."""
    with engine.begin() as connection:
        connection.execute(delete(ComputedResult))
