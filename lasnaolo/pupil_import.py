"""Reading pupil-level exports as they come (issue 19): a roster and absence markings in a
student-information system's own headers, `;` or `,`, UTF-8 / BOM / Windows-1252, decimal comma
and Finnish dates, turned by a mapping into the frames `lasnaolo.pupils` aggregates; the school
calendar and an optional timetable. Rows are read into memory only: nothing is written, and a
problem names the file, row and column, never a pupil.
"""

from __future__ import annotations

import csv
import hashlib
import re
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from lasnaolo import contract, importer, pupils
from lasnaolo.importer import Problem, ProblemList

OPEN_END_DATES = ("31.12.9999", "9999-12-31")
SHOWN_REASON_PUPILS = 10  # an unknown reason text is shown only when this many pupils have it (not a family)
# Markings without an hours column are one lesson each (an export of one row per missed lesson).
REQUIRED = {"roster": ("pupil", "school_id", "grade"), "marks": ("pupil", "date", "reason"),
            "marks_wide": ("pupil", "period")}
# A school's column may be headed as in the roster (the preset's names) in the calendar and timetable too.
SCHOOL_HEADERS = ("school_id", "school", "koulu", "koulun tunnus", "koulukoodi", "skola", "skolkod")
CALENDAR_COLUMNS = {"school_year": ("school_year", "lukuvuosi", "läsår"), "kind": ("kind", "tyyppi", "typ"),
                    "start": ("start", "alkaa", "alkupäivä", "börjar"), "end": ("end", "päättyy", "loppupäivä", "slutar"),
                    "school_id": SCHOOL_HEADERS}
CALENDAR_KINDS = {"term": "term", "lukukausi": "term", "termin": "term",
                  "holiday": "holiday", "loma": "holiday", "lov": "holiday",
                  "school_day": "school_day", "koulupäivä": "school_day", "skoldag": "school_day"}
# A grade's weekly lesson hours in a timetable: the decrees' minima are 19-30; a school may add a
# few. Outside this a cell is a typo (2 for 22) that would read every pupil far absent.
WEEKLY_HOURS_RANGE = (15, 40)
# An official school code (Opetushallinnon oppilaitosnumero): five digits. Anything else in the
# roster's school column is a typo or another column (a name) and is never passed on.
SCHOOL_CODE = re.compile(r"[0-9]{5}")  # ASCII digits: \d would take ١٢٣٤٥
TIMETABLE_COLUMNS = {"school_id": SCHOOL_HEADERS, "grade": ("grade", "luokka-aste", "vuosiluokka", "årskurs"),
                     "weekly_hours": ("weekly_hours", "viikkotunnit", "veckotimmar")}


@dataclass(frozen=True)
class ExportMapping:
    """Which headers name which column, and which reason texts are which category."""

    name: str
    columns: Mapping[str, Mapping[str, tuple[str, ...]]]  # 'roster' / 'marks' -> column -> headers
    reasons: Mapping[str, str]  # reason text, case-folded -> category

    @classmethod
    def from_yaml(cls, text: str, name: str) -> "ExportMapping":
        """The mapping in a YAML text; a ValueError that names what is wrong, never quoting the
        text (a pupil file given by mistake must not be printed)."""
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as error:
            line = getattr(getattr(error, "problem_mark", None), "line", None)
            raise ValueError(f"{name}: not valid YAML" + (f" (line {line + 1})" if line is not None else "")) from None
        if not isinstance(spec, dict) or not all(isinstance(spec.get(part), dict) for part in ("roster", "marks", "reasons")):
            raise ValueError(f"{name}: a mapping needs the sections roster, marks and reasons")
        for part in ("roster", "marks", "marks_wide", "reasons"):
            for key, listed in (spec.get(part) or {}).items():
                if not isinstance(listed, list):
                    raise ValueError(f"{name}: {part}.{key} must be a list")
                if not all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in listed):
                    raise ValueError(f"{name}: {part}.{key} must list texts only")
        columns = {part: {column: tuple(_fold(h) for h in headers) for column, headers in spec[part].items()}
                   for part in ("roster", "marks", "marks_wide") if isinstance(spec.get(part), dict)}
        reasons: dict[str, str] = {}
        for category, texts in spec["reasons"].items():
            if category not in pupils.CATEGORIES:
                raise ValueError(f"{name}: {category!r} is not a category ({', '.join(pupils.CATEGORIES)})")
            for text in map(_fold, texts):
                if reasons.get(text, category) != category:  # the last one would win silently
                    raise ValueError(f"{name}: a reason text is listed under both {reasons[text]} and {category}")
                reasons[text] = category
        return cls(str(spec.get("name", name)), columns, reasons)


