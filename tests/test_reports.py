"""The overview report on hand-made data, on both databases."""

from __future__ import annotations

from datetime import date

import pytest

from lasnaolo import importer, reports
from lasnaolo.scope import Scope

from helpers import files


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
