"""Statistics for fair comparison: intervals, funnel-plot control limits and peer groups.

The chance model (one for every verdict; README "How the verdicts are made"):
- A rate's chance spread comes from its pupils: the variance of their year-to-date absence shares,
  read from the unit's tier counts (`metrics.pupil_variance`), over the pupils.
- Funnels (a school against similar schools) work on the logit scale, so a small school's limits
  stay inside 0-100 % and can fall below the reference, and allow for the true variation between
  schools that remains among similar ones: an additive between-school variance estimated robustly
  from the peers (Spiegelhalter 2005, z-scores winsorised at 10 % / 90 %, so a few outliers do not
  widen everyone's limits).
- A school's change against the same months last year is read against the change its region
  shares (a flu winter, a new way of recording), with its pupils' spread in both years scaled by
  a dispersion factor estimated robustly over the region's schools: pupils mostly stay from one
  year to the next, so a school's change varies less than two independent years would.
- Where many schools are tested at once, the lists control the false-discovery rate
  (Benjamini-Hochberg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from lasnaolo import contract, metrics

Z95 = metrics.Z95
Z998 = NormalDist().inv_cdf(0.999)  # 3.090 (the standard library: no SciPy at start-up)
LIMIT_LEVELS = {"95": Z95, "998": Z998}
WINSOR = 10  # percent in each tail
FDR = 0.05
MIN_FOR_DISPERSION = 10  # schools needed to estimate a region's dispersion of changes


def _winsorised_mean_square_of_normal(tail: float) -> float:
    """E[min(z², c²)] for a standard normal z, c its (1 − tail) point: what a winsorised mean square
    comes to when units differ by chance alone (0.68 at 10 %), so dividing by it keeps φ at 1."""
    normal = NormalDist()
    c = normal.inv_cdf(1 - tail)
    return (2 * normal.cdf(c) - 1) - 2 * c * normal.pdf(c) + 2 * tail * c * c


_CONSISTENCY = _winsorised_mean_square_of_normal(WINSOR / 100)


def robust_dispersion(z: np.ndarray) -> float:
    """The mean square of z-scores winsorised at 10 / 90 % and scaled so that it is about 1 when
    units differ by chance alone (a few far-out units do not inflate it)."""
    return float(robust_dispersions(np.asarray(z, dtype=float)[None, :])[0])


def robust_dispersions(z: np.ndarray) -> np.ndarray:
    """`robust_dispersion` of each row of `z`, over the row's finite values (NaN marks none):
    every school's peer group at once. Percentiles by linear interpolation, as np.percentile."""
    finite = np.isfinite(z)
    n = finite.sum(axis=1)
    ordered = np.sort(np.where(finite, z, np.inf), axis=1)  # each row's values first, in order
    rows = np.arange(len(z))[:, None]
    position = np.array([WINSOR, 100 - WINSOR]) / 100 * np.maximum(n - 1, 0)[:, None]  # row × (low, high)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, np.maximum(n - 1, 0)[:, None])
    with np.errstate(invalid="ignore"):
        a, b = ordered[rows, below], ordered[rows, above]
        bounds = a + (b - a) * (position - below)
        clipped = np.clip(np.where(finite, z, np.nan), bounds[:, :1], bounds[:, 1:])
        return np.where(n > 0, np.nansum(clipped ** 2, axis=1) / np.maximum(n, 1), np.nan) / _CONSISTENCY


def rate_interval(rate_pct: float, pupils: float, variance: float, z: float = Z95) -> tuple[float, float]:
    """An interval for an absence rate from its pupils' spread, on the logit scale (inside 0-100 %)."""
    if not pupils or not rate_pct or math.isnan(variance):
        return math.nan, math.nan
    centre, se = logit(rate_pct), float(metrics.rate_standard_error(rate_pct, pupils, variance)) / _slope(rate_pct)
    return float(expit(centre - z * se)), float(expit(centre + z * se))


