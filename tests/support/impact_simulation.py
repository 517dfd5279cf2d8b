"""Measures under known truth, simulated where the data is born: pupils absent day by day in 40
schools over four school years, aggregated to the contract's school × month counts (tiers from
each pupil's year-to-date share), and a measure given to some schools by a rule. Used by
tests/test_impact.py and benchmarks/impact_calibration.py.

Each school's level wanders from month to month (AR(1): a bad term passes), the region's months
share shocks (an epidemic), and June has three school days. Rules for who gets the measure:
- "random": 5-15 schools at random;
- "spike": the schools whose absence rose most in the last term before the start (coaches go where
  absence just rose; Ashenfelter's dip turned upside down);
- "highest": the schools with the highest absence before the start.
The measure does nothing unless `effect` (points of absence rate while in use) is set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from lasnaolo.queries import MeasurePanel

MONTHS = [f"{y + (m < 8)}-{m:02d}" for y in (2020, 2021, 2022, 2023) for m in (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)]
DAYS = dict(zip((8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6), (8, 21, 19, 20, 15, 17, 15, 21, 18, 21, 3)))
SEASON = dict(zip((8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6), (0.7, 0.85, 1.0, 1.1, 1.15, 1.1, 1.2, 1.05, 0.95, 0.85, 0.6)))
STARTS = ("2021-08", "2022-01", "2022-08", "2023-01")
LESSONS_PER_DAY = 5


@dataclass(frozen=True)
class Design:
    rule: str = "random"  # "random", "spike" or "highest"
    effect: float = 0.0  # points of absence rate while the measure is in use
    schools: int = 40
    seed: int = 0
    wander_sd: float = 0.15  # month-to-month change of a school's log level
    wander_rho: float = 0.6
    shared_sd: float = 0.08  # the region's monthly shocks (log scale)


def simulate(design: Design) -> MeasurePanel:
    rng = np.random.default_rng(design.seed)
    keys = [f"S{i:02d}" for i in range(design.schools)]
    shared = np.exp(rng.normal(0, design.shared_sd, len(MONTHS)))
    level = np.zeros((design.schools, len(MONTHS)))  # each school's log level month by month
    base = rng.normal(np.log(0.07), 0.25, design.schools)
    wander = np.zeros(design.schools)
    for t in range(len(MONTHS)):
        wander = design.wander_rho * wander + rng.normal(0, design.wander_sd, design.schools)
        level[:, t] = base + wander
    treated, starts = _assign(design, rng, keys, level)
    start_of = dict(zip(treated, starts))
    rows = []
    for i, key in enumerate(keys):
        pupils = int(rng.integers(120, 480))
        propensity = rng.gamma(1.5, 1 / 1.5, pupils)
        missed_so_far, days_so_far = np.zeros(pupils), 0
        for t, month in enumerate(MONTHS):
            m = int(month[5:])
            if m == 8:
                missed_so_far, days_so_far = np.zeros(pupils), 0
            p = np.exp(level[i, t]) * SEASON[m] * shared[t] * propensity
            if key in start_of and month >= start_of[key]:
                p = p + design.effect / 100
            missed = rng.binomial(DAYS[m], np.clip(p, 0, 0.9))
            missed_so_far, days_so_far = missed_so_far + missed, days_so_far + DAYS[m]
            share = missed_so_far / days_so_far * 100
            year = int(month[:4]) - (m < 8)
            rows.append({"school_key": key, "school_type": "comprehensive", "in_scope": True,
                         "school_year": f"{year}-{year + 1}", "month": month, "pupils": pupils,
                         "lesson_hours": DAYS[m] * LESSONS_PER_DAY * pupils,
                         "illness_hours": int(missed.sum()) * LESSONS_PER_DAY, "authorised_hours": 0,
                         "unauthorised_hours": 0, "tier1_pupils": int(((share >= 5) & (share < 10)).sum()),
                         "tier2_pupils": int(((share >= 10) & (share <= 20)).sum()), "tier3_pupils": int((share > 20).sum())})
    periods = pd.DataFrame({"school_key": treated, "start": [date(int(s[:4]), int(s[5:]), 1) for s in starts], "end": None})
    names = pd.DataFrame({"school_key": keys, "school_name": keys, "school_type": "comprehensive", "in_scope": True})
    return MeasurePanel(pd.DataFrame(rows), names, periods)


def _assign(design: Design, rng: np.random.Generator, keys: list[str], level: np.ndarray) -> tuple[list[str], list[str]]:
    count = int(rng.integers(5, 16))
    if design.rule == "random":
        chosen = rng.choice(len(keys), count, replace=False)
        return [keys[i] for i in chosen], list(rng.choice(STARTS, count))
    start = str(rng.choice(STARTS))
    t = MONTHS.index(start)
    if design.rule == "spike":  # the last term against the year before it
        score = level[:, t - 4:t].mean(axis=1) - level[:, max(t - 16, 0):t - 4].mean(axis=1)
    elif design.rule == "highest":
        score = level[:, max(t - 12, 0):t].mean(axis=1)
    else:
        raise ValueError(design.rule)
    chosen = np.argsort(-score)[:count]
    return [keys[i] for i in chosen], [start] * count
