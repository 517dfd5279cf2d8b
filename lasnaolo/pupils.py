"""Pupil-level absence turned into the contract's absences.csv, the same way for everyone.

A student-information system (Wilma / Primus and the like) records absence markings, not how
many lessons a pupil could have attended, so the denominator is computed here:

* **School days** come from the school calendar: weekdays inside a term, less holidays, plus any
  extra school day (a Saturday school day). One calendar serves every school unless a school has
  rows of its own.
* **Scheduled lesson hours** of a pupil on a school day are the weekly lesson hours of the
  pupil's grade divided by five: by default the national minimum in force that day (the decree on
  the weekly amount of basic education, `MINIMUM_WEEKLY_HOURS`), or the school's own timetable
  where one is given. Only days inside the pupil's enrolment count.
* **Tiers** are the attendance model's, per pupil: the pupil's absent hours so far this school
  year divided by their scheduled hours so far, at each month's end (`contract.TierThresholds`).

Everything is computed in memory from frames whose columns already carry the canonical names
below (`lasnaolo.pupil_import` reads files and applies a mapping). Pupil identifiers are used
only to group a pupil's rows: they are never returned, and problems name the row, never the pupil.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lasnaolo import contract
from lasnaolo.importer import Problem

CATEGORIES = ("illness", "authorised", "unauthorised")
ALL_SCHOOLS = "*"  # a calendar row for every school (a school's own rows add to these)


@dataclass(frozen=True)
class Decree:
    """The minimum weekly lesson hours per grade in force from `since` (perusopetusasetus 3 §)."""

    since: date
    hours: Mapping[int, float]
    source: str


# Perusopetusasetus (852/1998) 3 § 1 mom. as amended: "keskimäärin vähintään ... tuntia työviikossa".
DECREES = (
    Decree(date(2012, 8, 1), {1: 19, 2: 19, 3: 22, 4: 24, 5: 25, 6: 25, 7: 29, 8: 29, 9: 30}, "VNA 423/2012"),
    Decree(date(2020, 1, 1), {1: 20, 2: 20, 3: 22, 4: 24, 5: 25, 6: 25, 7: 29, 8: 29, 9: 30}, "VNA 794/2018"),
    Decree(date(2024, 8, 1), {1: 20, 2: 20, 3: 22, 4: 24, 5: 25, 6: 25, 7: 30, 8: 29, 9: 30}, "VNA 112/2023"),
)


def minimum_weekly_hours(grade: int, day: date) -> float:
    """The national minimum weekly lesson hours of a grade on a day (the decree then in force)."""
    in_force = [d for d in DECREES if d.since <= day]
    if not in_force:
        raise ValueError(f"no decree on lesson hours covers {day.isoformat()}")
    return float(in_force[-1].hours[grade])


class PupilDataError(ValueError):
    """The input cannot be aggregated; `problems` says where and why. Nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the pupil-level input")


# --- the calendar -------------------------------------------------------------------------------


def public_holidays(school_year: str) -> set[date]:
    """Finland's public holidays that can fall on a school day (never school days): Independence
    Day, Christmas Eve to Boxing Day, New Year's Day, Epiphany, Good Friday, Easter Monday, May Day
    and Ascension Day."""
    from dateutil.easter import easter

    autumn = contract.parse_school_year(school_year)
    easter_sunday = easter(autumn + 1)
    return {date(autumn, 12, 6), date(autumn, 12, 24), date(autumn, 12, 25), date(autumn, 12, 26),
            date(autumn + 1, 1, 1), date(autumn + 1, 1, 6), easter_sunday - timedelta(2), easter_sunday + timedelta(1),
            date(autumn + 1, 5, 1), easter_sunday + timedelta(39)}


