"""Target statuses under known truth: pupils simulated day by day over three school years (two to
learn how projections miss, the target year), aggregated to school × month rows of the contract,
and each school's target judged month by month by `targets.standing`, the function behind the
targets page. Used by tests/test_calibration.py and benchmarks/target_calibration.py.

Truth: every school's final value of the target year is known, so a status can be checked
against what happened. Region-wide monthly shocks (weather, epidemics) are drawn per year, so the
schools of one simulated region share them, as schools do."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lasnaolo import contract, targets

YEARS = ("2022-2023", "2023-2024", "2024-2025")
TARGET_YEAR, BASELINE_YEAR = YEARS[2], YEARS[1]
DAYS = (8, 21, 19, 20, 15, 17, 15, 21, 18, 21, 3)  # school days, August..June
SEASON = (0.7, 0.85, 1.0, 1.1, 1.15, 1.1, 1.2, 1.05, 0.95, 0.85, 0.6)
LESSONS_PER_DAY = 5
PROPENSITY_SHAPE = 1.5
YEAR_TO_YEAR_SD = 0.35  # pupils' propensity drifts between years
MONTH_SHOCK_SD = 0.12  # region-wide, per month and year


@dataclass(frozen=True)
class Scenario:
    """The target year against the baseline year: `level` multiplies every school's true absence;
    `shocks` multiplies the region's months (month's place in the year -> factor), e.g. a flu
    autumn. Every target asks for `improvement` (0.05: five percent lower than the baseline)."""

    level: float = 1.0
    shocks: dict = field(default_factory=dict)
    improvement: float = 0.05
    schools: int = 30
    seed: int = 0


def simulate(scenario: Scenario) -> pd.DataFrame:
    """School × school year × month rows (the contract's counts; tiers from pupils' shares)."""
    rng = np.random.default_rng(scenario.seed)
    shocks = {year: np.exp(rng.normal(0, MONTH_SHOCK_SD, len(DAYS))) for year in YEARS}
    for month, factor in scenario.shocks.items():
        shocks[TARGET_YEAR][month] *= factor
    rows = []
    for s in range(scenario.schools):
        size = int(rng.integers(150, 501))
        propensity = rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, size)
        mean = 0.08 * np.exp(rng.normal(0, 0.1))
        for y, year in enumerate(YEARS):
            if y:
                propensity = propensity * np.exp(rng.normal(0, YEAR_TO_YEAR_SD, size) - YEAR_TO_YEAR_SD ** 2 / 2)
                leaving = rng.random(size) < 1 / 9  # a ninth of the pupils leave, new ones arrive
                propensity = np.where(leaving, rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, size), propensity)
            level = mean * (scenario.level if year == TARGET_YEAR else 1.0)
            missed_so_far = np.zeros(size)
            for m, month in enumerate(contract.months_of_school_year(year)):
                p = np.clip(level * propensity * SEASON[m] * shocks[year][m], 0, 0.9)
                missed = rng.binomial(DAYS[m], p) * LESSONS_PER_DAY
                missed_so_far += missed
                share = missed_so_far / (sum(DAYS[: m + 1]) * LESSONS_PER_DAY) * 100
                rows.append({"school_id": f"S{s:03d}", "school_year": year, "month": month, "pupils": size,
                             "lesson_hours": DAYS[m] * LESSONS_PER_DAY * size, "illness_hours": int(missed.sum()),
                             "authorised_hours": 0, "unauthorised_hours": 0,
                             "tier1_pupils": int(((share >= 5) & (share < 10)).sum()),
                             "tier2_pupils": int(((share >= 10) & (share <= 20)).sum()),
                             "tier3_pupils": int((share > 20).sum())})
    return pd.DataFrame(rows)


def statuses(scenario: Scenario, months: tuple[str, ...] = ("2024-11", "2025-01", "2025-03")) -> pd.DataFrame:
    """Each school's status at the end of each of `months` of the target year, beside its truth:
    `ended_better` (the year ended under the baseline) and `met` (it reached the target)."""
    rows = simulate(scenario)
    rate = rows.groupby(["school_id", "school_year"])[["illness_hours", "lesson_hours"]].sum()
    rate = rate["illness_hours"] / rate["lesson_hours"] * 100
    out = []
    for month in months:
        position = contract.month_index(month)
        known = rows[(rows["school_year"] != TARGET_YEAR) | (rows["month"] <= month)]
        # As the page reads it: the whole country's earlier years at this point of the year.
        relative = targets.relative_spread(targets.projection_errors(known, "school_id", "absence_rate", position))
        for school_id, school in known.groupby("school_id"):
            baseline, final = float(rate[(school_id, BASELINE_YEAR)]), float(rate[(school_id, TARGET_YEAR)])
            record = targets.TargetRecord(unit_level="school", unit_code=school_id, school_year=TARGET_YEAR,
                                          metric="absence_rate", baseline_value=round(baseline, 2),
                                          target_value=round(baseline * (1 - scenario.improvement), 2))
            status, _, _ = targets.standing(school[school["school_year"] == TARGET_YEAR],
                                            school[school["school_year"] == BASELINE_YEAR], record, relative)
            out.append({"seed": scenario.seed, "month": month, "school_id": school_id, "status": status,
                        "ended_better": final < record.baseline_value, "met": final <= record.target_value})
    return pd.DataFrame(out)
