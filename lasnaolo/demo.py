"""Deterministic, seeded demo and national data that behave like reality.

What is planted, so that later charts and models have something true to find:
- a winter illness peak, a pandemic-era spike (2020-2022) and a rising trend in non-illness absence;
- higher absence in grades 7-9; larger school-to-school variation in small schools (noise shrinks
  with pupils); unauthorised absence concentrated in fewer schools (a skewed school effect);
- four latent school risk profiles that drive both absence and survey values;
- school coaches (seed 002's counts per municipality) with an additive reduction of the absence
  rate in grades 7-9 while the coach works.
The planted truth is returned (and written) with the data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from lasnaolo import contract, reference

DEFAULT_SEED = 2025
SCALES = ("demo", "national")
DEMO_REGION = "01"  # Uusimaa
DEMO_SCHOOLS = 130
NATIONAL_SCHOOLS = 2100

# Approximate populations (thousands) of the larger municipalities; the rest draw a small size.
POPULATION_K = {
    "091": 660, "049": 305, "837": 250, "092": 245, "564": 212, "853": 200, "179": 147, "297": 124,
    "398": 121, "609": 83, "286": 80, "167": 77, "405": 73, "905": 68, "109": 68, "743": 65,
    "698": 64, "491": 52, "638": 51, "734": 51, "285": 51, "106": 47, "444": 46, "186": 45,
    "272": 48, "543": 44, "684": 38, "257": 41, "858": 39, "245": 38, "205": 36, "740": 31,
    "211": 33, "536": 35, "980": 33, "927": 29, "753": 22, "710": 27, "505": 21, "611": 5,
    "235": 10, "078": 8, "149": 5.5, "224": 8.5, "755": 6, "018": 5, "407": 2.6, "434": 14.5,
    "504": 1.8, "616": 1.9,
}

# School coaches in the Uusimaa SKY region in 2023-2024 (seed 002); Sipoo's pilot coaches had ended.
SEED_COACHES_2023 = {"106": 5, "186": 2, "245": 3, "257": 4, "505": 2, "543": 3, "611": 1, "753": 0, "858": 5}
SIPOO_PILOT_COACHES = 2
COACH_EFFECT_POINTS = -1.0  # percentage points of absence rate, grades 7-9, while a coach works
COACH_GRADES = (7, 8, 9)

SCHOOL_DAYS = {8: 10, 9: 21, 10: 18, 11: 21, 12: 15, 1: 19, 2: 15, 3: 21, 4: 18, 5: 20, 6: 3}
LESSONS_PER_DAY = {1: 4.0, 2: 4.0, 3: 4.8, 4: 4.8, 5: 5.0, 6: 5.0, 7: 6.0, 8: 6.0, 9: 6.0}
BASE_RATE_BY_GRADE = {1: 5.0, 2: 4.9, 3: 4.8, 4: 4.9, 5: 5.1, 6: 5.4, 7: 6.8, 8: 7.8, 9: 8.8}
# Illness follows the seasons: the winter peak.
ILLNESS_SEASON = {8: 0.7, 9: 0.9, 10: 1.0, 11: 1.1, 12: 1.2, 1: 1.15, 2: 1.35, 3: 1.15, 4: 0.95, 5: 0.85, 6: 0.75}
# Pandemic-era illness spike by school year (autumn year); Omicron in early 2022 on top.
PANDEMIC_ILLNESS = {2019: 1.05, 2020: 1.25, 2021: 1.35, 2022: 1.12}
OMICRON_MONTHS = {"2022-01": 1.6, "2022-02": 1.5, "2022-03": 1.3}
NON_ILLNESS_TREND_PER_YEAR = 0.045  # relative growth of authorised and unauthorised absence

PROFILES = ("typical", "disengaged", "strained", "thriving")
PROFILE_PROBABILITIES = (0.4, 0.2, 0.2, 0.2)
# Multipliers on (illness, authorised, unauthorised) expected rates.
PROFILE_ABSENCE = {
    "typical": (1.0, 1.0, 1.0),
    "disengaged": (1.05, 1.1, 2.8),
    "strained": (1.5, 1.1, 1.2),
    "thriving": (0.7, 0.75, 0.5),
}
# Shifts in percentage points of survey indicators: each profile has a clear signature, strong
# enough against the sampling noise of a school's 20-150 respondents for the risk-factor clusters
# to find the profiles again (the validation test of lasnaolo.risk).
PROFILE_SURVEY = {
    "typical": {},
    "disengaged": {"belonging": -28, "likes_school": -26, "truancy": 12, "teacher_interest": -24, "school_burnout": 15},
    "strained": {"anxiety": 24, "poor_health": 20, "concentration": 20, "school_burnout": 12},
    "thriving": {"belonging": 20, "likes_school": 22, "teacher_interest": 20, "anxiety": -10, "bullied_weekly": -5,
                 "concentration": -12, "school_burnout": -8},
}

# National anchors near DOMAIN.md's published figures: (grades 4-5, grades 8-9).
SURVEY_ANCHORS = {
    "likes_school": (73, 50), "school_burnout": (6, 15), "bullied_weekly": (8, 6), "no_close_friend": (5, 9),
    "belonging": (80, 65), "teacher_interest": (75, 45), "truancy": (2, 5), "anxiety": (12, 24),
    "poor_health": (10, 24), "concentration": (20, 35),
}
SCHOOL_SURVEY_SD = 2.0  # school-to-school variation of survey values beyond the profiles (points)
SURVEY_RESPONSE_RATE = {"4-5": 0.83, "8-9": 0.73}

_FI_FIRST = ["Tähti", "Kuu", "Aurinko", "Revontuli", "Sateenkaari", "Pilvi", "Tuuli", "Lumihiutale",
             "Kaste", "Ukkos", "Usva", "Hopea"]
_FI_SECOND = ["kettujen", "karhujen", "pöllöjen", "siilien", "joutsenten", "ilvesten", "majavien", "hirvien",
              "kurkien", "saukkojen", "oravien", "tikkojen"]
_SV_FIRST = ["Stjärn", "Måne", "Sol", "Norrskens", "Regnbågs", "Moln", "Vind", "Snöflinge", "Dagg",
             "Åsk", "Dimm", "Silver"]
_SV_SECOND = ["rävarnas", "björnarnas", "ugglornas", "igelkottarnas", "svanarnas", "lodjurens", "bävrarnas",
              "älgarnas", "tranornas", "uttrarnas", "ekorrarnas", "hackspettarnas"]
_TYPE_WORD = {
    "fi": {"primary": "koulu", "lower_secondary": "yläkoulu", "comprehensive": "yhtenäiskoulu"},
    "sv": {"primary": "skola", "lower_secondary": "högstadieskola", "comprehensive": "enhetsskola"},
}


@dataclass
class DemoData:
    schools: pd.DataFrame
    absences: pd.DataFrame
    wellbeing: pd.DataFrame
    measures: pd.DataFrame
    truth: dict

    def write(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for spec, frame in (
            (contract.SCHOOLS, self.schools),
            (contract.ABSENCES, self.absences),
            (contract.WELLBEING, self.wellbeing),
            (contract.MEASURES_FILE, self.measures),
        ):
            path = out / spec.file_name
            # Optional columns the demo does not simulate (an absence row's squared shares) are left out.
            columns = [c for c in spec.column_names if c in spec.required_names or c in frame.columns]
            frame.to_csv(path, index=False, columns=columns)
            written.append(path)
        truth_path = out / "truth.json"
        truth_path.write_text(json.dumps(self.truth, indent=1, ensure_ascii=False), encoding="utf-8")
        written.append(truth_path)
        return written


UPPER_GRADE_SHARES = (0.56, 0.2, 0.24)  # illness, authorised, unauthorised shares of absence in grades 7-9
LOWER_GRADE_SHARES = (0.64, 0.24, 0.12)


def planted_absence_associations() -> dict[str, float]:
    """What the survey indicators are planted to say about absence: per indicator, the correlation
    over schools (profiles weighted by their probabilities) between its planted shift and the log
    of the profile's overall absence multiplier (grades 7-9 mix). Zero: no planted link."""
    weights = np.array(PROFILE_PROBABILITIES)
    absence = np.log([np.dot(UPPER_GRADE_SHARES, PROFILE_ABSENCE[p]) for p in PROFILES])
    out = {}
    for code in contract.INDICATORS:
        shift = np.array([PROFILE_SURVEY[p].get(code, 0.0) for p in PROFILES], dtype=float)
        covariance = np.cov(shift, absence, aweights=weights)
        denominator = math.sqrt(covariance[0, 0] * covariance[1, 1])
        out[code] = round(float(covariance[0, 1] / denominator), 4) if denominator else 0.0
    return out