def school_days(calendar: pd.DataFrame, school_year: str, school_id: str) -> list[date]:
    """The school's school days of a school year. `calendar` has school_year, kind ('term',
    'holiday' or 'school_day'), start, end (dates) and optionally school_id ('*' or empty: every
    school). A school's own rows add to the shared ones (its own holiday week, an extra Saturday):
    weekdays of every term, less public holidays and every holiday, plus every extra school day."""
    rows = calendar[calendar["school_year"] == school_year]
    ids = rows["school_id"].fillna(ALL_SCHOOLS).replace("", ALL_SCHOOLS) if "school_id" in rows else pd.Series(
        ALL_SCHOOLS, index=rows.index)
    rows = rows[ids.isin([ALL_SCHOOLS, school_id])]
    days: set[date] = set()
    for kind in ("term", "holiday", "school_day"):  # terms first, then holidays out, extra days in
        for start, end in rows.loc[rows["kind"] == kind, ["start", "end"]].itertuples(index=False):
            span = {start + timedelta(n) for n in range((end - start).days + 1)}
            if kind == "term":
                days |= {d for d in span if d.weekday() < 5}
                days -= public_holidays(school_year)
            elif kind == "holiday":
                days -= span
            else:
                days |= span
    return sorted(days)


class SchoolCalendar:
    """One school year's school days per school, each school's computed once (checks and the
    aggregation ask for them per pupil and month)."""

    def __init__(self, calendar: pd.DataFrame, school_year: str):
        self.calendar, self.school_year = calendar, school_year
        self._days: dict[str, list[date]] = {}
        self._day_sets: dict[str, set[date]] = {}
        self._month_ends: dict[str, dict[str, date]] = {}
        self._schedules: dict[tuple, tuple[list[date], list[str], np.ndarray]] = {}

    def days(self, school_id: str) -> list[date]:
        if school_id not in self._days:
            self._days[school_id] = school_days(self.calendar, self.school_year, school_id)
        return self._days[school_id]

    def is_school_day(self, school_id: str, day: date) -> bool:
        if school_id not in self._day_sets:
            self._day_sets[school_id] = set(self.days(school_id))
        return day in self._day_sets[school_id]

    def month_end(self, school_id: str, month: str) -> date | None:
        """The month's last school day (a pupil enrolled then counts in the month's row)."""
        if school_id not in self._month_ends:
            self._month_ends[school_id] = {d.strftime("%Y-%m"): d for d in self.days(school_id)}  # sorted: last wins
        return self._month_ends[school_id].get(month)

    def scheduled_by_month(self, school_id: str, grade: int, start: date, end: date,
                           timetable: pd.DataFrame | None) -> dict[str, float]:
        """A pupil's scheduled lesson hours per month while enrolled from `start` to `end`."""
        key = (school_id, int(grade), id(timetable))
        if key not in self._schedules:  # a grade's day-by-day hours, once per school (thousands of pupils share them)
            days = self.days(school_id)
            self._schedules[key] = (days, [d.strftime("%Y-%m") for d in days],
                                    _daily_hours(int(grade), days, school_id, timetable) if days else np.array([]))
        days, months, amounts = self._schedules[key]
        out: dict[str, float] = {}
        for month, amount in zip(months[bisect_left(days, start):bisect_right(days, end)],
                                 amounts[bisect_left(days, start):bisect_right(days, end)]):
            out[month] = out.get(month, 0.0) + amount
        return out


def calendar_problems(calendar: pd.DataFrame) -> list[Problem]:
    """A calendar row outside its school year's teaching months (August to June): a row copied
    from another year would silently drop or add days."""
    problems = []
    for index, (year, start, end) in zip(calendar.index, calendar[["school_year", "start", "end"]].itertuples(index=False)):
        autumn = contract.parse_school_year(str(year))
        if autumn is None or start is None or end is None:
            continue
        for column, day in (("start", start), ("end", end)):
            if not date(autumn, 8, 1) <= day <= date(autumn + 1, 6, 30):
                problems.append(Problem(calendar.at[index, "file"], int(calendar.at[index, "row"]), column, None,
                                        "calendar_outside_year", (("school_year", year),)))
        if start > end:
            problems.append(Problem(calendar.at[index, "file"], int(calendar.at[index, "row"]), "end", None,
                                    "end_before_start"))
    return problems


# --- checks -------------------------------------------------------------------------------------

MAX_HOURS_A_DAY = 10  # more marked absence in one day than any timetable holds is a data error


