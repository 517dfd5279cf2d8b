"""Annual targets of schools and municipalities: setting them, a realistic suggestion, tracking.

Rights: steering groups, directors and administrators create, change and delete targets of
units inside their scope; rectors read their school's targets and may comment. Every create,
change, delete and comment writes an audit row (who, when, old -> new) in the same transaction.
Two people editing one target: each save names the version it was based on, and a save based on
an older version is refused with the newer one shown (optimistic concurrency); nothing is lost.

Status compares like with like: the target year's months so far against the same months of the
year the baseline describes, so that the winter illness peak does not raise false alarms in
January. The year-end projection carries that change through the baseline year's remaining
months. How far such projections missed at the same point of the year for units of the same kind
in earlier years, or how much this year's months differ from one another if that is wider, gives
the projection its spread: a status says how likely the target is, so one flu autumn does not
read as failure and a year where nothing changed does not read as on track (calibrated in
tests/test_calibration.py). Only outcomes (absence and survey figures) decide a status, never
logged activity or comments.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timezone
from statistics import NormalDist

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
    baseline_year: str | None = None  # the school year the baseline describes; None: the year before

    def reference_year(self) -> str:
        return self.baseline_year or contract.previous_school_year(self.school_year)


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
        baseline_year=row.baseline_year,
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
    if draft.baseline_year is not None and (contract.parse_school_year(draft.baseline_year) is None
                                            or draft.baseline_year >= draft.school_year):
        raise InvalidTarget("baseline_year", "must be a school year before the target's")
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


BASELINE_TOLERANCE = 0.005  # points: a baseline typed to two decimals is the computed one


def _check_baseline_reason(engine: Engine, scope: Scope, draft: TargetDraft) -> None:
    """A baseline other than the one computed for its year needs a reason (the steering group's
    rule: the table must say why a target starts from another number)."""
    if draft.baseline_reason and draft.baseline_reason.strip():
        return
    computed = baseline(engine, scope, Unit(draft.unit_level, draft.unit_code), draft.metric, draft.school_year,
                        draft.baseline_year)
    if computed is not None and abs(draft.baseline_value - computed) > BASELINE_TOLERANCE:
        raise InvalidTarget("baseline_reason", f"a baseline other than the computed {computed:.2f} needs a reason")


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
    _check_baseline_reason(engine, scope, draft)
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
    if diff & {"baseline_value", "baseline_year"}:  # saving what was there never asks again
        _check_baseline_reason(engine, scope, wanted)
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
    if metric in ("absence_rate", "unauthorised_rate"):
        return metrics.period_rate(rows, _numerator(metric))
    return metrics.period_tier23_share(rows)


def _survey_value(engine: Engine, scope: Scope, unit: Unit, indicator: str, survey_year: int) -> float | None:
    unit_type = "school" if unit.level == "school" else "municipality"
    survey = queries.wellbeing(engine, scope, unit_type=unit_type)
    rows = survey[(survey["unit_id"] == unit.code) & (survey["indicator"] == indicator)
                  & (survey["survey_year"] == survey_year)].dropna(subset=["value_pct"])
    rows = rows[rows["respondents"] >= contract.SUPPRESSION.min_respondents]
    if rows.empty:
        return None
    return float((rows["value_pct"] * rows["respondents"]).sum() / rows["respondents"].sum())


def baseline(engine: Engine, scope: Scope, unit: Unit, metric: str, school_year: str,
             baseline_year: str | None = None) -> float | None:
    """The value the target starts from: the whole baseline school year (absence; by default the
    year before the target's), or the survey of that year's spring (survey indicators)."""
    year = baseline_year or contract.previous_school_year(school_year)
    if metric.startswith(SURVEY_PREFIX):
        return _survey_value(engine, scope, unit, metric.removeprefix(SURVEY_PREFIX), contract.parse_school_year(year) + 1)
    return _value(_absence_rows(engine, scope, unit, [year]), metric)


def year_choices(years: list[str], today: date | None = None) -> tuple[list[str], int]:
    """The school years a target can be for (those with data, the one after the newest data, the
    current and the coming one), newest first, and the current school year as the default:
    targets are set ahead, not for a finished year."""
    today = today or date.today()
    current = contract.school_year_label(today.year if today.month >= 8 else today.year - 1)
    ahead = {contract.school_year_label(contract.parse_school_year(y) + 1) for y in (current, *years[:1])}
    options = sorted({*years, current, *ahead}, reverse=True)
    return options, options.index(current)


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
    baseline_same_months: float | None  # the baseline's year over the same months
    projected: float | None  # the year-end projection (see the module notes)
    monthly: pd.DataFrame  # school_year, month, month_index, year-to-date values of the baseline's year and the target year
    projected_low: float | None = None  # the projection's 95 % prediction band
    projected_high: float | None = None
    baseline_year: str | None = None
    lesson_hours_change: float | None = None  # percent, lesson hours per pupil against the same months, when beyond ±5 %


LESSON_HOURS_BREAK = 5.0  # percent: more than this and rates of the two years are not alike
MIN_BAND_UNITS = 20  # unit-years needed to read a prediction band from earlier years


ON_TRACK = 0.75  # at least this likely to meet the target
OFF_TRACK = 0.05  # at most this likely to end better than the baseline


def status_of(target: float, baseline_value: float, projected: float | None, complete: bool, final: float | None,
              lower_better: bool, spread: "float | Spread | None" = None) -> str:
    """The rule, from numbers only. A finished year: achieved or missed. Otherwise the projection
    and its spread (the standard deviation of how such projections missed before, in points)
    decide: on track when the year is likely (75 %) to meet the target, off track when it is
    unlikely (5 %) to end better than the baseline, at risk in between. Without a spread the
    projection alone decides (on track when it meets the target, off track when it is no better
    than the baseline)."""
    def meets(value: float, goal: float) -> bool:
        return value <= goal + 1e-9 if lower_better else value >= goal - 1e-9

    if complete:
        return "waiting" if final is None else "achieved" if meets(final, target) else "missed"
    if projected is None:
        return "waiting"
    if isinstance(spread, (int, float)):
        spread = Spread(float(spread))
    if spread is None or not spread.points > 0:
        if meets(projected, target):
            return "on_track"
        return "at_risk" if meets(projected, baseline_value) and abs(projected - baseline_value) > 1e-9 else "off_track"
    sign = 1 if lower_better else -1
    likely_target = spread.probability_below(sign * (target - projected))
    likely_better = spread.probability_below(sign * (baseline_value - projected))
    if likely_target >= ON_TRACK:
        return "on_track"
    return "off_track" if likely_better <= OFF_TRACK else "at_risk"


def _numerator(metric: str) -> list[str]:
    return ["unauthorised_hours"] if metric == "unauthorised_rate" else ["illness_hours", "authorised_hours", "unauthorised_hours"]


def project(current: pd.DataFrame, reference: pd.DataFrame, metric: str, damping: float = 1.0) -> float | None:
    """The target year's value at its end: the months delivered as they are, and the reference
    year's remaining months at the level the year so far runs against the reference's same months
    (its seasonal pattern). `current`, `reference`: rows of the two years (reference: all its
    months). A tier share is year-to-date already: the reference's final share, scaled.
    `damping` (from `fit_history`): how much of the year so far's departure from the reference
    year lasted to the year's end in earlier years; the projection's ratio to the reference year's
    value is raised to it (1: all of it lasts)."""
    projected = _carry(current, reference, metric)
    final = _value(reference, metric)
    if projected is None or damping == 1.0 or not final or projected <= 0 or str(current["month"].max()).endswith("-06"):
        return projected
    return float(final * (projected / final) ** damping)


def _carry(current: pd.DataFrame, reference: pd.DataFrame, metric: str) -> float | None:
    """`project` without damping: the year so far's ratio carried whole."""
    if current.empty:
        return None
    latest = contract.month_index(str(current["month"].max()))
    position = reference["month"].map(contract.month_index)
    if metric in ("absence_rate", "unauthorised_rate"):
        # The months delivered against the same months; any other month of the reference (still
        # to come, or not delivered yet) is projected like the rest (review finding: a missing
        # October made the ratio compare different months).
        _, same = _same_months(current, reference)
        rest = reference.drop(same.index)
    else:
        same, rest = reference[position <= latest], reference[position > latest]
    now, before = _value(current, metric), _value(same, metric)
    if now is None:
        return None
    if not before or rest.empty:
        return now
    ratio = now / before
    if metric not in ("absence_rate", "unauthorised_rate"):
        final = _value(reference, metric)
        return None if final is None else float(np.clip(final * ratio, 0, 100))
    hours = current[_numerator(metric)].to_numpy(dtype=float).sum() + ratio * rest[_numerator(metric)].to_numpy(dtype=float).sum()
    lessons = current["lesson_hours"].sum() + rest["lesson_hours"].sum()
    return float(metrics.percent(hours, lessons))


JUNE = contract.month_index("2000-06")


def years_back(school_year: str, gap: int) -> str:
    for _ in range(gap):
        school_year = contract.previous_school_year(school_year)
    return school_year


def projection_errors(rows: pd.DataFrame, key: str, metric: str, position: int, gap: int = 1) -> pd.DataFrame:
    """How far `project` at month `position` missed each unit's final value in earlier years
    for every unit (`key`) and pair of years `gap` apart in `rows` whose later year (`school_year`)
    is complete (a baseline two years back misses more than last year's): the undamped projection's
    and the final value's logarithms against the earlier year's final value (`carried`, `ended`),
    and the unit's pupils in the earlier year (`pupils`, its latest month). The same arithmetic as
    `project`, over all units at once."""
    work = rows.assign(_position=rows["month"].map(contract.month_index))
    keys = [key, "school_year"]
    if metric in ("absence_rate", "unauthorised_rate"):
        work["_num"] = work[_numerator(metric)].sum(axis=1, min_count=len(_numerator(metric)))
        parts = {name: work[mask].groupby(keys)[["_num", "lesson_hours"]].sum(min_count=1)
                 for name, mask in (("so", work["_position"] <= position), ("rest", work["_position"] > position),
                                    ("all", work["_position"] >= 0))}
        frame = parts["so"].join(parts["rest"], rsuffix="_rest").join(parts["all"], rsuffix="_all")
        frame = frame.join(work.groupby(keys)["_position"].max()).reset_index()
        frame["rate"] = frame["_num"] / frame["lesson_hours"]
        frame["final"] = frame["_num_all"] / frame["lesson_hours_all"]
    else:
        shares = work.assign(share=(work["tier2_pupils"] + work["tier3_pupils"]) / work["pupils"].where(work["pupils"] > 0))
        shares = shares.groupby(keys + ["_position"])["share"].sum(min_count=1).reset_index()  # one row per unit-month
        at = shares[shares["_position"] <= position].sort_values("_position").groupby(keys)["share"].last().rename("rate")
        last = shares.sort_values("_position").groupby(keys).agg(final=("share", "last"), _position=("_position", "max"))
        frame = last.join(at).reset_index()
    latest = work[work["_position"] == work.groupby(keys)["_position"].transform("max")]
    frame = frame.join(latest.groupby(keys)["pupils"].sum(), on=keys)
    frame["previous"] = frame["school_year"].map(lambda year: years_back(year, gap))
    pairs = frame.merge(frame, left_on=[key, "previous"], right_on=[key, "school_year"], suffixes=("", "_before"))
    pairs = pairs[pairs["_position"] == JUNE]
    ratio = pairs["rate"] / pairs["rate_before"]
    if metric in ("absence_rate", "unauthorised_rate"):
        rest_hours = pairs["_num_rest_before"].fillna(0)
        rest_lessons = pairs["lesson_hours_rest_before"].fillna(0)
        projected = (pairs["_num"] + ratio * rest_hours) / (pairs["lesson_hours"] + rest_lessons)
    else:
        projected = pairs["final_before"] * ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = pd.DataFrame({"school_year": pairs["school_year"], "pupils": pairs["pupils_before"],
                               "carried": np.log(projected / pairs["final_before"]),
                               "ended": np.log(pairs["final"] / pairs["final_before"])})
    return errors[np.isfinite(errors[["carried", "ended"]]).all(axis=1)].reset_index(drop=True)


MIN_MONTHS_FOR_VOLATILITY = 3  # months of this year needed to read how much its monthly ratios vary


@dataclass(frozen=True)
class Spread:
    """How far a projection may miss: a standard deviation in points, and the degrees of freedom
    it was estimated with (None: from enough unit-years to read it as known)."""

    points: float
    degrees_of_freedom: float | None = None

    def probability_below(self, distance: float) -> float:
        """The chance that the outcome ends more than `distance` points under the projection
        (negative distance: over it): normal, or Student's t when the spread is itself uncertain."""
        if self.degrees_of_freedom is None:
            return NormalDist().cdf(distance / self.points)
        from scipy.stats import t  # imported here: SciPy is slow to load and rarely needed

        return float(t.cdf(distance / self.points, self.degrees_of_freedom))

    def half_width_95(self) -> float:
        if self.degrees_of_freedom is None:
            return stats.Z95 * self.points
        from scipy.stats import t

        return float(t.ppf(0.975, self.degrees_of_freedom)) * self.points


def month_ratio_spread(current: pd.DataFrame, reference: pd.DataFrame, metric: str) -> Spread | None:
    """How uncertain (standard deviation, points) the projection is by this year's own evidence:
    the month-by-month ratios to the reference year's same months vary (a flu autumn makes them
    jump), and the remaining months' ratio may differ from the year so far's as much as the months
    differ from one another. With s the weighted spread of the monthly ratios, the remaining
    months' ratio less the year so far's has variance s² (1/k + 1/m), k and m the effective numbers
    of months so far and remaining (weighted by the reference's absence hours); the projection
    carries it through the remaining reference hours. s is read from a few months, so the spread
    carries k − 1 degrees of freedom (Student's t). Rates only: tier shares are year-to-date
    already. None with fewer than three months to read."""
    if metric not in ("absence_rate", "unauthorised_rate") or current.empty:
        return None
    numerator = _numerator(metric)

    def by_month(rows: pd.DataFrame) -> pd.DataFrame:  # indexed by the month's place in the school year
        return (rows.assign(_hours=rows[numerator].sum(axis=1), _position=rows["month"].map(contract.month_index))
                .groupby("_position")[["_hours", "lesson_hours"]].sum())

    now = by_month(current)
    before = by_month(reference)
    same, rest = before[before.index.isin(now.index)], before[~before.index.isin(now.index)]  # as `project` reads them
    months = now.join(same, rsuffix="_ref", how="inner")
    months = months[(months["_hours_ref"] > 0) & (months["lesson_hours"] > 0) & (months["lesson_hours_ref"] > 0)]
    if len(months) < MIN_MONTHS_FOR_VOLATILITY or rest["_hours"].sum() <= 0:
        return None
    ratios = (months["_hours"] / months["lesson_hours"]) / (months["_hours_ref"] / months["lesson_hours_ref"])
    weights = (months["_hours_ref"] / months["_hours_ref"].sum()).to_numpy()
    ratios = ratios.to_numpy(dtype=float)
    mean = float(weights @ ratios)
    variance = float(weights @ (ratios - mean) ** 2) / (1 - float(weights @ weights))
    rest_weights = (rest["_hours"] / rest["_hours"].sum()).to_numpy()
    ratio_sd = math.sqrt(variance * (float(weights @ weights) + float(rest_weights @ rest_weights)))
    lessons = current["lesson_hours"].sum() + rest["lesson_hours"].sum()
    return Spread(float(metrics.percent(ratio_sd * rest["_hours"].sum(), lessons)), 1 / float(weights @ weights) - 1)


def projection_spread(projected: float, relative: Spread | None, this_year: Spread | None) -> Spread | None:
    """How far (points) the projection at this point of the year may miss: the wider of how far it
    missed for units of the same kind across the country in earlier years (`relative`, from
    `fit_history`) and `this_year`, the unit's own month-to-month evidence
    (`month_ratio_spread`: a flu autumn in a unit's first year with history). Rounded: only it
    leaves the core."""
    earlier = None if relative is None else Spread(projected * relative.points, relative.degrees_of_freedom)
    candidates = [value for value in (earlier, this_year) if value is not None]
    if not candidates:
        return None
    wider = max(candidates, key=lambda c: c.half_width_95())
    return replace(wider, points=round(wider.points, 2))


SIZE_NEIGHBOURS = 0.3  # share of earlier unit-years, nearest in size, that a unit's own spread is read from


@dataclass(frozen=True)
class HistoryFit:
    """What earlier years say about projecting from this point of the year: `damping`, how much of
    a departure from the reference year lasted to the year's end; the years' shared misses
    (`shared`, a variance, read from `years` values); and each earlier unit-year's miss around its
    year's typical one (`deviations`, beside its `log_pupils`), from which `relative` reads the
    spread of units of a given size."""

    damping: float
    shared: float
    years: int
    log_pupils: np.ndarray
    deviations: np.ndarray

    def relative(self, pupils: float | None = None) -> Spread | None:
        """How far (relative to it) a damped projection for a unit of `pupils` may miss: a robust
        spread of the misses of the SIZE_NEIGHBOURS nearest in size (at least MIN_BAND_UNITS; all
        when `pupils` is unknown), plus the shared part, with Satterthwaite's degrees of freedom.
        Small units miss more (a tier share of 150 pupils is a count of twenty): one spread for
        all sizes was too narrow for the small and too wide for the large."""
        deviations = self.deviations
        if pupils and pupils > 0 and len(deviations) > MIN_BAND_UNITS:
            count = max(MIN_BAND_UNITS, int(round(SIZE_NEIGHBOURS * len(deviations))))
            nearest = np.argsort(np.abs(self.log_pupils - math.log(pupils)), kind="stable")[:count]
            deviations = deviations[nearest]
        low, high = np.percentile(deviations, [25, 75])
        within = (high - low) / 1.349
        total = within ** 2 + self.shared
        if total <= 0:
            return None
        freedom = None if self.shared == 0 else total ** 2 / (within ** 4 / max(len(deviations) - 1, 1)
                                                              + self.shared ** 2 / self.years)
        return Spread(math.sqrt(total), freedom)


def fit_history(errors: pd.DataFrame) -> HistoryFit | None:
    """Damping and spread from earlier years' projections (`projection_errors`).

    Damping: the least-squares slope, through the origin, of the final value's departure on the
    projection's (logarithms, against the earlier year), clipped to 0..1. Early in the year much of
    a departure is a passing shock (a tier share in November is read from few school days), and
    carrying it whole called years off track that ended better (review finding: 24 % of
    November's off-track tier 2-3 calls).

    Spread of the damped projection's relative errors, in two parts: how units missed around
    their year's typical miss (kept per unit-year, for `HistoryFit.relative` to read by size), and
    the typical misses themselves, which every unit of a year shares (a flu winter, weather). The
    shared part is read from one value per year, so from few: its root mean square over the years
    (not their median, which opposite years cancel). None with fewer than MIN_BAND_UNITS
    unit-years."""
    if len(errors) < MIN_BAND_UNITS:
        return None
    carried, ended = errors["carried"].to_numpy(), errors["ended"].to_numpy()
    damping = float(np.clip((carried @ ended) / (carried @ carried), 0, 1)) if (carried @ carried) > 0 else 1.0
    error = pd.Series(np.exp(ended - damping * carried) - 1, index=errors.index)
    by_year = error.groupby(errors["school_year"])
    typical = by_year.median()
    around = (error - errors["school_year"].map(typical)).to_numpy()
    low, high = np.percentile(around, [25, 75])
    within = (high - low) / 1.349
    # A year's median carries its units' own noise too (variance about π/2 · within² / n).
    shared = max(0.0, float((typical ** 2).mean() - (math.pi / 2 * within ** 2 / by_year.size()).mean()))
    pupils = errors["pupils"].to_numpy(dtype=float) if "pupils" in errors else np.full(len(errors), np.nan)
    return HistoryFit(damping, shared, len(typical), np.log(np.clip(np.nan_to_num(pupils, nan=1.0), 1, None)), around)


def standing(current_rows: pd.DataFrame, reference_rows: pd.DataFrame, record: TargetRecord,
             history: HistoryFit | None) -> tuple[str, float | None, Spread | None]:
    """A target's status, projection and its spread from the target year's rows so far and the
    reference year's rows, given the country's relative spread at this point of the year. Where
    both spreads exist, on track and off track need both to agree (review finding: a t spread of
    few degrees of freedom is wider at 95 % yet narrower at 75 % than the country's)."""
    complete = str(current_rows["month"].max()).endswith("-06")
    projected = project(current_rows, reference_rows, record.metric, history.damping if history else 1.0)
    relative = history.relative(_pupils(reference_rows)) if history else None
    spread, each = None, [None]
    if not complete and projected is not None:
        this_year = month_ratio_spread(current_rows, reference_rows, record.metric)
        spread = projection_spread(projected, relative, this_year)
        each = [s for s in (projection_spread(projected, relative, None), projection_spread(projected, None, this_year))
                if s is not None] or [None]
    final = _value(current_rows, record.metric)
    judged = {status_of(record.target_value, record.baseline_value, projected, complete, final,
                        lower_is_better(record.metric), candidate) for candidate in each}
    return (judged.pop() if len(judged) == 1 else "at_risk"), projected, spread


def _pupils(rows: pd.DataFrame) -> float | None:
    """A unit's pupils in its latest month."""
    if rows.empty:
        return None
    pupils = rows.loc[rows["month"] == rows["month"].max(), "pupils"].sum()
    return float(pupils) if pupils > 0 else None


_HISTORY: dict[tuple, HistoryFit | None] = {}  # per database, data version, unit kind, metric and month


def _history(engine: Engine, key: str, metric: str, position: int, gap: int) -> HistoryFit | None:
    """`fit_history` of the whole country's units of this kind, read once per data version: the
    meeting table asks it for every target, and it reads the whole country."""
    cache_key = (engine.url.render_as_string(hide_password=True), queries.data_version(engine), key, metric, position, gap)
    if cache_key not in _HISTORY:
        rows = queries.absence_totals(engine, Scope.everything(), by=[key])
        fit = fit_history(projection_errors(rows, key, metric, position, gap))
        if len(_HISTORY) >= 64:
            _HISTORY.pop(next(iter(_HISTORY)))
        _HISTORY[cache_key] = fit
    return _HISTORY[cache_key]


def _same_months(current: pd.DataFrame, same: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both years' rows cut to the months (by their place in the school year) that both have."""
    now, before = current["month"].map(contract.month_index), same["month"].map(contract.month_index)
    both = set(now) & set(before)
    return current[now.isin(both)], same[before.isin(both)]


def lesson_hours_change(current: pd.DataFrame, same: pd.DataFrame) -> float | None:
    """Lesson hours per pupil now against the same months of the reference year, in percent, when
    they moved more than LESSON_HOURS_BREAK (e.g. electives now counted): rates are then not alike."""
    def per_pupil(rows: pd.DataFrame) -> float | None:
        if rows.empty:
            return None
        pupils = rows.groupby("month")["pupils"].sum().mean()
        return float(rows["lesson_hours"].sum() / pupils) if pupils else None

    # Only the months both years have: a month not yet delivered is no break in lesson hours.
    current, same = _same_months(current, same)
    now, before = per_pupil(current), per_pupil(same)
    if not now or not before:
        return None
    change = (now / before - 1) * 100
    return round(change, 1) if abs(change) > LESSON_HOURS_BREAK else None


def progress(engine: Engine, scope: Scope, record: TargetRecord) -> Progress:
    """Where a target stands now (see the module notes)."""
    unit = Unit(record.unit_level, record.unit_code)
    lower_better = lower_is_better(record.metric)
    if record.metric.startswith(SURVEY_PREFIX):
        spring = contract.parse_school_year(record.school_year) + 1
        final = _survey_value(engine, scope, unit, record.metric.removeprefix(SURVEY_PREFIX), spring)
        status = status_of(record.target_value, record.baseline_value, None, final is not None, final, lower_better)
        return Progress(status, None, final, record.baseline_value, None, pd.DataFrame())
    reference_year = record.reference_year()
    rows = _absence_rows(engine, scope, unit, [reference_year, record.school_year])
    current_rows = rows[rows["school_year"] == record.school_year]
    if current_rows.empty:
        return Progress("waiting", None, None, None, None, pd.DataFrame(), baseline_year=reference_year)
    latest = str(current_rows["month"].max())
    reference_rows = rows[rows["school_year"] == reference_year]
    position = contract.month_index(latest)
    same_rows = reference_rows[reference_rows["month"].map(contract.month_index) <= position]
    key = "school_id" if unit.level == "school" else "municipality_code"
    gap = contract.parse_school_year(record.school_year) - contract.parse_school_year(reference_year)
    status, projected, spread = standing(current_rows, reference_rows, record,
                                         _history(engine, key, record.metric, position, gap))
    current = _value(current_rows, record.metric)
    band = None if spread is None else tuple(round(float(np.clip(projected + side * spread.half_width_95(), 0, 100)),
                                                   disclosure.RATE_DECIMALS) for side in (-1, 1))
    return Progress(status, latest, current, _value(same_rows, record.metric), projected, _year_to_date(rows, record.metric),
                    band[0] if band else None, band[1] if band else None, reference_year,
                    lesson_hours_change(current_rows, same_rows))


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
    records = list_targets(engine, scope, school_year)
    if not records:  # no directory to read (a whole country's takes a while) when there is nothing to name
        return pd.DataFrame(columns=OVERVIEW_COLUMNS)
    directory = queries.schools(engine, scope).set_index("school_id")
    names, places = directory["school_name"], directory["municipality_code"]
    for record in records:
        state = progress(engine, scope, record)
        rows.append({
            "id": record.id, "version": record.version, "unit_level": record.unit_level, "unit_code": record.unit_code,
            "unit_name": names.get(record.unit_code, record.unit_code), "metric": record.metric,
            "municipality_code": places.get(record.unit_code, record.unit_code if record.unit_level == "municipality" else None),
            "baseline": record.baseline_value, "target": record.target_value, "current": state.current,
            "projected": state.projected, "status": state.status, "latest_month": state.latest_month,
            "measures": record.measures, "responsible": record.responsible, "note": record.note,
        })
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)


OVERVIEW_COLUMNS = ["id", "version", "unit_level", "unit_code", "unit_name", "municipality_code", "metric", "baseline",
                    "target", "current", "projected", "status", "latest_month", "measures", "responsible", "note"]


def status_counts(engine: Engine, scope: Scope, school_year: str) -> pd.Series:
    """How many targets of the scope's area are in each status. Only counts leave this function,
    so it serves anonymised audiences (presentations) as well: the area is read as is."""
    inner = replace(scope, role="admin")  # the same area; no target or unit is returned
    table = overview_table(engine, inner, school_year)
    return table["status"].value_counts().reindex(list(STATUSES)).dropna().astype(int)