PRESETS = ("wilma",)


def load_mapping(name_or_path: str) -> ExportMapping:
    """A preset by name (`PRESETS`) or a mapping file (YAML) by path."""
    if name_or_path in PRESETS:
        text = resources.files("lasnaolo.templates").joinpath(f"mapping-{name_or_path}.yaml").read_text(encoding="utf-8")
        return ExportMapping.from_yaml(text, name_or_path)
    return ExportMapping.from_yaml(Path(name_or_path).read_text(encoding="utf-8"), name_or_path)


def _fold(text: object) -> str:
    return " ".join(str(text).split()).casefold()


def _table(name: str, data: bytes, problems: ProblemList) -> pd.DataFrame | None:
    """The file's cells as text, headers as written; rows keep their place in the file."""
    text = importer.decode(name, data, problems)
    if text is None:
        return None
    if "\n" not in text:  # old Mac line ends (CR only)
        text = text.replace("\r", "\n")
    header = text.split("\n", 1)[0]
    delimiter = importer.detect_delimiter(header)
    if delimiter is None:
        problems.add(Problem(name, 1, None, None, "no_delimiter"))
        return None
    # A row with more or fewer fields than the header (an unquoted "Sukunimi, Etunimi" in a comma
    # file) is located, never shifted or repeated: the row may hold a name.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    before = problems.total
    record_lines = []  # the file's line where each data row starts: blank lines are skipped, not counted
    try:
        width, start = None, 1
        for record in reader:
            if width is None:
                width = len(record)
            elif record:
                record_lines.append(start)
                if len(record) != width:
                    problems.add(Problem(name, start, None, None, "ragged_row",
                                         (("fields", len(record)), ("width", width), ("delimiter", delimiter))))
            start = reader.line_num + 1
    except csv.Error:
        problems.add(Problem(name, reader.line_num, None, None, "unreadable_csv"))
    if problems.total > before:
        return None
    try:
        # index_col=False: the first column is data, never an index.
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, index_col=False,
                            on_bad_lines="error")
    except (pd.errors.ParserError, ValueError):  # the parser's message may quote a cell: not shown
        problems.add(Problem(name, None, None, None, "unreadable_csv"))
        return None
    if len(record_lines) != len(frame):  # the two readers disagree on what a row is: say so, never misplace
        problems.add(Problem(name, None, None, None, "unreadable_csv"))
        return None
    # A trailing delimiter (as spreadsheets save) makes an empty, unnamed last column: dropped.
    unnamed = [h for h in frame.columns if str(h).startswith("Unnamed: ") and frame[h].str.strip().eq("").all()]
    return frame.drop(columns=unnamed).assign(file=name, row=record_lines)


def _columns(frame: pd.DataFrame, wanted: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Canonical column -> the file's header, for the headers the file has."""
    by_fold = {_fold(h): h for h in frame.columns if h not in ("file", "row")}
    return {column: by_fold[h] for column, headers in wanted.items() for h in headers if h in by_fold}


def parse_date(text: str) -> date | None:
    """'2024-09-02', '2.9.2024' or '02.09.2024', with or without a time after it ('2.9.2024 8:15')."""
    text = text.strip().split(" ")[0].split("T")[0]
    for layout in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, layout).date()
        except ValueError:
            continue
        return day if 1990 <= day.year <= 2100 else None  # 31.12.9999 ("no end") is no school day
    return None


