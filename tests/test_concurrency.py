"""Many users on one PostgreSQL database: concurrent target editors lose no update and every
conflict is reported; concurrent importers take turns; readers never see half an import."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from lasnaolo import importer, store, targets
from lasnaolo.scope import Scope

from support.helpers import files

EDITOR = Scope("steering_group", municipality_codes=frozenset({"091"}))
WRITERS = 8


@pytest.fixture
def pg(postgres_server):
    engine = store.make_engine(postgres_server.new_database())
    store.init_database(engine)
    yield engine
    engine.dispose()


def test_concurrent_saves_of_one_version_let_exactly_one_through(pg):
    importer.import_files(pg, files())
    record = targets.create(pg, EDITOR, "anna", targets.TargetDraft("school", "00123", "2024-2025", "absence_rate", 5.0, 4.5))
    start = threading.Barrier(WRITERS)

    def save(writer: int) -> str:
        start.wait()
        try:
            targets.change(pg, EDITOR, f"writer{writer}", record.id, record.version, note=f"writer{writer}")
            return "saved"
        except targets.Conflict as conflict:
            assert conflict.current.version >= 2  # the conflict shows the newer version
            return "conflict"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(save, range(WRITERS)))
    assert outcomes.count("saved") == 1 and outcomes.count("conflict") == WRITERS - 1
    stored = targets.get(pg, EDITOR, record.id)
    assert stored.version == 2 and stored.note == stored.updated_by
    assert list(targets.history(pg, EDITOR, record.id)["action"]) == ["create", "update"]


def test_writers_that_retry_on_conflict_lose_no_update(pg):
    importer.import_files(pg, files())
    record = targets.create(pg, EDITOR, "anna", targets.TargetDraft("school", "00123", "2024-2025", "absence_rate", 5.0, 4.5))
    conflicts = []

    def append(writer: int) -> None:
        while True:  # read, change, save; on a conflict read again, as the page asks a person to
            current = targets.get(pg, EDITOR, record.id)
            try:
                targets.change(pg, EDITOR, f"w{writer}", record.id, current.version, note=current.note + f"[{writer}]")
                return
            except targets.Conflict:
                conflicts.append(writer)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(append, range(WRITERS)))
    note = targets.get(pg, EDITOR, record.id).note
    assert sorted(note.strip("[]").split("][")) == [str(w) for w in range(WRITERS)]  # every update is there
    history = targets.history(pg, EDITOR, record.id)
    assert len(history) == 1 + WRITERS and list(history["version"]) == list(range(1, WRITERS + 2))


def test_readers_never_see_half_an_import_and_importers_take_turns(pg, demo_files):
    paths = sorted(demo_files.glob("*.csv"))
    payload = [(p.name, p.read_bytes()) for p in paths]
    expected_rows = sum(1 for _ in (demo_files / "absences.csv").open()) - 1
    seen: set[tuple] = set()
    done = threading.Event()

    def read() -> None:
        with pg.connect() as connection:
            while not done.is_set():
                # One statement, one snapshot: the rows, their summary and the log together.
                seen.add(tuple(connection.execute(text(
                    "SELECT (SELECT count(*) FROM absence), (SELECT coalesce(sum(lesson_hours), 0) FROM absence),"
                    " (SELECT coalesce(sum(lesson_hours), 0) FROM absence_summary), (SELECT count(*) FROM import_log)"
                )).one()))
                connection.rollback()

    def load() -> importer.ImportSummary:
        return importer.import_files(pg, payload)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: load(), range(2))
    done.set()
    for reader in readers:
        reader.join()
    # Both imports went through one after the other: the second found every row already there.
    inserted = sorted(sum(f.inserted for f in s.files) for s in (first, second))
    unchanged = sorted(sum(f.unchanged for f in s.files) for s in (first, second))
    assert inserted[0] == 0 and inserted[1] > 0 and unchanged[1] == inserted[1]
    states = sorted(seen)
    total = states[-1][1]
    assert states[0][0] == 0 and states[-1][0] == expected_rows
    for rows, lessons, summarised, logs in states:
        assert (rows, lessons, summarised) in ((0, 0, 0), (expected_rows, total, total)), "a half-visible import"
        assert logs in (0, 4, 8)


def test_a_save_committed_after_a_later_one_still_changes_the_data_version(pg):
    """Ids are handed out in order but committed in any order: the version a reader took between
    the two commits must not stay the version after the slower one (its figures would be served
    without that save for the caches' lifetime)."""
    from lasnaolo import queries

    importer.import_files(pg, files())
    record = targets.create(pg, EDITOR, "a", targets.TargetDraft(
        "municipality", "091", "2024-2025", "absence_rate", 5.0, 4.0, baseline_reason="pyöreä luku"))
    comment = "INSERT INTO target_event (target_id, at, actor, actor_role, action, version, new) " \
              "VALUES (:id, now(), 'x', 'steering_group', 'comment', 1, :text) RETURNING id"
    with pg.connect() as slow:
        slow_id = slow.execute(text(comment), {"id": record.id, "text": "slow"}).scalar_one()  # not yet committed
        with pg.begin() as fast:
            fast_id = fast.execute(text(comment), {"id": record.id, "text": "fast"}).scalar_one()
        seen = queries.data_version(pg)  # a reader keys its figures by this now
        slow.commit()
    assert slow_id < fast_id  # the slower save holds the older id
    assert queries.data_version(pg) != seen

