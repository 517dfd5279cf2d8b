"""The absence summary table (`absence_summary`): rebuilt from `absence` for the schools an import
touched, inside the import's own transaction, so a reader sees the rows and their summary change
together or not at all."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.engine import Connection

from lasnaolo.metrics import COUNT_COLUMNS as COUNTS
from lasnaolo.metrics import SQUARES
from lasnaolo.store import Absence, AbsenceSummary, Municipality, School


def grade_band_expression(grade):
    """The contract's grade bands (1-2, 3-6, 7-9) in SQL."""
    return case((grade <= 2, "1-2"), (grade <= 6, "3-6"), else_="7-9")


def complete_sum(column):
    """SUM that is NULL unless every row has a value: an optional count summed over the rows that
    happen to carry it would understate the group (`pupil_share_squares`)."""
    return case((func.count(column) == func.count(), func.sum(column)))


def refresh(connection: Connection, school_ids: Collection[str] | None = None, squares: bool = True) -> None:
    """Recompute the summary of the given schools (None: all) from the absence rows. `squares`
    False: for migration 0003, which runs before the tables have `pupil_share_squares` (0007)."""
    optional = [complete_sum(Absence.pupil_share_squares).label(SQUARES)] if squares else []
    band = grade_band_expression(Absence.grade)
    source = (
        select(Absence.school_id, Absence.school_year, Absence.month, band.label("grade_band"),
               School.municipality_code, Municipality.region_code, School.school_type, School.language,
               *[func.sum(getattr(Absence, c)).label(c) for c in COUNTS], *optional)
        .join(School, School.school_id == Absence.school_id)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .group_by(Absence.school_id, Absence.school_year, Absence.month, band, School.municipality_code,
                  Municipality.region_code, School.school_type, School.language)
    )
    remove = delete(AbsenceSummary)
    if school_ids is not None:
        ids = sorted(set(school_ids))
        if not ids:
            return
        source = source.where(Absence.school_id.in_(ids))
        remove = remove.where(AbsenceSummary.school_id.in_(ids))
    columns = ["school_id", "school_year", "month", "grade_band", "municipality_code", "region_code",
               "school_type", "language", *COUNTS, *([SQUARES] if squares else [])]
    connection.execute(remove)
    connection.execute(insert(AbsenceSummary).from_select(columns, source))