def _typed(frame: pd.DataFrame, found: dict[str, str], problems: ProblemList) -> pd.DataFrame:
    """Dates, hours and grades from their text; a cell that is none is a located problem."""
    out = pd.DataFrame({"file": frame["file"], "row": frame["row"]})
    for column, header in found.items():
        cells = frame[header].str.strip()
        if column in ("date", "start", "end"):
            if column == "end":  # 31.12.9999, as systems write "no end": an open enrolment
                cells = cells.where(~cells.isin(OPEN_END_DATES), "")
            values = cells.map(lambda v: parse_date(v) if v else None)
            bad = cells.ne("") & values.isna() if column != "date" else values.isna()
            code = "not_date"
        elif column == "hours":
            values = pd.to_numeric(cells.str.replace(",", ".", regex=False).str.replace("\u00a0", "", regex=False), errors="coerce")
            bad, code = values.isna(), "not_number"
        elif column == "grade":
            values = pd.to_numeric(cells, errors="coerce")
            bad, code = ~values.between(-1000, 1000) | (values % 1 != 0), "not_integer"  # between: no NaN, no inf
            values = values.where(~bad, 0).astype(int)
        else:
            values = cells
            bad, code = cells.eq(""), "missing_value"
        for row in frame.loc[bad, "row"]:
            # No cell is repeated in a problem: in a malformed export any column may hold a name.
            problems.add(Problem(frame["file"].iloc[0], int(row), header, None, code))
        out[column] = values
    return out


def parse_period(text: str) -> str | None:
    """A month as exports write it: '2024-09', '9/2024', '09/2024' or '9.2024' -> '2024-09'."""
    text = text.strip()
    for layout in ("%Y-%m", "%m/%Y", "%m.%Y"):
        try:
            return datetime.strptime(text, layout).strftime("%Y-%m")
        except ValueError:
            continue
    return None


def _wide_marks(frame: pd.DataFrame, found: dict[str, str], reason_headers: list[str], mapping: ExportMapping,
                problems: ProblemList) -> pd.DataFrame:
    """One row per pupil and month with a column of hours per reason, as markings of whole
    months (`month`; the day is found from the calendar and the roster when aggregating)."""
    name = frame["file"].iloc[0] if len(frame) else "-"
    months = frame[found["period"]].map(parse_period)
    # Every other column must be a reason the mapping knows: hours under an unknown one would be lost.
    known = {found["pupil"], found["period"], "file", "row", *reason_headers}
    for header in (h for h in frame.columns if h not in known):
        problems.add(Problem(name, importer.HEADER_LINE, header, str(header), "unknown_reason", (("mapping", mapping.name),)))
    for row in frame.loc[months.isna(), "row"]:
        problems.add(Problem(name, int(row), found["period"], None, "not_month"))
    # One row per pupil and month: a repeated one would count its hours twice.
    repeated = months.notna() & pd.Series(list(zip(frame[found["pupil"]].str.strip(), months)), index=frame.index).duplicated()
    for row in frame.loc[repeated, "row"]:
        problems.add(Problem(name, int(row), found["period"], None, "duplicate_key", (("key", "pupil, month"),)))
    parts = []
    for header in reason_headers:
        hours = pd.to_numeric(frame[header].str.strip().replace("", "0").str.replace(",", ".", regex=False)
                              .str.replace("\u00a0", "", regex=False), errors="coerce")
        for row in frame.loc[hours.isna() | (hours < 0), "row"]:
            problems.add(Problem(name, int(row), header, None, "not_number"))
        kept = hours.fillna(0) > 0
        parts.append(pd.DataFrame({"file": frame["file"], "row": frame["row"], "pupil": frame[found["pupil"]].str.strip(),
                                   "date": None, "month": months, "hours": hours,
                                   "reason": header, "category": mapping.reasons[_fold(header)]})[kept & months.notna()])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def read_export(name: str, data: bytes, mapping: ExportMapping, problems: ProblemList) -> tuple[str, pd.DataFrame] | None:
    """('roster' | 'marks', its rows in the canonical columns) from one exported file."""
    frame = _table(name, data, problems)
    if frame is None:
        return None
    if "marks_wide" in mapping.columns:
        found = _columns(frame, mapping.columns["marks_wide"])
        reason_headers = [h for h in frame.columns if h not in ("file", "row") and _fold(h) in mapping.reasons]
        if all(column in found for column in REQUIRED["marks_wide"]) and reason_headers:
            return "marks", _wide_marks(frame, found, reason_headers, mapping, problems)
    for kind in ("marks", "roster"):
        found = _columns(frame, mapping.columns[kind])
        if all(column in found for column in REQUIRED[kind]):
            typed = _typed(frame, found, problems)
            if kind == "marks" and "hours" not in found:
                typed["hours"] = 1.0
            if kind == "marks":
                folded = frame[found["reason"]].map(_fold)
                typed["category"] = folded.map(mapping.reasons)
                unknown = frame.loc[typed["category"].isna()]
                for text, rows in unknown.groupby(found["reason"]):
                    first = int(rows["row"].iloc[0])
                    # A reason text many pupils share is a category and is listed; a rare one may be
                    # free text (a name) and is pointed at without being shown.
                    if rows[found["pupil"]].nunique() >= SHOWN_REASON_PUPILS:
                        problems.add(Problem(name, first, found["reason"], str(text), "unknown_reason",
                                             (("mapping", mapping.name),)))
                    else:
                        problems.add(Problem(name, first, found["reason"], None, "unknown_reason_rare",
                                             (("mapping", mapping.name), ("pupils", SHOWN_REASON_PUPILS))))
            return kind, typed
    missing = [c for c in REQUIRED["roster"] if c not in _columns(frame, mapping.columns["roster"])]
    problems.add(Problem(name, 1, ", ".join(missing), None, "not_an_export", (("mapping", mapping.name),)))
    return None


