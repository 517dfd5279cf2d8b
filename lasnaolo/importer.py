"""The importer: read delivered CSV files, validate everything, then write in one transaction.

One implementation serves the command line and the upload page. Problems are data (`Problem`),
each located by file, row, column and value; nothing is written unless every file is clean.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, insert, select, text
from sqlalchemy.engine import Connection, Engine

from lasnaolo import contract, i18n, reference, store, summary
from lasnaolo.contract import IMPORT_LIMITS, FileSpec, ImportLimits
from lasnaolo.store import ImportLog, School, TABLE_OF_KIND

IMPORT_LOCK_KEY = 0x4C41534E  # "LASN": the PostgreSQL advisory lock that imports take in turn
# Problems kept in full per import; the count beyond this is still exact.
MAX_STORED_PROBLEMS = 10_000
HEADER_LINE = 1
SHOWN_VALUE_CHARS = 100  # a problem keeps at most this much of the offending value
STORED_AS_TEXT = ("text", "school_year", "month")  # column kinds whose cells are stored as delivered text
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\r\n"
_CONTROL = re.compile(contract.CONTROL_CHARACTERS)
_BIDI = re.compile(contract.BIDI_CHARACTERS)
_INVISIBLE = re.compile(f"{contract.CONTROL_CHARACTERS}|{contract.BIDI_CHARACTERS}")
# The same, but line breaks: a file with none of these and no quotes (so no line break inside a
# cell) needs no per-cell search, which keeps national-scale files fast.
_INVISIBLE_INLINE = re.compile(f"(?![\\r\\n]){contract.CONTROL_CHARACTERS}|{contract.BIDI_CHARACTERS}")


def shown(value: str | None) -> str | None:
    """A value as a problem shows it: control and text-direction characters written as \\uXXXX,
    so they neither break nor reorder the table they appear in, and long values cut short."""
    if value is None:
        return None
    cut = value[:SHOWN_VALUE_CHARS]
    cut = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", cut)
    return cut + "…" if len(value) > SHOWN_VALUE_CHARS else cut


def _invisible_code(text: str) -> str | None:
    """The problem code of a forbidden character in the text (shown() writes it as \\uXXXX)."""
    if _CONTROL.search(text):
        return "control_character"
    if _BIDI.search(text):
        return "bidi_character"
    return None


@dataclass(frozen=True)
class Problem:
    """One located problem. `code` names the reason in the catalogue (`problem.<code>`), so the
    upload page shows it in the user's language and the command line in English."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    code: str
    params: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        if not i18n.has(f"problem.{self.code}"):
            raise ValueError(f"problem code {self.code!r} has no text in the catalogue")

    def reason_in(self, language: str) -> str:
        return i18n.t(f"problem.{self.code}", language, **dict(self.params))

    @property
    def reason(self) -> str:
        return self.reason_in("en")

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        if self.value is not None:
            shown = self.value if len(self.value) <= 40 else self.value[:37] + "..."
            where.append(f"value {shown!r}")
        return ", ".join(where) + f": {self.reason}"


@dataclass
class ProblemList:
    """Collects problems; keeps the first MAX_STORED_PROBLEMS in full and counts all."""

    items: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.items) < MAX_STORED_PROBLEMS:
            self.items.append(problem)

    def add_rows(self, file: str, frame: pd.DataFrame, mask: pd.Series, column: str | None, code: str, **params: object) -> None:
        """One problem per row where `mask` holds; the value shown is the raw text of `column`. A
        parameter given as a Series (aligned with the frame) takes each row's own value."""
        hits = np.flatnonzero(mask.to_numpy())
        self.total += len(hits)
        room = MAX_STORED_PROBLEMS - len(self.items)
        for position in hits[: max(room, 0)]:
            value = None if column is None else shown(str(frame[column].iat[position]))
            values = tuple((k, v.iat[position] if isinstance(v, pd.Series) else v) for k, v in params.items())
            # The row's label is its place in the whole file (a part of the file keeps its labels).
            self.items.append(Problem(file, int(frame.index[position]) + HEADER_LINE + 1, column, value, code, values))

    def __bool__(self) -> bool:
        return self.total > 0

    def render(self, limit: int) -> str:
        lines = [str(p) for p in self.items[:limit]]
        if self.total > limit:
            lines.append(f"... and {self.total - limit} more problems")
        return "\n".join(lines)


class ImportRejected(Exception):
    """Raised when any file has a problem; the database has not been touched."""

    def __init__(self, problems: ProblemList):
        problems.items.sort(key=lambda p: (p.file, p.row or 0))  # read in file order
        self.problems = problems
        super().__init__(f"{problems.total} problem(s); nothing was imported")


@dataclass(frozen=True)
class FileResult:
    file_name: str
    kind: str
    rows_in_file: int
    inserted: int
    replaced: int
    unchanged: int


