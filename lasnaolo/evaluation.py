"""Self-evaluation of the attendance model: once a school year a school (its rector) or the
steering group records how far each recommendation to the pilots is implemented (1-4 with a note).

Rights: a rector records for the own school; a steering group for its municipalities and their
schools; an administrator for any. Directors and steering groups read their area; a rector the
own school. The table is append-only: a save adds a row for each recommendation whose score or
note changed, so the newest row is the current assessment and the older rows its history.

The implementation profile puts every unit's scores next to its absence this school year so far
and at the same point last year: what the steering group reads, and exports, for its annual
welfare report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from lasnaolo import contract, metrics, policy, queries, reference
from lasnaolo.queries import NotAllowed
from lasnaolo.scope import Scope, Unit
from lasnaolo.store import SelfEvaluation

RECORDERS = policy.roles_that("records_evaluations")
READERS = policy.roles_that("reads_evaluations")
COLUMNS = queries.SELF_EVALUATION_COLUMNS


class InvalidAssessment(ValueError):
    """An assessment that cannot be saved; names the recommendation and the field."""

    def __init__(self, recommendation: str, field: str, reason: str):
        super().__init__(f"{recommendation}: {field}: {reason}")
        self.recommendation, self.field, self.reason = recommendation, field, reason


@dataclass(frozen=True)
class Assessment:
    recommendation: str
    score: int
    note: str = ""


def _check(school_year: str, assessments: Sequence[Assessment]) -> None:
    if contract.parse_school_year(school_year) is None:
        raise InvalidAssessment("-", "school_year", "must be a school year like 2025-2026")
    seen = set()
    for item in assessments:
        if item.recommendation not in contract.RECOMMENDATIONS:
            raise InvalidAssessment(item.recommendation, "recommendation", "unknown recommendation")
        if item.recommendation in seen:
            raise InvalidAssessment(item.recommendation, "recommendation", "given twice")
        seen.add(item.recommendation)
        if item.score not in contract.IMPLEMENTATION_LEVELS:
            raise InvalidAssessment(item.recommendation, "score", "must be 1, 2, 3 or 4")
        if len(item.note) > contract.EVALUATION_NOTE_MAX:
            raise InvalidAssessment(item.recommendation, "note", f"longer than {contract.EVALUATION_NOTE_MAX} characters")


def _require_recorder(engine: Engine, scope: Scope, unit: Unit) -> None:
    if scope.role not in RECORDERS:
        raise NotAllowed(f"the {scope.role} role may not record a self-evaluation")
    if unit.level not in ("school", "municipality"):
        raise NotAllowed("a self-evaluation belongs to a school or a municipality")
    if policy.capabilities(scope.role).school_level_only and unit.level != "school":
        raise NotAllowed("a rector records the own school's self-evaluation only")
    if not queries.unit_exists(engine, scope, unit):
        raise NotAllowed(f"{unit} is not in your scope")


def record(engine: Engine, scope: Scope, actor: str, unit: Unit, school_year: str,
           assessments: Sequence[Assessment]) -> int:
    """Append the assessments that differ from the current ones, in one transaction; returns how
    many rows were added (0: nothing had changed)."""
    _require_recorder(engine, scope, unit)
    _check(school_year, assessments)
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        latest = _latest(unit.level, [unit.code], school_year)
        current = {r.recommendation: (r.score, r.note) for r in connection.execute(latest)}
        changed = [a for a in assessments if current.get(a.recommendation) != (a.score, a.note)]
        if changed:
            connection.execute(insert(SelfEvaluation), [
                dict(unit_level=unit.level, unit_code=unit.code, school_year=school_year, recommendation=a.recommendation,
                     score=a.score, note=a.note, recorded_by=actor, recorded_at=now) for a in changed])
    return len(changed)


def _latest(unit_level: str, unit_codes: Sequence[str], school_year: str):
    """The newest row per unit and recommendation, read inside a recording's own transaction."""
    newest = (select(func.max(SelfEvaluation.id))
              .where(SelfEvaluation.unit_level == unit_level, SelfEvaluation.unit_code.in_(sorted(unit_codes)),
                     SelfEvaluation.school_year == school_year)
              .group_by(SelfEvaluation.unit_code, SelfEvaluation.recommendation))
    return select(*[getattr(SelfEvaluation, c) for c in COLUMNS]).where(SelfEvaluation.id.in_(newest))


def current(engine: Engine, scope: Scope, school_year: str) -> pd.DataFrame:
    """The current assessment of every unit in scope that has one for the school year."""
    return queries.current_self_evaluations(engine, scope, school_year)