def school_years(scale: str) -> list[int]:
    return list(range(2020, 2025)) if scale == "demo" else list(range(2015, 2025))


def generate(scale: str = "demo", seed: int = DEFAULT_SEED) -> DemoData:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    rng = np.random.default_rng(seed)
    schools = _schools(scale, rng)
    years = school_years(scale)
    measures, coach_periods = _measures(schools, years, scale, rng)
    absences = _absences(schools, years, coach_periods, rng)
    wellbeing = _wellbeing(schools, absences, years, rng)
    truth = {
        "scale": scale,
        "seed": seed,
        "profiles": dict(zip(schools["school_id"], schools["profile"])),
        "profile_absence_multipliers": {p: dict(zip(contract.ABSENCE_CATEGORIES, m)) for p, m in PROFILE_ABSENCE.items()},
        "profile_survey_shifts": PROFILE_SURVEY,
        "absence_associations": planted_absence_associations(),
        "coach_effect": {
            "outcome": "absence_rate",
            "points": COACH_EFFECT_POINTS,
            "grades": list(COACH_GRADES),
            "kind": "additive, while the coach works",
        },
        "coach_fte_2023_2024_by_municipality": _coach_fte_in(measures, schools, "2023-2024"),
    }
    return DemoData(
        schools=schools.drop(columns=["profile", "grade_size"]),
        absences=absences,
        wellbeing=wellbeing,
        measures=measures,
        truth=truth,
    )


