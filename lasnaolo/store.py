"""The store: SQLAlchemy models, engine creation and schema migrations.

SQLite (a file under `data/`) is the embedded default; PostgreSQL is the multi-user target.
The schema is versioned with alembic (`lasnaolo/migrations`); `init_database` brings any
database to the current version and fills the reference tables.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lasnaolo import environment, reference

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "lasnaolo.db"


class Base(DeclarativeBase):
    pass


class Municipality(Base):
    __tablename__ = "municipality"
    municipality_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name_fi: Mapped[str] = mapped_column(String(80))
    name_sv: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str] = mapped_column(String(2), index=True)
    wellbeing_county_code: Mapped[str | None] = mapped_column(String(2), nullable=True)


class School(Base):
    __tablename__ = "school"
    school_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    school_name: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[str] = mapped_column(
        String(3), ForeignKey("municipality.municipality_code"), index=True
    )
    school_type: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))


class AbsenceCounts:
    """The counts of the data contract's absence rows, shared by the rows and their summary."""

    pupils: Mapped[int] = mapped_column(Integer)
    lesson_hours: Mapped[int] = mapped_column(Integer)
    illness_hours: Mapped[int] = mapped_column(Integer)
    authorised_hours: Mapped[int] = mapped_column(Integer)
    unauthorised_hours: Mapped[int] = mapped_column(Integer)
    tier1_pupils: Mapped[int] = mapped_column(Integer)
    tier2_pupils: Mapped[int] = mapped_column(Integer)
    tier3_pupils: Mapped[int] = mapped_column(Integer)
    # Optional: sum of the pupils' squared year-to-date absence percents; NULL when not delivered.
    pupil_share_squares: Mapped[float | None] = mapped_column(Float, nullable=True)


class Absence(AbsenceCounts, Base):
    __tablename__ = "absence"
    school_id: Mapped[str] = mapped_column(String(20), ForeignKey("school.school_id"), primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    grade: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_absence_year_month", "school_year", "month"),)


class AbsenceSummary(AbsenceCounts, Base):
    """School × school year × month × grade band, with the school's municipality, region, type and
    language copied in: what almost every page reads, a third of the absence rows and no joins.
    Rebuilt from `absence` by the importer in the same transaction as the rows it summarises."""

    __tablename__ = "absence_summary"
    school_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    grade_band: Mapped[str] = mapped_column(String(3), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(3))
    region_code: Mapped[str] = mapped_column(String(2))
    school_type: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))

    __table_args__ = (
        Index("ix_absence_summary_year_region", "school_year", "region_code", "municipality_code"),
    )


class Wellbeing(Base):
    __tablename__ = "wellbeing"
    unit_type: Mapped[str] = mapped_column(String(12), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    survey_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade_group: Mapped[str] = mapped_column(String(3), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    respondents: Mapped[int] = mapped_column(Integer)
    value_pct: Mapped[float] = mapped_column(Float)


class MeasureInUse(Base):
    __tablename__ = "measure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(20), ForeignKey("school.school_id"), index=True)
    measure: Mapped[str] = mapped_column(String(60))
    tier: Mapped[int] = mapped_column(Integer)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    fte: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (UniqueConstraint("school_id", "measure", "start", name="uq_measure_school_start"),)


class ImportLog(Base):
    __tablename__ = "import_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(300))
    file_kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_in_file: Mapped[int] = mapped_column(Integer)
    rows_inserted: Mapped[int] = mapped_column(Integer)
    rows_replaced: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)


class Target(Base):
    """An annual target of a school or a municipality. `version` grows with every change, so a
    save based on an older version is refused (optimistic concurrency); deletion is a flag, so
    the audit trail keeps what was deleted."""

    __tablename__ = "target"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_level: Mapped[str] = mapped_column(String(12))  # school | municipality
    unit_code: Mapped[str] = mapped_column(String(20))
    school_year: Mapped[str] = mapped_column(String(9))
    metric: Mapped[str] = mapped_column(String(60))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_year: Mapped[str | None] = mapped_column(String(9), nullable=True)  # None: the year before
    baseline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    target_value: Mapped[float] = mapped_column(Float)
    measures: Mapped[str] = mapped_column(Text, default="")  # measure codes, comma-separated
    responsible: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_target_unit_year", "unit_level", "unit_code", "school_year"),)


class TargetEvent(Base):
    """The audit trail: every create, change, delete and comment, with who, when, old and new."""

    __tablename__ = "target_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(Integer, ForeignKey("target.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))  # create | update | delete | comment
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    old: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of the changed fields
    new: Mapped[str | None] = mapped_column(Text, nullable=True)


