"""Impact of measures: the estimator recovers a planted effect and finds none where none was
planted, warns when the groups drifted apart before the start, and keeps to the scope."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from lasnaolo import cli, contract, demo, impact, queries
from lasnaolo.queries import MeasurePanel, NotAllowed
from lasnaolo.scope import IMPACT, Scope, pseudonym

COACH = impact.Question("school_coach", "absence_rate", "7-9")


def synthetic_panel(effect: float, drift_before: float = 0.0, seed: int = 7) -> MeasurePanel:
    """30 schools over three school years (33 school months); 8 start the measure in the second
    August. Rate = school level + season + effect while treated (+ a drift before the start for
    treated schools) + small noise. Hours are exact, so the rate is exactly what is planted."""
    rng = np.random.default_rng(seed)
    months = [f"{y + (m < 8)}-{m:02d}" for y in (2021, 2022, 2023) for m in (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)]
    schools = [f"S{i:02d}" for i in range(30)]
    treated = schools[:8]
    start_index = months.index("2022-08")
    rows = []
    for i, school in enumerate(schools):
        level = 6 + rng.normal(0, 1)
        for t, month in enumerate(months):
            rate = level + (1.5 if month[5:] in ("12", "01", "02") else 0) + 0.02 * t + rng.normal(0, 0.15)
            if school in treated:
                rate += effect if t >= start_index else drift_before * (t - start_index)
            lessons = 10_000
            rows.append({"school_key": school, "school_type": "lower_secondary", "in_scope": True,
                         "school_year": f"{int(month[:4]) - (int(month[5:]) < 8)}-{int(month[:4]) - (int(month[5:]) < 8) + 1}",
                         "month": month, "pupils": 200 + 10 * i, "lesson_hours": lessons,
                         "illness_hours": rate * lessons / 100, "authorised_hours": 0, "unauthorised_hours": 0,
                         "tier1_pupils": 0, "tier2_pupils": 0, "tier3_pupils": 0})
    frame = pd.DataFrame(rows)
    names = pd.DataFrame({"school_key": schools, "school_name": [f"Koulu {s}" for s in schools],
                          "school_type": "lower_secondary", "in_scope": True})
    periods = pd.DataFrame({"school_key": treated, "start": date(2022, 8, 1), "end": None})
    return MeasurePanel(frame, names, periods)


def test_a_planted_effect_is_recovered_to_its_size_with_parallel_groups_before():
    result = impact.estimate(synthetic_panel(effect=-1.0), impact.Question("school_coach"))
    assert result.n_treated == 8
    # The 5 nearest untreated schools of each treated school, pooled: between 5 and all 22.
    assert impact.NEIGHBOURS <= result.n_control <= 22
    assert not set(result.controls["school_key"]) & {f"S{i:02d}" for i in range(8)}
    assert abs(result.estimate - (-1.0)) < 0.1 and result.ci_low < -1.0 < result.ci_high and result.ci_high < -0.8
    assert result.parallel_before
    after = result.event_study[result.event_study["event_month"] >= 0]["estimate"]
    before = result.event_study[result.event_study["event_month"] < -1]["estimate"]
    assert after.between(-1.3, -0.7).all() and before.abs().max() < 0.3
    assert result.event_study.set_index("event_month").at[-1, "estimate"] == 0.0


def test_no_effect_gives_an_interval_around_zero():
    result = impact.estimate(synthetic_panel(effect=0.0), impact.Question("school_coach"))
    assert result.ci_low < 0 < result.ci_high and abs(result.estimate) < 0.1
    assert "no clear difference" in impact.sentence(result, "en")


def test_groups_drifting_apart_before_the_start_are_warned_about():
    result = impact.estimate(synthetic_panel(effect=0.0, drift_before=0.05), impact.Question("school_coach"))
    assert result.pretrend == pytest.approx(0.05, abs=0.01) and result.pretrend_p < 0.05
    assert not result.parallel_before
    assert impact.parallel_note(result, "en").startswith("Warning: the groups did not move in parallel")


def test_demo_coach_effect_is_recovered_in_grades_7_to_9(demo_engine, demo_data):
    result = impact.analyse(demo_engine, Scope.everything(), COACH)
    coached = demo_data.measures[demo_data.measures["measure"] == "school_coach"]
    assert result.n_treated == coached["school_id"].nunique() == 12  # all start a year or more into the data
    assert result.ci_low <= demo.COACH_EFFECT_POINTS <= result.ci_high
    assert result.ci_high < 0  # and it is told as a reduction
    assert result.parallel_before
    assert set(result.treated["school_key"]) == set(coached["school_id"])
    assert not set(result.controls["school_key"]) & set(demo_data.measures.loc[
        demo_data.measures["measure"] == "school_coach", "school_id"])
    text = impact.sentence(result, "en")
    assert text.startswith("School coach: absence rate") and "points lower than in comparable schools" in text


def test_measures_assigned_at_random_without_effect_give_intervals_around_zero(demo_engine):
    """Every other measure of the demo was given to random schools in random years and has no
    effect: placebos. A 95 % interval should cover zero for nearly all of them."""
    covered, estimates = [], []
    for measure in contract.MEASURES:
        if measure == "school_coach":
            continue
        try:
            result = impact.analyse(demo_engine, Scope.everything(), impact.Question(measure))
        except impact.NotEstimated:
            continue
        covered.append(result.ci_low <= 0 <= result.ci_high)
        estimates.append(result.estimate)
    assert len(covered) >= 20
    assert np.mean(covered) >= 0.8
    assert abs(np.mean(estimates)) < 0.2


def test_too_few_schools_are_not_estimated(demo_engine):
    director = Scope("director", municipality_codes=frozenset({"106"}))
    with pytest.raises(impact.NotEstimated) as refused:
        impact.analyse(demo_engine, director, COACH)
    assert refused.value.reason == "impact.too_few_treated" and refused.value.values["n"] < impact.MIN_GROUP_SCHOOLS


def test_a_coordinator_gets_groups_under_pseudonyms_only(demo_engine, demo_data):
    coordinator = Scope("coordinator", municipality_codes=frozenset(demo.SEED_COACHES_2023))
    result = impact.analyse(demo_engine, coordinator, COACH)
    real_ids = set(demo_data.schools["school_id"])
    keys = set(result.treated["school_key"]) | set(result.controls["school_key"])
    assert keys and not keys & real_ids
    assert keys <= {pseudonym(s, IMPACT) for s in real_ids}
    assert result.treated["school_name"].isna().all() and result.controls["school_name"].isna().all()


def test_a_director_sees_own_schools_by_name_and_others_under_pseudonyms(demo_engine, demo_data):
    municipalities = frozenset({"106", "186", "245", "257", "858"})
    director = Scope("director", municipality_codes=municipalities)
    result = impact.analyse(demo_engine, director, COACH)
    own = demo_data.schools[demo_data.schools["municipality_code"].isin(municipalities)]
    assert set(result.treated["school_key"]) <= set(own["school_id"])  # only the director's schools started
    assert result.treated["school_name"].notna().all()
    outside = result.controls[~result.controls["school_key"].isin(own["school_id"])]
    assert not outside.empty and outside["school_name"].isna().all()
    assert not set(outside["school_key"]) & set(demo_data.schools["school_id"])


def test_rectors_may_not_estimate(demo_engine, demo_data):
    rector = Scope("rector", school_ids=frozenset({demo_data.schools["school_id"].iloc[0]}))
    with pytest.raises(NotAllowed):
        impact.analyse(demo_engine, rector, COACH)


def test_cli_prints_the_same_estimate_as_json(demo_engine, capsys):
    url = demo_engine.url.render_as_string(hide_password=False)
    assert cli.main(["impact", "--measure", "school_coach", "--grades", "7-9", "--db", url, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = impact.analyse(demo_engine, Scope.everything(), COACH).as_json()
    assert printed == expected
    assert {"estimate", "ci_low", "ci_high", "n_treated", "n_control", "method"} <= set(printed)
    assert cli.main(["impact", "--measure", "school_coach", "--municipality", "106", "--db", url]) == cli.EXIT_REJECTED
    assert "Not estimated" in capsys.readouterr().err


def test_the_panel_counts_equal_the_stored_rows(demo_engine, demo_data):
    """The estimator's input, summed, equals the absence rows of grades 7-9 (hand-summed from the CSV)."""
    panel = queries.measure_panel(demo_engine, Scope.everything(), "school_coach", "7-9")
    rows = demo_data.absences[demo_data.absences["grade"].between(7, 9)]
    assert panel.rows["lesson_hours"].sum() == rows["lesson_hours"].sum()
    assert panel.rows["unauthorised_hours"].sum() == rows["unauthorised_hours"].sum()
    assert len(panel.rows) == len(rows.groupby(["school_id", "month"]))


