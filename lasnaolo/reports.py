"""Key figures of a unit: the one composition of queries and metrics that the CLI, the pages and
the exports share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from lasnaolo import metrics, queries
from lasnaolo.contract import SuppressionPolicy
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
                policy: SuppressionPolicy | None = None) -> KeyFigures:
    if not queries.unit_exists(engine, scope, unit):
        raise UnknownUnit(f"no {unit.level} {unit.code!r} in the data you may see")
    rows = queries.absence_totals(engine, scope, unit=unit, school_years=[school_year])
    return metrics.key_figures(rows, str(unit), school_year, policy)


def unit_report(engine: Engine, scope: Scope, unit: Unit, school_year: str,
                policy: SuppressionPolicy | None = None) -> UnitReport:
    """The school year's figures, its year to date, and the change against the same point last year."""
    figures = key_figures(engine, scope, unit, school_year, policy)
    if figures.latest_month is None:
        return UnitReport(figures, figures, [])
    previous_year, previous_months = metrics.same_point_last_year(school_year, figures.latest_month)
    previous_rows = queries.absence_totals(engine, scope, unit=unit, months=previous_months)
    previous = metrics.key_figures(previous_rows, str(unit), previous_year, policy)
    return UnitReport(figures, previous, metrics.changes(figures, previous))