class SelfEvaluation(Base):
    """How far a school or a municipality has implemented one recommendation of the attendance
    model in a school year (1-4, with a note). Append-only: the newest row per unit, year and
    recommendation is the current assessment, the older ones its history."""

    __tablename__ = "self_evaluation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_level: Mapped[str] = mapped_column(String(12))  # school | municipality
    unit_code: Mapped[str] = mapped_column(String(20))
    school_year: Mapped[str] = mapped_column(String(9))
    recommendation: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_self_evaluation_unit_year", "unit_level", "unit_code", "school_year"),)



class LoginFailure(Base):
    """A failed (or still running) sign-in, counted per typed username and per client address over
    a sliding window, so every server process sees the same lockout. Both are stored only as keyed
    hashes (HMAC with the cookie key): no typed username or IP address is kept in clear."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempted_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch

    __table_args__ = (Index("ix_login_failure_username", "username_key", "attempted_at"),
                      Index("ix_login_failure_client", "client_key", "attempted_at"))


class RevokedLogin(Base):
    """A re-login cookie that must no longer sign anyone in (its user signed out), kept until the
    cookie would have expired anyway."""

    __tablename__ = "revoked_login"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)

class ComputedResult(Base):
    """A heavy result (a page's analysis for one scope and question) computed once per data
    version and read by every server process (lasnaolo.results). `result_key` is a keyed hash of
    the question, the scope, the data version, the code and the pseudonym key; `signature` a keyed
    hash of the payload and the question, so that only what this installation stored is ever
    unpickled."""

    __tablename__ = "computed_result"
    result_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_version: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    question: Mapped[bytes] = mapped_column(LargeBinary)  # (name, scope, args), for computing it again after an import
    signature: Mapped[str] = mapped_column(String(64))

    # A chart or table a page drew from results it holds (lasnaolo.results.BUILT): bounded apart.
    built: Mapped[bool] = mapped_column(Boolean, server_default=false())

    # (built, size): each class's bytes (lasnaolo.results._trim) are summed without reading payloads.
    __table_args__ = (Index("ix_computed_result_version", "data_version"),
                      Index("ix_computed_result_class_size", "built", "size"))


TABLE_OF_KIND = {
    "schools": School.__table__,
    "absences": Absence.__table__,
    "wellbeing": Wellbeing.__table__,
    "measures": MeasureInUse.__table__,
}


def database_url(explicit: str | None = None) -> str:
    """--db beats LASNAOLO_DB_URL beats the embedded SQLite file."""
    return explicit or environment.database_url(os.environ) or f"sqlite:///{DEFAULT_DB_PATH}"


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a write waits for another's lock


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the tables' new sizes after an import. Without statistics
    SQLite reads a whole school year through the (year, month) index where the primary key
    (school first) finds a peer group's few schools directly (0.09 s against 0.007 s nationally).
    PostgreSQL's autovacuum would analyse too, but only some time later."""
    statement = "ANALYZE" if engine.dialect.name == "sqlite" else "ANALYZE absence, absence_summary, school, measure, wellbeing"
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest alembic revision (or to `revision`, for testing a migration)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "lasnaolo:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def init_database(engine: Engine) -> None:
    """Migrate, then fill the municipality table from the package's reference data once."""
    migrate(engine)
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(Municipality)).scalar_one():
            return
        rows = reference.municipalities()[
            ["municipality_code", "name_fi", "name_sv", "region_code", "wellbeing_county_code"]
        ].to_dict("records")
        for row in rows:
            row["wellbeing_county_code"] = row["wellbeing_county_code"] or None  # Åland has none
        connection.execute(insert(Municipality), rows)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not connection.execute(select(func.count()).select_from(School)).scalar_one()
