"""Annual targets of schools and municipalities: setting them, a realistic suggestion, tracking.

Rights: steering groups, directors and administrators create, change and delete targets of
units inside their scope; rectors read their school's targets and may comment. Every create,
change, delete and comment writes an audit row (who, when, old -> new) in the same transaction.
Two people editing one target: each save names the version it was based on, and a save based on
an older version is refused with the newer one shown (optimistic concurrency); nothing is lost.

Status compares like with like: the target year's months so far against the same months of the
baseline year, so that the winter illness peak does not raise false alarms in January. Only
outcomes (absence and survey figures) decide a status, never logged activity or comments.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from lasnaolo import contract, disclosure, metrics, policy, queries, stats
from lasnaolo.scope import Scope, Unit
from lasnaolo.store import Target, TargetEvent

ABSENCE_METRICS = ("absence_rate", "tier23_share", "unauthorised_rate")
SURVEY_PREFIX = "survey:"
METRICS = (*ABSENCE_METRICS, *(SURVEY_PREFIX + code for code in contract.INDICATORS))
EDITORS = policy.roles_that("edits_targets")
COMMENTERS = policy.roles_that("comments_targets")
STATUSES = ("achieved", "on_track", "at_risk", "off_track", "missed", "waiting")


NotAllowed = queries.NotAllowed  # the role may not do this, or the unit is outside the scope


class Conflict(Exception):
    """The target changed since the editor read it; `current` is the newer version."""

    def __init__(self, current: "TargetRecord"):
        super().__init__(f"target {current.id} was changed by {current.updated_by} (version {current.version})")
        self.current = current


class InvalidTarget(ValueError):
    """A target that cannot be saved; the message names the field."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def lower_is_better(metric: str) -> bool:
    if metric.startswith(SURVEY_PREFIX):
        return not contract.INDICATORS[metric.removeprefix(SURVEY_PREFIX)].higher_is_better
    return True


@dataclass(frozen=True)
class TargetDraft:
    """What an editor fills in."""

    unit_level: str
    unit_code: str
    school_year: str
    metric: str
    baseline_value: float
    target_value: float
    baseline_reason: str | None = None
    measures: tuple[str, ...] = ()
    responsible: str = ""
    note: str = ""


EDITABLE = tuple(f.name for f in fields(TargetDraft) if f.name not in ("unit_level", "unit_code", "school_year", "metric"))


@dataclass(frozen=True)
class TargetRecord(TargetDraft):
    id: int = 0
    version: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None

    def draft(self) -> TargetDraft:
        return TargetDraft(**{f.name: getattr(self, f.name) for f in fields(TargetDraft)})


def _record(row) -> TargetRecord:
    return TargetRecord(
        unit_level=row.unit_level, unit_code=row.unit_code, school_year=row.school_year, metric=row.metric,
        baseline_value=row.baseline_value, target_value=row.target_value, baseline_reason=row.baseline_reason,
        measures=tuple(m for m in row.measures.split(",") if m), responsible=row.responsible, note=row.note,
        id=row.id, version=row.version, updated_by=row.updated_by, updated_at=row.updated_at)


def _values(draft: TargetDraft) -> dict:
    data = asdict(draft)
    data["measures"] = ",".join(draft.measures)
    return data


def _check(draft: TargetDraft) -> None:
    if draft.unit_level not in ("school", "municipality"):
        raise InvalidTarget("unit_level", "must be school or municipality")
    if contract.parse_school_year(draft.school_year) is None:
        raise InvalidTarget("school_year", "must be a school year like 2025-2026")
    if draft.metric not in METRICS:
        raise InvalidTarget("metric", f"unknown metric {draft.metric!r}")
    for name in ("baseline_value", "target_value"):
        value = getattr(draft, name)
        if value is None or not np.isfinite(value) or not 0 <= value <= 100:
            raise InvalidTarget(name, "must be a percentage between 0 and 100")
    unknown = [m for m in draft.measures if m not in contract.MEASURES]
    if unknown:
        raise InvalidTarget("measures", f"unknown measures {unknown}")
    longest = Target.__table__.c.responsible.type.length  # what the database accepts, checked before writing
    if len(draft.responsible or "") > longest:
        raise InvalidTarget("responsible", f"longer than {longest} characters")


def _check_actor(actor: str) -> None:
    longest = TargetEvent.__table__.c.actor.type.length
    if not actor or len(actor) > longest:
        raise InvalidTarget("actor", f"must be a username of 1-{longest} characters")


