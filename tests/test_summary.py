"""The absence summary: kept equal to the absence rows through imports and replacements, and
every query answered from it equal to the same query over the absence rows themselves."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from lasnaolo import importer, queries, summary
from lasnaolo.queries import RowFilter
from lasnaolo.scope import Scope, Unit
from lasnaolo.store import AbsenceSummary

from support.helpers import ABSENCES, files


def stored_summary(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(select(AbsenceSummary.__table__)).fetchall()
    columns = [c.name for c in AbsenceSummary.__table__.columns]
    return pd.DataFrame(rows, columns=columns).sort_values(["school_id", "school_year", "month", "grade_band"],
                                                          ignore_index=True)


def test_the_summary_follows_imports_and_replacements(engine):
    importer.import_files(engine, files())
    table = stored_summary(engine)
    # 00123 grade 1 (band 1-2) in two months; 04567 grades 7 and 8 (band 7-9) in one: summed.
    assert list(zip(table["school_id"], table["month"], table["grade_band"])) == [
        ("00123", "2024-09", "1-2"), ("00123", "2024-10", "1-2"), ("04567", "2024-09", "7-9")]
    row = table.iloc[2]
    assert (row["pupils"], row["lesson_hours"], row["illness_hours"], row["tier3_pupils"]) == (33, 4158, 190, 2)
    assert (row["municipality_code"], row["region_code"], row["school_type"], row["language"]) == ("049", "01", "comprehensive", "sv")
    changed = ABSENCES.replace("04567,2024-2025,2024-09,8,3,378,40,0,0,0,1,1", "04567,2024-2025,2024-09,8,3,378,10,0,0,0,1,1")
    importer.import_files(engine, files(absences_csv=changed), replace=True)
    assert stored_summary(engine).iloc[2]["illness_hours"] == 160
    moved = "school_id,school_name,municipality_code,school_type,language\n04567,Testskola B,091,comprehensive,sv\n"
    importer.import_files(engine, files(schools_csv=moved, absences_csv=None, wellbeing_csv=None, measures_csv=None),
                          replace=True)
    assert stored_summary(engine).iloc[2]["municipality_code"] == "091"  # a school's move reaches its summary


def test_a_rejected_import_leaves_the_summary_as_it_was(engine):
    importer.import_files(engine, files())
    before = stored_summary(engine)
    broken = ABSENCES + "04567,2024-2025,2024-10,7,30,3780,150,60,40,5,3,oops\n"
    with pytest.raises(importer.ImportRejected):
        importer.import_files(engine, files(absences_csv=broken))
    pd.testing.assert_frame_equal(stored_summary(engine), before)


CASES = [
    dict(by=[]), dict(by=["grade_band"]), dict(by=["school_type", "language"]), dict(by=["municipality_code"]),
    dict(by=["region_code", "municipality_code"]), dict(by=["school_id"]),
    dict(by=[], filters=RowFilter(grades=(7, 8, 9))), dict(by=["language"], filters=RowFilter(school_types=("primary",))),
    dict(by=[], unit=Unit("municipality", "106")), dict(by=[], unit=Unit("region", "01"), school_years=["2023-2024"]),
]
SCOPES = [Scope.everything(), Scope("director", municipality_codes=frozenset({"106"})),
          Scope("coordinator", municipality_codes=frozenset({"106", "186", "245"})),
          Scope("rector", school_ids=frozenset({"01009"}))]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_query_gives_the_same_from_the_summary_and_from_the_rows(demo_engine, case):
    for scope in SCOPES:
        # An anonymised scope's figures come from its publication (built from the summary; see
        # tests/test_disclosure.py): here its rows before protection are compared.
        raw = scope.anonymised
        fast = queries.absence_totals(demo_engine, scope, raw=raw, **CASES[case])
        slow = queries.absence_totals(demo_engine, scope, use_summary=False, raw=raw, **CASES[case])
        pd.testing.assert_frame_equal(fast, slow, check_dtype=False)


def test_grade_filters_that_split_a_band_read_the_rows():
    assert RowFilter(grades=(7, 8, 9)).bands() == ("7-9",)
    assert RowFilter(grades=(1, 2, 7, 8, 9)).bands() == ("1-2", "7-9")
    assert RowFilter(grades=(8, 9)).bands() is None
    assert RowFilter().bands() == ("1-2", "3-6", "7-9")


def test_several_groupings_from_one_pass_equal_separate_queries(demo_engine):
    for scope in SCOPES[:3]:
        groupings = [[], ["grade_band"], ["school_type"], ["language"]]
        together = queries.absence_groupings(demo_engine, scope, groupings, school_years=["2024-2025"])
        for grouping, frame in zip(groupings, together):
            alone = queries.absence_totals(demo_engine, scope, by=grouping, school_years=["2024-2025"])
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), alone.reset_index(drop=True), check_dtype=False)


def test_refresh_of_some_schools_leaves_the_others(engine):
    importer.import_files(engine, files())
    with engine.begin() as connection:
        summary.refresh(connection, ["00123"])
        summary.refresh(connection, [])
    assert set(stored_summary(engine)["school_id"]) == {"00123", "04567"}
