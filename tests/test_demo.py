"""The demo generator plants what DOMAIN.md says real data shows, deterministically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lasnaolo import contract, demo, importer, reference


def rates(frame: pd.DataFrame, by) -> pd.DataFrame:
    sums = frame.groupby(by)[list(contract.HOUR_COLUMNS)].sum()
    out = pd.DataFrame(index=sums.index)
    for category in contract.ABSENCE_CATEGORIES:
        out[category] = sums[f"{category}_hours"] / sums["lesson_hours"] * 100
    out["total"] = out.sum(axis=1)
    return out


def test_same_seed_same_data_other_seed_other_data(demo_data):
    again = demo.generate("demo")
    pd.testing.assert_frame_equal(again.absences, demo_data.absences)
    pd.testing.assert_frame_equal(again.wellbeing, demo_data.wellbeing)
    assert not demo.generate("demo", seed=1).absences["illness_hours"].equals(demo_data.absences["illness_hours"])


def test_demo_scale_is_uusimaa_with_all_school_types_and_both_languages(demo_data):
    schools = demo_data.schools
    assert 100 <= len(schools) <= 150
    assert set(schools["municipality_code"]) == set(reference.municipalities_of_region("01"))
    assert set(schools["school_type"]) == set(contract.SCHOOL_TYPES) and set(schools["language"]) == {"fi", "sv"}
    assert schools["school_id"].str.startswith("0").any()  # leading zeros survive the round trip
    assert sorted(demo_data.absences["school_year"].unique()) == [f"{y}-{y + 1}" for y in range(2020, 2025)]
    assert sorted(demo_data.wellbeing["survey_year"].unique()) == [2021, 2023, 2025]


def test_demo_files_pass_the_importer(demo_files, tmp_path):
    from lasnaolo import store

    engine = store.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    store.init_database(engine)
    summary = importer.import_paths(engine, sorted(demo_files.glob("*.csv")))
    assert sum(f.inserted for f in summary.files) > 40_000


def test_winter_peak_pandemic_spike_rising_trend_and_upper_grades(demo_data):
    a = demo_data.absences.assign(month_no=demo_data.absences["month"].str[5:].astype(int))
    by_month = rates(a, "month_no")
    assert by_month.loc[2, "illness"] > 1.3 * by_month.loc[9, "illness"]  # February vs September
    by_year = rates(a, "school_year")
    assert by_year.loc["2021-2022", "illness"] > 1.2 * by_year.loc["2023-2024", "illness"]
    non_illness = by_year["authorised"] + by_year["unauthorised"]
    assert non_illness.is_monotonic_increasing
    band = rates(a.assign(band=a["grade"].map(contract.grade_band)), "band")
    assert band.loc["7-9", "total"] > 1.3 * band.loc["3-6", "total"]


def test_unauthorised_absence_is_concentrated_in_few_schools(demo_data):
    per_school = demo_data.absences.groupby("school_id")[["unauthorised_hours", "lesson_hours"]].sum()
    per_school = per_school.assign(rate=per_school["unauthorised_hours"] / per_school["lesson_hours"]).sort_values("rate", ascending=False)
    top = per_school.iloc[: len(per_school) // 5]
    # The fifth of schools with the highest rates hold far more than their share of lessons.
    assert top["unauthorised_hours"].sum() / per_school["unauthorised_hours"].sum() > 2 * top["lesson_hours"].sum() / per_school["lesson_hours"].sum()


def test_small_schools_vary_more(demo_data):
    """Within one planted profile (so profiles do not mask it) and relative to the type's median."""
    typical = [s for s, p in demo_data.truth["profiles"].items() if p == "typical"]
    absences = demo_data.absences[demo_data.absences["school_id"].isin(typical)]
    year = absences[absences["school_year"] == "2024-2025"].merge(demo_data.schools[["school_id", "school_type"]])
    per_school = rates(year, ["school_type", "school_id"]).join(year.groupby(["school_type", "school_id"])["pupils"].max())
    per_school["deviation"] = per_school["total"] / per_school.groupby("school_type")["total"].transform("median")
    sizes = year.groupby(["school_type", "school_id"])["lesson_hours"].sum()
    small = sizes <= sizes.groupby("school_type").transform("quantile", 1 / 3)
    large = sizes >= sizes.groupby("school_type").transform("quantile", 2 / 3)
    assert per_school.loc[small, "deviation"].std() > per_school.loc[large, "deviation"].std()