def _require(scope: Scope, engine: Engine, unit_level: str, unit_code: str, roles: frozenset[str]) -> None:
    if scope.role not in roles:
        raise NotAllowed(f"the {scope.role} role may not do this")
    if not queries.unit_exists(engine, scope, Unit(unit_level, unit_code)):
        raise NotAllowed(f"{unit_level} {unit_code!r} is not in your scope")


def _audit(connection: Connection, target_id: int, action: str, actor: str, role: str, version: int,
           old: dict | None, new: dict | None) -> None:
    connection.execute(insert(TargetEvent).values(
        target_id=target_id, action=action, actor=actor, actor_role=role, at=_now(), version=version,
        old=None if old is None else json.dumps(old, ensure_ascii=False),
        new=None if new is None else json.dumps(new, ensure_ascii=False)))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create(engine: Engine, scope: Scope, actor: str, draft: TargetDraft) -> TargetRecord:
    _check_actor(actor)
    _check(draft)
    _require(scope, engine, draft.unit_level, draft.unit_code, EDITORS)
    values = _values(draft)
    with engine.begin() as connection:
        target_id = connection.execute(insert(Target).values(
            **values, version=1, deleted=False, updated_by=actor, updated_at=_now())).inserted_primary_key[0]
        _audit(connection, target_id, "create", actor, scope.role, 1, None, values)
    return get(engine, scope, target_id)


