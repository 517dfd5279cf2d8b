"""Languages: the one catalogue of user-visible text (fi / sv / en) and Nordic number and date formats.

The catalogue (`locales/catalogue.yaml`) holds every key once with its three languages side by
side, so a missing translation is visible in review and caught by a test. Finnish is the default.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo
from functools import lru_cache
from importlib import resources

import yaml

LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; in the catalogue that hid a
    translation (review finding: 'Group' where 'Cluster' was written), so a repeat is an error."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"catalogue.yaml line {key_node.start_mark.line + 1}: key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with resources.files("lasnaolo.locales").joinpath("catalogue.yaml").open("r", encoding="utf-8") as f:
        return yaml.load(f, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader


def t(key: str, language: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text of `key` in `language`, with {placeholders} filled. A missing key raises KeyError:
    the tests find every key the code uses, so this never reaches a user. Where a count (`n` or
    `count`) is 1 and the key has a singular form (`key.one`), that form is used."""
    count = values.get("n", values.get("count"))
    if count == 1 and f"{key}.one" in catalogue():
        key = f"{key}.one"
    text = catalogue()[key][language if language in LANGUAGES else DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in catalogue()


def number(value: float | None, language: str = DEFAULT_LANGUAGE, decimals: int = 1) -> str:
    """12.345 -> '12,3' (fi, sv) or '12.3' (en); thousands with a no-break space (fi, sv) or comma (en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # -0.04 is written 0,0, not −0,0
    text = f"{value:,.{decimals}f}".replace("-", "\u2212")  # a true minus sign, as in print
    if language == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def parse_number(text: str | None) -> float | None:
    """A number as people type it: '4,5', '4.5', '4,5 %' or '1 234,5' (None when it is not one)."""
    if text is None:
        return None
    cleaned = text.strip().removesuffix("%").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def percent(value: float | None, language: str = DEFAULT_LANGUAGE, decimals: int = 1) -> str:
    """'12,3 %' in Finnish and Swedish (space before the sign), '12.3%' in English."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return number(value, language, decimals) + ("%" if language == "en" else "\u00a0%")


def points(value: float | None, language: str = DEFAULT_LANGUAGE, decimals: int = 1) -> str:
    """A signed change in percentage points: '+1,2' / '−0,4' (a true minus sign)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    shown = round(value, decimals)  # the sign of what is written: +0,04 reads ±0,0, not +0,0
    sign = "+" if shown > 0 else "\u2212" if shown < 0 else "±"
    return sign + number(abs(shown), language, decimals)


def day(value: date, language: str = DEFAULT_LANGUAGE) -> str:
    """1.9.2024 in Finnish and Swedish, 1 Sep 2024 in English."""
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day}.{value.month}.{value.year}"


FINNISH_TIME = ZoneInfo("Europe/Helsinki")


def timestamp(value: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """A moment in Finnish time: '23.11.2026 19.27' (fi: a dot between hours and minutes),
    '23.11.2026 19:27' (sv), '23 Nov 2026 19:27' (en). Naive values are taken as UTC, as stored."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(FINNISH_TIME)
    clock = f"{local:%H.%M}" if language == "fi" else f"{local:%H:%M}"
    return f"{day(local.date(), language)} {clock}"


def month(value: str, language: str = DEFAULT_LANGUAGE) -> str:
    """'2024-09' -> '9/2024' (fi, sv) or 'Sep 2024' (en)."""
    year, mon = int(value[:4]), int(value[5:7])
    return f"{_MONTHS_EN[mon - 1]} {year}" if language == "en" else f"{mon}/{year}"


def school_year(value: str) -> str:
    """'2024-2025' -> '2024–2025' (an en dash, as Finnish typography writes ranges)."""
    return value.replace("-", "\u2013")


def name_of(kind: str, code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The display name of a catalogue code: kind is 'indicator', 'measure', 'role', 'school_type', ..."""
    return t(f"{kind}.{code}", language)


def feature_name(feature: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A risk-profile feature in words: a survey indicator (survey_<code>) by the indicator's name,
    any other by its own catalogue entry."""
    if feature.startswith("survey_"):
        return name_of("indicator", feature.removeprefix("survey_"), language)
    return t(f"risk.feature.{feature}", language)