def problems_in(roster: pd.DataFrame, marks: pd.DataFrame, calendar: pd.DataFrame, school_year: str,
                timetable: pd.DataFrame | None = None) -> list[Problem]:
    """Everything that would make the aggregates wrong, located by file and row (`file` and `row`
    columns of the frames): a grade outside 1-9, an enrolment that ends before it starts, a pupil
    enrolled twice at once (two grades or schools on the same day), a marking of a pupil the roster
    does not hold, on a day that is not a school day of the pupil's school or outside the pupil's
    enrolment, and hours that are not a positive amount a day can hold."""
    problems: list[Problem] = []
    first, last = year_bounds(school_year)
    starts = roster["start"].where(roster["start"].notna(), first) if "start" in roster else pd.Series(first, index=roster.index)
    ends = roster["end"].where(roster["end"].notna(), last) if "end" in roster else pd.Series(last, index=roster.index)
    for index in roster.index:
        where = (roster.at[index, "file"], int(roster.at[index, "row"]))
        if roster.at[index, "grade"] not in range(1, 10):
            problems.append(Problem(*where, "grade", None, "grade_range"))
        if starts[index] > ends[index]:
            problems.append(Problem(*where, "end", None, "end_before_start"))
    several = roster["pupil"].duplicated(keep=False)  # only a pupil with several enrolments can overlap
    for _, rows in roster.assign(start_=starts, end_=ends)[several].groupby("pupil"):
        ordered = rows.sort_values("start_")
        # Against the latest end so far: an enrolment nested inside an earlier one overlaps too.
        latest_end = ordered["end_"].cummax().shift(1)
        overlapping = (ordered["start_"] <= latest_end).to_numpy()[1:]
        for index in ordered.index[1:][overlapping]:
            problems.append(Problem(roster.at[index, "file"], int(roster.at[index, "row"]), "start", None, "enrolled_twice"))
        # Two grades within one month: a month's row of each would count the pupil's month in part.
        grades_by_month: dict[str, set[int]] = {}
        flagged = set(ordered.index[1:][overlapping])  # already said: enrolled twice at once
        for index, (grade, start, end) in zip(ordered.index, ordered[["grade", "start_", "end_"]].itertuples(index=False)):
            months = {f"{y}-{m:02d}" for y, m in pd.period_range(start, end, freq="M").map(lambda p: (p.year, p.month))}
            if index not in flagged and any(grades_by_month.get(month, {grade}) != {grade} for month in months):
                problems.append(Problem(roster.at[index, "file"], int(roster.at[index, "row"]), "grade", None,
                                        "two_grades_in_month"))
            for month in months:
                grades_by_month.setdefault(month, set()).add(grade)

    # The markings, checked together: one row each (a loop over them took a minute for a town).
    school_calendar = SchoolCalendar(calendar, school_year)
    # A marking covers one day, or a month's school days (a wide export's month total, `days`):
    # a day's worth of hours is allowed for each day covered.
    covered = marks["days"] if "days" in marks else pd.Series(1, index=marks.index)
    marked_per_day = marks.groupby(["pupil", "date"])["hours"].transform("sum")
    allowed_per_day = covered.groupby([marks["pupil"], marks["date"]]).transform("sum") * MAX_HOURS_A_DAY
    impossible = ~(marks["hours"] > 0) | (marked_per_day > allowed_per_day)
    unknown = ~impossible & ~marks["pupil"].isin(set(roster["pupil"]))
    candidates = (marks.loc[~impossible & ~unknown, ["pupil", "date"]].rename_axis("mark").reset_index()
                  .merge(roster.assign(start_=starts, end_=ends)[["pupil", "school_id", "start_", "end_"]], on="pupil"))
    inside = candidates[(candidates["start_"] <= candidates["date"]) & (candidates["end_"] >= candidates["date"])]
    inside = inside.drop_duplicates("mark")  # enrolled twice at once is said above
    outside = marks.index[~impossible & ~unknown & ~marks.index.isin(inside["mark"])]
    not_school_day = [mark for mark, school_id, day in inside[["mark", "school_id", "date"]].itertuples(index=False)
                      if not school_calendar.is_school_day(school_id, day)]
    located = ([(i, "hours", "impossible_hours", (("most", MAX_HOURS_A_DAY),)) for i in marks.index[impossible]]
               + [(i, "pupil", "pupil_not_in_roster", ()) for i in marks.index[unknown]]  # never the pupil
               + [(i, "date", "outside_enrolment", ()) for i in outside]
               + [(i, "date", "not_a_school_day", ()) for i in not_school_day])
    for index, column, code, parameters in sorted(located, key=lambda found: marks.index.get_loc(found[0])):
        problems.append(Problem(marks.at[index, "file"], int(marks.at[index, "row"]), column, None, code, parameters))
    if not problems:
        problems += _beyond_schedule(roster.assign(start=starts, end=ends), marks, school_calendar, timetable)
    return problems