def history(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Every assessment ever recorded for the unit, newest first."""
    return queries.self_evaluation_history(engine, scope, unit)


def _absence_by(engine: Engine, scope: Scope, unit: Unit, school_year: str, key: str) -> pd.DataFrame:
    """Per unit: absence rate and tier 2-3 share this year so far, and the absence rate at the
    same point of the previous year (the scope's latest month of the year decides the point)."""
    this_year = queries.absence_totals(engine, scope, unit=unit, school_years=[school_year], by=[key])
    if this_year.empty:
        return pd.DataFrame(columns=[key, "absence_rate", "tier23_share", "absence_rate_previous", "latest_month"])
    latest = this_year["month"].max()
    previous_year, previous_months = metrics.same_point_last_year(school_year, latest)
    now = metrics.figures_by(this_year, [key])
    pupils_now = metrics.figures_by(this_year[this_year["month"] == latest], [key])  # shares: latest month
    before = queries.absence_totals(engine, scope, unit=unit, school_years=[previous_year], months=previous_months, by=[key])
    before = metrics.figures_by(before, [key]) if not before.empty else pd.DataFrame(columns=[key, "absence_rate"])
    out = now[[key, "absence_rate"]].merge(pupils_now[[key, "tier23_share"]], on=key, how="left")
    out = out.merge(before[[key, "absence_rate"]].rename(columns={"absence_rate": "absence_rate_previous"}), on=key, how="left")
    return out.assign(latest_month=latest)


def _profile_allowed(engine: Engine, scope: Scope, municipality_code: str | None) -> tuple[set[str], set[str]]:
    """The schools (of `municipality_code`; none without one) and the municipalities whose
    self-evaluations the scope reads; NotAllowed for a rector (one school is no profile) or a
    municipality outside the scope."""
    if policy.capabilities(scope.role).school_level_only:
        raise NotAllowed("the implementation profile is for those who lead several schools")
    municipalities = queries.self_evaluation_municipalities(engine, scope)
    if municipality_code is None:
        return set(), municipalities
    if municipality_code not in municipalities:
        raise NotAllowed(f"municipality {municipality_code!r} is not in your scope")
    return queries.self_evaluation_schools(engine, scope, municipality_code), municipalities


def unit_absence(engine: Engine, scope: Scope, school_year: str, municipality_code: str | None = None) -> pd.DataFrame:
    """The absence figures of `profile`'s units (unit_level, unit_code, `_absence_by`'s columns):
    every municipality in scope, or `municipality_code` and each of its schools. They depend on
    imported data alone, unlike the scores, so the app keeps them per import (lasnaolo.results).
    Refused as `profile` refuses: a rector, or a municipality outside the scope."""
    _profile_allowed(engine, scope, municipality_code)
    return _unit_absence(engine, scope, school_year, municipality_code)


def _unit_absence(engine: Engine, scope: Scope, school_year: str, municipality_code: str | None) -> pd.DataFrame:
    """`unit_absence` once the scope's right to it is checked."""
    area = Unit("all") if municipality_code is None else Unit("municipality", municipality_code)
    figures = [_absence_by(engine, scope, area, school_year, "municipality_code")
               .rename(columns={"municipality_code": "unit_code"}).assign(unit_level="municipality")]
    if municipality_code is not None:
        figures.append(_absence_by(engine, scope, area, school_year, "school_id")
                       .rename(columns={"school_id": "unit_code"}).assign(unit_level="school"))
    return pd.concat([f for f in figures if not f.empty] or figures, ignore_index=True)


def profile(engine: Engine, scope: Scope, school_year: str, municipality_code: str | None = None,
            absence: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit: the score of each recommendation (NaN: not assessed), their mean, and the
    unit's absence figures. Without `municipality_code` every municipality in scope; with it, that
    municipality and its schools (a national profile of every school would be read by no one).
    `absence`: `unit_absence` of the same arguments, when already at hand. Not for rectors: one
    school is no profile."""
    schools, municipalities = _profile_allowed(engine, scope, municipality_code)
    if absence is None:  # checked just above
        absence = _unit_absence(engine, scope, school_year, municipality_code)
    assessed = current(engine, scope, school_year)
    scores = (assessed.pivot_table(index=["unit_level", "unit_code"], columns="recommendation", values="score")
              .reindex(columns=list(contract.RECOMMENDATIONS)).reset_index() if not assessed.empty
              else pd.DataFrame(columns=["unit_level", "unit_code", *contract.RECOMMENDATIONS]))
    shown = sorted(municipalities) if municipality_code is None else [municipality_code]
    # Text columns even when empty (a scope with no schools yet): empty lists would make numbers.
    units = [pd.DataFrame({"unit_level": "municipality", "unit_code": shown,
                           "unit_name": [reference.municipality_name(c) for c in shown]}, dtype=object)]
    if municipality_code is not None:
        directory = queries.schools(engine, scope)
        directory = directory[(directory["municipality_code"] == municipality_code) & directory["school_id"].isin(schools)]
        units.append(pd.DataFrame({"unit_level": "school", "unit_code": directory["school_id"],
                                   "unit_name": directory["school_name"]}))
    table = pd.concat(units, ignore_index=True).merge(scores, on=["unit_level", "unit_code"], how="left")
    table[list(contract.RECOMMENDATIONS)] = table[list(contract.RECOMMENDATIONS)].astype(float)
    table["mean_score"] = table[list(contract.RECOMMENDATIONS)].mean(axis=1)
    table = table.merge(absence, on=["unit_level", "unit_code"], how="left")
    table["absence_change"] = table["absence_rate"] - table["absence_rate_previous"]
    return table