def change(engine: Engine, scope: Scope, actor: str, target_id: int, based_on_version: int, **changes) -> TargetRecord:
    """Save changes to the editable fields, refused with Conflict when the target is no longer at
    `based_on_version`. Only changed fields enter the audit row."""
    _check_actor(actor)
    current = get(engine, scope, target_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidTarget(sorted(unknown)[0], "cannot be changed; create a new target instead")
    wanted = replace(current.draft(), **changes)
    _check(wanted)
    _require(scope, engine, current.unit_level, current.unit_code, EDITORS)
    old, new = _values(current.draft()), _values(wanted)
    diff = {k for k in new if new[k] != old[k]}
    with engine.begin() as connection:
        updated = connection.execute(
            update(Target).where(Target.id == target_id, Target.version == based_on_version, Target.deleted.is_(False))
            .values(**{k: new[k] for k in diff}, version=Target.version + 1, updated_by=actor, updated_at=_now()))
        if updated.rowcount != 1:
            raise Conflict(_read_one(connection, target_id))
        _audit(connection, target_id, "update", actor, scope.role, based_on_version + 1,
               {k: old[k] for k in sorted(diff)}, {k: new[k] for k in sorted(diff)})
    return get(engine, scope, target_id)


def delete(engine: Engine, scope: Scope, actor: str, target_id: int, based_on_version: int) -> None:
    _check_actor(actor)
    current = get(engine, scope, target_id)
    _require(scope, engine, current.unit_level, current.unit_code, EDITORS)
    with engine.begin() as connection:
        updated = connection.execute(
            update(Target).where(Target.id == target_id, Target.version == based_on_version, Target.deleted.is_(False))
            .values(deleted=True, version=Target.version + 1, updated_by=actor, updated_at=_now()))
        if updated.rowcount != 1:
            raise Conflict(_read_one(connection, target_id))
        _audit(connection, target_id, "delete", actor, scope.role, based_on_version + 1, _values(current.draft()), None)


def comment(engine: Engine, scope: Scope, actor: str, target_id: int, text: str) -> None:
    """A comment is part of the trail, never of the target: it does not change its version or status."""
    _check_actor(actor)
    current = get(engine, scope, target_id)
    _require(scope, engine, current.unit_level, current.unit_code, COMMENTERS)
    if not text.strip():
        raise InvalidTarget("comment", "is empty")
    with engine.begin() as connection:
        _audit(connection, target_id, "comment", actor, scope.role, current.version, None, {"comment": text.strip()})


def _read_one(connection: Connection, target_id: int) -> TargetRecord:
    row = connection.execute(select(Target.__table__).where(Target.id == target_id)).one_or_none()
    if row is None:
        raise NotAllowed(f"no target {target_id}")
    return _record(row)


def get(engine: Engine, scope: Scope, target_id: int) -> TargetRecord:
    return _record(queries.target_rows(engine, scope, target_id=target_id)[0])


def list_targets(engine: Engine, scope: Scope, school_year: str | None = None) -> list[TargetRecord]:
    return [_record(r) for r in queries.target_rows(engine, scope, school_year=school_year)]


def history(engine: Engine, scope: Scope, target_id: int) -> pd.DataFrame:
    frame = queries.target_events(engine, scope, target_id)
    for column in ("old", "new"):
        frame[column] = frame[column].map(lambda text: json.loads(text) if text else None)
    return frame


# --- figures ----------------------------------------------------------------------------------


def _absence_rows(engine: Engine, scope: Scope, unit: Unit, school_years: list[str]) -> pd.DataFrame:
    return queries.absence_totals(engine, scope, unit=unit, school_years=school_years)


def _value(rows: pd.DataFrame, metric: str) -> float | None:
    if rows.empty:
        return None
    value = metrics.figures_by(rows, [])[metric].iloc[0]
    return None if pd.isna(value) else float(value)


def _survey_value(engine: Engine, scope: Scope, unit: Unit, indicator: str, survey_year: int) -> float | None:
    unit_type = "school" if unit.level == "school" else "municipality"
    survey = queries.wellbeing(engine, scope, unit_type=unit_type)
    rows = survey[(survey["unit_id"] == unit.code) & (survey["indicator"] == indicator)
                  & (survey["survey_year"] == survey_year)].dropna(subset=["value_pct"])
    rows = rows[rows["respondents"] >= contract.SuppressionPolicy().min_respondents]
    if rows.empty:
        return None
    return float((rows["value_pct"] * rows["respondents"]).sum() / rows["respondents"].sum())


def baseline(engine: Engine, scope: Scope, unit: Unit, metric: str, school_year: str) -> float | None:
    """The value the target starts from: the whole previous school year (absence), or the survey
    of the previous school year's spring (survey indicators)."""
    previous = contract.previous_school_year(school_year)
    if metric.startswith(SURVEY_PREFIX):
        return _survey_value(engine, scope, unit, metric.removeprefix(SURVEY_PREFIX), contract.parse_school_year(previous) + 1)
    return _value(_absence_rows(engine, scope, unit, [previous]), metric)


@dataclass(frozen=True)
class Suggestion:
    value: float
    improvement: float  # points, toward better
    peers: int
    baseline: float


MIN_SUGGESTION_PEERS = 4


def suggest(engine: Engine, scope: Scope, unit: Unit, metric: str, school_year: str) -> Suggestion | None:
    """A realistic target: the improvement that the best quarter of similar units achieved in the
    last pair of complete years (a school's peer group in its region; a municipality's: the other
    municipalities of its region), applied to this unit's baseline. None when there are too few
    peers or the metric is a survey indicator (two years of surveys are too far apart)."""
    if metric.startswith(SURVEY_PREFIX):
        return None
    start = baseline(engine, scope, unit, metric, school_year)
    if start is None:
        return None
    previous = contract.previous_school_year(school_year)
    before = contract.previous_school_year(previous)
    region = queries.region_of_unit(engine, scope, unit)
    by = ["school_id", "school_type", "language"] if unit.level == "school" else ["municipality_code"]
    everyone = Scope("admin", region_codes=frozenset({region}))  # only the peers' summary leaves this function
    rows = queries.absence_totals(engine, everyone, school_years=[before, previous], by=by)
    key = by[0]
    figures = metrics.figures_by(rows, [key, "school_year"]).pivot(index=key, columns="school_year", values=metric)
    if before not in figures or previous not in figures:
        return None
    changes = (figures[previous] - figures[before]).dropna()
    if unit.level == "school":
        schools = metrics.figures_by(rows[rows["school_year"] == previous], by)
        peers = stats.widened_peer_group(schools, unit.code).members["school_id"]
        changes = changes[changes.index.isin(peers)]
    else:
        changes = changes.drop(index=unit.code, errors="ignore")
    if len(changes) < MIN_SUGGESTION_PEERS:
        return None
    better = -changes if lower_is_better(metric) else changes
    # Rounded: a percentile of a few peers is often one peer's exact change (review finding).
    improvement = round(max(float(np.percentile(better, 75)), 0.0), disclosure.RATE_DECIMALS)
    value = start - improvement if lower_is_better(metric) else start + improvement
    return Suggestion(float(np.clip(value, 0, 100)), improvement, int(len(changes)), start)


@dataclass(frozen=True)
class Progress:
    status: str  # one of STATUSES
    latest_month: str | None
    current: float | None  # the target year so far
    baseline_same_months: float | None  # the baseline year over the same months
    projected: float | None  # the baseline scaled by the change so far: the full-year pace
    monthly: pd.DataFrame  # month_index, month, year-to-date values of both years


def status_of(target: float, baseline_value: float, projected: float | None, complete: bool, final: float | None,
              lower_better: bool) -> str:
    """The rule, from numbers only. A finished year: achieved or missed. Otherwise the pace
    decides: on track when it meets the target, at risk when better than the baseline but short
    of the target, off track when no better than the baseline."""
    def meets(value: float, goal: float) -> bool:
        return value <= goal + 1e-9 if lower_better else value >= goal - 1e-9

    if complete:
        return "waiting" if final is None else "achieved" if meets(final, target) else "missed"
    if projected is None:
        return "waiting"
    if meets(projected, target):
        return "on_track"
    return "at_risk" if meets(projected, baseline_value) and projected != baseline_value else "off_track"


def progress(engine: Engine, scope: Scope, record: TargetRecord) -> Progress:
    """Where a target stands now (see the module notes)."""
    unit = Unit(record.unit_level, record.unit_code)
    lower_better = lower_is_better(record.metric)
    if record.metric.startswith(SURVEY_PREFIX):
        spring = contract.parse_school_year(record.school_year) + 1
        final = _survey_value(engine, scope, unit, record.metric.removeprefix(SURVEY_PREFIX), spring)
        status = status_of(record.target_value, record.baseline_value, None, final is not None, final, lower_better)
        return Progress(status, None, final, record.baseline_value, None, pd.DataFrame())
    previous = contract.previous_school_year(record.school_year)
    rows = _absence_rows(engine, scope, unit, [previous, record.school_year])
    current_rows = rows[rows["school_year"] == record.school_year]
    if current_rows.empty:
        return Progress("waiting", None, None, None, None, pd.DataFrame())
    latest = str(current_rows["month"].max())
    _, same_months = metrics.same_point_last_year(record.school_year, latest)
    current = _value(current_rows, record.metric)
    before = _value(rows[rows["month"].isin(same_months)], record.metric)
    complete = latest.endswith("-06")
    # The pace: the baseline scaled by this year's change over the same months. With nothing in
    # those months a year ago there is no ratio, and the year so far stands for itself.
    projected = None if current is None else record.baseline_value * current / before if before else current
    status = status_of(record.target_value, record.baseline_value, projected, complete, current, lower_better)
    return Progress(status, latest, current, before, projected, _year_to_date(rows, record.metric))


def _year_to_date(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Cumulative values month by month for both years (tiers are year-to-date already)."""
    out = []
    for school_year, year_rows in rows.groupby("school_year"):
        months = sorted(year_rows["month"].unique())
        for i, month in enumerate(months):
            value = _value(year_rows[year_rows["month"].isin(months[: i + 1])], metric)
            out.append({"school_year": school_year, "month": month, "month_index": contract.month_index(month),
                        "value": value})
    return pd.DataFrame(out)


def overview_table(engine: Engine, scope: Scope, school_year: str) -> pd.DataFrame:
    """One row per target with its status: the steering group's meeting table."""
    rows = []
    names = queries.schools(engine, scope).set_index("school_id")["school_name"]
    for record in list_targets(engine, scope, school_year):
        state = progress(engine, scope, record)
        rows.append({
            "id": record.id, "version": record.version, "unit_level": record.unit_level, "unit_code": record.unit_code,
            "unit_name": names.get(record.unit_code, record.unit_code), "metric": record.metric,
            "baseline": record.baseline_value, "target": record.target_value, "current": state.current,
            "projected": state.projected, "status": state.status, "latest_month": state.latest_month,
            "measures": record.measures, "responsible": record.responsible, "note": record.note,
        })
    return pd.DataFrame(rows, columns=["id", "version", "unit_level", "unit_code", "unit_name", "metric", "baseline",
                                       "target", "current", "projected", "status", "latest_month", "measures",
                                       "responsible", "note"])


def status_counts(engine: Engine, scope: Scope, school_year: str) -> pd.Series:
    """How many targets of the scope's area are in each status. Only counts leave this function,
    so it serves anonymised audiences (presentations) as well: the area is read as is."""
    inner = replace(scope, role="admin")  # the same area; no target or unit is returned
    table = overview_table(engine, inner, school_year)
    return table["status"].value_counts().reindex(list(STATUSES)).dropna().astype(int)