def test_tiers_follow_the_absence_level(demo_data):
    june = demo_data.absences[demo_data.absences["month"].str.endswith("-05")]
    ytd = rates(demo_data.absences, ["school_id", "grade", "school_year"])["total"]
    shares = june.set_index(["school_id", "grade", "school_year"])
    share23 = (shares["tier2_pupils"] + shares["tier3_pupils"]) / shares["pupils"]
    joined = pd.concat([ytd, share23.rename("share")], axis=1).dropna()
    assert joined["total"].corr(joined["share"]) > 0.6
    assert (demo_data.absences[list(contract.TIER_COLUMNS)].sum(axis=1) <= demo_data.absences["pupils"]).all()


def test_survey_values_sit_near_the_national_anchors(demo_data):
    w = demo_data.wellbeing[demo_data.wellbeing["unit_type"] == "municipality"]
    weighted = (w["value_pct"] * w["respondents"]).groupby([w["indicator"], w["grade_group"]]).sum() / w.groupby(["indicator", "grade_group"])["respondents"].sum()
    assert weighted[("likes_school", "4-5")] == pytest.approx(73, abs=6)
    assert weighted[("likes_school", "8-9")] == pytest.approx(50, abs=6)
    assert weighted[("poor_health", "8-9")] == pytest.approx(26, abs=6)


def test_planted_profiles_drive_absence_and_survey(demo_data):
    profiles = pd.Series(demo_data.truth["profiles"], name="profile")
    assert set(profiles) == set(demo.PROFILES)
    per_school = rates(demo_data.absences, "school_id").join(profiles)
    by_profile = per_school.groupby("profile")["unauthorised"].median()
    assert by_profile["disengaged"] > 1.8 * by_profile["typical"]
    belonging = demo_data.wellbeing.query("unit_type == 'school' and indicator == 'belonging'").join(profiles, on="unit_id")
    means = belonging.groupby("profile")["value_pct"].mean()
    assert means["disengaged"] < means["typical"] - 10 < means["thriving"] - 10


def test_coaches_match_the_seed_counts_and_truth_records_the_effect(demo_data):
    fte = demo_data.truth["coach_fte_2023_2024_by_municipality"]
    expected = {k: float(v) for k, v in demo.SEED_COACHES_2023.items() if v}
    assert fte == expected and "753" not in fte  # Sipoo had no coach in 2023-2024
    sipoo = demo_data.measures.merge(demo_data.schools[["school_id", "municipality_code"]]).query("municipality_code == '753' and measure == 'school_coach'")
    assert (sipoo["end"] == "2023-05-31").all() and len(sipoo) >= 1
    assert demo_data.truth["coach_effect"] == {"outcome": "absence_rate", "points": -1.0, "grades": [7, 8, 9], "kind": "additive, while the coach works"}
    assert set(demo_data.measures["measure"]) <= set(contract.MEASURES)


def test_national_scale_covers_every_municipality():
    data = demo.generate("national")
    assert set(data.schools["municipality_code"]) == reference.municipality_codes()
    assert len(data.schools) >= 2000
    assert 1_100_000 <= len(data.absences) <= 1_400_000
    assert data.absences["school_year"].nunique() == 10
    assert np.isin(data.wellbeing["survey_year"].unique(), [2017, 2019, 2021, 2023, 2025]).all()
    # The contract's row rules hold everywhere, also for extreme draws in the tiniest classes.
    a = data.absences
    assert (a["illness_hours"] + a["authorised_hours"] + a["unauthorised_hours"] <= a["lesson_hours"]).all()
    assert (a[list(contract.TIER_COLUMNS)].sum(axis=1) <= a["pupils"]).all()
    assert (a[list(contract.HOUR_COLUMNS)] >= 0).all(axis=None)