def logit(rate_pct):
    p = np.clip(np.asarray(rate_pct, dtype=float) / 100, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def expit(value):
    return 100 / (1 + np.exp(-np.asarray(value, dtype=float)))


def _slope(rate_pct):
    """d(percent)/d(logit) at a rate: turns a standard error in points into one on the logit scale."""
    p = np.clip(np.asarray(rate_pct, dtype=float) / 100, 1e-6, 1 - 1e-6)
    return p * (1 - p) * 100


def pooled_variance(units: pd.DataFrame, rate_pct: float) -> float:
    """The pupils' spread (percent²) of several units taken together: from their summed tiers."""
    tiers = units[list(contract.TIER_COLUMNS)].sum()
    return float(metrics.pupil_variance(rate_pct, units["pupils"].sum(), *tiers, squares=_summed_squares(units)))


def _summed_squares(units: pd.DataFrame) -> float | None:
    """The units' summed squared pupil shares, when every unit has them (metrics.SQUARES)."""
    if metrics.SQUARES not in units.columns or units[metrics.SQUARES].isna().any():
        return None
    return float(units[metrics.SQUARES].sum())


def _squares(frame: pd.DataFrame, suffix: str = "") -> np.ndarray | None:
    column = metrics.SQUARES + suffix
    return frame[column].to_numpy(dtype=float) if column in frame.columns else None


def between_variance(deviation: np.ndarray, se: np.ndarray) -> float:
    """Additive between-unit variance τ² (Spiegelhalter 2005): the robust dispersion φ of the
    z-scores, and τ² = (Nφ − (N−1)) / (Σw − Σw²/Σw) with w = 1/se²; 0 when φ shows no
    more spread than chance."""
    return float(between_variances(np.asarray(deviation, dtype=float)[None, :], np.asarray(se, dtype=float)[None, :])[0])


def between_variances(deviation: np.ndarray, se: np.ndarray) -> np.ndarray:
    """`between_variance` of each row (NaN marks a unit not in the row's group)."""
    ok = np.isfinite(deviation) & np.isfinite(se) & (se > 0)
    n = ok.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = robust_dispersions(np.where(ok, deviation / se, np.nan))
        w = np.where(ok, 1 / se ** 2, 0.0)
        total = w.sum(axis=1)
        excess = n * phi - (n - 1)
        tau = excess / (total - (w ** 2).sum(axis=1) / total)
    return np.where((n >= 3) & (excess > 0), np.maximum(tau, 0.0), 0.0)


@dataclass(frozen=True)
class Funnel:
    """Units placed against control limits around a reference rate."""

    reference_rate: float  # percent: pooled over the reference units (hours ÷ hours)
    units: pd.DataFrame  # input columns plus z, outside_95, outside_998, direction
    limits: pd.DataFrame  # pupils, lower_95, upper_95, lower_998, upper_998: the funnel's curves
    dispersion: float  # mean squared z: about 1 when units differ by chance alone
    variance: float = math.nan  # the reference pupils' spread (percent²)
    between: float = 0.0  # τ²: true variation between similar schools (logit scale)


def funnel(units: pd.DataFrame, rate: str = "absence_rate", size: str = "pupils",
           numerator: str = "absent_hours", denominator: str = "lesson_hours",
           reference_rate: float | None = None, variance: float | None = None, between: float | None = None,
           points: int = 60) -> Funnel:
    """Place each unit (rows with `rate`, `size`, `numerator`, `denominator` and the tier counts)
    against 95 % and 99.8 % limits around the reference rate, the reference pupils' spread and
    the between-school variance (each by default from all units given). `direction` is
    'higher' / 'lower' for units outside the 99.8 % limits, '' otherwise."""
    usable = units[units[size] > 0].copy()
    if reference_rate is None:
        reference_rate = metrics.percent(usable[numerator].sum(), usable[denominator].sum())
    if variance is None:
        variance = pooled_variance(usable, reference_rate)
    se = np.sqrt(variance / usable[size].to_numpy(dtype=float)) / _slope(reference_rate)
    deviation = logit(usable[rate].to_numpy(dtype=float)) - logit(reference_rate)
    if between is None:
        between = between_variance(deviation, se)
    usable["z"] = deviation / np.sqrt(se ** 2 + between)
    usable["outside_95"] = usable["z"].abs() > Z95
    usable["outside_998"] = usable["z"].abs() > Z998
    usable["direction"] = np.where(~usable["outside_998"], "", np.where(usable["z"] > 0, "higher", "lower"))
    dispersion = float(np.mean(usable["z"] ** 2)) if len(usable) else math.nan
    limits = funnel_limits(reference_rate, usable[size], variance, between, size, points)
    return Funnel(reference_rate, usable, limits, dispersion, variance, between)


def limits_at(reference_rate, pupils, variance, between, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper limits (percent) at `pupils` for a two-sided level with quantile z."""
    se = np.sqrt(np.asarray(variance, dtype=float) / np.asarray(pupils, dtype=float)) / _slope(reference_rate)
    spread = z * np.sqrt(se ** 2 + np.asarray(between, dtype=float))
    centre = logit(reference_rate)
    return expit(centre - spread), expit(centre + spread)


def funnel_limits(reference_rate: float, sizes: pd.Series, variance: float, between: float = 0.0,
                  size: str = "pupils", points: int = 60) -> pd.DataFrame:
    """The funnel's curves from half the smallest unit's size to twice the largest, through
    the units' own sizes, so each unit's limits can be read exactly where it is drawn."""
    sizes = sizes.dropna().to_numpy(dtype=float)
    grid = (np.unique(np.concatenate([np.geomspace(max(sizes.min() / 2, 1), max(sizes.max() * 2, 1), points).round(1),
                                      sizes])) if len(sizes) else np.array([]))
    limits = pd.DataFrame({size: grid})
    for name, z in LIMIT_LEVELS.items():
        limits[f"lower_{name}"], limits[f"upper_{name}"] = limits_at(reference_rate, grid, variance, between, z)
    return limits


def two_sided_p(z) -> np.ndarray:
    """2 Φ(−|z|) = erfc(|z| / √2), NaN where z is; the standard library's erfc, since loading
    SciPy for it was 0.3 s of a server process's first comparison page."""
    scaled = np.abs(np.asarray(z, dtype=float)).ravel() / math.sqrt(2)
    return np.array([math.erfc(v) for v in scaled], dtype=float).reshape(np.shape(z))


def false_discovery(p_values) -> np.ndarray:
    """Benjamini-Hochberg: which of many tests stand at a false-discovery rate of FDR."""
    p = np.asarray(p_values, dtype=float)
    found = np.zeros(len(p), dtype=bool)
    ok = np.isfinite(p)
    if not ok.any():
        return found
    order = np.argsort(p[ok])
    ranked = p[ok][order]
    passing = ranked <= FDR * np.arange(1, len(ranked) + 1) / len(ranked)
    cutoff = np.max(np.nonzero(passing)[0]) + 1 if passing.any() else 0
    chosen = np.zeros(len(ranked), dtype=bool)
    chosen[order[:cutoff]] = True
    found[np.flatnonzero(ok)] = chosen
    return found


def change_positions(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Each school's change of absence rate against the same months a year before, read against
    the change the schools given (a region) share. `current` / `previous`: one row per school_id
    with absence_rate, absent_hours, lesson_hours, pupils and tier counts over the same months.
    Returns school_id, change_points, region_change, change_low, change_high, change_z,
    dispersion (the robust mean square of the region's z-scores: under 1 where pupils stay) and
    change_between (the additive between-school variance of changes)."""
    both = current.merge(previous, on="school_id", suffixes=("", "_before"))
    both = both[(both["pupils"] > 0) & (both["pupils_before"] > 0)]
    region_change = (metrics.percent(both["absent_hours"].sum(), both["lesson_hours"].sum())
                     - metrics.percent(both["absent_hours_before"].sum(), both["lesson_hours_before"].sum()))
    variance_now = metrics.pupil_variance(both["absence_rate"], both["pupils"], *(both[c] for c in contract.TIER_COLUMNS),
                                          squares=_squares(both))
    variance_before = metrics.pupil_variance(both["absence_rate_before"], both["pupils_before"],
                                             *(both[f"{c}_before"] for c in contract.TIER_COLUMNS),
                                             squares=_squares(both, "_before"))
    se = np.sqrt(variance_now / both["pupils"].to_numpy(dtype=float) + variance_before / both["pupils_before"].to_numpy(dtype=float))
    change = (both["absence_rate"] - both["absence_rate_before"]).to_numpy(dtype=float)
    z = (change - region_change) / se
    dispersion = 1.0
    usable = np.isfinite(z)
    if usable.sum() >= MIN_FOR_DISPERSION:
        dispersion = robust_dispersion(z[usable])
    # What varies between schools beyond their pupils (an illness wave in one school, a changed
    # practice) does not shrink with size: an additive term on top, estimated robustly from the
    # region's schools. In a small region it is what keeps the verdicts honest (review finding:
    # with 8 schools and school-level waves, 23 % false alarms without it).
    between = between_variance(change - region_change, se * math.sqrt(dispersion)) if usable.sum() >= 3 else 0.0
    scaled = np.sqrt(se ** 2 * dispersion + between)
    return pd.DataFrame({
        "school_id": both["school_id"].to_numpy(), "change_points": change, "region_change": region_change,
        "change_low": change - Z95 * scaled, "change_high": change + Z95 * scaled,
        "change_z": (change - region_change) / scaled, "dispersion": dispersion, "change_between": between,
    })


@dataclass(frozen=True)
class PeerCriteria:
    same_type: bool = True
    same_language: bool = True
    size_factor: float | None = 2.0  # pupils within [size / f, size × f]; None: any size


@dataclass(frozen=True)
class PeerGroup:
    target: str
    criteria: PeerCriteria
    members: pd.DataFrame  # the peers, the target excluded


def peer_group(schools: pd.DataFrame, target: str, criteria: PeerCriteria = PeerCriteria()) -> PeerGroup:
    """Similar schools: `schools` has school_id, school_type, language and pupils."""
    me = schools.set_index("school_id").loc[target]
    others = schools[schools["school_id"] != target]
    keep = pd.Series(True, index=others.index)
    if criteria.same_type:
        keep &= others["school_type"] == me["school_type"]
    if criteria.same_language:
        keep &= others["language"] == me["language"]
    if criteria.size_factor is not None:
        keep &= others["pupils"].between(me["pupils"] / criteria.size_factor, me["pupils"] * criteria.size_factor)
    return PeerGroup(target, criteria, others[keep].reset_index(drop=True))


def widened_peer_group(schools: pd.DataFrame, target: str, minimum: int = 5,
                       start: PeerCriteria = PeerCriteria()) -> PeerGroup:
    """The narrowest of a fixed ladder of criteria that yields at least `minimum` peers: first the
    given ones, then any language, then sizes within 3×, then any size (the last rung is returned
    even when still small, so the caller can say how many peers there are)."""
    ladder = [start, PeerCriteria(start.same_type, False, start.size_factor),
              PeerCriteria(start.same_type, False, 3.0), PeerCriteria(start.same_type, False, None)]
    for criteria in ladder:
        group = peer_group(schools, target, criteria)
        if len(group.members) >= minimum:
            return group
    return group


def peer_positions(schools: pd.DataFrame, start: PeerCriteria = PeerCriteria(), minimum: int = 5,
                   classes: pd.Series | None = None) -> pd.DataFrame:
    """Every school against its own peer group at once: the same groups as `widened_peer_group`
    (first rung with at least `minimum` peers), each school's peers' pooled rate, their pupils'
    spread, the between-school variance among them and the school's z, as `funnel` places it.
    `schools` has school_id, school_type, language, pupils, absent_hours, lesson_hours,
    absence_rate and the tier counts; `classes` (school_id -> size class) makes classes enter whole. Matrix arithmetic over school pairs: a whole country's schools
    in well under a second, where a funnel per school took half a minute."""
    usable = schools[schools["pupils"] > 0].reset_index(drop=True)
    pupils = usable["pupils"].to_numpy(dtype=float)
    kind = usable["school_type"].to_numpy()
    tongue = usable["language"].to_numpy()
    ladder = [start, PeerCriteria(start.same_type, False, start.size_factor),
              PeerCriteria(start.same_type, False, 3.0), PeerCriteria(start.same_type, False, None)]
    chosen = np.zeros((len(usable), len(usable)), dtype=bool)
    settled = np.zeros(len(usable), dtype=bool)
    for rung, criteria in enumerate(ladder):
        mask = ~np.eye(len(usable), dtype=bool)
        if criteria.same_type:
            mask &= kind[:, None] == kind[None, :]
        if criteria.same_language:
            mask &= tongue[:, None] == tongue[None, :]
        if criteria.size_factor is not None:
            mask &= (pupils[None, :] >= pupils[:, None] / criteria.size_factor) & (pupils[None, :] <= pupils[:, None] * criteria.size_factor)
        take = ~settled & ((mask.sum(axis=1) >= minimum) | (rung == len(ladder) - 1))
        chosen[take] = mask[take]
        settled |= take
    if classes is not None:
        # A size class enters a peer group whole (see comparison._place): the same groups as there.
        labels = usable["school_id"].map(classes)
        kinds = pd.get_dummies(labels).to_numpy(dtype=float)  # school × class; no class: an empty row
        if kinds.size:
            chosen |= ((chosen @ kinds) > 0) @ kinds.T > 0
            np.fill_diagonal(chosen, False)
    absent = usable["absent_hours"].to_numpy(dtype=float)
    lessons = usable["lesson_hours"].to_numpy(dtype=float)
    reference = metrics.pooled_rate(chosen @ absent, chosen @ lessons)
    tiers = [chosen @ usable[c].to_numpy(dtype=float) for c in contract.TIER_COLUMNS]
    squares = _squares(usable)
    if squares is not None:  # a peer group with any member lacking them has none (NaN)
        squares = np.where(chosen @ np.isnan(squares) > 0, np.nan, chosen @ np.nan_to_num(squares))
    variance = metrics.pupil_variance(reference, chosen @ pupils, *tiers, squares=squares)
    rates = logit(usable["absence_rate"].to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Row i: school i's peers' deviations from their pooled rate, and their standard errors.
        peer_se = np.where(chosen, np.sqrt(variance[:, None] / pupils[None, :]) / _slope(reference)[:, None], np.nan)
        between = between_variances(np.where(chosen, rates[None, :] - logit(reference)[:, None], np.nan), peer_se)
        own_se = np.sqrt(variance / pupils) / _slope(reference)
        z = (rates - logit(reference)) / np.sqrt(own_se ** 2 + between)
    return pd.DataFrame({"school_id": usable["school_id"], "reference_rate": reference,
                         "peers": chosen.sum(axis=1), "z": z, "variance": variance, "between": between})
