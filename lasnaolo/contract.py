"""The data contract: the shape of every file Läsnäolo accepts, and the catalogues behind it.

Everything that validates, stores, generates or documents data reads these definitions, so a
column or a catalogue entry is defined once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from lasnaolo import environment

ColumnKind = Literal["text", "int", "decimal", "date", "month", "school_year", "year"]

SCHOOL_TYPES: dict[str, range] = {
    "primary": range(1, 7),
    "lower_secondary": range(7, 10),
    "comprehensive": range(1, 10),
}
SCHOOL_LANGUAGES = ("fi", "sv")
GRADE_BANDS: dict[str, range] = {"1-2": range(1, 3), "3-6": range(3, 7), "7-9": range(7, 10)}
SURVEY_GRADE_GROUPS = ("4-5", "8-9")
WELLBEING_UNIT_TYPES = ("school", "municipality")
ABSENCE_CATEGORIES = ("illness", "authorised", "unauthorised")
TIERS = (1, 2, 3)


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = True
    choices: tuple[str, ...] | None = None
    description: str = ""
    max_length: int = 200  # characters; the database column's length where it is shorter (store.py)


@dataclass(frozen=True)
class FileSpec:
    kind: str
    file_name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Indicator:
    code: str
    higher_is_better: bool


@dataclass(frozen=True)
class Measure:
    code: str
    tier: int


@dataclass(frozen=True)
class TierThresholds:
    """Lower bounds (percent of lessons missed, year to date) of the attendance model's tiers.

    Providers set their own thresholds locally, so these are defaults, not law.
    """

    tier1: float = 5.0
    tier2: float = 10.0
    tier3: float = 20.0

    def tier_of(self, absence_pct: float) -> int:
        """0 when below tier 1; tier 2 includes 20 %, tier 3 is strictly over it."""
        if absence_pct > self.tier3:
            return 3
        if absence_pct >= self.tier2:
            return 2
        if absence_pct >= self.tier1:
            return 1
        return 0


@dataclass(frozen=True)
class SuppressionPolicy:
    """Minimum group sizes below which a figure is withheld (DOMAIN.md, Privacy)."""

    min_pupils: int = 5
    min_respondents: int = 10


# The product's minimum: DOMAIN.md's privacy rules. An installation may only be stricter.
PRODUCT_SUPPRESSION = SuppressionPolicy()
_MOST = 1000  # a threshold above this is a typo, not a policy


def installation_suppression(environ: Mapping[str, str]) -> tuple[SuppressionPolicy, list[str]]:
    """The installation's suppression policy from LASNAOLO_MIN_PUPILS and LASNAOLO_MIN_RESPONDENTS
    (unset: the product's minimum), and what is wrong with them. A value that is not a whole number
    from the product's minimum up to 1000 is a problem: the app and the command line refuse to start
    (lasnaolo.settings, lasnaolo.cli), and meanwhile nothing is published (fail closed)."""
    values, problems = {}, []
    for field, name in (("min_pupils", environment.MIN_PUPILS), ("min_respondents", environment.MIN_RESPONDENTS)):
        least = getattr(PRODUCT_SUPPRESSION, field)
        text = environ.get(name)
        if text is None or text.strip() == "":
            values[field] = least
            continue
        # ASCII digits only: int() would also take "1_0", "+8" and other scripts' digits.
        value = int(text.strip()) if re.fullmatch(r"[0-9]{1,4}", text.strip()) else None
        if value is None or not least <= value <= _MOST:
            problems.append(f"the environment variable {name} is {text!r}: give a whole number from {least} (the "
                            f"product's minimum; an installation may only be stricter) up to {_MOST}")
            value = _MOST * 1000  # fail closed: every group is under it
        values[field] = value
    return SuppressionPolicy(**values), problems


# The one suppression policy: every query, page, export and command takes it from here. Read once,
# when the package is loaded: the installation's, never looser than the product's.
SUPPRESSION, SUPPRESSION_PROBLEMS = installation_suppression(os.environ)


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator("likes_school", True),
        Indicator("school_burnout", False),
        Indicator("bullied_weekly", False),
        Indicator("no_close_friend", False),
        Indicator("belonging", True),
        Indicator("teacher_interest", True),
        Indicator("truancy", False),
        Indicator("anxiety", False),
        Indicator("poor_health", False),
        Indicator("concentration", False),
    )
}

# Measures of the attendance model (läsnäolomalli), by the tier where the model places them.
MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("encounter_participation", 1),
        Measure("safe_learning_environment", 1),
        Measure("emotional_social_skills", 1),
        Measure("class_grouping", 1),
        Measure("early_concern", 1),
        Measure("transition_support", 1),
        Measure("communal_welfare", 1),
        Measure("home_school_cooperation", 1),
        Measure("absence_monitoring", 1),
        Measure("general_learning_support", 1),
        Measure("information_transfer", 1),
        Measure("school_coach", 1),
        Measure("own_teacher_lessons", 1),
        Measure("targeted_monitoring", 2),
        Measure("risk_factor_identification", 2),
        Measure("reason_investigation", 2),
        Measure("targeted_group_work", 2),
        Measure("intensified_learning_support", 2),
        Measure("flexible_teaching", 2),
        Measure("learning_difficulty_assessment", 2),
        Measure("service_guidance", 2),
        Measure("consultation", 2),
        Measure("attendance_support_plan", 3),
        Measure("multiagency_individual_support", 3),
        Measure("special_pedagogical_arrangements", 3),
        Measure("multiagency_cooperation", 3),
        Measure("multidisciplinary_expert_group", 3),
    )
}

SCHOOLS = FileSpec(
    kind="schools",
    file_name="schools.csv",
    key=("school_id",),
    description="One row per school.",
    columns=(
        Column("school_id", "text", description="Official school code; leading zeros are kept.", max_length=20),
        Column("school_name", "text", max_length=200),
        Column("municipality_code", "text", description="3-digit municipality code (2023 division).", max_length=3),
        Column("school_type", "text", choices=tuple(SCHOOL_TYPES), max_length=20),
        Column("language", "text", choices=SCHOOL_LANGUAGES, max_length=2),
    ),
)

ABSENCES = FileSpec(
    kind="absences",
    file_name="absences.csv",
    key=("school_id", "school_year", "month", "grade"),
    description="One row per school × school year × month × grade.",
    columns=(
        Column("school_id", "text", max_length=20),
        Column("school_year", "school_year", description="e.g. 2024-2025", max_length=9),
        Column("month", "month", description="YYYY-MM, August..June of the school year", max_length=7),
        Column("grade", "int", description="1-9, taught by the school's type"),
        Column("pupils", "int", description="enrolled at month end"),
        Column("lesson_hours", "int", description="scheduled pupil-lesson hours in the month"),
        Column("illness_hours", "int"),
        Column("authorised_hours", "int"),
        Column("unauthorised_hours", "int"),
        Column("tier1_pupils", "int", description="year-to-date absence 5-<10 % at month end"),
        Column("tier2_pupils", "int", description="year-to-date absence 10-20 % at month end"),
        Column("tier3_pupils", "int", description="year-to-date absence over 20 % at month end"),
        Column("pupil_share_squares", "decimal", required=False,
               description="optional: the sum over the row's pupils of their year-to-date absence percent squared "
                           "(percent²), for sources that can compute it; gives the exact spread of pupils' absence"),
    ),
)

WELLBEING = FileSpec(
    kind="wellbeing",
    file_name="wellbeing.csv",
    key=("unit_type", "unit_id", "survey_year", "grade_group", "indicator"),
    description="Survey results (Kouluterveyskysely style), one row per unit × year × grade group × indicator.",
    columns=(
        Column("unit_type", "text", choices=WELLBEING_UNIT_TYPES, max_length=12),
        Column("unit_id", "text", description="school_id or municipality code", max_length=20),
        Column("survey_year", "year", description="odd year; spring of the school year ending then"),
        Column("grade_group", "text", choices=SURVEY_GRADE_GROUPS, max_length=3),
        Column("indicator", "text", choices=tuple(INDICATORS), max_length=40),
        Column("respondents", "int"),
        Column("value_pct", "decimal", description="0-100"),
    ),
)

# The recommendations to the pilots (seed 000) that providers and schools evaluate once a school
# year, each on IMPLEMENTATION_LEVELS: 1 not started, 2 started, 3 largely in place, 4 established.
RECOMMENDATIONS = ("operating_model", "unified_monitoring", "investigation_roles", "home_school_cooperation",
                   "staff_competence", "multiagency_roles", "evaluation_development")
IMPLEMENTATION_LEVELS = (1, 2, 3, 4)
EVALUATION_NOTE_MAX = 1000


MEASURES_FILE = FileSpec(
    kind="measures",
    file_name="measures.csv",
    key=("school_id", "measure", "start"),
    description="Measures of the attendance model in use at a school.",
    columns=(
        Column("school_id", "text", max_length=20),
        Column("measure", "text", choices=tuple(MEASURES), max_length=60),
        Column("tier", "int", description="1-3"),
        Column("start", "date", description="YYYY-MM-DD or D.M.YYYY"),
        Column("end", "date", required=False, description="empty while the measure goes on"),
        Column("fte", "decimal", required=False, description="e.g. 1.0 school coach"),
    ),
)

FILE_SPECS: dict[str, FileSpec] = {s.kind: s for s in (SCHOOLS, ABSENCES, WELLBEING, MEASURES_FILE)}
# Import order: a file may refer only to what an earlier kind (or the database) holds.
IMPORT_ORDER = ("schools", "absences", "wellbeing", "measures")

HOUR_COLUMNS = ("lesson_hours", "illness_hours", "authorised_hours", "unauthorised_hours")
TIER_COLUMNS = ("tier1_pupils", "tier2_pupils", "tier3_pupils")
SQUARES_COLUMN = "pupil_share_squares"  # optional: the pupils' squared year-to-date percents, summed

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SCHOOL_YEAR_MONTHS = (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)


def parse_school_year(text: str) -> int | None:
    """The autumn year of a school year written '2024-2025'; None when malformed."""
    m = _SCHOOL_YEAR.match(text)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        return None
    return int(m.group(1))


def school_year_label(autumn_year: int) -> str:
    return f"{autumn_year}-{autumn_year + 1}"


def previous_school_year(school_year: str) -> str:
    autumn = parse_school_year(school_year)
    if autumn is None:
        raise ValueError(f"not a school year: {school_year!r}")
    return school_year_label(autumn - 1)


def months_of_school_year(school_year: str) -> list[str]:
    """'2024-2025' -> ['2024-08', ..., '2025-06'] in teaching order."""
    autumn = parse_school_year(school_year)
    if autumn is None:
        raise ValueError(f"not a school year: {school_year!r}")
    return [f"{autumn if m >= 8 else autumn + 1}-{m:02d}" for m in SCHOOL_YEAR_MONTHS]


def school_year_of_month(month: str) -> str | None:
    """The school year a 'YYYY-MM' month belongs to; None for July or malformed text."""
    m = _MONTH.match(month)
    if not m:
        return None
    year, mon = int(m.group(1)), int(m.group(2))
    if mon == 7 or not 1 <= mon <= 12:
        return None
    return school_year_label(year if mon >= 8 else year - 1)


def month_index(month: str) -> int:
    """Position of a month within its school year: August is 0, June is 10."""
    return SCHOOL_YEAR_MONTHS.index(int(month[5:7]))


def survey_school_year(survey_year: int) -> str:
    """Kouluterveyskysely runs in spring: the 2023 survey belongs to school year 2022-2023."""
    return school_year_label(survey_year - 1)


def grade_band(grade: int) -> str:
    return next(band for band, grades in GRADE_BANDS.items() if grade in grades)


def is_valid_date(text: str) -> date | None:
    """ISO (2024-08-01) or Finnish (1.8.2024) date; None when neither."""
    text = text.strip()
    try:
        if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
            return date.fromisoformat(text)
        m = re.match(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", text)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class ImportLimits:
    """What one import may hold; tests give smaller limits to reach them with small files."""

    max_file_mb: float = 256.0
    max_reported_problems: int = 50
    # Checked before a file is parsed, so an oversized file costs a few milliseconds, not minutes:
    max_upload_mb: float = 512.0  # all files of one import together
    max_header_bytes: int = 4096  # the header row must end within this many bytes
    extra_columns_margin: int = 8  # a header may name this many columns beyond the widest file's before it is refused unread
    max_rows: int = 5_000_000  # data rows per file (the national absences file has 1.4 million)
    max_file_name_chars: int = 300  # import_log.file_name
    max_imported_by_chars: int = 100  # import_log.imported_by


# Integer columns are 32-bit in the database (PostgreSQL INTEGER): larger counts are refused on import.
MAX_INTEGER = 2**31 - 1
# Characters refused anywhere in a delivered file's cells and names: C0 and C1 control characters
# (line breaks and tabs inside a cell included) and the invisible bidirectional formatting
# characters that reorder how text is displayed (e.g. U+202E RIGHT-TO-LEFT OVERRIDE).
CONTROL_CHARACTERS = "[\x00-\x1f\x7f-\x9f]"
BIDI_CHARACTERS = "[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def template(kind: str) -> bytes:
    """A downloadable example file of a kind: the header and a few valid rows (UTF-8, commas)."""
    from importlib import resources

    spec = FILE_SPECS[kind]
    return resources.files("lasnaolo.templates").joinpath(spec.file_name).read_bytes()


IMPORT_LIMITS = ImportLimits()
