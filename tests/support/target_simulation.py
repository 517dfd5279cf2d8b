"""Target statuses under known truth: pupils simulated day by day over four school years (the
earlier ones to learn how projections miss, the last the target year), aggregated to school ×
month rows of the contract, and each unit's target judged month by month by `targets.standing`,
the function behind the targets page. Used by tests/test_calibration.py and
benchmarks/target_calibration.py.

Truth: every unit's final value of the target year is known, so a status can be checked against
what happened. Region-wide monthly shocks (weather, epidemics) are drawn per year, so the schools
of one simulated region share them, as schools do. A scenario chooses the metric, the unit
(schools, or municipalities of three schools), how many years back the baseline lies, and a month
the target year has not delivered."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lasnaolo import contract, targets

YEARS = ("2021-2022", "2022-2023", "2023-2024", "2024-2025")
TARGET_YEAR = YEARS[-1]
DAYS = (8, 21, 19, 20, 15, 17, 15, 21, 18, 21, 3)  # school days, August..June
SEASON = (0.7, 0.85, 1.0, 1.1, 1.15, 1.1, 1.2, 1.05, 0.95, 0.85, 0.6)
LESSONS_PER_DAY = 5
PROPENSITY_SHAPE = 1.5
YEAR_TO_YEAR_SD = 0.35  # pupils' propensity drifts between years
MONTH_SHOCK_SD = 0.12  # region-wide, per month and year
UNAUTHORISED_SHAPE = 0.3  # unauthorised absence is concentrated on few pupils
UNAUTHORISED_RATE = 0.002  # share of lessons, as DOMAIN.md's anchors
SCHOOLS_PER_MUNICIPALITY = 3
COUNT_COLUMNS = ["pupils", "lesson_hours", "illness_hours", "authorised_hours", "unauthorised_hours",
                 "tier1_pupils", "tier2_pupils", "tier3_pupils"]


@dataclass(frozen=True)
class Scenario:
    """The target year against the baseline year: `level` multiplies every school's true absence;
    `shocks` multiplies the region's months (month's place in the year -> factor), e.g. a flu
    autumn. Every target asks for `improvement` (0.05: five percent lower than the baseline).
    `baseline_gap`: the baseline year lies this many years before the target year. `missing`: the
    place in the year of a month the target year has not delivered (None: all delivered)."""

    level: float = 1.0
    shocks: dict = field(default_factory=dict)
    improvement: float = 0.05
    schools: int = 30
    seed: int = 0
    metric: str = "absence_rate"
    unit: str = "school"  # or "municipality"
    baseline_gap: int = 1
    missing: int | None = None


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
        truancy = rng.gamma(UNAUTHORISED_SHAPE, 1 / UNAUTHORISED_SHAPE, size)
        mean = 0.08 * np.exp(rng.normal(0, 0.1))
        for y, year in enumerate(YEARS):
            if y:
                propensity = propensity * np.exp(rng.normal(0, YEAR_TO_YEAR_SD, size) - YEAR_TO_YEAR_SD ** 2 / 2)
                leaving = rng.random(size) < 1 / 9  # a ninth of the pupils leave, new ones arrive
                propensity = np.where(leaving, rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, size), propensity)
                truancy = np.where(leaving, rng.gamma(UNAUTHORISED_SHAPE, 1 / UNAUTHORISED_SHAPE, size), truancy)
            level = scenario.level if year == TARGET_YEAR else 1.0
            missed_so_far = np.zeros(size)
            for m, month in enumerate(contract.months_of_school_year(year)):
                common = level * SEASON[m] * shocks[year][m]
                missed = rng.binomial(DAYS[m], np.clip(mean * propensity * common, 0, 0.9)) * LESSONS_PER_DAY
                skipped = rng.binomial(DAYS[m] * LESSONS_PER_DAY, np.clip(UNAUTHORISED_RATE * truancy * common, 0, 0.5))
                missed_so_far += missed + skipped
                share = missed_so_far / (sum(DAYS[: m + 1]) * LESSONS_PER_DAY) * 100
                rows.append({"school_id": f"S{s:03d}", "municipality_code": f"{s // SCHOOLS_PER_MUNICIPALITY:03d}",
                             "school_year": year, "month": month, "pupils": size,
                             "lesson_hours": DAYS[m] * LESSONS_PER_DAY * size, "illness_hours": int(missed.sum()),
                             "authorised_hours": 0, "unauthorised_hours": int(skipped.sum()),
                             "tier1_pupils": int(((share >= 5) & (share < 10)).sum()),
                             "tier2_pupils": int(((share >= 10) & (share <= 20)).sum()),
                             "tier3_pupils": int((share > 20).sum())})
    return pd.DataFrame(rows)


def unit_rows(scenario: Scenario) -> tuple[pd.DataFrame, str]:
    """The simulated rows at the scenario's unit, and the unit's key column."""
    rows = simulate(scenario)
    if scenario.unit == "school":
        return rows, "school_id"
    return rows.groupby(["municipality_code", "school_year", "month"], as_index=False)[COUNT_COLUMNS].sum(), "municipality_code"


def statuses(scenario: Scenario, months: tuple[str, ...] = ("2024-11", "2025-01", "2025-03")) -> pd.DataFrame:
    """Each unit's status at the end of each of `months` of the target year, beside its truth:
    `ended_better` (the year ended better than the baseline) and `met` (it reached the target)."""
    rows, key = unit_rows(scenario)
    baseline_year = YEARS[-1 - scenario.baseline_gap]
    final = {(unit, year): targets._value(unit_year, scenario.metric)
             for (unit, year), unit_year in rows.groupby([key, "school_year"])}
    out = []
    for month in months:
        position = contract.month_index(month)
        places = rows["month"].map(contract.month_index)
        known = rows[(rows["school_year"] != TARGET_YEAR)
                     | ((places <= position) & ((places != scenario.missing) | (places == position)))]
        # As the page reads it: the whole country's earlier years at this point of the year.
        history = targets.fit_history(targets.projection_errors(known, key, scenario.metric, position,
                                                                scenario.baseline_gap))
        for unit, unit_known in known.groupby(key):
            baseline, truth = final[(unit, baseline_year)], final[(unit, TARGET_YEAR)]
            record = targets.TargetRecord(unit_level=scenario.unit, unit_code=unit, school_year=TARGET_YEAR,
                                          metric=scenario.metric, baseline_year=baseline_year,
                                          baseline_value=round(baseline, 2),
                                          target_value=round(baseline * (1 - scenario.improvement), 2))
            status, _, _ = targets.standing(unit_known[unit_known["school_year"] == TARGET_YEAR],
                                            unit_known[unit_known["school_year"] == baseline_year], record, history)
            out.append({"seed": scenario.seed, "month": month, "unit": unit, "status": status,
                        "ended_better": truth < record.baseline_value, "met": truth <= record.target_value})
    return pd.DataFrame(out)
