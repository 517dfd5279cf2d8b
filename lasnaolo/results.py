"""Heavy results computed once per data version and kept in the database, so that a second server
process, a restart or a second user reads what one computed instead of computing it again (a
national analysis takes seconds; reading it back, milliseconds).

A result is found by a keyed hash of everything it depends on: the function's name, the scope
(every role and area apart, as the pages' caches keep them), the question's arguments, the import
version (`import_version`; for the few reads of targets or self-evaluations, LIVE, the whole data
version), the code and libraries that compute it and the installation's pseudonym key (results
carry pseudonyms). Its payload is signed with a key derived from the pseudonym key, and a
payload whose signature does not match is never unpickled: only what this installation stored
is read back. A question that cannot be keyed exactly is computed, not
stored. Storing never fails a page: a locked or unavailable table only means computing again.

Bounded: a result over MAX_RESULT_BYTES is not kept; results of older data versions are deleted
once a newer version's are stored (after OLD_VERSIONS_KEPT_S, or when `warm` has computed their
questions again for the new version), and when the heavy results pass MAX_STORED_BYTES, or the
charts the pages drew from them (BUILT, cheap to build again) pass MAX_BUILT_BYTES, rows of that
class go until it holds TRIMMED_SHARE of its bound: first those no page reads any more, then the
oldest (`_trim`). The two are bounded apart so that many charts never push out the analyses
`warm` computed after an import.

After an import, `warm` computes again every question asked of the data before it (the core's
functions only, the newest WARM_LIMIT), so that the users' first visits after an import read
stored results too. A new server process reads the newest of them ahead (`read_ahead`), so that
its first visits take them from memory, as the first process's repeat visits take its own."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib
import json
import logging
import pickle
import sys
import threading
import time
import zlib
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from lasnaolo import contract, queries, store
from lasnaolo import scope as scope_module
from lasnaolo.store import ComputedResult, ImportLog

MAX_RESULT_BYTES = 32 * 2**20  # compressed
MAX_STORED_BYTES = 512 * 2**20  # heavy results
MAX_BUILT_BYTES = 64 * 2**20  # charts and tables drawn from them (BUILT)
TRIMMED_SHARE = 0.75  # a class over its bound is trimmed to this share of it, so that not every keep trims
VERSIONED_LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "altair", "linearmodels", "statsmodels")
OLD_VERSIONS_KEPT_S = 600  # an older data version's results, for `warm` after an import
WARM_LIMIT = 200  # questions computed again after an import, newest first
# Kept for every process to read, but not computed again after an import: cheap (under 0.1 s) and
# asked per unit and metric, they would crowd the heavy questions out of WARM_LIMIT (review). A
# page's opening ones are first views (lasnaolo.first_views).
NOT_WARMED = frozenset({"lasnaolo.targets.baseline", "lasnaolo.targets.suggest"})
# Kept under the whole data version (`computed`'s `data_version`), as they read targets or
# self-evaluations too: every save makes them new questions. A new process read them from the
# database instead of computing them (20-60 ms of CPU on a moved tab's first visit of the
# presentation, the targets and the self-evaluation pages). Never computed again by `warm`: an
# import makes them new anyway.
LIVE = frozenset({"lasnaolo.evaluation.current", "lasnaolo.evaluation.profile", "lasnaolo.evaluation.history",
                  "lasnaolo.targets.overview_table", "lasnaolo.targets.progress", "lasnaolo.targets.history",
                  "lasnaolo.deck.target_slides"})
WRITE_WAIT_MS = 200  # a page does not wait on an import's write lock to keep a result: it skips keeping it
# A chart waits only as long as another's keep takes (a few ms), not an import's lock: building
# it again costs a few ms, waiting out WRITE_WAIT_MS would cost 200 per chart. (Not 0: then two
# processes keeping charts at once on one SQLite file kept about half of them, eight threads an eighth.)
BUILT_WRITE_WAIT_MS = 20
# What a page draws from figures it holds (a chart's spec, a table as shown) is kept under names
# with this prefix: no question an import computes again (`warm` reads none of them).
BUILT = "lasnaolo.ui.built:"
# Read ahead by a new server process (compressed bytes, newest first): every result and chart kept
# for the national benchmark's five roles took 27 MiB.
READ_AHEAD_BYTES = 32 * 2**20

T = TypeVar("T")
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the package's files, Python's and the pickled libraries' versions: results
    computed by other code are never read back."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(sys.version.encode("utf-8"))
    for library in VERSIONED_LIBRARIES:  # a pickle names their classes: another version may not read it
        try:
            digest.update(f"{library}={metadata.version(library)}".encode("utf-8"))
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=-".encode("utf-8"))
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def name_of(read: Callable) -> str:
    """The name a result is kept by: the function's module and qualified name."""
    return f"{read.__module__}.{read.__qualname__}"


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
        # The suppression policy too: an installation made stricter must not read what a looser one kept.
        text = json.dumps([name, list(version), canonical(scope), canonical(args), code_version(),
                           canonical(contract.SUPPRESSION)], sort_keys=True)
    except TypeError:
        return None
    return hmac.new(scope_module.derived_key("result-key"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _signature(key: str, payload: bytes, question: bytes) -> str:
    message = key.encode("ascii") + b"\0" + len(payload).to_bytes(8, "big") + payload + question
    return hmac.new(scope_module.derived_key("result-signature"), message, hashlib.sha256).hexdigest()


def import_version(engine_or_connection) -> tuple[int, ...]:
    """The data version a stored result depends on: the newest import. Target changes and
    self-evaluations (the rest of queries.data_version) change none of the stored results but the
    LIVE ones (keyed by the whole data version), so a comment on a target does not throw them away."""
    query = select(func.coalesce(func.max(ImportLog.id), 0))
    if isinstance(engine_or_connection, Engine):
        with engine_or_connection.connect() as connection:
            return (connection.execute(query).scalar_one(),)
    return (engine_or_connection.execute(query).scalar_one(),)


def import_version_of(data_version: tuple[int, ...]) -> tuple[int, ...]:
    """`import_version` as a part of `queries.data_version`, which a page has read already: its
    first part is the newest import's id (no query of its own on every figure)."""
    return data_version[:1]


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


def _stored_version_text(version: tuple[int, ...], also: tuple[int, ...]) -> str:
    """What a result is stored under: its import version, and for a live one (LIVE) the whole
    data version after a "+", so that an import's clean-up finds both by the import
    (`_of_import`) and only the current data version's live results are read ahead."""
    return _version_text(version) + (f"+{_version_text(also)}" if also else "")


def _read_now(version: tuple[int, ...], data_version: tuple[int, ...]):
    """The rows a page reads at this data version: the import's results and charts, and this
    data version's live results (older ones are never asked again)."""
    return ComputedResult.data_version.in_([_version_text(version), _stored_version_text(version, data_version)])


def _live_of_import(text: str):
    """The live rows kept under an import version's text. (The `>` only lets both databases find
    them through the version's index: LIKE alone read the whole table, 27 ms a keep with 20,000
    kept charts; a text that extends another sorts after it in every collation.)"""
    return (ComputedResult.data_version > text) & ComputedResult.data_version.like(f"{text}+%")


def _of_import(text: str):
    """The rows kept under an import version's text, live ones included."""
    return (ComputedResult.data_version == text) | _live_of_import(text)


def computed(engine: Engine, version: tuple[int, ...], name: str, scope: scope_module.Scope | None, args: tuple,
             compute: Callable[[], T], data_version: tuple[int, ...] = ()) -> T:
    """The stored result of this question at this import version, or `compute()` kept for the
    next. `data_version`: the whole `queries.data_version` the question is asked at, part of a
    LIVE result's key (ignored for the others); kept and deleted with the import's results."""
    also = data_version if name in LIVE else ()
    key = result_key(name, (*version, *also), scope, args)
    if key is None or (name in LIVE and not also):  # a live read keyed by imports alone would go stale
        return compute()
    found = _taken_ahead(engine, version, key) or _fetch(engine, key)
    if found is not None:
        return found[0]
    value = compute()
    _keep(engine, key, version, name, value, (name, scope, args), also)
    return value


def built(engine: Engine, name: str, content_key: str, language: str, build: Callable[[], T],
          version: tuple[int, ...] | None = None) -> T:
    """What `build()` makes of figures a page already holds (their charts' specs and tables as
    shown), kept by the figures' content (`content_key`, a digest of them), the language and the
    builder's `name`, so that another server process reads it instead of building it again: on
    a new process, building the opening charts of a page was most of its first run (about 50 ms
    of the trends page's 80 ms more than a repeat run). Kept under the newest import only so that
    it is deleted with that import's results: the content key alone decides what is drawn.
    `version`: the import version when the caller has read it already."""
    try:
        version = import_version(engine) if version is None else version
        scope_module.derived_key("result-key")
    except SQLAlchemyError as error:
        log.warning("stored results unavailable, building: %s", error)
        return build()
    except scope_module.PseudonymKeyMissing:  # nothing can be signed: built, not kept
        return build()
    return computed(engine, version, BUILT + name, None, (content_key, language), build)


_ahead: dict[tuple[str, str], bytes] = {}  # (database, result key): a verified payload read ahead
_ahead_versions: dict[str, tuple[int, ...]] = {}  # database: the import version read ahead
_ahead_generations: dict[str, int] = {}  # database: bumped by every forgetting (a read begun before it is dropped)
_ahead_lock = threading.Lock()


def read_ahead(engine: Engine, budget: int = READ_AHEAD_BYTES) -> int:
    """For a new server process, before its first visits: the newest results and charts kept for
    the current import, up to `budget` compressed bytes, read and their signatures checked, so
    that `computed` takes each from memory once instead of from the database (a moved tab's first
    visit of a page read its results from the database and a repeat visit from memory: 2-4 ms a
    result, plus building a dozen SQL statements for the first time). Kept compressed until taken,
    then dropped: the taker's cache holds it. Never fails: a result not read ahead is fetched.
    Returns how many were read."""
    database = str(engine.url)
    with _ahead_lock:
        generation = _ahead_generations.get(database, 0)
    try:
        data_version = queries.data_version(engine)
        version = import_version_of(data_version)
        scope_module.derived_key("result-signature")
        with engine.connect() as connection:
            listed = connection.execute(select(ComputedResult.result_key, ComputedResult.size)
                                        .where(_read_now(version, data_version))
                                        .order_by(ComputedResult.created_at.desc())).fetchall()
        chosen, total = [], 0
        for row in listed:
            total += row.size
            if total > budget:
                break
            chosen.append(row.result_key)
        read = {}
        for start in range(0, len(chosen), 100):  # bound parameters per statement
            with engine.connect() as connection:
                rows = connection.execute(select(ComputedResult.result_key, ComputedResult.payload,
                                                 ComputedResult.question, ComputedResult.signature)
                                          .where(ComputedResult.result_key.in_(chosen[start:start + 100]))).fetchall()
            for row in rows:
                payload = bytes(row.payload)
                if _signed(row.result_key, payload, bytes(row.question), row.signature):
                    read[(database, row.result_key)] = payload
    except (SQLAlchemyError, scope_module.PseudonymKeyMissing) as error:
        log.info("no results read ahead: %s", error)
        return 0
    with _ahead_lock:
        if _ahead_generations.get(database, 0) != generation:  # forgotten while reading (`forget`)
            return 0
        _forget_ahead(database)
        _ahead.update(read)
        _ahead_versions[database] = version
    return len(read)


def _taken_ahead(engine: Engine, version: tuple[int, ...], key: str) -> tuple[Any] | None:
    """The result read ahead under `key`, once; None when there is none (or it cannot be read)."""
    database = str(engine.url)
    with _ahead_lock:
        if database not in _ahead_versions:
            return None
        if _ahead_versions[database] != version:
            if version > _ahead_versions[database]:  # a newer import's results are asked: the old go
                _forget_ahead(database)
            return None
        payload = _ahead.pop((database, key), None)
    if payload is None:
        return None
    try:
        return (pickle.loads(zlib.decompress(payload)),)
    except Exception as error:  # as in _fetch: fetched, and there deleted if still unreadable
        log.info("a result read ahead cannot be read (%s)", error)
        return None


def _forget_ahead(database: str) -> None:
    for taken in [k for k in _ahead if k[0] == database]:
        del _ahead[taken]
    _ahead_versions.pop(database, None)
    _ahead_generations[database] = _ahead_generations.get(database, 0) + 1


def _fetch(engine: Engine, key: str) -> tuple[Any] | None:
    try:
        with engine.connect() as connection:
            row = connection.execute(select(ComputedResult.payload, ComputedResult.question, ComputedResult.signature)
                                     .where(ComputedResult.result_key == key)).first()
    except SQLAlchemyError as error:
        log.warning("stored results unavailable, computing: %s", error)
        return None
    if row is None:
        return None
    payload = bytes(row.payload)
    if not _signed(key, payload, bytes(row.question), row.signature):
        log.warning("a stored result's signature does not match; computing it again")
        return None
    try:
        return (pickle.loads(zlib.decompress(payload)),)
    except Exception as error:  # signed by us, unreadable here (a library's classes moved): a miss
        log.warning("a stored result cannot be read (%s); computing it again", error)
        _delete(engine, key)
        return None


def _signed(key: str, payload: bytes, question: bytes, signature) -> bool:
    return hmac.compare_digest(_signature(key, payload, question).encode("ascii"),
                               str(signature).encode("utf-8", "replace"))


def _delete(engine: Engine, key: str) -> None:
    try:
        with engine.begin() as connection:
            connection.execute(delete(ComputedResult).where(ComputedResult.result_key == key))
    except SQLAlchemyError as error:
        log.info("an unreadable result was not deleted: %s", error)


def _keep(engine: Engine, key: str, version: tuple[int, ...], name: str, value: Any, asked: tuple,
          also: tuple[int, ...] = ()) -> None:
    built_part = name.startswith(BUILT)
    try:
        payload = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
        question = pickle.dumps(asked, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    if len(payload) > MAX_RESULT_BYTES:
        return
    text, stored_as = _version_text(version), _stored_version_text(version, also)
    try:
        with engine.connect() as connection:
            _wait_briefly(connection, BUILT_WRITE_WAIT_MS if built_part else WRITE_WAIT_MS)
            try:
                # Computed from data an import has since replaced: not kept under the old version's key.
                if import_version(connection) != version:
                    return
                # A live result of a data version a save has since replaced: not kept either, nor
                # does it clean away the current version's (a run that began before the save).
                if also and tuple(queries.data_version(connection)) != tuple(also):
                    return
                # Older versions' results are never served again; they are kept a while only for
                # `warm` to read which questions were asked before an import. (Not `!=`: neither
                # database finds "every other version" through the version's index, and reading
                # the whole table took about 20 ms of a keep's 50 with 20,000 kept charts on SQLite.)
                other_version = ((ComputedResult.data_version < text) | (ComputedResult.data_version > text)) \
                    & ~_live_of_import(text)
                old = ComputedResult.created_at < time.time() - OLD_VERSIONS_KEPT_S
                stale = other_version & old
                if also:  # this import's live results of older data versions: a save made them new questions
                    stale |= _live_of_import(text) & (ComputedResult.data_version != stored_as) & old
                connection.execute(delete(ComputedResult).where(stale | (ComputedResult.result_key == key)))
                connection.execute(ComputedResult.__table__.insert().values(
                    result_key=key, data_version=stored_as, name=name[:200], built=built_part, size=len(payload), created_at=time.time(),
                    payload=payload, question=question, signature=_signature(key, payload, question)))
                _trim(connection, built_part, version, also)
                connection.commit()
            finally:
                connection.rollback()
                _wait_as_usual(connection)
    except SQLAlchemyError as error:  # another process kept it first, or the table is locked: fine
        log.info("a result was not kept: %s", error)


def _wait_briefly(connection, wait_ms: int) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
    elif connection.dialect.name == "postgresql":  # 0 would mean waiting for ever there
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(wait_ms, 1)}ms'")


def _wait_as_usual(connection) -> None:
    """The pooled connection goes back with the usual wait (SET LOCAL ended with its transaction)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={store.SQLITE_BUSY_TIMEOUT_MS}")
        connection.commit()


def _trim(connection, built_part: bool, version: tuple[int, ...], data_version: tuple[int, ...]) -> None:
    """While a class holds more than its bound, rows go until it holds TRIMMED_SHARE of it: first
    those no page reads any more (older imports' rows, and live results of data versions a save
    has replaced, kept a while after it), oldest first, then the current ones, oldest first.
    (Oldest first alone dropped the results `warm` computed after an import before the stale
    live rows of later saves.) Charts are kept under the import alone, so for them only an older
    import's count as unread. `data_version`: the whole data version, read when not known."""
    bound = MAX_BUILT_BYTES if built_part else MAX_STORED_BYTES
    of_class = ComputedResult.built == built_part
    total = connection.execute(select(func.coalesce(func.sum(ComputedResult.size), 0)).where(of_class)).scalar_one()
    if total <= bound:
        return
    current = _read_now(version, data_version or tuple(queries.data_version(connection)))
    rows = connection.execute(select(ComputedResult.result_key, ComputedResult.size).where(of_class)
                              .order_by(case((current, 0), else_=1), ComputedResult.created_at.desc())).fetchall()
    kept, drop = 0, []
    for row in rows:
        kept += row.size
        if kept > bound * TRIMMED_SHARE:
            drop.append(row.result_key)
    for start in range(0, len(drop), 500):  # bound parameters per statement
        connection.execute(delete(ComputedResult).where(ComputedResult.result_key.in_(drop[start:start + 500])))


def questions_asked(engine: Engine, version: tuple[int, ...], limit: int = WARM_LIMIT) -> list[tuple[str, Any, tuple]]:
    """The questions whose results were kept at `version` (newest first, at most `limit`): what
    the users asked of the data before an import, to be computed again after it. Only signed rows,
    none of NOT_WARMED or LIVE."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ComputedResult.result_key, ComputedResult.payload, ComputedResult.question, ComputedResult.signature)
            .where(ComputedResult.data_version == _version_text(version), ~ComputedResult.built,
                   ComputedResult.name.notin_(NOT_WARMED | LIVE))
            .order_by(ComputedResult.created_at.desc()).limit(limit)).fetchall()
    asked = []
    for row in rows:
        if _signed(row.result_key, bytes(row.payload), bytes(row.question), row.signature):
            try:
                asked.append(pickle.loads(bytes(row.question)))
            except Exception as error:  # as in _fetch: unreadable here, skipped
                log.info("a question asked before cannot be read: %s", error)
    return asked


def warm(engine: Engine, before: tuple[int, ...]) -> int:
    """After an import (`before`: the import version before it): compute again, for
    the new version, every question asked of the data before it whose function lies in the core,
    so that the first visits after the import read stored results. Returns how many were kept."""
    try:
        asked = questions_asked(engine, before)
        version = import_version(engine)
    except SQLAlchemyError as error:
        log.warning("stored results unavailable, nothing computed again: %s", error)
        return 0
    if version == before:
        return 0
    done = 0
    for name, scope, args in asked:
        compute = _core_function(name)
        if compute is not None:
            try:
                computed(engine, version, name, scope, args, lambda: compute(engine, scope, *args))
                done += 1
            except Exception as error:  # a question the new data cannot answer (a school removed): the page will say
                log.info("not computed again: %s: %s", name, error)
    try:
        with engine.begin() as connection:
            connection.execute(delete(ComputedResult).where(_of_import(_version_text(before))))
    except SQLAlchemyError as error:  # left for the next keep's cleaning
        log.info("older results not deleted yet: %s", error)
    return done


def _core_function(name: str) -> Callable | None:
    """The core's function of that name (`module.function` inside lasnaolo, never the UI)."""
    module_name, _, function_name = name.rpartition(".")
    if not module_name.startswith("lasnaolo.") or module_name.startswith("lasnaolo.ui") or "." in function_name:
        return None
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError):
        return None
    return function if callable(function) else None


def kept(engine: Engine) -> tuple[int, int]:
    """How many results are kept, and their bytes."""
    with engine.connect() as connection:
        count, size = connection.execute(select(func.count(), func.coalesce(func.sum(ComputedResult.size), 0))).one()
    return int(count), int(size)


def forget(engine: Engine) -> int:
    """Delete every stored result (`python -m lasnaolo results --clear`: after rotating the
    pseudonym key, say, whose older results would otherwise wait for the next import). Returns
    how many were deleted. What this process read ahead goes too, and so does what a read ahead
    under way brings (it began before)."""
    with engine.begin() as connection:
        deleted = connection.execute(delete(ComputedResult)).rowcount
    with _ahead_lock:
        _forget_ahead(str(engine.url))
    return deleted
