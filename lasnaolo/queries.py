"""The only way to read data: every function takes the user's Scope and returns rows inside it.

Aggregation is pushed into the database (GROUP BY), so pages and the CLI receive small frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from lasnaolo import contract
from lasnaolo.scope import Scope, Unit
from lasnaolo.store import Absence, Municipality, School, Wellbeing

_GROUPABLE = {
    "school_year": Absence.school_year,
    "month": Absence.month,
    "grade": Absence.grade,
    "school_id": School.school_id,
    "municipality_code": School.municipality_code,
    "region_code": Municipality.region_code,
    "school_type": School.school_type,
    "language": School.language,
}


def absence_totals(
    engine: Engine,
    scope: Scope,
    *,
    unit: Unit = Unit("all"),
    school_years: Sequence[str] | None = None,
    months: Sequence[str] | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Summed counts per month (and per `by` group) for the unit, inside the scope."""
    groups = ["school_year", "month", *[b for b in by if b not in ("school_year", "month")]]
    columns = [_GROUPABLE[g].label(g) for g in groups]
    sums = [func.sum(getattr(Absence, c)).label(c) for c in ("pupils",) + contract.HOUR_COLUMNS + contract.TIER_COLUMNS]
    query = (
        select(*columns, *sums)
        .select_from(Absence)
        .join(School, School.school_id == Absence.school_id)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition(), unit.condition())
        .group_by(*[_GROUPABLE[g] for g in groups])
        .order_by(*[_GROUPABLE[g] for g in groups])
    )
    if school_years is not None:
        query = query.where(Absence.school_year.in_(list(school_years)))
    if months is not None:
        query = query.where(Absence.month.in_(list(months)))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=[*groups, *[s.name for s in sums]])
    for column in frame.columns[len(groups):]:
        frame[column] = frame[column].astype("int64")
    return frame


def unit_exists(engine: Engine, scope: Scope, unit: Unit) -> bool:
    query = (
        select(func.count())
        .select_from(School)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition(), unit.condition())
    )
    with engine.connect() as connection:
        return bool(connection.execute(query).scalar_one())


def latest_school_year(engine: Engine, scope: Scope) -> str | None:
    query = (
        select(func.max(Absence.school_year))
        .join(School, School.school_id == Absence.school_id)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition())
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def schools(engine: Engine, scope: Scope) -> pd.DataFrame:
    query = (
        select(School.school_id, School.school_name, School.municipality_code, School.school_type,
               School.language, Municipality.region_code)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition())
        .order_by(School.school_id)
    )
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(),
                            columns=["school_id", "school_name", "municipality_code", "school_type", "language", "region_code"])


def wellbeing(engine: Engine, scope: Scope, *, unit_type: str = "municipality") -> pd.DataFrame:
    """Survey rows for schools or municipalities inside the scope."""
    columns = [Wellbeing.unit_type, Wellbeing.unit_id, Wellbeing.survey_year, Wellbeing.grade_group,
               Wellbeing.indicator, Wellbeing.respondents, Wellbeing.value_pct]
    if unit_type == "school":
        query = (select(*columns).join(School, School.school_id == Wellbeing.unit_id))
    else:
        query = select(*columns).join(School, School.municipality_code == Wellbeing.unit_id).distinct()
    query = (
        query.join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(Wellbeing.unit_type == unit_type, scope.school_condition())
    )
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(), columns=[c.name for c in columns])