PLACEBO_MONTHS = [f"{y + (m < 8)}-{m:02d}" for y in (2020, 2021, 2022, 2023) for m in (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)]


def placebo_panel(seed: int, schools: int = 40) -> MeasurePanel:
    """A measure without effect: 5-15 of 40 schools start it in one of four months. Each school's
    rate wanders (AR(1), rho 0.6) around its own level, and every school shares monthly shocks,
    so a school's months are not independent evidence and clustering matters."""
    rng = np.random.default_rng(seed)
    keys = [f"S{i:02d}" for i in range(schools)]
    treated = list(rng.choice(keys, int(rng.integers(5, 16)), replace=False))
    shared = rng.normal(0, 0.4, len(PLACEBO_MONTHS))
    rows = []
    for school in keys:
        level, wander, pupils = 7 + rng.normal(0, 1.5), 0.0, int(rng.integers(150, 500))
        for t, month in enumerate(PLACEBO_MONTHS):
            wander = 0.6 * wander + rng.normal(0, 0.6)
            rate = max(level + (1.5 if month[5:] in ("12", "01", "02") else 0) + shared[t] + wander, 0.1)
            year = int(month[:4]) - (int(month[5:]) < 8)
            rows.append({"school_key": school, "school_type": "comprehensive", "in_scope": True,
                         "school_year": f"{year}-{year + 1}", "month": month, "pupils": pupils,
                         "lesson_hours": pupils * 100, "illness_hours": rate * pupils, "authorised_hours": 0,
                         "unauthorised_hours": 0, "tier1_pupils": 0, "tier2_pupils": 0, "tier3_pupils": 0})
    starts = rng.choice(["2021-08", "2022-01", "2022-08", "2023-01"], len(treated))
    periods = pd.DataFrame({"school_key": treated, "start": [date(int(s[:4]), int(s[5:]), 1) for s in starts], "end": None})
    names = pd.DataFrame({"school_key": keys, "school_name": keys, "school_type": "comprehensive", "in_scope": True})
    return MeasurePanel(pd.DataFrame(rows), names, periods)


def test_a_measure_without_effect_is_covered_by_its_interval_in_at_least_93_percent_of_simulations():
    results = [impact.estimate(placebo_panel(seed), impact.Question("school_coach")) for seed in range(100)]
    assert all(5 <= r.n_treated <= 15 for r in results)
    covered = np.mean([r.ci_low <= 0 <= r.ci_high for r in results])
    assert covered >= 0.93
    # Intervals on clusters − 1 degrees of freedom: wider than the normal's by t's own factor.
    first = results[0]
    from scipy.stats import t

    clusters = first.n_treated + first.n_control
    assert (first.ci_high - first.ci_low) / 2 == pytest.approx(t.ppf(0.975, clusters - 1) * first.std_error)