def _file_with(name: str, data: bytes, columns: Mapping[str, Sequence[str]], required: Sequence[str],
               problems: ProblemList) -> tuple[pd.DataFrame, dict[str, str]] | None:
    """A calendar's or timetable's cells and which header is which column; None (located) when a
    required column is missing."""
    frame = _table(name, data, problems)
    if frame is None:
        return None
    found = _columns(frame, columns)
    missing = [c for c in required if c not in found]
    if missing:
        problems.add(Problem(name, 1, ", ".join(missing), None, "missing_column", (("file_name", name),)))
        return None
    return frame, found


def read_calendar(name: str, data: bytes, problems: ProblemList) -> pd.DataFrame | None:
    read = _file_with(name, data, CALENDAR_COLUMNS, ("school_year", "kind", "start", "end"), problems)
    if read is None:
        return None
    frame, found = read
    out = pd.DataFrame({"file": frame["file"], "row": frame["row"],
                        "school_year": frame[found["school_year"]].str.strip(),
                        "kind": frame[found["kind"]].map(lambda k: CALENDAR_KINDS.get(_fold(k))),
                        # An empty school cell is a row for every school, as is a calendar without the column.
                        "school_id": frame[found["school_id"]].str.strip().replace("", pupils.ALL_SCHOOLS)
                        if "school_id" in found else pupils.ALL_SCHOOLS})
    for column in ("start", "end"):
        out[column] = frame[found[column]].map(parse_date)
        for row in out.loc[out[column].isna(), "row"]:
            problems.add(Problem(name, int(row), found[column], None, "not_date"))
    for row in out.loc[out["kind"].isna(), "row"]:
        problems.add(Problem(name, int(row), found["kind"], None, "not_choice",
                             (("choices", ", ".join(sorted(set(CALENDAR_KINDS)))),)))
    for row in out.loc[out["school_year"].map(contract.parse_school_year).isna(), "row"]:
        problems.add(Problem(name, int(row), found["school_year"], None, "not_school_year"))
    for problem in pupils.calendar_problems(out.dropna(subset=["start", "end"])):
        problems.add(problem)
    return out


def read_timetable(name: str, data: bytes, problems: ProblemList) -> pd.DataFrame | None:
    read = _file_with(name, data, TIMETABLE_COLUMNS, tuple(TIMETABLE_COLUMNS), problems)
    if read is None:
        return None
    frame, found = read
    hours = pd.to_numeric(frame[found["weekly_hours"]].str.replace(",", ".", regex=False), errors="coerce")
    grades = pd.to_numeric(frame[found["grade"]], errors="coerce")
    for row in frame.loc[hours.isna(), "row"]:
        problems.add(Problem(name, int(row), found["weekly_hours"], None, "not_number"))
    for row in frame.loc[hours.notna() & ~hours.between(*WEEKLY_HOURS_RANGE), "row"]:
        problems.add(Problem(name, int(row), found["weekly_hours"], None, "weekly_hours_range",
                             (("low", WEEKLY_HOURS_RANGE[0]), ("high", WEEKLY_HOURS_RANGE[1]))))
    for row in frame.loc[~grades.isin(range(1, 10)), "row"]:
        problems.add(Problem(name, int(row), found["grade"], None, "grade_range"))
    out = pd.DataFrame({"school_id": frame[found["school_id"]].str.strip(), "grade": grades, "weekly_hours": hours,
                        "file": name, "row": frame["row"]})
    for row in out.loc[out.duplicated(["school_id", "grade"]), "row"]:
        problems.add(Problem(name, int(row), found["grade"], None, "duplicate_key", (("key", "school_id, grade"),)))
    return out