# ---------------------------------------------------------------------------------------------


def _allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """At least one school each, the rest by largest remainder."""
    counts = np.ones(len(weights), dtype=int)
    share = weights / weights.sum() * (total - len(weights))
    counts += np.floor(share).astype(int)
    remainder = total - counts.sum()
    counts[np.argsort(-(share - np.floor(share)))[:remainder]] += 1
    return counts


def _schools(scale: str, rng: np.random.Generator) -> pd.DataFrame:
    munis = reference.municipalities()
    if scale == "demo":
        munis = munis[munis["region_code"] == DEMO_REGION]
    munis = munis.reset_index(drop=True)
    population = np.array(
        [POPULATION_K.get(code, float(np.exp(rng.normal(np.log(6.0), 0.7)))) for code in munis["municipality_code"]]
    )
    total = DEMO_SCHOOLS if scale == "demo" else NATIONAL_SCHOOLS
    counts = _allocate(population**0.85, total)
    ids = rng.permutation(np.arange(1000, 1000 + total * 20))[:total]
    rows = []
    position = 0
    for muni, pop, n in zip(munis.itertuples(), population, counts):
        used_names: set[str] = set()  # unique within the municipality; lists of several add the place
        bilingual = muni.name_fi != muni.name_sv
        p_swedish = 1.0 if muni.region_code == "21" else 0.6 if muni.region_code == "15" else 0.2 if bilingual else 0.0
        types = ["comprehensive"] if n == 1 else list(rng.choice(
            list(contract.SCHOOL_TYPES), size=n, p=[0.6, 0.2, 0.2]
        ))
        if not any(t != "primary" for t in types):
            types[0] = "lower_secondary" if n > 3 else "comprehensive"
        size_scale = 1.0 if pop >= 50 else 0.65 if pop >= 10 else 0.3
        for school_type in types:
            language = "sv" if rng.random() < p_swedish else "fi"
            base = {"primary": 55, "lower_secondary": 105, "comprehensive": 60}[school_type]
            grade_size = max(2.0, base * size_scale * float(np.exp(rng.normal(0, 0.45))))
            rows.append(
                {
                    "school_id": f"{ids[position]:05d}",
                    "school_name": _school_name(language, school_type, used_names, rng),
                    "municipality_code": muni.municipality_code,
                    "school_type": school_type,
                    "language": language,
                    "profile": str(rng.choice(PROFILES, p=PROFILE_PROBABILITIES)),
                    "grade_size": grade_size,
                }
            )
            position += 1
    return pd.DataFrame(rows)