def _beyond_schedule(roster: pd.DataFrame, marks: pd.DataFrame, school_calendar: SchoolCalendar,
                     timetable: pd.DataFrame | None) -> list[Problem]:
    """A pupil marked absent for more hours in a month than scheduled for them: the output would
    read over 100 % (and the importer refuses it). Usually the school's timetable exceeds the
    national minimum: give the timetable. Located at the month's first marking of the pupil."""
    if marks.empty:
        return []
    scheduled: dict[tuple[str, str], float] = {}
    for pupil, school_id, grade, start, end in roster[["pupil", "school_id", "grade", "start", "end"]].itertuples(index=False):
        for month, amount in school_calendar.scheduled_by_month(school_id, grade, start, end, timetable).items():
            scheduled[(pupil, month)] = scheduled.get((pupil, month), 0.0) + amount
    problems = []
    months = marks.assign(month=[d.strftime("%Y-%m") for d in marks["date"]])
    for (pupil, month), rows in months.groupby(["pupil", "month"]):
        if rows["hours"].sum() > scheduled.get((pupil, month), 0.0) + 1e-9:
            first = rows.sort_values(["file", "row"]).iloc[0]
            problems.append(Problem(first["file"], int(first["row"]), "hours", None, "hours_beyond_schedule"))
    return problems


# --- the aggregation ----------------------------------------------------------------------------


def _daily_hours(grade: int, days: list[date], school_id: str, timetable: pd.DataFrame | None) -> np.ndarray:
    """Scheduled lesson hours of a pupil of `grade` on each day: the timetable's weekly hours for
    the school and grade where given, else the national minimum that day; a fifth of a week each."""
    if timetable is not None and not timetable.empty:
        own = timetable[(timetable["school_id"] == school_id) & (timetable["grade"] == grade)]
        if not own.empty:
            return np.full(len(days), float(own["weekly_hours"].iloc[0]) / 5)
    return np.array([minimum_weekly_hours(grade, d) / 5 for d in days])