def _check_schools(roster: pd.DataFrame, known_schools: Collection[str] | None, problems: ProblemList) -> None:
    """The roster's school column holds school codes: five digits, among the database's schools
    when those are known, and more than one pupil a school. A value that is none of these is
    located and never shown: it may be a pupil's name or identifier (swapped columns)."""
    for file, row in roster.loc[~roster["school_id"].map(lambda s: bool(SCHOOL_CODE.fullmatch(s))), ["file", "row"]].itertuples(index=False):
        problems.add(Problem(file, int(row), "school_id", None, "not_school_code"))
    if known_schools is not None:
        known = set(known_schools)
        unknown = roster["school_id"].map(lambda s: bool(SCHOOL_CODE.fullmatch(s)) and s not in known)
        for file, row in roster.loc[unknown, ["file", "row"]].itertuples(index=False):
            problems.add(Problem(file, int(row), "school_id", None, "school_not_known"))
    pupils_per_school = roster.groupby("school_id")["pupil"].nunique()
    # One pupil a "school" in every school: pupil identifiers (columns swapped). One pupil who
    # moved between two schools is not that.
    if (pupils_per_school == 1).all() and len(pupils_per_school) >= (2 if roster["pupil"].nunique() >= 2 else 3):
        problems.add(Problem(str(roster["file"].iloc[0]), importer.HEADER_LINE, "school_id", None, "school_column_holds_pupils"))


def _check_years(roster: pd.DataFrame, years: Sequence[str], timetable: pd.DataFrame | None, problems: ProblemList) -> None:
    """Converting more than one school year needs the roster's dates (an undated pupil would keep
    one grade in every year), and a year before the first decree in the table needs the timetable
    for every school and grade."""
    if len(years) > 1:
        # An enrolment reaching into two converted years (no dates, or a start years back and no
        # end) would keep its grade in both: each year needs its own row.
        first, last = pupils.year_bounds(years[0])[0], pupils.year_bounds(years[-1])[1]
        starts = roster["start"].where(roster["start"].notna(), first) if "start" in roster else pd.Series(first, index=roster.index)
        ends = roster["end"].where(roster["end"].notna(), last) if "end" in roster else pd.Series(last, index=roster.index)
        spans = pd.Series(False, index=roster.index)
        for later in years[1:]:
            boundary = pupils.year_bounds(later)[0]
            spans |= (starts < boundary) & (ends >= boundary)
        for file, rows in roster.loc[spans].groupby("file"):
            problems.add(Problem(str(file), int(rows["row"].min()), "start", None, "enrolment_spans_years",
                                 (("years", ", ".join(years)), ("count", len(rows)))))
    earliest = pupils.DECREES[0].since
    covered = set(zip(timetable["school_id"], timetable["grade"])) if timetable is not None else set()
    for year in years:
        if pupils.year_bounds(year)[0] < earliest:
            missing = {(s, int(g)) for s, g in zip(roster["school_id"], roster["grade"])} - covered
            if missing:
                problems.add(Problem(str(roster["file"].iloc[0]), None, None, None, "no_minimum_hours",
                                     (("school_year", year), ("since", f"{earliest.day}.{earliest.month}.{earliest.year}"))))


def _check_same_content(parts: Mapping[str, list[pd.DataFrame]], problems: ProblemList) -> None:
    """One export given twice under two names ("poissaolot (1).csv"), even saved again with other
    line ends, a BOM or another delimiter, would count twice: files whose rows read the same are
    refused. Empty files (a header only) may well be alike."""
    for frames in parts.values():
        seen: dict[str, str] = {}
        for frame in frames:
            if frame.empty:
                continue
            rows = frame.drop(columns=["file", "row"]).astype(str)
            digest = hashlib.sha256(rows.sort_values(list(rows.columns)).to_csv(index=False).encode("utf-8")).hexdigest()
            name = str(frame["file"].iloc[0])
            if digest in seen:
                problems.add(Problem(name, None, None, None, "same_content", (("other", seen[digest]),)))
            seen.setdefault(digest, name)


