"""The overview report on hand-made data, on both databases."""

from __future__ import annotations

from datetime import date

import pytest

from lasnaolo import importer, reports
from lasnaolo.scope import Scope

from support.helpers import files


def test_overview_of_the_hand_made_files(engine):
    importer.import_files(engine, files())
    view = reports.overview(engine, Scope.everything(), "2024-2025")
    figures = view.report.figures
    # Latest month is October (school 00123); 04567 delivered September only: missing.
    assert figures.latest_month == "2024-10" and view.data_up_to == date(2024, 10, 31)
    assert view.schools_in_scope == 2
    assert view.schools_missing_latest.to_dict("records") == [{"school_id": "04567", "latest_month": "2024-09"}]
    assert figures.absence_rate == pytest.approx((60 + 20 + 4 + 90 + 30 + 6 + 150 + 60 + 40 + 40) / (1680 + 1512 + 3780 + 378) * 100)
    # Pupils and tiers come from the latest month only: 00123's October row.
    assert figures.pupils == 21 and figures.tier23_share == pytest.approx(3 / 21 * 100)
    september = view.monthly.set_index("month").loc["2024-09"]
    assert september["absence_rate"] == pytest.approx((84 + 250 + 40) / (1680 + 3780 + 378) * 100)
    assert list(view.monthly["month_index"]) == [1, 2]
    # No previous year in the files: the change cannot be computed and says so with None.
    assert all(c.difference is None for c in view.report.changes)


def test_overview_scope_counts_only_its_schools(engine):
    importer.import_files(engine, files())
    view = reports.overview(engine, Scope("director", municipality_codes=frozenset({"049"})), "2024-2025")
    assert view.schools_in_scope == 1 and view.report.figures.latest_month == "2024-09"
    assert view.schools_missing_latest.empty
    assert view.report.figures.lesson_hours == 3780 + 378


def test_the_change_compares_the_same_school_months_while_a_school_has_not_delivered(engine):
    """00123 and 04567 both delivered September and October a year before; this year 04567 has
    delivered September only. The change compares 00123's two months and 04567's September on
    both sides, not a year with 04567's October against one without it."""
    from support.helpers import ABSENCES

    last_year = "\n".join([
        "00123,2023-2024,2023-09,1,20,1680,50,20,4,3,1,0", "00123,2023-2024,2023-10,1,21,1512,80,30,6,4,2,1",
        "04567,2023-2024,2023-09,7,30,3780,100,60,40,5,3,1", "04567,2023-2024,2023-10,7,30,3780,400,100,50,5,3,1"])
    importer.import_files(engine, files(absences_csv=ABSENCES + last_year + "\n"))
    report = reports.unit_report(engine, Scope.everything(), reports.Unit("all"), "2024-2025")
    change = {c.metric: c for c in report.changes}["absence_rate"]
    now = (84 + 126 + 250 + 40) / (1680 + 1512 + 3780 + 378) * 100
    before = (74 + 116 + 200) / (1680 + 1512 + 3780) * 100  # 04567's October a year ago is left out
    assert change.current == pytest.approx(now) and change.previous == pytest.approx(before)
    assert change.difference == pytest.approx(now - before)
    # The headline figures stay the whole year so far, every delivered month included.
    assert report.figures.absence_rate == pytest.approx(now)