@dataclass(frozen=True)
class ImportSummary:
    files: tuple[FileResult, ...]

    def one_line(self) -> str:
        parts = [
            f"{f.file_name} ({f.kind}): {f.rows_in_file} rows, {f.inserted} new, "
            f"{f.replaced} replaced, {f.unchanged} unchanged"
            for f in self.files
        ]
        return "imported " + "; ".join(parts)


@dataclass
class ParsedFile:
    name: str
    kind: str
    sha256: str
    raw: pd.DataFrame  # every cell as text, as delivered
    typed: pd.DataFrame | None = None
    may_hold_invisible: bool = True  # False when the whole text has no control or bidi character


# ---------------------------------------------------------------------------------------------
# Reading: size, encoding, delimiter, header


def decode(name: str, data: bytes, problems: ProblemList) -> str | None:
    if b"\x00" in data[:65536]:
        problems.add(Problem(name, None, None, None, "binary_file"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        problems.add(
            Problem(
                name,
                None,
                None,
                None,
                "bad_encoding",
                (("byte", f"{data[error.start]:02x}"), ("offset", error.start)),
            )
        )
        return None


def detect_delimiter(header: str) -> str | None:
    semicolons, commas = header.count(";"), header.count(",")
    if semicolons == commas == 0:
        return None
    return ";" if semicolons > commas else ","


def detect_kind(name: str, columns: Sequence[str]) -> str | None:
    """The file kind whose columns the header matches best; the file name breaks ties."""
    present = set(columns)
    scores = {
        kind: len(present & set(spec.column_names)) / len(spec.column_names)
        for kind, spec in contract.FILE_SPECS.items()
    }
    best = max(scores.values())
    if best == 0:
        return None  # no contract column at all: most likely the header row is missing
    if best >= 0.5:
        candidates = [k for k, s in scores.items() if s == best]
        if len(candidates) == 1:
            return candidates[0]
    stem = Path(name).stem.lower()
    for kind in contract.FILE_SPECS:
        if stem.startswith(kind):
            return kind
    return None


def _check_file_name(name: str, limits: ImportLimits, problems: ProblemList) -> bool:
    """The name is stored in the import log and shown: bounded, and no hidden characters."""
    if len(name) > limits.max_file_name_chars:
        problems.add(Problem(shown(name), None, None, None, "too_long",
                             (("length", len(name)), ("limit", limits.max_file_name_chars))))
        return False
    if code := _invisible_code(name):
        problems.add(Problem(shown(name), None, None, None, code))
        return False
    return True


def _header_line(name: str, data: bytes, limits: ImportLimits, problems: ProblemList) -> str | None:
    """The header row, read from at most `max_header_bytes` bytes, and refused when it names more
    columns than any contract file plus a margin: before the rest of the file is decoded or parsed."""
    head = data[: limits.max_header_bytes + 1]
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not ends and len(data) > limits.max_header_bytes:
        problems.add(Problem(name, HEADER_LINE, None, None, "header_too_long", (("limit", limits.max_header_bytes),)))
        return None
    line = head[: min(ends)] if ends else head
    line = line.removeprefix(b"\xef\xbb\xbf")
    try:
        header = line.decode("utf-8")
    except UnicodeDecodeError:
        header = line.decode("cp1252", errors="replace")
    delimiter = detect_delimiter(header)
    if delimiter is not None:
        fields = next(csv.reader([header], delimiter=delimiter), [])
        widest = max(len(spec.columns) for spec in contract.FILE_SPECS.values())
        if len(fields) > widest + limits.extra_columns_margin:
            problems.add(Problem(name, HEADER_LINE, None, shown(header[:60]), "too_many_columns",
                                 (("count", len(fields)), ("limit", widest + limits.extra_columns_margin))))
            return None
    return header


def read_table(name: str, data: bytes, limits: ImportLimits, problems: ProblemList) -> ParsedFile | None:
    """Decode and split one file into text cells; file-level problems end the reading."""
    if not _check_file_name(name, limits, problems):
        return None
    if len(data) > limits.max_file_mb * 1024 * 1024:
        problems.add(
            Problem(name, None, None, None, "too_large",
                    (("size", f"{len(data) / 1048576:.1f}"), ("limit", f"{limits.max_file_mb:g}")))
        )
        return None
    if b"\x00" not in data[:65536] and data.strip():  # binary and empty files are said below
        header = _header_line(name, data, limits, problems)
        if header is None:
            return None
        lines = data.count(b"\n") or data.count(b"\r")
        if lines > limits.max_rows + 1:
            problems.add(Problem(name, None, None, None, "too_many_rows", (("limit", limits.max_rows),)))
            return None
    text = decode(name, data, problems)
    if text is None:
        return None
    if not text.strip():
        problems.add(Problem(name, None, None, None, "empty_file"))
        return None
    header = text.splitlines()[0]
    delimiter = detect_delimiter(header)
    if delimiter is None:
        problems.add(
            Problem(name, HEADER_LINE, None, shown(header[:60]), "no_delimiter")
        )
        return None
    try:
        # header=None: rows longer than the header raise and shorter ones leave gaps, so every
        # ragged row is found (a header row would make pandas silently shift or drop cells).
        # Given as UTF-8 bytes: a StringIO holds four bytes a character (0.3 GiB for a national
        # file). Not in parts: pandas then drops a longer row's extra field silently (tests).
        cells = pd.read_csv(io.BytesIO(text.encode("utf-8")), encoding="utf-8", sep=delimiter, header=None, dtype=str,
                            na_filter=False, skip_blank_lines=True)
        ragged = cells.isna().any(axis=None)
    except pd.errors.ParserError:
        ragged = True
    if ragged:
        _report_ragged_rows(name, text, delimiter, problems)
        return None
    may_hold_invisible = _may_hold_invisible(data, text)
    del text
    # The rows below the header, column by column without copying their cells once more.
    raw = pd.DataFrame({i: cells[i].to_numpy()[1:] for i in cells.columns}, copy=False)
    raw.columns = [str(c).strip() for c in cells.iloc[0]]  # as delivered: a repeated name is said later
    kind = detect_kind(name, raw.columns)
    if kind is None:
        problems.add(
            Problem(
                name,
                HEADER_LINE,
                None,
                shown(header[:60]),
                "unknown_header",
            )
        )
        return None
    if not _check_columns(name, raw, contract.FILE_SPECS[kind], problems):
        return None
    return ParsedFile(name=name, kind=kind, sha256=hashlib.sha256(data).hexdigest(), raw=raw,
                      may_hold_invisible=may_hold_invisible)


def _may_hold_invisible(data: bytes, text: str) -> bool:
    """Whether any cell may hold a control or text-direction character: a quote (a line break may
    hide inside quotes) or one such character anywhere. Printable ASCII files, e.g. a national
    absences file, are cleared by one pass in C over the bytes; other text by a regex."""
    body = data.removeprefix(b"\xef\xbb\xbf")
    if b'"' in body:
        return True
    if not body.translate(None, _PRINTABLE_ASCII):
        return False
    return _INVISIBLE_INLINE.search(text) is not None


def _report_ragged_rows(name: str, text: str, delimiter: str, problems: ProblemList) -> None:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = None
    try:
        for record in reader:
            if width is None:
                width = len(record)
                continue
            if record and len(record) != width:
                problems.add(
                    Problem(
                        name,
                        reader.line_num,
                        None,
                        shown(delimiter.join(record)[:60]),
                        "ragged_row",
                        (("fields", len(record)), ("width", width), ("delimiter", delimiter)),
                    )
                )
    except csv.Error:  # a field over the csv module's limit: the rest cannot be split reliably
        problems.add(Problem(name, reader.line_num, None, None, "unreadable_row",
                             (("limit", csv.field_size_limit()),)))


def _check_columns(name: str, raw: pd.DataFrame, spec: FileSpec, problems: ProblemList) -> bool:
    ok = True
    seen: set[str] = set()
    for column in raw.columns:
        if column in seen:
            problems.add(Problem(name, HEADER_LINE, shown(column), None, "duplicate_column"))
            ok = False
        seen.add(column)
        if column not in spec.column_names:
            problems.add(
                Problem(
                    name,
                    HEADER_LINE,
                    shown(column),
                    None,
                    "unknown_column",
                    (("file_name", spec.file_name), ("expected", ", ".join(spec.column_names))),
                )
            )
            ok = False
    for column in spec.required_names:
        if column not in raw.columns:
            problems.add(Problem(name, HEADER_LINE, column, None, "missing_column", (("file_name", spec.file_name),)))
            ok = False
    for column in spec.column_names:
        if column not in raw.columns:
            raw[column] = ""
    return ok


# ---------------------------------------------------------------------------------------------
# Validation: cell types, then row and cross-file rules


_INTEGER = re.compile(r"^-?\d+$")


@dataclass
class KnownSchools:
    """school_id -> school_type for schools in the database or in the same import."""

    types: dict[str, str]


def _clean_number_text(values: pd.Series) -> pd.Series:
    # Spreadsheets write thousands with spaces or no-break spaces.
    return values.str.strip().str.replace(r"[\s\u00a0\u202f]", "", regex=True)


def _each_distinct(values: pd.Series, function: Callable) -> pd.Series:
    """`values.map(function)`, calling it once per distinct value (a national file repeats a
    few hundred months in 1.4 million rows)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return pd.Series([function(v) for v in distinct]).take(codes).set_axis(values.index)


class CellFlags:
    """Which cells failed their own check, so that row rules judge only readable cells."""

    def __init__(self, index: pd.Index):
        self.frame = pd.DataFrame(index=index)
        self.blanked = False  # whether a refused cell was blanked in the text checked

    def ok(self, *columns: str) -> pd.Series:
        return ~self.frame[list(columns)].any(axis=1)


def _parse_cells(parsed: ParsedFile, spec: FileSpec, problems: ProblemList) -> tuple[pd.DataFrame, CellFlags]:
    """Typed columns plus flags of the cells that failed (row rules skip those cells)."""
    raw, name = parsed.raw, parsed.name
    typed = pd.DataFrame(index=raw.index)
    flags = CellFlags(raw.index)
    for column in spec.columns:
        bad_row = pd.Series(False, index=raw.index)
        delivered = raw[column.name].astype(str)
        # Lengths the database enforces and characters no cell may hold: a refused cell is judged
        # no further (a 20 MB name is not matched against anything).
        if column.kind in STORED_AS_TEXT:  # numbers and dates are bounded by their own checks
            lengths = pd.Series(np.fromiter(map(len, delivered.to_numpy()), dtype=np.int64, count=len(delivered)),
                                index=delivered.index)
            too_long = lengths > column.max_length
            problems.add_rows(name, raw, too_long, column.name, "too_long", length=lengths, limit=column.max_length)
        else:
            too_long = pd.Series(False, index=raw.index)
        refused = too_long
        if parsed.may_hold_invisible:
            control = ~too_long & delivered.str.contains(_CONTROL)
            problems.add_rows(name, raw, control, column.name, "control_character")
            bidi = ~too_long & ~control & delivered.str.contains(_BIDI)
            problems.add_rows(name, raw, bidi, column.name, "bidi_character")
            refused = too_long | control | bidi
        if refused.any():
            raw.loc[refused, column.name] = ""  # judged above; later rules see an empty cell
            flags.blanked = True
        bad_row |= refused
        text = raw[column.name].astype(str).str.strip()
        empty = text == ""  # refused cells included: no rule below judges them again
        if column.required:
            problems.add_rows(name, raw, empty & ~refused, column.name, "missing_value")
            bad_row |= empty
        if column.kind == "int":
            cleaned = _clean_number_text(text)
            not_int = ~empty & ~cleaned.str.match(_INTEGER)
            problems.add_rows(name, raw, not_int, column.name, "not_integer")
            numbers = pd.to_numeric(cleaned.where(~not_int & ~empty), errors="coerce")
            negative = numbers < 0
            problems.add_rows(name, raw, negative, column.name, "negative")
            too_big = numbers > contract.MAX_INTEGER
            problems.add_rows(name, raw, too_big, column.name, "too_big", limit=contract.MAX_INTEGER)
            numbers = numbers.where(~too_big)
            bad_row |= not_int | negative | too_big
            typed[column.name] = numbers
        elif column.kind == "decimal":
            cleaned = _clean_number_text(text).str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(cleaned.where(~empty), errors="coerce")
            numbers = numbers.where(np.isfinite(numbers))  # 'inf' and '1e999' are not figures
            not_number = ~empty & numbers.isna()
            problems.add_rows(name, raw, not_number, column.name, "not_number")
            negative = numbers < 0
            problems.add_rows(name, raw, negative, column.name, "negative")
            bad_row |= not_number | negative
            typed[column.name] = numbers
        elif column.kind == "year":
            not_year = ~empty & ~text.str.match(r"^\d{4}$")
            problems.add_rows(name, raw, not_year, column.name, "not_year")
            bad_row |= not_year
            typed[column.name] = pd.to_numeric(text.where(~not_year & ~empty), errors="coerce")
        elif column.kind == "school_year":
            valid = _each_distinct(text, lambda t: contract.parse_school_year(t) is not None)
            problems.add_rows(name, raw, ~empty & ~valid, column.name, "not_school_year")
            bad_row |= ~empty & ~valid
            typed[column.name] = text
        elif column.kind == "month":
            valid = _each_distinct(text, lambda t: contract.school_year_of_month(t) is not None)
            problems.add_rows(name, raw, ~empty & ~valid, column.name, "not_month")
            bad_row |= ~empty & ~valid
            typed[column.name] = text
        elif column.kind == "date":
            dates = text.map(lambda t: contract.is_valid_date(t) if t else None)
            invalid = ~empty & dates.isna()
            problems.add_rows(name, raw, invalid, column.name, "not_date")
            bad_row |= invalid
            typed[column.name] = dates
        else:
            typed[column.name] = text
            if column.choices:
                unknown = ~empty & ~text.isin(column.choices)
                problems.add_rows(name, raw, unknown, column.name, "not_choice", choices=", ".join(column.choices))
                bad_row |= unknown
        flags.frame[column.name] = bad_row
    return typed, flags


def _check_duplicates(parsed: ParsedFile, typed: pd.DataFrame, spec: FileSpec, problems: ProblemList) -> None:
    duplicated = typed.duplicated(list(spec.key), keep="first")
    problems.add_rows(parsed.name, parsed.raw, duplicated, spec.key[-1], "duplicate_key", key=" + ".join(spec.key))


RowRule = Callable[[ParsedFile, pd.DataFrame, CellFlags, ProblemList, KnownSchools], None]


def _validate_schools(parsed: ParsedFile, typed: pd.DataFrame, cells: CellFlags, problems: ProblemList, known: KnownSchools) -> None:
    codes = reference.municipality_codes()
    bad_code = cells.ok("municipality_code") & ~typed["municipality_code"].isin(codes)
    problems.add_rows(parsed.name, parsed.raw, bad_code, "municipality_code", "unknown_municipality")
    for school_id, school_type in zip(typed["school_id"], typed["school_type"]):
        known.types[school_id] = school_type


def _validate_absences(parsed: ParsedFile, typed: pd.DataFrame, cells: CellFlags, problems: ProblemList, known: KnownSchools) -> None:
    name, raw = parsed.name, parsed.raw
    school_type = typed["school_id"].map(known.types)
    unknown = cells.ok("school_id") & school_type.isna()
    problems.add_rows(name, raw, unknown, "school_id", "unknown_school")
    month_year = _each_distinct(typed["month"], lambda m: contract.school_year_of_month(m) if m else None)
    outside = cells.ok("month", "school_year") & (month_year != typed["school_year"])
    problems.add_rows(name, raw, outside, "month", "month_outside_year")
    grade = typed["grade"]
    out_of_range = cells.ok("grade") & ~grade.between(1, 9)
    problems.add_rows(name, raw, out_of_range, "grade", "grade_range")
    taught = pd.Series(
        [t in contract.SCHOOL_TYPES and g in contract.SCHOOL_TYPES[t] for t, g in zip(school_type, grade)],
        index=typed.index,
    )
    not_taught = cells.ok("grade", "school_id") & ~unknown & ~out_of_range & ~taught
    problems.add_rows(name, raw, not_taught, "grade", "grade_not_taught")
    absent = typed["illness_hours"] + typed["authorised_hours"] + typed["unauthorised_hours"]
    hours_ok = cells.ok("lesson_hours", "illness_hours", "authorised_hours", "unauthorised_hours")
    too_many = hours_ok & (absent > typed["lesson_hours"])
    problems.add_rows(name, raw, too_many, "lesson_hours", "hours_exceed")
    tiers = typed["tier1_pupils"] + typed["tier2_pupils"] + typed["tier3_pupils"]
    too_many_tiers = cells.ok("pupils", "tier1_pupils", "tier2_pupils", "tier3_pupils") & (tiers > typed["pupils"])
    problems.add_rows(name, raw, too_many_tiers, "pupils", "tiers_exceed")
    # Each pupil's share lies in its tier's band (under 5, 5-10, 10-20, over 20 up to 100 %), so
    # the sum of their squares lies between the bands' floors and ceilings. The floors allow shares
    # tiered after rounding to 0.1 (9.96 counted as 10.0); the ceilings catch squares of hours, not
    # percents, which would widen every interval tenfold.
    squares = typed["pupil_share_squares"]
    given = squares.notna() & cells.ok("pupil_share_squares", "pupils", "tier1_pupils", "tier2_pupils", "tier3_pupils")
    untiered = typed["pupils"] - tiers
    floor = 4.95 ** 2 * typed["tier1_pupils"] + 9.95 ** 2 * typed["tier2_pupils"] + 20 ** 2 * typed["tier3_pupils"]
    ceiling = (5 ** 2 * untiered + 10 ** 2 * typed["tier1_pupils"] + 20.05 ** 2 * typed["tier2_pupils"]
               + 100 ** 2 * typed["tier3_pupils"])
    impossible = given & ~too_many_tiers & ((squares < floor - 1e-6) | (squares > ceiling + 1e-6))
    problems.add_rows(name, raw, impossible, "pupil_share_squares", "squares_range")


def _validate_wellbeing(parsed: ParsedFile, typed: pd.DataFrame, cells: CellFlags, problems: ProblemList, known: KnownSchools) -> None:
    name, raw = parsed.name, parsed.raw
    even = cells.ok("survey_year") & (typed["survey_year"] % 2 == 0)
    problems.add_rows(name, raw, even, "survey_year", "even_survey_year")
    out_of_range = cells.ok("value_pct") & ~typed["value_pct"].between(0, 100)
    problems.add_rows(name, raw, out_of_range, "value_pct", "pct_range")
    is_school = typed["unit_type"] == "school"
    unit_ok = cells.ok("unit_type", "unit_id")
    unknown_school = unit_ok & is_school & ~typed["unit_id"].isin(known.types)
    problems.add_rows(name, raw, unknown_school, "unit_id", "unknown_school")
    unknown_municipality = unit_ok & ~is_school & ~typed["unit_id"].isin(reference.municipality_codes())
    problems.add_rows(name, raw, unknown_municipality, "unit_id", "unknown_municipality")


def _validate_measures(parsed: ParsedFile, typed: pd.DataFrame, cells: CellFlags, problems: ProblemList, known: KnownSchools) -> None:
    name, raw = parsed.name, parsed.raw
    unknown = cells.ok("school_id") & ~typed["school_id"].isin(known.types)
    problems.add_rows(name, raw, unknown, "school_id", "unknown_school")
    bad_tier = cells.ok("tier") & ~typed["tier"].isin(contract.TIERS)
    problems.add_rows(name, raw, bad_tier, "tier", "tier_range")
    ends = typed["end"]
    before_start = cells.ok("start", "end") & ends.notna() & pd.Series(
        [e is not None and s is not None and e < s for s, e in zip(typed["start"], ends)], index=typed.index
    )
    problems.add_rows(name, raw, before_start, "end", "end_before_start")


_ROW_RULES: dict[str, RowRule] = {
    "schools": _validate_schools,
    "absences": _validate_absences,
    "wellbeing": _validate_wellbeing,
    "measures": _validate_measures,
}


_VALIDATE_CHUNK = 250_000  # rows checked at a time


def validate(parsed: ParsedFile, known: KnownSchools, problems: ProblemList) -> None:
    """Every cell and row rule, in parts of rows: the checks' intermediate columns for a national
    file at once took half a gigabyte. In the whole file's order: each part's cells (a refused
    cell is blanked in the file's text, as later rules expect), then the duplicate keys over the
    whole file, then each part's row rules; a part keeps its rows' numbers (index labels). A file
    of one part (up to _VALIDATE_CHUNK rows) lists its problems exactly as checked whole; a larger
    one lists the same problems, its cell problems part by part (which of them are kept past
    MAX_STORED_PROBLEMS may then differ)."""
    spec = contract.FILE_SPECS[parsed.kind]
    parts = [slice(start, start + _VALIDATE_CHUNK) for start in range(0, max(len(parsed.raw), 1), _VALIDATE_CHUNK)]
    checked = []
    for rows in parts:
        text = parsed.raw.iloc[rows].copy()
        checked.append(_parse_cells(replace(parsed, raw=text), spec, problems))
        if checked[-1][1].blanked:  # refused cells blanked in the file's text too (rarely: a control character)
            parsed.raw.iloc[rows] = text.to_numpy()
    typed = checked[0][0] if len(checked) == 1 else pd.concat([part for part, _ in checked])
    _check_duplicates(parsed, typed, spec, problems)
    for rows, (typed_part, cells) in zip(parts, checked):
        _ROW_RULES[parsed.kind](replace(parsed, raw=parsed.raw.iloc[rows]), typed_part, cells, problems, known)
    parsed.typed = typed


# ---------------------------------------------------------------------------------------------
# Writing: compare with stored keys, then one transaction


def _stored_rows(connection: Connection, kind: str, typed: pd.DataFrame) -> pd.DataFrame:
    """Stored rows that may share a key with the file's rows."""
    table = TABLE_OF_KIND[kind]
    columns = [c for c in contract.FILE_SPECS[kind].column_names]
    query = select(*[table.c[c] for c in columns])
    if kind == "absences":
        query = query.where(table.c.school_year.in_(typed["school_year"].unique().tolist()))
        query = query.where(table.c.school_id.in_(typed["school_id"].unique().tolist()))
    elif kind == "wellbeing":
        query = query.where(table.c.survey_year.in_([int(y) for y in typed["survey_year"].unique()]))
    elif kind in ("schools", "measures"):
        query = query.where(table.c.school_id.in_(typed["school_id"].unique().tolist()))
    return pd.DataFrame(connection.execute(query).fetchall(), columns=columns)


def _normalise(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """Comparable values: integers as int, decimals rounded, dates as ISO text, empty as None."""
    out = pd.DataFrame(index=frame.index)
    for column in spec.columns:
        values = frame[column.name]
        if column.kind in ("int", "year"):
            out[column.name] = values.astype("Int64")
        elif column.kind == "decimal":
            out[column.name] = pd.to_numeric(values, errors="coerce").round(6)
        elif column.kind == "date":
            out[column.name] = values.map(lambda d: None if d is None or pd.isna(d) else str(d))
        else:
            out[column.name] = values.astype(str)
    return out


def _classify(parsed: ParsedFile, stored: pd.DataFrame, problems: ProblemList, replace: bool) -> tuple[pd.Series, pd.Series]:
    """Masks over the file's rows: (new keys, keys stored with other values)."""
    spec = contract.FILE_SPECS[parsed.kind]
    if stored.empty:
        return pd.Series(True, index=parsed.typed.index), pd.Series(False, index=parsed.typed.index)
    incoming = _normalise(parsed.typed, spec)
    existing = _normalise(stored, spec)
    key = list(spec.key)
    merged = incoming.reset_index().merge(existing, on=key, how="left", suffixes=("", "__stored"), indicator=True)
    merged = merged.set_index("index").loc[incoming.index]
    found = merged["_merge"] == "both"
    value_columns = [c for c in spec.column_names if c not in key]
    differs = pd.Series(False, index=incoming.index)
    first_differing = pd.Series("", index=incoming.index)
    for column in value_columns:
        a, b = merged[column], merged[f"{column}__stored"]
        changed = found & ~((a == b) | (a.isna() & b.isna())).fillna(False).astype(bool)
        first_differing = first_differing.where(~changed | (first_differing != ""), column)
        differs |= changed
    if not replace and differs.any():
        for position in np.flatnonzero(differs.to_numpy()):
            column = first_differing.iat[position]
            problems.add(
                Problem(
                    parsed.name,
                    int(position) + HEADER_LINE + 1,
                    column,
                    str(parsed.raw[column].iat[position]),
                    "key_clash",
                    (("column", column), ("stored", str(merged[f"{column}__stored"].iat[position]))),
                )
            )
    return ~found, differs


def _records(frame: pd.DataFrame, spec: FileSpec) -> list[dict]:
    out = pd.DataFrame(index=frame.index)
    for column in spec.columns:
        values = frame[column.name]
        if column.kind in ("int", "year"):
            out[column.name] = values.astype("int64")
        elif column.kind == "decimal":
            out[column.name] = values.astype(object).where(values.notna(), None)
        else:
            out[column.name] = values
    return out.to_dict("records")


_WRITE_CHUNK = 50_000  # rows turned into records and written at a time


def _bulk_insert(connection: Connection, kind: str, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    spec = contract.FILE_SPECS[kind]
    table = TABLE_OF_KIND[kind]
    if connection.dialect.name == "postgresql":
        _copy_into_postgresql(connection, table.name, rows, spec)
        return
    for start in range(0, len(rows), _WRITE_CHUNK):  # a national file's rows as dicts at once took 0.7 GiB
        connection.execute(insert(table), _records(rows.iloc[start : start + _WRITE_CHUNK], spec))


def _copy_into_postgresql(connection: Connection, table_name: str, rows: pd.DataFrame, spec: FileSpec) -> None:
    """COPY is an order of magnitude faster than INSERT for national-scale files."""
    columns = list(spec.column_names)
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table_name} ({quoted}) FROM STDIN") as copy:
        for start in range(0, len(rows), _WRITE_CHUNK):
            for record in _records(rows.iloc[start : start + _WRITE_CHUNK], spec):
                copy.write_row([record[c] for c in columns])


def _delete_keys(connection: Connection, kind: str, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    spec = contract.FILE_SPECS[kind]
    table = TABLE_OF_KIND[kind]
    condition = and_(*[table.c[k] == bindparam(f"key_{k}") for k in spec.key])
    params = [{f"key_{k}": r[k] for k in spec.key} for r in _records(rows, spec)]
    connection.execute(table.delete().where(condition), params)


def _update_rows(connection: Connection, kind: str, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    spec = contract.FILE_SPECS[kind]
    table = TABLE_OF_KIND[kind]
    values = [c for c in spec.column_names if c not in spec.key]
    statement = (table.update().where(and_(*[table.c[k] == bindparam(f"key_{k}") for k in spec.key]))
                 .values({c: bindparam(f"new_{c}") for c in values}))
    params = [{**{f"key_{k}": r[k] for k in spec.key}, **{f"new_{c}": r[c] for c in values}}
              for r in _records(rows, spec)]
    connection.execute(statement, params)


def _rows_where(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The rows where `mask` holds; the frame itself when that is every row (a first national
    import would otherwise copy 1.4 million rows once more)."""
    return frame if mask.all() else frame[mask]


def _known_schools(connection: Connection) -> KnownSchools:
    rows = connection.execute(select(School.school_id, School.school_type)).fetchall()
    return KnownSchools(types={r[0]: r[1] for r in rows})


Progress = Callable[[str, float], None]


def import_files(
    engine: Engine,
    files: Iterable[tuple[str, bytes]],
    *,
    replace: bool = False,
    imported_by: str = "cli",
    limits: ImportLimits = IMPORT_LIMITS,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Validate every file, then write all of them in one transaction, or nothing.

    Raises ImportRejected with every located problem; the database is then unchanged. With
    `dry_run` everything is checked and counted but nothing is written (the upload preview).
    `progress(step, fraction)` is told each step, for long national-scale files.
    """
    report = progress or (lambda step, fraction: None)
    problems = ProblemList()
    files = list(files)
    if len(imported_by) > limits.max_imported_by_chars:
        raise ValueError(f"imported_by is over {limits.max_imported_by_chars} characters")
    total = 0
    for name, data in files:  # all files of one import together, before any is read
        total += len(data)
        if total > limits.max_upload_mb * 1024 * 1024:
            problems.add(Problem(shown(name), None, None, None, "upload_too_large",
                                 (("size", f"{sum(len(d) for _, d in files) / 1048576:.1f}"),
                                  ("limit", f"{limits.max_upload_mb:g}"))))
            raise ImportRejected(problems)
    parsed_files = []
    for i, (name, data) in enumerate(files):
        report(f"read {name}", 0.3 * i / max(len(files), 1))
        if parsed := read_table(name, data, limits, problems):
            parsed_files.append(parsed)
    parsed_files.sort(key=lambda p: contract.IMPORT_ORDER.index(p.kind))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql" and not dry_run:
            # Imports take turns (several app servers, a scheduled CLI): each one validates
            # against what the one before it committed. Readers are never blocked.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
        known = _known_schools(connection)
        for i, parsed in enumerate(parsed_files):
            report(f"validate {parsed.name}", 0.3 + 0.3 * i / len(parsed_files))
            validate(parsed, known, problems)
        if problems:
            raise ImportRejected(problems)
        plans = []
        for parsed in parsed_files:
            stored = _stored_rows(connection, parsed.kind, parsed.typed)
            new, changed = _classify(parsed, stored, problems, replace)
            plans.append((parsed, new, changed))
        if problems:
            raise ImportRejected(problems)
        for parsed, _, _ in plans:  # the delivered text is needed only to name problems: none now
            parsed.raw = parsed.raw.iloc[:0]
        results = []
        touched: set[str] = set()
        for i, (parsed, new, changed) in enumerate(plans):
            result = FileResult(
                file_name=parsed.name,
                kind=parsed.kind,
                rows_in_file=len(parsed.typed),
                inserted=int(new.sum()),
                replaced=int(changed.sum()),
                unchanged=int((~new & ~changed).sum()),
            )
            results.append(result)
            if dry_run:
                continue
            report(f"write {parsed.name}", 0.6 + 0.4 * i / len(plans))
            if parsed.kind == "schools":  # other tables refer to a school: change it in place
                _update_rows(connection, parsed.kind, _rows_where(parsed.typed, changed))
                _bulk_insert(connection, parsed.kind, _rows_where(parsed.typed, new))
            else:
                _delete_keys(connection, parsed.kind, _rows_where(parsed.typed, changed))
                _bulk_insert(connection, parsed.kind, _rows_where(parsed.typed, new | changed))
            if parsed.kind in ("absences", "schools"):  # a school's rows or its municipality / type changed
                touched |= set(parsed.typed.loc[new | changed if parsed.kind == "absences" else changed, "school_id"])
            connection.execute(
                insert(ImportLog),
                {
                    "imported_at": datetime.now(timezone.utc),
                    "imported_by": imported_by,
                    "file_name": parsed.name,
                    "file_kind": parsed.kind,
                    "sha256": parsed.sha256,
                    "rows_in_file": result.rows_in_file,
                    "rows_inserted": result.inserted,
                    "rows_replaced": result.replaced,
                    "rows_unchanged": result.unchanged,
                },
            )
        if touched:
            report("summarise", 0.95)
            summary.refresh(connection, None if len(touched) > len(known.types) // 2 else touched)
    if not dry_run and any(r.inserted or r.replaced for r in results):
        report("statistics", 0.98)
        store.refresh_statistics(engine)
    report("done", 1.0)
    return ImportSummary(files=tuple(results))


def read_paths(paths: Sequence[str | Path]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each path; ImportRejected naming every path that is not a file."""
    files = []
    problems = ProblemList()
    for path in map(Path, paths):
        if not path.is_file():
            problems.add(Problem(str(path), None, None, None, "no_such_file"))
            continue
        files.append((path.name, path.read_bytes()))
    if problems:
        raise ImportRejected(problems)
    return files


def import_paths(engine: Engine, paths: Sequence[str | Path], **options) -> ImportSummary:
    return import_files(engine, read_paths(paths), **options)