def _check_month_totals(marks: pd.DataFrame, problems: ProblemList) -> None:
    """A pupil's month given twice, in two wide files or as a total and as daily markings too, would
    count twice (one file's repeats are located when it is read)."""
    totals = marks["month"].notna() & marks["date"].isna()
    keyed = marks.loc[totals, ["file", "row", "pupil", "month"]].drop_duplicates(["file", "row"])
    first_file = keyed.groupby(["pupil", "month"])["file"].transform("first")
    for file, row in keyed.loc[keyed["file"] != first_file, ["file", "row"]].itertuples(index=False):
        problems.add(Problem(file, int(row), "pupil", None, "month_total_twice"))
    daily = marks.loc[~totals & marks["date"].notna()]
    marked = set(zip(daily["pupil"], [d.strftime("%Y-%m") for d in daily["date"]]))
    for file, row, pupil, month in keyed.itertuples(index=False):
        if (pupil, month) in marked:
            problems.add(Problem(file, int(row), "pupil", None, "total_and_markings"))


def _schools_without_days(roster: pd.DataFrame, calendar: pd.DataFrame, school_year: str) -> list[Problem]:
    """A roster school with no school day in the calendar (only other schools' rows) would vanish
    from the output: located at its first roster row."""
    school_calendar = pupils.SchoolCalendar(calendar, school_year)
    first_rows = roster.sort_values(["file", "row"]).drop_duplicates("school_id")
    return [Problem(file, int(row), "school_id", None, "school_without_days", (("school_year", school_year),))
            for file, row, school_id in first_rows[["file", "row", "school_id"]].itertuples(index=False)
            if not school_calendar.days(school_id)]


def _place_month_totals(marks: pd.DataFrame, roster: pd.DataFrame, calendar: pd.DataFrame,
                        problems: ProblemList) -> pd.DataFrame:
    """A month's hours of a pupil go on the last school day of the month the pupil was enrolled
    (their school's calendar), and `days` holds how many school days they cover (the check of
    impossible hours allows a day's worth for each)."""
    totals = marks["month"].notna() & marks["date"].isna()
    marks = marks.assign(days=1)
    enrolments = roster.groupby("pupil")
    calendars: dict[str, pupils.SchoolCalendar] = {}
    for index in marks.index[totals]:
        pupil, month = marks.at[index, "pupil"], marks.at[index, "month"]
        year = contract.school_year_of_month(month)
        enrolled_days, month_days = [], []
        if pupil in enrolments.groups and year is not None and year in set(calendar["school_year"]):
            school_calendar = calendars.setdefault(year, pupils.SchoolCalendar(calendar, year))
            rows = enrolments.get_group(pupil)
            for school_id, start, end in zip(rows["school_id"], rows["start"] if "start" in rows else [None] * len(rows),
                                             rows["end"] if "end" in rows else [None] * len(rows)):
                in_month = [d for d in school_calendar.days(school_id) if d.strftime("%Y-%m") == month]
                month_days += in_month
                enrolled_days += [d for d in in_month
                                  if (start is None or pd.isna(start) or d >= start) and (end is None or pd.isna(end) or d <= end)]
        if not enrolled_days:
            code = ("pupil_not_in_roster" if pupil not in enrolments.groups
                    else "outside_enrolment" if month_days else "month_without_school_days")
            problems.add(Problem(marks.at[index, "file"], int(marks.at[index, "row"]), "pupil" if code == "pupil_not_in_roster"
                                 else str(marks.at[index, "reason"]), None, code))
            continue
        marks.at[index, "date"] = max(enrolled_days)
        marks.at[index, "days"] = len(enrolled_days)
    return marks