def _school_name(language: str, school_type: str, used: set[str], rng: np.random.Generator) -> str:
    first, second = (_FI_FIRST, _FI_SECOND) if language == "fi" else (_SV_FIRST, _SV_SECOND)
    for attempt in range(200):
        name = f"{rng.choice(first)}{rng.choice(second)} {_TYPE_WORD[language][school_type]}"
        if attempt > 100:
            name += f" {attempt - 99}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("could not name a school uniquely")


def _measures(schools: pd.DataFrame, years: list[int], scale: str, rng: np.random.Generator):
    """Measures in use; returns the measures frame and the coach periods (school_id, start, end)."""
    teaches_upper = schools[schools["school_type"] != "primary"]
    rows = []
    for code, fte_total in SEED_COACHES_2023.items():
        candidates = teaches_upper[teaches_upper["municipality_code"] == code]["school_id"].tolist()
        if not candidates:
            continue
        pilot_only = code == "753"  # Sipoo: pilot coaches 2021-2023 only
        fte = {school_id: 0.0 for school_id in candidates}
        for i in range(SIPOO_PILOT_COACHES if pilot_only else fte_total):
            fte[candidates[i % len(candidates)]] += 1.0
        for i, (school_id, amount) in enumerate(f for f in fte.items() if f[1] > 0):
            if pilot_only:
                rows.append((school_id, "2021-08-01", "2023-05-31", amount))
            else:
                rows.append((school_id, ("2021-08-01", "2022-08-01", "2023-08-01")[i % 3], "", amount))
    if scale == "national":
        others = teaches_upper[~teaches_upper["municipality_code"].isin(SEED_COACHES_2023)]
        chosen = others.sample(frac=0.08, random_state=int(rng.integers(1 << 31)))
        for i, school_id in enumerate(chosen["school_id"]):
            rows.append((school_id, f"{(2019, 2021, 2022, 2023)[i % 4]}-08-01", "", 1.0))
    coach = pd.DataFrame(rows, columns=["school_id", "start", "end", "fte"])
    coach.insert(1, "measure", "school_coach")
    coach.insert(2, "tier", contract.MEASURES["school_coach"].tier)
    other_codes = [c for c in contract.MEASURES if c != "school_coach"]
    other_rows = []
    for school_id in schools["school_id"]:
        for code in rng.choice(other_codes, size=int(rng.integers(1, 4)), replace=False):
            start_year = int(rng.choice(years))
            other_rows.append((school_id, code, contract.MEASURES[code].tier, f"{start_year}-08-01", "", ""))
    others_frame = pd.DataFrame(other_rows, columns=["school_id", "measure", "tier", "start", "end", "fte"])
    measures = pd.concat([coach, others_frame], ignore_index=True)
    periods = coach[["school_id", "start", "end"]].copy()
    periods["start_month"] = periods["start"].str[:7]
    periods["end_month"] = periods["end"].replace("", "9999-12").str[:7]
    return measures, periods