def aggregate(roster: pd.DataFrame, marks: pd.DataFrame, calendar: pd.DataFrame, school_year: str,
              timetable: pd.DataFrame | None = None,
              thresholds: contract.TierThresholds = contract.TierThresholds()) -> pd.DataFrame:
    """The contract's absences rows (school × month × grade) of one school year.

    `roster`: one row per pupil and enrolment: pupil, school_id, grade, and optionally start / end
    (dates; empty = the whole school year). A pupil who changes grade or school has one row per
    enrolment. `marks`: pupil, date, hours, category (illness / authorised / unauthorised).
    `calendar` and `timetable` (school_id, grade, weekly_hours) as in `school_days` and
    `_daily_hours`. Pupils with no marking count with zero absence: the roster is the denominator.

    A pupil counts in a month's row where enrolled at the month's end (`pupils`, tiers); their
    scheduled and absent hours count in the row of the enrolment they fell in."""
    months = contract.months_of_school_year(school_year)
    first, last = year_bounds(school_year)
    enrolments = roster.assign(
        start=roster["start"].where(roster["start"].notna(), first) if "start" in roster else first,
        end=roster["end"].where(roster["end"].notna(), last) if "end" in roster else last,
    ).reset_index(drop=True)
    marks = marks.assign(month=[d.strftime("%Y-%m") for d in marks["date"]])

    # Per enrolment and month: scheduled hours, and whether the pupil is enrolled at month end.
    school_calendar = SchoolCalendar(calendar, school_year)
    scheduled = np.zeros((len(enrolments), len(months)))
    at_month_end = np.zeros((len(enrolments), len(months)), dtype=bool)
    month_of = {m: i for i, m in enumerate(months)}
    for row, (school_id, grade, start, end) in enumerate(
            enrolments[["school_id", "grade", "start", "end"]].itertuples(index=False)):
        for month, amount in school_calendar.scheduled_by_month(school_id, grade, start, end, timetable).items():
            scheduled[row, month_of[month]] += amount
        for i, month in enumerate(months):
            month_end = school_calendar.month_end(school_id, month)
            at_month_end[row, i] = month_end is not None and start <= month_end <= end

    # Absent hours per enrolment, month and category: each marking goes to the enrolment it fell in.
    absent = np.zeros((len(enrolments), len(months), len(CATEGORIES)))
    by_pupil = enrolments.groupby("pupil").indices
    for pupil, day, hours, category, month in marks[["pupil", "date", "hours", "category", "month"]].itertuples(index=False):
        for row in by_pupil.get(pupil, ()):
            if enrolments.at[row, "start"] <= day <= enrolments.at[row, "end"] and month in month_of:
                absent[row, month_of[month], CATEGORIES.index(category)] += hours
                break

    # Year-to-date shares per pupil (over all of the pupil's enrolments) at each month end.
    pupil_codes = enrolments["pupil"].map({p: i for i, p in enumerate(by_pupil)}).to_numpy()
    pupil_scheduled = np.zeros((len(by_pupil), len(months)))
    pupil_absent = np.zeros((len(by_pupil), len(months)))
    np.add.at(pupil_scheduled, pupil_codes, scheduled)
    np.add.at(pupil_absent, pupil_codes, absent.sum(axis=2))
    cumulative_scheduled = pupil_scheduled.cumsum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cumulative_scheduled > 0, pupil_absent.cumsum(axis=1) / cumulative_scheduled * 100, 0.0)
    # Sums of day fractions (4,4 hours a day) are not exact in binary: 11 of 110 hours would read
    # 9.999999999999998 % and fall a tier short. Rounded far below any meaningful share first.
    share = np.round(share, 9)
    tier = np.vectorize(thresholds.tier_of)(share)

    rows = []
    keys = enrolments[["school_id", "grade"]].astype({"grade": int})
    for (school_id, grade), members in keys.groupby(["school_id", "grade"]).groups.items():
        members = np.asarray(members)
        for i, month in enumerate(months):
            counted = members[at_month_end[members, i]]
            hours = scheduled[members, i].sum()
            if len(counted) == 0 and hours == 0:
                continue
            pupil_share = share[pupil_codes[counted], i]
            pupil_tier = tier[pupil_codes[counted], i]
            rows.append({
                "school_id": school_id, "school_year": school_year, "month": month, "grade": int(grade),
                "pupils": int(len(counted)), "lesson_hours": _whole(hours),
                **dict(zip((f"{c}_hours" for c in CATEGORIES), _apportioned(absent[members, i, :].sum(axis=0)))),
                **{f"tier{t}_pupils": int((pupil_tier == t).sum()) for t in contract.TIERS},
                contract.SQUARES_COLUMN: round(float((pupil_share ** 2).sum()), 4),
            })
    columns = [c.name for c in contract.ABSENCES.columns]
    return pd.DataFrame(rows, columns=columns).sort_values(["school_id", "month", "grade"], ignore_index=True)


def _whole(hours: float) -> int:
    """Lesson hours as the contract counts them: whole hours (a day's fifth of a week rounds here,
    once per cell, not per pupil and day)."""
    return int(np.floor(hours + 0.5))  # half up: 0,5 hours is an hour, as people count


def _apportioned(hours: np.ndarray) -> list[int]:
    """Whole hours per category adding up to the rounded total (largest remainders): rounding each
    on its own could make 2,5 + 1,5 into 3 + 2, more than the 4,4 lesson hours they came from."""
    total = _whole(float(hours.sum()))
    whole = np.floor(hours).astype(int)
    for k in np.argsort(-(hours - whole), kind="stable")[: max(total - int(whole.sum()), 0)]:
        whole[k] += 1
    return [int(v) for v in whole]


def year_bounds(school_year: str) -> tuple[date, date]:
    """1 August to 31 July: the days a school year's enrolments and markings may fall on."""
    autumn = contract.parse_school_year(school_year)
    return date(autumn, 8, 1), date(autumn + 1, 7, 31)
