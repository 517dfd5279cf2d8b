"""Statistics for fair comparison: intervals, funnel-plot control limits and peer groups.

Chance in a rate: as in `lasnaolo.metrics`, the standard error of an absence rate is bounded by
sqrt(p(1-p)/n) with n the pupils (each pupil's absence share lies in [0, 1]; Bhatia-Davis). A
school outside the 99.8 % limit of that bound differs from its reference by more than chance;
a small school's rate swings widely by chance alone, which the funnel's width shows.

Tier shares count pupils, so they are binomial proportions: Wilson score intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statistics import NormalDist

from lasnaolo import metrics

Z95 = metrics.Z95
Z998 = NormalDist().inv_cdf(0.999)  # 3.090 (the standard library: no SciPy at start-up)
LIMIT_LEVELS = {"95": Z95, "998": Z998}
rate_standard_error = metrics.rate_standard_error


def rate_interval(rate_pct: float, pupils: float, z: float = Z95) -> tuple[float, float]:
    """A conservative interval for an absence rate, clipped to 0-100 %."""
    se = float(rate_standard_error(rate_pct, pupils))
    return max(rate_pct - z * se, 0.0), min(rate_pct + z * se, 100.0)


def wilson_interval(count: float, total: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion, in percent; (nan, nan) when total is 0."""
    if not total:
        return math.nan, math.nan
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (centre - half) * 100, (centre + half) * 100


@dataclass(frozen=True)
class Funnel:
    """Units placed against control limits around a reference rate."""

    reference_rate: float  # percent: pooled over the reference units (hours ÷ hours)
    units: pd.DataFrame  # input columns plus z, outside_95, outside_998, direction
    limits: pd.DataFrame  # pupils, lower_95, upper_95, lower_998, upper_998: the funnel's curves
    dispersion: float  # mean squared z: about 1 when units differ by chance alone


def funnel(units: pd.DataFrame, rate: str = "absence_rate", size: str = "pupils",
           numerator: str = "absent_hours", denominator: str = "lesson_hours",
           reference_rate: float | None = None, points: int = 60) -> Funnel:
    """Place each unit (a row with `rate`, `size`, `numerator`, `denominator`) against 95 % and
    99.8 % limits around the reference rate (default: pooled over all units). `direction` is
    'higher' / 'lower' for units outside the 99.8 % limits, '' otherwise."""
    usable = units[units[size] > 0].copy()
    if reference_rate is None:
        reference_rate = metrics.percent(usable[numerator].sum(), usable[denominator].sum())
    se = rate_standard_error(reference_rate, usable[size].to_numpy())
    usable["z"] = (usable[rate] - reference_rate) / se
    usable["outside_95"] = usable["z"].abs() > Z95
    usable["outside_998"] = usable["z"].abs() > Z998
    usable["direction"] = np.where(~usable["outside_998"], "", np.where(usable["z"] > 0, "higher", "lower"))
    dispersion = float(np.mean(usable["z"] ** 2)) if len(usable) else math.nan
    return Funnel(reference_rate, usable, funnel_limits(reference_rate, usable[size], size, points), dispersion)


def funnel_limits(reference_rate: float, sizes: pd.Series, size: str = "pupils", points: int = 60) -> pd.DataFrame:
    """The funnel's curves: a smooth curve through the units' own sizes, so each unit's limits can
    be read exactly where it is drawn."""
    sizes = sizes.dropna().to_numpy(dtype=float)
    grid = (np.unique(np.concatenate([np.geomspace(max(sizes.min(), 1), max(sizes.max(), 1), points).round(1), sizes]))
            if len(sizes) else np.array([]))
    curve_se = rate_standard_error(reference_rate, grid)
    limits = pd.DataFrame({size: grid})
    for name, z in LIMIT_LEVELS.items():
        limits[f"lower_{name}"] = np.clip(reference_rate - z * curve_se, 0, 100)
        limits[f"upper_{name}"] = np.clip(reference_rate + z * curve_se, 0, 100)
    return limits


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


def peer_positions(schools: pd.DataFrame, start: PeerCriteria = PeerCriteria(), minimum: int = 5) -> pd.DataFrame:
    """Every school against its own peer group at once: the same groups as `widened_peer_group`
    (first rung with at least `minimum` peers), each school's peers' pooled rate and its z, as
    `funnel` places it. `schools` has school_id, school_type, language, pupils, absent_hours,
    lesson_hours and absence_rate. Matrix arithmetic over school pairs: a whole country's schools
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
    absent = usable["absent_hours"].to_numpy(dtype=float)
    lessons = usable["lesson_hours"].to_numpy(dtype=float)
    reference = metrics.pooled_rate(chosen @ absent, chosen @ lessons)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (usable["absence_rate"].to_numpy(dtype=float) - reference) / rate_standard_error(reference, pupils)
    return pd.DataFrame({"school_id": usable["school_id"], "reference_rate": reference,
                         "peers": chosen.sum(axis=1), "z": z})
