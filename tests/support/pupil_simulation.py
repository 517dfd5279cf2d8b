"""Pupil-level absence with known truth, aggregated to the contract exactly as a municipality
would: each pupil misses whole school days at a propensity of their own (persistent from year to
year), the region shares month-to-month shocks and a year-to-year shift, and each school × month
× grade row carries the pupils, their lesson hours, the hours missed by reason and the tier
counts from every pupil's year-to-date share at the month's end. Used by the calibration tests
of the chance model (tests/test_calibration.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lasnaolo import contract, reference

YEARS = ("2023-2024", "2024-2025")
BASE_RATE = 0.08
# Whole school days in each month of the school year (August ... June) and lessons per day by grade.
DAYS = (8, 21, 19, 20, 15, 17, 15, 21, 18, 21, 3)
LESSONS_PER_DAY = {1: 4, 2: 4, 3: 5, 4: 5, 5: 5, 6: 5, 7: 6, 8: 6, 9: 6}
SEASON = (0.7, 0.85, 1.0, 1.1, 1.15, 1.1, 1.2, 1.05, 0.95, 0.85, 0.6)
PROPENSITY_SHAPE = 1.5  # pupils' propensities: gamma with mean 1, coefficient of variation 0.82
YEAR_TO_YEAR_SD = 0.35  # a pupil's propensity drifts by this (log scale) from one year to the next
REASON_SHARES = (0.6, 0.3, 0.1)  # illness, authorised, unauthorised


@dataclass(frozen=True)
class Design:
    regions: int = 19
    schools_per_region: int = 30
    between_school_sd: float = 0.05  # true differences between similar schools (log scale)
    level_effect: float = 0.3  # planted schools: this much above / below their peers
    change_effect: float = 0.3  # planted schools: absence this much higher / lower in the second year
    region_shifts: tuple[float, ...] = (0.9, 1.0, 1.15)  # year-to-year shift shared by a region
    seed: int = 0
    planted: dict = field(default_factory=dict)


def simulate(design: Design) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """schools.csv and absences.csv frames of the contract, and the truth per school: school_id,
    region_code, pupils, level ('higher' / 'lower' / 'same' against peers in the second year;
    'changed' for the schools planted with a change) and change ('higher' / 'lower' / 'same'
    against the region's shared shift)."""
    rng = np.random.default_rng(design.seed)
    municipalities = reference.municipalities().groupby("region_code").first().reset_index()
    schools, truth, rows = [], [], []
    for r, region in municipalities.head(design.regions).iterrows():
        shift = design.region_shifts[r % len(design.region_shifts)]
        month_shocks = {year: np.exp(rng.normal(0, 0.12, len(DAYS))) for year in YEARS}
        for s in range(design.schools_per_region):
            school_id = f"9{r:02d}{s:02d}"
            level, change = "same", "same"
            size = int(rng.integers(150, 501))
            if s in (0, 1):
                level, size = ("higher", "lower")[s], 297
            if s in (2, 3):
                # Its second year differs from its peers too: no 'same' level for it.
                change, level, size = ("higher", "lower")[s - 2], "changed", 297
            mean = BASE_RATE * np.exp(rng.normal(0, design.between_school_sd))
            if level in ("higher", "lower"):
                mean = BASE_RATE * (1 + design.level_effect if level == "higher" else 1 - design.level_effect)
            second_year = mean * shift * ((1 + design.change_effect) if change == "higher"
                                          else (1 - design.change_effect) if change == "lower" else 1)
            schools.append({"school_id": school_id, "school_name": f"Simulaatiokoulu {r}-{s}",
                            "municipality_code": region["municipality_code"], "school_type": "comprehensive",
                            "language": "fi"})
            truth.append({"school_id": school_id, "region_code": region["region_code"], "pupils": size,
                          "level": level, "change": change})
            rows.extend(_school_rows(rng, school_id, size, (mean, second_year), month_shocks))
    absences = pd.DataFrame(rows)
    return pd.DataFrame(schools), absences, pd.DataFrame(truth)


def _school_rows(rng, school_id: str, size: int, means: tuple[float, float], month_shocks: dict) -> list[dict]:
    per_grade = size // 9
    grades = np.repeat(np.arange(1, 10), per_grade)
    propensity = rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, len(grades))
    rows = []
    for y, year in enumerate(YEARS):
        if y == 1:
            # The same pupils a grade up, their propensity drifting; ninth-graders leave and a new
            # first grade of the same size arrives.
            propensity = propensity * np.exp(rng.normal(0, YEAR_TO_YEAR_SD, len(propensity)) - YEAR_TO_YEAR_SD ** 2 / 2)
            leaving = grades == 9
            grades = np.where(leaving, 1, grades + 1)
            propensity = np.where(leaving, rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, len(grades)), propensity)
        lessons_per_day = np.vectorize(LESSONS_PER_DAY.get)(grades)
        missed_ytd = np.zeros(len(grades))
        lessons_ytd = np.zeros(len(grades))
        for m, month in enumerate(contract.months_of_school_year(year)):
            p = np.clip(means[y] * propensity * SEASON[m] * month_shocks[year][m], 0, 0.9)
            days_missed = rng.binomial(DAYS[m], p)
            missed = days_missed * lessons_per_day
            lessons = DAYS[m] * lessons_per_day
            missed_ytd += missed
            lessons_ytd += lessons
            share = missed_ytd / lessons_ytd * 100
            for grade in range(1, 10):
                pupils = grades == grade
                hours = int(missed[pupils].sum())
                illness, authorised, unauthorised = rng.multinomial(hours, REASON_SHARES)
                shares = share[pupils]
                rows.append({
                    "school_id": school_id, "school_year": year, "month": month, "grade": grade,
                    "pupils": int(pupils.sum()), "lesson_hours": int(lessons[pupils].sum()),
                    "illness_hours": int(illness), "authorised_hours": int(authorised),
                    "unauthorised_hours": int(unauthorised),
                    "tier1_pupils": int(((shares >= 5) & (shares < 10)).sum()),
                    "tier2_pupils": int(((shares >= 10) & (shares <= 20)).sum()),
                    "tier3_pupils": int((shares > 20).sum()),
                    "pupil_share_squares": round(float((shares ** 2).sum()), 4),
                })
    return rows


def imported(schools: pd.DataFrame, absences: pd.DataFrame, folder):
    """The contract's two files written to `folder` and imported into a fresh SQLite file there."""
    from lasnaolo import importer, store

    schools.to_csv(folder / "schools.csv", index=False)
    absences.to_csv(folder / "absences.csv", index=False)
    engine = store.make_engine(f"sqlite:///{folder / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, [folder / "schools.csv", folder / "absences.csv"])
    return engine