def aggregate_exports(exports: Mapping[str, bytes] | Sequence[tuple[str, bytes]], calendar: tuple[str, bytes],
                      mapping: ExportMapping, timetable: tuple[str, bytes] | None = None,
                      known_schools: Collection[str] | None = None) -> pd.DataFrame:
    """The contract's absences rows of the school years the markings fall in, from the exported
    files (name -> bytes, or (name, bytes) pairs: rosters and markings, in any order). With
    `known_schools` (the database's), a roster school outside them is located. Raises
    `pupils.PupilDataError` holding every problem found, before anything is aggregated."""
    problems = ProblemList()
    files = list(exports.items()) if isinstance(exports, Mapping) else list(exports)
    names = [name for name, _ in files]
    for name in sorted({n for n in names if names.count(n) > 1}):
        # Two files of one name (two schools' "oppilaat.csv"): their problems could not be told
        # apart, and a dictionary of them would silently keep one.
        problems.add(Problem(name, None, None, None, "same_file_name"))
    if problems:
        raise pupils.PupilDataError(problems.items)
    exports = dict(files)
    parts: dict[str, list[pd.DataFrame]] = {"roster": [], "marks": []}
    for name, data in exports.items():
        read = read_export(name, data, mapping, problems)
        if read is not None:
            parts[read[0]].append(read[1])
    days = read_calendar(*calendar, problems)
    hours = read_timetable(*timetable, problems) if timetable is not None else None
    _check_same_content(parts, problems)
    for kind in ("roster", "marks"):
        if not parts[kind] and not problems:
            problems.add(Problem(", ".join(exports) or "-", None, None, None, f"no_{kind}"))
    if problems:
        raise pupils.PupilDataError(problems.items)
    roster, marks = (pd.concat(parts[k], ignore_index=True) for k in ("roster", "marks"))
    if roster.empty:  # a header without pupils: no denominator
        raise pupils.PupilDataError([Problem(", ".join(exports), None, None, None, "no_roster")])
    _check_schools(roster, known_schools, problems)
    if problems:
        raise pupils.PupilDataError(problems.items)
    if "month" in marks:  # whole months from a wide export: on the month's last school day enrolled
        _check_month_totals(marks, problems)
        marks = _place_month_totals(marks, roster, days, problems)
    if hours is not None:  # a timetable row for a school the roster does not have is a typo
        for row in hours.loc[~hours["school_id"].isin(set(roster["school_id"])), "row"]:
            problems.add(Problem(timetable[0], int(row), "school_id", None, "school_not_in_roster"))
    # So is a calendar row of a school the roster lacks (a holiday of "S1X" would be dropped).
    own = days[days["school_id"] != pupils.ALL_SCHOOLS]
    for row in own.loc[~own["school_id"].isin(set(roster["school_id"])), "row"]:
        problems.add(Problem(calendar[0], int(row), "school_id", None, "school_not_in_roster"))
    # The school years are those the markings fall in (a calendar may cover more years than the
    # export: a roster without dates must not count in those). Without any marking, the calendar's
    # one school year.
    marked_years = sorted({contract.school_year_of_month(d.strftime("%Y-%m")) for d in marks["date"].dropna()} - {None})
    calendar_years = sorted(set(days["school_year"]))
    years = marked_years or (calendar_years if len(calendar_years) == 1 else [])
    if not years:
        problems.add(Problem(", ".join(exports), None, None, None, "no_marks"))
    for year in sorted(set(marked_years) - set(calendar_years)):
        problems.add(Problem(calendar[0], None, None, None, "no_calendar_for_year", (("school_year", year),)))
    _check_years(roster, years, hours, problems)
    if problems:
        raise pupils.PupilDataError(problems.items)
    found: list[Problem] = []
    outputs = []
    for year in years:
        first, last = pupils.year_bounds(year)
        in_year = marks[(marks["date"] >= first) & (marks["date"] <= last)]
        # Enrolled in the year: a start or end column alone still dates them (a pupil starting next autumn).
        starts_by = roster["start"].isna() | (roster["start"] <= last) if "start" in roster else True
        ends_after = roster["end"].isna() | (roster["end"] >= first) if "end" in roster else True
        enrolled = roster[starts_by & ends_after] if "start" in roster or "end" in roster else roster
        found += _schools_without_days(enrolled, days, year)
        found += pupils.problems_in(enrolled, in_year, days, year, hours)
        outputs.append((year, enrolled, in_year))
    # A July marking outside every year converted (the checks above saw the others): never a school day.
    checked = pd.concat([m for _, _, m in outputs]).index if outputs else pd.Index([])
    stray = marks.loc[~marks.index.isin(checked)]
    found += [Problem(f, int(r), "date", None, "not_a_school_day") for f, r in stray[["file", "row"]].itertuples(index=False)]
    if found:
        raise pupils.PupilDataError(found)
    return pd.concat([pupils.aggregate(r, m, days, y, hours) for y, r, m in outputs], ignore_index=True)
