"""Pupil-level absence aggregated to the contract (issue 19): the figures against an independent
day-by-day computation, the decree's lesson hours, and located problems that never name a pupil."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pandas as pd
import pytest

from lasnaolo import contract, pupils

YEAR = "2024-2025"
CALENDAR = pd.DataFrame([
    ("term", date(2024, 8, 8), date(2024, 12, 21)),
    ("holiday", date(2024, 10, 14), date(2024, 10, 18)),  # syysloma
    ("term", date(2025, 1, 7), date(2025, 5, 31)),
    ("holiday", date(2025, 2, 24), date(2025, 2, 28)),  # talviloma
    ("holiday", date(2025, 4, 18), date(2025, 4, 21)),  # pääsiäinen
    ("school_day", date(2024, 9, 28), date(2024, 9, 28)),  # a Saturday school day
], columns=["kind", "start", "end"]).assign(school_year=YEAR)


def synthetic(seed: int = 3, size: int = 60):
    """A roster of two schools (grades 1, 7, 8; some pupils move school or leave mid-year) and
    random markings on school days."""
    rng = random.Random(seed)
    days = pupils.school_days(CALENDAR, YEAR, "00001")
    roster, marks = [], []
    for n in range(size):
        pupil, grade = f"oppilas-{n:03d}", rng.choice([1, 7, 8])
        school = rng.choice(["00001", "00002"])
        if n % 10 == 0:  # moves to the other school on a January day
            move = date(2025, 1, 20)
            roster.append((pupil, school, grade, None, move - timedelta(1)))
            roster.append((pupil, "00002" if school == "00001" else "00001", grade, move, None))
        elif n % 10 == 1:  # arrives in October
            roster.append((pupil, school, grade, date(2024, 10, 21), None))
        else:
            roster.append((pupil, school, grade, None, None))
        propensity = rng.choice([0.0, 0.02, 0.05, 0.12, 0.3])
        first = date(2024, 10, 21) if n % 10 == 1 else date(2024, 8, 1)
        for day in days:
            if day >= first and rng.random() < propensity:
                marks.append((pupil, day, rng.choice([1, 2, 6]), rng.choice(pupils.CATEGORIES)))
    roster = pd.DataFrame(roster, columns=["pupil", "school_id", "grade", "start", "end"])
    marks = pd.DataFrame(marks, columns=["pupil", "date", "hours", "category"])
    return (roster.assign(file="oppilaat.csv", row=range(2, len(roster) + 2)),
            marks.assign(file="poissaolot.csv", row=range(2, len(marks) + 2)))


def by_hand(roster: pd.DataFrame, marks: pd.DataFrame) -> dict:
    """The same figures day by day, pupil by pupil, written as plainly as possible."""
    days = pupils.school_days(CALENDAR, YEAR, "any")
    month_end = {}
    for day in days:
        month_end[day.strftime("%Y-%m")] = day  # the last school day of each month
    absent = defaultdict(float)
    for pupil, day, hours, category in marks[["pupil", "date", "hours", "category"]].itertuples(index=False):
        absent[(pupil, day, category)] += hours
    cells = defaultdict(lambda: defaultdict(float))
    so_far_scheduled, so_far_absent = defaultdict(float), defaultdict(float)
    for day in days:
        for pupil, school, grade, start, end in roster[["pupil", "school_id", "grade", "start", "end"]].itertuples(index=False):
            start = start if isinstance(start, date) else date(2024, 8, 1)
            end = end if isinstance(end, date) else date(2025, 7, 31)
            if not start <= day <= end:
                continue
            cell = cells[(school, day.strftime("%Y-%m"), grade)]
            weekly = {1: 20, 7: 30, 8: 29}[grade]  # VNA 112/2023, in force from 1.8.2024
            cell["lesson_hours"] += weekly / 5
            so_far_scheduled[pupil] += weekly / 5
            for category in pupils.CATEGORIES:
                cell[f"{category}_hours"] += absent[(pupil, day, category)]
                so_far_absent[pupil] += absent[(pupil, day, category)]
            if day == month_end[day.strftime("%Y-%m")]:
                share = so_far_absent[pupil] / so_far_scheduled[pupil] * 100
                cell["pupils"] += 1
                cell["tier1_pupils"] += 5 <= share < 10
                cell["tier2_pupils"] += 10 <= share <= 20
                cell["tier3_pupils"] += share > 20
                cell["pupil_share_squares"] += share ** 2
    return cells


def test_aggregates_equal_a_day_by_day_computation_pupil_by_pupil():
    roster, marks = synthetic()
    assert pupils.problems_in(roster, marks, CALENDAR, YEAR) == []
    rows = pupils.aggregate(roster, marks, CALENDAR, YEAR)
    expected = by_hand(roster, marks)
    assert len(rows) == len(expected) and list(rows.columns) == [c.name for c in contract.ABSENCES.columns]
    for row in rows.itertuples(index=False):
        cell = expected[(row.school_id, row.month, row.grade)]
        assert row.lesson_hours == round(cell["lesson_hours"])
        for column in ("illness_hours", "authorised_hours", "unauthorised_hours", "pupils",
                       "tier1_pupils", "tier2_pupils", "tier3_pupils"):
            assert getattr(row, column) == round(cell[column]), (row.school_id, row.month, row.grade, column)
        assert row.pupil_share_squares == pytest.approx(cell["pupil_share_squares"], abs=1e-3)
    # The planted structure is there: pupils in every tier, absence in every category.
    assert rows[["tier1_pupils", "tier2_pupils", "tier3_pupils"]].sum().min() > 0
    assert rows[["illness_hours", "authorised_hours", "unauthorised_hours"]].sum().min() > 0
    assert not rows.astype(str).apply(lambda c: c.str.contains("oppilas-")).any().any()  # no pupil in the output


def test_school_days_are_weekdays_of_terms_less_holidays_plus_extra_days():
    days = pupils.school_days(CALENDAR, YEAR, "00001")
    assert date(2024, 8, 8) in days and date(2024, 8, 10) not in days  # a Saturday
    assert date(2024, 9, 28) in days  # the Saturday school day
    assert not [d for d in days if date(2024, 10, 14) <= d <= date(2024, 10, 18)]
    assert len([d for d in days if d.month == 8]) == 17  # 8.-30.8.2024 (the 31st is a Saturday)
    own = pd.concat([CALENDAR, pd.DataFrame([("holiday", date(2024, 8, 8), date(2024, 8, 9), YEAR)],
                                            columns=["kind", "start", "end", "school_year"])])
    own = own.assign(school_id=["*"] * len(CALENDAR) + ["00002"])
    assert date(2024, 8, 8) in pupils.school_days(own, YEAR, "00001")
    assert pupils.school_days(own, YEAR, "00002") == []  # a school with rows of its own uses only them


def test_the_decree_in_force_gives_the_minimum_weekly_hours():
    assert pupils.minimum_weekly_hours(1, date(2019, 9, 1)) == 19  # VNA 423/2012
    assert pupils.minimum_weekly_hours(1, date(2020, 1, 7)) == 20  # VNA 794/2018
    assert pupils.minimum_weekly_hours(7, date(2024, 6, 1)) == 29
    assert pupils.minimum_weekly_hours(7, date(2024, 8, 1)) == 30  # VNA 112/2023
    timetable = pd.DataFrame({"school_id": ["00001"], "grade": [7], "weekly_hours": [32.0]})
    roster, marks = synthetic()
    with_timetable = pupils.aggregate(roster, marks, CALENDAR, YEAR, timetable)
    default = pupils.aggregate(roster, marks, CALENDAR, YEAR)
    seventh = (default["school_id"] == "00001") & (default["grade"] == 7)
    assert (with_timetable.loc[seventh, "lesson_hours"] > default.loc[seventh, "lesson_hours"]).all()
    assert with_timetable.loc[~seventh, "lesson_hours"].tolist() == default.loc[~seventh, "lesson_hours"].tolist()


def test_each_impossible_input_is_located_by_file_row_and_column_and_never_names_the_pupil():
    roster, marks = synthetic(size=12)
    roster = pd.concat([roster, pd.DataFrame([
        ("oppilas-900", "00001", 10, None, None, "oppilaat.csv", 90),  # no grade 10
        ("oppilas-901", "00001", 7, date(2025, 3, 1), date(2025, 2, 1), "oppilaat.csv", 91),  # ends first
        ("oppilas-002", "00002", 8, date(2025, 1, 1), None, "oppilaat.csv", 92),  # a second grade at once
    ], columns=roster.columns)], ignore_index=True)
    marks = pd.concat([marks, pd.DataFrame([
        ("oppilas-003", date(2024, 10, 15), 2, "illness", "poissaolot.csv", 900),  # autumn holiday
        ("oppilas-777", date(2024, 9, 2), 2, "illness", "poissaolot.csv", 901),  # not in the roster
        ("oppilas-004", date(2024, 9, 3), 0, "illness", "poissaolot.csv", 902),
        ("oppilas-004", date(2024, 9, 4), 12, "illness", "poissaolot.csv", 903),
        ("oppilas-011", date(2024, 9, 5), 1, "illness", "poissaolot.csv", 904),  # arrived in October
    ], columns=marks.columns)], ignore_index=True)
    found = {(p.file, p.row, p.column, p.code) for p in pupils.problems_in(roster, marks, CALENDAR, YEAR)}
    # A day's marks that add up to more than a day holds are all pointed at.
    same_day = marks[(marks["pupil"] == "oppilas-004") & (marks["date"] == date(2024, 9, 4)) & (marks["row"] < 900)]
    assert found == {*(("poissaolot.csv", int(r), "hours", "impossible_hours") for r in same_day["row"]),
        ("oppilaat.csv", 90, "grade", "bad_grade"),
        ("oppilaat.csv", 91, "end", "ends_before_start"),
        ("oppilaat.csv", 92, "start", "enrolled_twice"),
        ("poissaolot.csv", 900, "date", "not_a_school_day"),
        ("poissaolot.csv", 901, "pupil", "pupil_not_in_roster"),
        ("poissaolot.csv", 902, "hours", "impossible_hours"),
        ("poissaolot.csv", 903, "hours", "impossible_hours"),
        ("poissaolot.csv", 904, "date", "outside_enrolment"),
    }
    assert not [p for p in pupils.problems_in(roster, marks, CALENDAR, YEAR) if "oppilas" in repr(p)]
