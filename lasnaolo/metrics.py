"""The metrics core: every rate, share, change and suppression in Läsnäolo is computed here.

Inputs are aggregated frames with the contract's count columns (one row per month at least, any
finer breakdown allowed); outputs are plain numbers, frames and dataclasses. Rates are percent of
lesson hours; tier shares are percent of pupils in the latest month (tiers are year-to-date).

Chance in a change: a rate's standard error comes from the spread of its pupils' year-to-date
absence shares, which the tier counts give (`pupil_variance`); a rate by reason takes the same
spread scaled by its share of all absence, and a tier share is a binomial proportion of pupils.
A change is flagged as larger than chance when its 95 % interval excludes zero (lasnaolo.stats
reads a school's change against its region's; README "How the verdicts are made").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from lasnaolo import contract
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy

HOURS = contract.HOUR_COLUMNS
TIER_COUNTS = contract.TIER_COLUMNS
COUNT_COLUMNS = ("pupils",) + HOURS + TIER_COUNTS
# Optional (NULL when not delivered): the pupils' squared year-to-date percents, summed. Read where
# rows are exact (never published to anonymised scopes), for `pupil_variance`.
SQUARES = contract.SQUARES_COLUMN
RATE_COLUMNS = ("absence_rate", "illness_rate", "authorised_rate", "unauthorised_rate")
SHARE_COLUMNS = ("tier1_share", "tier2_share", "tier3_share", "tier23_share")
FIGURE_COLUMNS = ("pupils",) + HOURS + RATE_COLUMNS + SHARE_COLUMNS
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal distribution


# Shapes tried when fitting the pupils' spread (gamma shape k: coefficient of variation 1/sqrt(k)).
_SHAPES = np.geomspace(0.15, 40, 90)
_BAND_EDGES = (5.0, 10.0, 20.0)  # percent: the tiers count pupils in [5, 10), [10, 20] and over 20


def complete_sums(values: pd.Series, by) -> pd.Series:
    """Sums per group that are NaN unless every value is there (an optional column, `SQUARES`)."""
    grouped = values.groupby(by, sort=True)
    return grouped.sum().where(grouped.count() == grouped.size())


def pupil_variance(rate_pct, pupils, tier1, tier2, tier3, squares=None) -> np.ndarray:
    """Variance (percent²) of the pupils' year-to-date absence shares in each unit, read from its
    rate and tier counts: the four bands of the attendance model (under 5, 5-10, 10-20, over 20 %)
    are fitted by a gamma distribution whose mean is the rate (maximum likelihood over its shape),
    and its variance is returned. A rate of 8 % where most pupils miss 2-10 % is far steadier
    than the bound p(1-p) that any distribution with that mean stays under, which the tiers rule
    out. Checked against pupil-level simulations in tests/test_calibration.py. Where the sum of
    the pupils' squared percents (`squares`) is known, the variance is exact: squares / pupils less
    the rate squared (the rate standing for the pupils' mean share)."""
    from scipy.special import gammainc  # imported here: SciPy is slow to load and rarely needed

    rate, n, t1, t2, t3 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (rate_pct, pupils, tier1, tier2, tier3))
    n0 = np.clip(n - t1 - t2 - t3, 0, None)
    counts = np.stack([n0, t1, t2, t3], axis=1)[:, :, None]  # unit × band × shape
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.stack([gammainc(_SHAPES[None, :], edge * _SHAPES[None, :] / rate[:, None]) for edge in _BAND_EDGES], axis=1)
        cumulative = np.concatenate([np.zeros_like(scaled[:, :1]), scaled, np.ones_like(scaled[:, :1])], axis=1)
        bands = np.clip(np.diff(cumulative, axis=1), 1e-12, 1)
        likelihood = (counts * np.log(bands)).sum(axis=1)
        shape = _SHAPES[np.argmax(np.nan_to_num(likelihood, nan=-np.inf), axis=1)]
        variance = np.where((n > 0) & (rate > 0), rate ** 2 / shape, np.nan)
    if squares is not None:
        exact = np.atleast_1d(np.asarray(squares, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = np.clip(exact / n - rate ** 2, 0, None)
        # A unit whose every pupil has the same share has no spread; the fit's floor keeps limits finite.
        variance = np.where(np.isfinite(exact) & (n > 0) & (rate > 0), np.maximum(exact, rate ** 2 / _SHAPES[-1]), variance)
    return variance if np.ndim(rate_pct) or np.ndim(pupils) else variance[0]


def rate_standard_error(rate_pct, pupils, variance) -> np.ndarray:
    """Standard error (points) of a rate over `pupils` pupils whose shares vary by `variance`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.asarray(variance, dtype=float) / np.asarray(pupils, dtype=float))


def share_standard_error(share_pct, pupils) -> np.ndarray:
    """Standard error (points) of a share of pupils (a tier share): binomial."""
    p = np.asarray(share_pct, dtype=float) / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(p * (1 - p) / np.asarray(pupils, dtype=float)) * 100


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


def figures_by(rows: pd.DataFrame, by: Sequence[str], policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Key figures per group: hours summed over all months, pupils and tiers from the group's
    latest month. `rows` need `month` and the count columns. Groups under the minimum pupils are
    suppressed (figures NaN, `suppressed` True)."""
    by = list(by)
    work = rows.assign(_all=0) if not by else rows
    keys = by or ["_all"]
    # A withheld month (NaN) withholds the whole period: a sum that skipped it would understate
    # the period and, next to the published months, give the withheld one away.
    hours = work.groupby(keys, sort=True)[list(HOURS)].sum().where(~work[list(HOURS)].isna().groupby(
        [work[k] for k in keys], sort=True).any())
    # Months as sorted integer codes: min and max over "YYYY-MM" text ran in Python, seconds a region.
    codes, values = pd.factorize(work["month"], sort=True)
    code = pd.Series(codes, index=work.index)
    latest = code.groupby([work[k] for k in keys]).transform("max")
    last = work[code == latest]
    heads = last.groupby(keys, sort=True)[["pupils", *TIER_COUNTS]].sum(min_count=1)
    if SQUARES in last.columns:
        heads[SQUARES] = complete_sums(last[SQUARES], [last[k] for k in keys])
    ends = code.groupby([work[k] for k in keys], sort=True).agg(["min", "max"])
    months = pd.DataFrame({"first_month": values.take(ends["min"].to_numpy()),
                           "latest_month": values.take(ends["max"].to_numpy())}, index=ends.index)
    out = add_rates(hours.join(heads).join(months))
    out["suppressed"] = ~(out["pupils"] >= policy.min_pupils) | out["lesson_hours"].isna()
    hidden = [c for c in out.columns if c not in ("first_month", "latest_month", "suppressed")]
    out[hidden] = out[hidden].astype(float).where(~out["suppressed"])
    out = out.reset_index()
    return out.drop(columns="_all") if not by else out


def period_rate(rows: pd.DataFrame, numerator: Sequence[str], policy: SuppressionPolicy = SUPPRESSION) -> float | None:
    """One unit's rate (percent of lesson hours) over all its `rows`, exactly as `figures_by` gives
    it, without the grouping: None when a count is withheld, the latest month's pupils are under
    the minimum or there are no lessons. Targets ask it for every month of two years per target."""
    if rows.empty or rows[[*numerator, "lesson_hours", "pupils"]].isna().to_numpy().any():
        return None
    pupils = rows.loc[rows["month"] == rows["month"].max(), "pupils"].sum()
    if not pupils >= policy.min_pupils:
        return None
    value = percent(rows[list(numerator)].to_numpy(dtype=float).sum(), rows["lesson_hours"].sum())
    return None if math.isnan(value) else value


def period_tier23_share(rows: pd.DataFrame, policy: SuppressionPolicy = SUPPRESSION) -> float | None:
    """One unit's tier 2-3 share (percent of pupils, latest month) over its `rows`, exactly as
    `figures_by` gives it, without the grouping: target simulations and projections ask it per
    unit and month."""
    if rows.empty or rows["lesson_hours"].isna().to_numpy().any():
        return None
    last = rows[rows["month"] == rows["month"].max()]
    pupils = last["pupils"].sum(min_count=1)
    tiers = last[["tier2_pupils", "tier3_pupils"]].sum(min_count=1)
    if not pupils >= policy.min_pupils or tiers.isna().any():
        return None
    return float(tiers.sum() / pupils * 100)


def monthly(rows: pd.DataFrame, by: Sequence[str] = (), policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
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
    pupil_share_squares: float | None = None  # internal: for the exact chance spread (SQUARES)

    def as_report(self) -> dict:
        """The `report` command's JSON: the contract's keys only."""
        data = asdict(self)
        for internal in ("first_month", "latest_month", "tier23_share", SQUARES):
            data.pop(internal)
        data["suppressed"] = [s for s in data["suppressed"] if s != "tier23_share"]
        return data


def key_figures(rows: pd.DataFrame, unit: str, school_year: str, policy: SuppressionPolicy = SUPPRESSION) -> KeyFigures:
    """Key figures of one unit over the months in `rows` (a school year, or its first months)."""
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
    squares = row.get(SQUARES)
    return KeyFigures(unit, school_year, row["first_month"], row["latest_month"], **values, suppressed=suppressed,
                      pupil_share_squares=None if squares is None or pd.isna(squares) or row["suppressed"] else float(squares))


def months_through(school_year: str, latest_month: str) -> list[str]:
    """The school year's months from August through `latest_month`'s position in the year."""
    months = contract.months_of_school_year(school_year)
    return months[: contract.month_index(latest_month) + 1]


def same_point_last_year(school_year: str, latest_month: str) -> tuple[str, list[str]]:
    """The previous school year and its months up to the same point (for year-to-date comparison)."""
    previous = contract.previous_school_year(school_year)
    return previous, months_through(previous, contract.months_of_school_year(previous)[contract.month_index(latest_month)])


def same_school_months(current: pd.DataFrame, previous: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of two periods (with school_id and month) cut to the school-months both have, by the
    month's place in the school year: a change then compares like with like even while a school's
    latest month is still on its way."""
    def places(rows: pd.DataFrame) -> pd.Series:
        return rows["school_id"].astype(str) + "@" + rows["month"].map(contract.month_index).astype(str)

    now, before = places(current), places(previous)
    both = set(now) & set(before)
    return current[now.isin(both)], previous[before.isin(both)]


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


def change(metric: str, current: float | None, previous: float | None, se_current: float | None,
           se_previous: float | None) -> Change:
    """Change of a percentage between two periods, with its 95 % interval from the two standard
    errors; None parts when either side is withheld."""
    if None in (current, previous, se_current, se_previous) or math.isnan(se_current) or math.isnan(se_previous):
        return Change(metric, current, previous, None, None, None, None)
    se = math.hypot(se_current, se_previous)
    difference = current - previous
    low, high = difference - Z95 * se, difference + Z95 * se
    return Change(metric, current, previous, difference, low, high, bool(low > 0 or high < 0))


def standard_error(figures: KeyFigures, metric: str) -> float | None:
    """The chance spread (points) of one of a unit's figures (see the module notes)."""
    value, pupils = getattr(figures, metric), figures.pupils
    if value is None or not pupils or figures.absence_rate is None or figures.tier1_share is None:
        return None
    if metric in SHARE_COLUMNS:
        return float(share_standard_error(value, pupils))
    tiers = [getattr(figures, f"tier{t}_share") * pupils / 100 for t in contract.TIERS]
    variance = float(pupil_variance(figures.absence_rate, pupils, *tiers, squares=figures.pupil_share_squares))
    scale = value / figures.absence_rate if figures.absence_rate else 0.0
    return float(rate_standard_error(value, pupils, variance * scale))


def changes(current: KeyFigures, previous: KeyFigures, metrics: Sequence[str] = RATE_COLUMNS + SHARE_COLUMNS) -> list[Change]:
    return [change(m, getattr(current, m), getattr(previous, m), standard_error(current, m), standard_error(previous, m))
            for m in metrics]


def survey_value(value_pct: float, respondents: int, policy: SuppressionPolicy = SUPPRESSION) -> float | None:
    """A survey result, or None when fewer than the minimum respondents answered."""
    return None if respondents < policy.min_respondents else float(value_pct)
