"""Key figures of a unit: the one composition of queries and metrics that the CLI, the pages and
the exports share."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import contract, metrics, queries
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy
from lasnaolo.metrics import Change, KeyFigures
from lasnaolo.scope import Scope, Unit


class UnknownUnit(LookupError):
    pass


@dataclass(frozen=True)
class UnitReport:
    figures: KeyFigures  # the school year so far: its year to date
    same_point_last_year: KeyFigures
    changes: list[Change]


def key_figures(engine: Engine, scope: Scope, unit: Unit, school_year: str,
                policy: SuppressionPolicy = SUPPRESSION) -> KeyFigures:
    if not queries.unit_exists(engine, scope, unit):
        raise UnknownUnit(f"no {unit.level} {unit.code!r} in the data you may see")
    rows = queries.absence_totals(engine, scope, unit=unit, school_years=[school_year])
    return metrics.key_figures(rows, str(unit), school_year, policy)


def unit_report(engine: Engine, scope: Scope, unit: Unit, school_year: str,
                policy: SuppressionPolicy = SUPPRESSION) -> UnitReport:
    """The school year's figures, its year to date, and the change against the same point last
    year. Where the user sees schools one by one, the change compares the same school-months on
    both sides: a school that has not delivered the latest month yet is left out of both, not
    counted last year and missing this year."""
    figures = key_figures(engine, scope, unit, school_year, policy)
    if figures.latest_month is None:
        return UnitReport(figures, figures, [])
    previous_year, previous_months = metrics.same_point_last_year(school_year, figures.latest_month)
    if scope.anonymised:  # only the audited publication's cells may be read: areas, not schools
        previous_rows = queries.absence_totals(engine, scope, unit=unit, months=previous_months)
        previous = metrics.key_figures(previous_rows, str(unit), previous_year, policy)
        return UnitReport(figures, previous, metrics.changes(figures, previous))
    current_rows = queries.absence_totals(engine, scope, unit=unit, school_years=[school_year], by=["school_id"])
    previous_rows = queries.absence_totals(engine, scope, unit=unit, months=previous_months, by=["school_id"])
    current_rows, previous_rows = metrics.same_school_months(current_rows, previous_rows)
    matched = metrics.key_figures(current_rows, str(unit), school_year, policy)
    previous = metrics.key_figures(previous_rows, str(unit), previous_year, policy)
    return UnitReport(figures, previous, metrics.changes(matched, previous))


@dataclass(frozen=True)
class Overview:
    """The landing page's content for a scope and school year."""

    report: UnitReport
    monthly: pd.DataFrame  # this and the previous school year: school_year, month, month_index, rates
    data_up_to: date | None
    schools_in_scope: int
    schools_missing_latest: pd.DataFrame  # school_id, latest_month (None: no data this year)


def month_end(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, calendar.monthrange(year, mon)[1])


def overview(engine: Engine, scope: Scope, school_year: str, policy: SuppressionPolicy = SUPPRESSION) -> Overview:
    report = unit_report(engine, scope, Unit("all"), school_year, policy)
    previous = contract.previous_school_year(school_year)
    rows = queries.absence_totals(engine, scope, school_years=[previous, school_year], policy=policy)
    monthly = metrics.monthly(rows, ["school_year"], policy) if not rows.empty else pd.DataFrame(
        columns=["school_year", "month", *metrics.RATE_COLUMNS])
    monthly["month_index"] = monthly["month"].map(contract.month_index)
    latest_month = report.figures.latest_month
    by_school = queries.latest_months_by_school(engine, scope, school_year)
    missing = by_school if latest_month is None else by_school[
        by_school["latest_month"].isna() | (by_school["latest_month"] < latest_month)]
    return Overview(report, monthly, month_end(latest_month) if latest_month else None,
                    len(by_school), missing.reset_index(drop=True))