def _absences(schools: pd.DataFrame, years: list[int], coach_periods: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    grades = schools[["school_id", "school_type", "profile", "grade_size"]].merge(
        pd.DataFrame(
            [(t, g) for t, gs in contract.SCHOOL_TYPES.items() for g in gs], columns=["school_type", "grade"]
        ),
        on="school_type",
    )
    school_index = {s: i for i, s in enumerate(schools["school_id"])}
    # A school's pupil mix varies more when it has few pupils; unauthorised absence is skewed
    # (lognormal), so it concentrates in a few schools.
    small = 1.0 / np.sqrt(schools["grade_size"].to_numpy() * 6)
    school_effect = np.exp(rng.normal(0, 0.05 + 2.5 * small))
    unauthorised_effect = np.exp(rng.normal(-0.15, 0.4 + 2.0 * small))

    # One row per school × grade × year, then × month.
    sgy = grades.merge(pd.DataFrame({"year": years}), how="cross")
    sgy["pupils"] = np.maximum(1, np.round(sgy["grade_size"] * np.exp(rng.normal(0, 0.08, len(sgy))))).astype(int)
    # A few heavily absent pupils move a small class's rate a lot: the year's class effect
    # shrinks with class size, so small schools swing more from school to school.
    sgy["class_effect"] = np.exp(rng.normal(0, 1.0 / np.sqrt(sgy["pupils"]), len(sgy)))
    months = pd.DataFrame({"month_no": contract.SCHOOL_YEAR_MONTHS, "month_index": range(11)})
    rows = sgy.merge(months, how="cross")
    rows["month"] = [
        f"{y if m >= 8 else y + 1}-{m:02d}" for y, m in zip(rows["year"], rows["month_no"])
    ]
    rows["school_year"] = [contract.school_year_label(y) for y in rows["year"]]
    n = len(rows)
    changes = rng.choice([-1, 0, 1], size=n, p=[0.04, 0.92, 0.04])
    rows["pupils"] = np.maximum(1, rows["pupils"] + changes * (rows["month_index"] > 2))

    grade = rows["grade"].to_numpy()
    idx = rows["school_id"].map(school_index).to_numpy()
    profile_mult = np.array([PROFILE_ABSENCE[p] for p in rows["profile"]])
    base = np.vectorize(BASE_RATE_BY_GRADE.get)(grade)
    upper = grade >= 7
    shares = np.where(upper[:, None], UPPER_GRADE_SHARES, LOWER_GRADE_SHARES)
    season = np.vectorize(ILLNESS_SEASON.get)(rows["month_no"].to_numpy())
    pandemic = np.vectorize(lambda y: PANDEMIC_ILLNESS.get(y, 1.0))(rows["year"].to_numpy())
    omicron = rows["month"].map(OMICRON_MONTHS).fillna(1.0).to_numpy()
    trend = (1 + NON_ILLNESS_TREND_PER_YEAR) ** (rows["year"].to_numpy() - 2015)
    common = base * school_effect[idx] * rows["class_effect"].to_numpy()
    expected = np.column_stack(
        [
            common * shares[:, 0] * season * pandemic * omicron * profile_mult[:, 0],
            common * shares[:, 1] * trend * profile_mult[:, 1],
            common * shares[:, 2] * trend * profile_mult[:, 2] * unauthorised_effect[idx],
        ]
    )
    coached = _coached(rows, coach_periods) & np.isin(grade, COACH_GRADES)
    total = expected.sum(axis=1)
    reduced = np.maximum(total + COACH_EFFECT_POINTS, 0.2 * total)
    expected = np.where(coached[:, None], expected * (reduced / total)[:, None], expected)

    pupils = rows["pupils"].to_numpy()
    lessons_per_pupil = np.vectorize(SCHOOL_DAYS.get)(rows["month_no"].to_numpy()) * np.vectorize(LESSONS_PER_DAY.get)(grade)
    lesson_hours = np.round(pupils * lessons_per_pupil).astype(int)
    # Pupil-level variation: noise shrinks with pupils; unauthorised is concentrated in few pupils.
    dispersion = np.array([1.5, 0.8, 0.35])
    shape = dispersion[None, :] * pupils[:, None]
    observed = expected * rng.gamma(shape, 1.0 / shape)
    hours = np.floor(observed / 100 * lesson_hours[:, None] + rng.random((n, 3))).astype(int)
    # Extreme draws in tiny classes can exceed the lessons: take the excess off illness first,
    # then the other categories, so every row keeps absences <= lessons.
    overflow = np.maximum(hours.sum(axis=1) - lesson_hours, 0)
    for category in range(3):
        taken = np.minimum(hours[:, category], overflow)
        hours[:, category] -= taken
        overflow -= taken

    out = pd.DataFrame(
        {
            "school_id": rows["school_id"],
            "school_year": rows["school_year"],
            "month": rows["month"],
            "grade": grade,
            "pupils": pupils,
            "lesson_hours": lesson_hours,
            "illness_hours": hours[:, 0],
            "authorised_hours": hours[:, 1],
            "unauthorised_hours": hours[:, 2],
            "month_index": rows["month_index"],
        }
    )
    out = out.sort_values(["school_id", "grade", "school_year", "month_index"], kind="stable").reset_index(drop=True)
    keys = [out["school_id"], out["grade"], out["school_year"]]
    absent = out[["illness_hours", "authorised_hours", "unauthorised_hours"]].sum(axis=1)
    ytd_rate = absent.groupby(keys).cumsum() / out["lesson_hours"].groupby(keys).cumsum().clip(lower=1)
    out[list(contract.TIER_COLUMNS)] = _tier_counts(ytd_rate.to_numpy(), out["month_index"].to_numpy(), out["pupils"].to_numpy(), rng)
    return out.drop(columns="month_index")


def _coached(rows: pd.DataFrame, periods: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(rows), dtype=bool)
    school_ids = rows["school_id"].to_numpy()
    months = rows["month"].to_numpy()
    for period in periods.itertuples():
        mask |= (school_ids == period.school_id) & (months >= period.start_month) & (months <= period.end_month)
    return mask


def _tier_counts(ytd_rate: np.ndarray, month_index: np.ndarray, pupils: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pupils by tier from a gamma model of pupils' year-to-date shares (more spread early in the year)."""
    shape = 0.9 + 0.12 * month_index
    mean = np.maximum(ytd_rate, 1e-4)
    cdf = lambda x: stats.gamma.cdf(x, shape, scale=mean / shape)  # noqa: E731
    thresholds = contract.TierThresholds()
    c1, c2, c3 = cdf(thresholds.tier1 / 100), cdf(thresholds.tier2 / 100), cdf(thresholds.tier3 / 100)
    probabilities = np.column_stack([c1, c2 - c1, c3 - c2, 1 - c3]).clip(0, 1)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    counts = rng.multinomial(pupils, probabilities)
    return counts[:, 1:]


def _wellbeing(schools: pd.DataFrame, absences: pd.DataFrame, years: list[int], rng: np.random.Generator) -> pd.DataFrame:
    survey_years = [y for y in range(years[0] + 1, years[-1] + 2) if y % 2 == 1]
    spring = absences[absences["month"].str.endswith("-04")]
    groups = {"4-5": (4, 5), "8-9": (8, 9)}
    profile_of = dict(zip(schools["school_id"], schools["profile"]))
    school_level = rng.normal(0, SCHOOL_SURVEY_SD, (len(schools), len(contract.INDICATORS)))
    school_pos = {s: i for i, s in enumerate(schools["school_id"])}
    rows = []
    for survey_year in survey_years:
        in_spring = spring[spring["school_year"] == contract.survey_school_year(survey_year)]
        for group, group_grades in groups.items():
            sizes = in_spring[in_spring["grade"].isin(group_grades)].groupby("school_id")["pupils"].sum()
            column = 0 if group == "4-5" else 1
            for school_id, pupils in sizes.items():
                respondents = int(rng.binomial(pupils, SURVEY_RESPONSE_RATE[group]))
                shifts = PROFILE_SURVEY[profile_of[school_id]]
                for k, code in enumerate(contract.INDICATORS):
                    anchor = SURVEY_ANCHORS[code][column]
                    drift = (survey_year - 2021) * (-0.6 if contract.INDICATORS[code].higher_is_better else 0.5)
                    p = np.clip(anchor + shifts.get(code, 0) + drift + school_level[school_pos[school_id], k], 0.5, 99.5)
                    positives = int(rng.binomial(respondents, p / 100)) if respondents else 0
                    rows.append(("school", school_id, survey_year, group, code, respondents, positives))
    frame = pd.DataFrame(rows, columns=["unit_type", "unit_id", "survey_year", "grade_group", "indicator", "respondents", "positives"])
    muni_of = dict(zip(schools["school_id"], schools["municipality_code"]))
    municipal = (
        frame.assign(unit_id=frame["unit_id"].map(muni_of), unit_type="municipality")
        .groupby(["unit_type", "unit_id", "survey_year", "grade_group", "indicator"], as_index=False)[["respondents", "positives"]]
        .sum()
    )
    both = pd.concat([frame, municipal], ignore_index=True)
    both["value_pct"] = np.where(
        both["respondents"] > 0, (both["positives"] / both["respondents"].clip(lower=1) * 100).round(1), 0.0
    )
    return both.drop(columns="positives")


def _coach_fte_in(measures: pd.DataFrame, schools: pd.DataFrame, school_year: str) -> dict[str, float]:
    autumn = contract.parse_school_year(school_year)
    first, last = f"{autumn}-08-01", f"{autumn + 1}-06-30"
    coaches = measures[measures["measure"] == "school_coach"]
    active = coaches[(coaches["start"] <= last) & ((coaches["end"] == "") | (coaches["end"] >= first))]
    muni = active["school_id"].map(dict(zip(schools["school_id"], schools["municipality_code"])))
    return {k: float(v) for k, v in active.groupby(muni)["fte"].sum().items()}
