"""The metrics core: every rate, share, change and suppression in Läsnäolo is computed here.

Inputs are aggregated frames with the contract's count columns (one row per month at least, any
finer breakdown allowed); outputs are plain numbers, frames and dataclasses. Rates are percent of
lesson hours; tier shares are percent of pupils in the latest month (tiers are year-to-date).

Chance in a change: the standard error of a rate is bounded by sqrt(p(1-p)/n) with n the pupils,
because each pupil's absence share lies in [0, 1] and such a variable with mean p has variance at
most p(1-p) (Bhatia-Davis). A change is flagged as larger than chance when its 95 % interval,
from the two years' bounds combined, excludes zero. The bound is conservative: a flagged change
is real with high confidence; a small real change may go unflagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from lasnaolo import contract
from lasnaolo.contract import SuppressionPolicy

HOURS = contract.HOUR_COLUMNS
TIER_COUNTS = contract.TIER_COLUMNS
COUNT_COLUMNS = ("pupils",) + HOURS + TIER_COUNTS
RATE_COLUMNS = ("absence_rate", "illness_rate", "authorised_rate", "unauthorised_rate")
SHARE_COLUMNS = ("tier1_share", "tier2_share", "tier3_share", "tier23_share")
FIGURE_COLUMNS = ("pupils",) + HOURS + RATE_COLUMNS + SHARE_COLUMNS
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal distribution


def rate_standard_error(rate_pct: float | np.ndarray, pupils: float | np.ndarray) -> float | np.ndarray:
    """Upper bound of the standard error of an absence rate (percent) from `pupils` pupils
    (see the module notes); lasnaolo.stats builds its intervals and funnels on it."""
    p = np.asarray(rate_pct, dtype=float) / 100
    n = np.asarray(pupils, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(p * (1 - p) / n) * 100


def percent(numerator: float, denominator: float) -> float:
    """numerator / denominator in percent; NaN when the denominator is zero."""
    return float(numerator) / float(denominator) * 100 if denominator else math.nan


def pooled_rate(absent_hours: np.ndarray, lesson_hours: np.ndarray) -> np.ndarray:
    """Rates (percent) of hours pooled over units, element by element; NaN where no lessons."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lesson_hours > 0, absent_hours / lesson_hours * 100, np.nan)


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Rates (of lesson hours) and tier shares (of pupils) for already summed rows."""
    out = frame.copy()
    lessons = out["lesson_hours"].where(out["lesson_hours"] > 0)
    absent = out["illness_hours"] + out["authorised_hours"] + out["unauthorised_hours"]
    out["absent_hours"] = absent
    out["absence_rate"] = absent / lessons * 100
    for category in contract.ABSENCE_CATEGORIES:
        out[f"{category}_rate"] = out[f"{category}_hours"] / lessons * 100
    pupils = out["pupils"].where(out["pupils"] > 0)
    for tier in contract.TIERS:
        out[f"tier{tier}_share"] = out[f"tier{tier}_pupils"] / pupils * 100
    out["tier23_share"] = (out["tier2_pupils"] + out["tier3_pupils"]) / pupils * 100
    return out


def figures_by(rows: pd.DataFrame, by: Sequence[str], policy: SuppressionPolicy | None = None) -> pd.DataFrame:
    """Key figures per group: hours summed over all months, pupils and tiers from the group's
    latest month. `rows` need `month` and the count columns. Groups under the minimum pupils are
    suppressed (figures NaN, `suppressed` True)."""
    policy = policy or SuppressionPolicy()
    by = list(by)
    work = rows.assign(_all=0) if not by else rows
    keys = by or ["_all"]
    # A withheld month (NaN) withholds the whole period: a sum that skipped it would understate
    # the period and, next to the published months, give the withheld one away.
    hours = work.groupby(keys, sort=True)[list(HOURS)].sum().where(~work[list(HOURS)].isna().groupby(
        [work[k] for k in keys], sort=True).any())
    latest = work.groupby(keys)["month"].transform("max")
    last = work[work["month"] == latest]
    heads = last.groupby(keys, sort=True)[["pupils", *TIER_COUNTS]].sum(min_count=1)
    months = work.groupby(keys)["month"].agg(first_month="min", latest_month="max")
    out = add_rates(hours.join(heads).join(months))
    out["suppressed"] = ~(out["pupils"] >= policy.min_pupils) | out["lesson_hours"].isna()
    hidden = [c for c in out.columns if c not in ("first_month", "latest_month", "suppressed")]
    out[hidden] = out[hidden].astype(float).where(~out["suppressed"])
    out = out.reset_index()
    return out.drop(columns="_all") if not by else out


def monthly(rows: pd.DataFrame, by: Sequence[str] = (), policy: SuppressionPolicy | None = None) -> pd.DataFrame:
    """Figures per month (and per `by` group): a time series where each month stands alone."""
    return figures_by(rows, [*by, "month"], policy)


@dataclass(frozen=True)
class KeyFigures:
    """The figures of one unit for one period, as `report` prints them."""

    unit: str
    school_year: str
    first_month: str | None
    latest_month: str | None
    pupils: int | None
    lesson_hours: int | None
    illness_hours: int | None
    authorised_hours: int | None
    unauthorised_hours: int | None
    absence_rate: float | None
    illness_rate: float | None
    authorised_rate: float | None
    unauthorised_rate: float | None
    tier1_share: float | None
    tier2_share: float | None
    tier3_share: float | None
    tier23_share: float | None
    suppressed: list[str] = field(default_factory=list)

    def as_report(self) -> dict:
        """The `report` command's JSON: the contract's keys only."""
        data = asdict(self)
        for internal in ("first_month", "latest_month", "tier23_share"):
            data.pop(internal)
        data["suppressed"] = [s for s in data["suppressed"] if s != "tier23_share"]
        return data


def key_figures(rows: pd.DataFrame, unit: str, school_year: str, policy: SuppressionPolicy | None = None) -> KeyFigures:
    """Key figures of one unit over the months in `rows` (a school year, or its first months)."""
    policy = policy or SuppressionPolicy()
    if rows.empty:
        return KeyFigures(unit, school_year, None, None, *([None] * len(FIGURE_COLUMNS)), suppressed=list(FIGURE_COLUMNS))
    row = figures_by(rows, [], policy).iloc[0]
    values: dict[str, float | int | None] = {}
    for column in FIGURE_COLUMNS:
        value = row[column]
        if pd.isna(value):
            values[column] = None
        elif column == "pupils" or column in HOURS:
            values[column] = int(value)
        else:
            values[column] = float(value)
    suppressed = list(FIGURE_COLUMNS) if row["suppressed"] else [c for c in FIGURE_COLUMNS if values[c] is None]
    return KeyFigures(unit, school_year, row["first_month"], row["latest_month"], **values, suppressed=suppressed)


def months_through(school_year: str, latest_month: str) -> list[str]:
    """The school year's months from August through `latest_month`'s position in the year."""
    months = contract.months_of_school_year(school_year)
    return months[: contract.month_index(latest_month) + 1]


def same_point_last_year(school_year: str, latest_month: str) -> tuple[str, list[str]]:
    """The previous school year and its months up to the same point (for year-to-date comparison)."""
    previous = contract.previous_school_year(school_year)
    return previous, months_through(previous, contract.months_of_school_year(previous)[contract.month_index(latest_month)])


@dataclass(frozen=True)
class Change:
    """A change in percentage points with a conservative 95 % interval (see the module notes)."""

    metric: str
    current: float | None
    previous: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    larger_than_chance: bool | None


def change(metric: str, current: float | None, previous: float | None, n_current: int | None, n_previous: int | None) -> Change:
    """Change of a percentage between two periods; None parts when either side is withheld."""
    if None in (current, previous, n_current, n_previous) or not n_current or not n_previous:
        return Change(metric, current, previous, None, None, None, None)
    se = math.hypot(rate_standard_error(current, n_current), rate_standard_error(previous, n_previous))
    difference = current - previous
    low, high = difference - Z95 * se, difference + Z95 * se
    return Change(metric, current, previous, difference, low, high, bool(low > 0 or high < 0))


def changes(current: KeyFigures, previous: KeyFigures, metrics: Sequence[str] = RATE_COLUMNS + SHARE_COLUMNS) -> list[Change]:
    return [
        change(m, getattr(current, m), getattr(previous, m), current.pupils, previous.pupils) for m in metrics
    ]


def survey_value(value_pct: float, respondents: int, policy: SuppressionPolicy | None = None) -> float | None:
    """A survey result, or None when fewer than the minimum respondents answered."""
    policy = policy or SuppressionPolicy()
    return None if respondents < policy.min_respondents else float(value_pct)


def grade_band_of(grades: pd.Series) -> pd.Series:
    return grades.map(contract.grade_band)
