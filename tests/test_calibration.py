"""Calibration of the chance model with known truth: pupil-level absence simulated and aggregated
to the contract exactly as a municipality would (tests/support/pupil_simulation.py), imported into a real
SQLite file, and every school judged by the one function behind the CLI `compare` and the pages.
Few false alarms where nothing differs, and real differences found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from support import pupil_simulation as simulation
from support import target_simulation
from lasnaolo import comparison, importer, metrics, queries, stats, store
from lasnaolo.scope import Scope

YEAR = "2024-2025"


SOURCES = ["tiers", "squares"]  # the pupils' spread read from the tier counts, or exact from the optional column


def imported(design: simulation.Design, folder, source: str = "tiers"):
    """The simulated pupils aggregated to the contract's files, imported into a fresh SQLite file;
    with the optional sum of squared pupil shares only when `source` is "squares"."""
    schools, absences, truth = simulation.simulate(design)
    if source == "tiers":
        absences = absences.drop(columns="pupil_share_squares")
    engine = simulation.imported(schools, absences, folder)
    return engine, truth


def judged(design: simulation.Design, folder, source: str = "tiers") -> pd.DataFrame:
    engine, truth = imported(design, folder, source)
    verdicts = comparison.school_verdicts(engine, Scope.everything(), YEAR)
    engine.dispose()
    return verdicts.merge(truth, on="school_id")


@pytest.fixture(scope="module", params=SOURCES)
def similar_schools(request, tmp_path_factory) -> pd.DataFrame:
    """Two simulated countries (19 regions × 30 schools each) where similar schools differ little
    in truth (5 % between schools), with planted schools 30 % above / below their peers and
    planted changes of ±30 %, under region-wide shifts of −10 %, 0 and +15 % between the years;
    judged once from the tiers and once from the exact squared shares."""
    return pd.concat([judged(simulation.Design(seed=seed), tmp_path_factory.mktemp(f"calibration-{seed}"), request.param)
                      for seed in (0, 1)], ignore_index=True)


def test_schools_that_do_not_differ_from_their_peers_are_rarely_called_different(similar_schools):
    same = similar_schools[(similar_schools["level"] == "same")]
    assert len(same) > 900
    assert (same["verdict"] != "within").mean() <= 0.07
    assert (same["verdict_998"] != "within").mean() <= 0.01


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_a_300_pupil_school_30_percent_off_its_peers_is_found(similar_schools, direction):
    planted = similar_schools[similar_schools["level"] == direction]
    assert len(planted) == 38 and (planted["pupils_y"] == 297).all()
    assert (planted["verdict"] == direction).mean() >= 0.8


def test_schools_whose_absence_did_not_change_are_rarely_called_changed_despite_region_wide_shifts(similar_schools):
    same = similar_schools[similar_schools["change"] == "same"]
    assert (same["change_verdict"] != "within").mean() <= 0.07
    # The shifts are real and shared: the region's change carries them, not the schools' verdicts.
    shifted = similar_schools.groupby("region_code")["region_change"].first()
    assert shifted.max() - shifted.min() > 1.0


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_a_300_pupil_school_whose_absence_changed_by_30_percent_is_found(similar_schools, direction):
    planted = similar_schools[similar_schools["change"] == direction]
    assert len(planted) == 38
    assert (planted["change_verdict"] == direction).mean() >= 0.8


def test_large_true_differences_between_schools_widen_the_limits_instead_of_raising_false_alarms(tmp_path):
    """Similar schools that differ by 20 % in truth: a school drawn from them is not unusual, and
    the robustly estimated between-school variance keeps false alarms down."""
    verdicts = judged(simulation.Design(seed=3, between_school_sd=0.2), tmp_path)
    same = verdicts[verdicts["level"] == "same"]
    assert (same["verdict"] != "within").mean() <= 0.07


def test_the_pupils_spread_read_from_the_tiers_is_close_to_the_pupils_own():
    rng = np.random.default_rng(7)
    estimated, true = [], []
    for mean in (3, 6, 8, 12, 20):
        for draw in (lambda n: rng.gamma(0.7, 1 / 0.7, n), lambda n: rng.gamma(3, 1 / 3, n),
                     lambda n: rng.lognormal(-0.5, 1.0, n)):
            shares = np.clip(rng.binomial(170, np.clip(mean / 100 * draw(400), 0, 0.9)) / 170 * 100, 0, 100)
            tiers = [((shares >= 5) & (shares < 10)).sum(), ((shares >= 10) & (shares <= 20)).sum(), (shares > 20).sum()]
            estimated.append(float(np.sqrt(metrics.pupil_variance(shares.mean(), len(shares), *tiers))))
            true.append(float(shares.std()))
    ratio = np.array(estimated) / np.array(true)
    assert 0.8 <= np.median(ratio) <= 1.2 and ratio.min() > 0.6 and ratio.max() < 1.6
    # The old bound sqrt(p(1-p)) was wider than every one of them, typically several times.
    bound = np.sqrt([m * (100 - m) for m in (3, 6, 8, 12, 20) for _ in range(3)])
    assert (bound > np.array(true)).all() and np.median(bound / np.array(true)) > 2.5


def test_a_small_school_can_be_lower_than_its_peers():
    variance = float(metrics.pupil_variance(8.0, 1000, 250, 120, 40))
    for pupils in (15, 30, 60):
        low95, high95 = stats.limits_at(8.0, pupils, variance, 0.0, stats.Z95)
        low998, _ = stats.limits_at(8.0, pupils, variance, 0.0, stats.Z998)
        assert 0 < low998 < low95 < 8.0 < high95 < 100


def test_false_discovery_control_keeps_the_smallest_p_values_that_pass_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # Hand-computed: p(k) <= 0.05 k / 10 holds for k = 1, 2 and not beyond.
    assert stats.false_discovery(p).tolist() == [True, True] + [False] * 8
    # Twenty tests at p = 0.04: the largest k = 20 passes (0.04 <= 0.05), so all stand; one at 0.04
    # among nineteen at 0.9 does not (0.04 > 0.05 / 20).
    assert stats.false_discovery(np.full(20, 0.04)).all()
    assert not stats.false_discovery(np.r_[0.04, np.full(19, 0.9)]).any()


@pytest.mark.parametrize("source", SOURCES)
def test_the_pupils_spread_alone_gives_z_scores_of_unit_spread_where_schools_do_not_differ(tmp_path, source):
    """The between-school variance and the change dispersion would soak up a wrongly scaled pupils'
    spread (review finding: the tests above pass with the spread ×4 or ×¼). Here nothing but
    pupils differs, so z-scores from the pupils' spread alone (no between-school term) must
    spread like a standard normal: about 1, not 0.5 or 2."""
    design = simulation.Design(regions=3, schools_per_region=60, between_school_sd=0.0, level_effect=0.0,
                               change_effect=0.0, seed=11)
    engine, _ = imported(design, tmp_path, source)
    rows = queries.absence_totals(engine, Scope.everything(), school_years=[YEAR], by=["school_id", "region_code"])
    engine.dispose()
    figures = metrics.figures_by(rows, ["school_id", "region_code"])
    assert figures[metrics.SQUARES].notna().all() == (source == "squares")
    z = pd.concat([stats.funnel(region, between=0.0).units["z"] for _, region in figures.groupby("region_code")])
    assert len(z) == 180
    assert 0.8 <= float(z.std()) <= 1.25


# --- Target statuses (tests/support/target_simulation.py; the full table: benchmarks/target_calibration.py) ---

TARGET_MONTHS = ("2024-11", "2025-01")


def target_statuses(seeds: int = 5, months: tuple[str, ...] = TARGET_MONTHS, **scenario) -> pd.DataFrame:
    """Each seed is one draw of the region's shared monthly shocks, which every school's projection
    shares: a promise about many schools is only checked over many seeds."""
    return pd.concat([target_simulation.statuses(target_simulation.Scenario(seed=seed, **scenario), months)
                      for seed in range(seeds)], ignore_index=True)


def test_target_statuses_keep_their_promises_where_nothing_changed():
    """On track promises the target is at least 75 % likely, off track that ending better than the
    baseline is at most 5 % likely. Where nothing changed off track must still be said (the
    spread is not so wide that it never fires); meeting a 5 % cut by luck is not foreseeable, so
    on track is rare here and its power is asked of a real improvement below."""
    judged = target_statuses(seeds=10)
    on, off = judged[judged["status"] == "on_track"], judged[judged["status"] == "off_track"]
    assert len(off) >= 0.02 * len(judged)
    assert len(on) < 10 or on["met"].mean() >= 0.7
    assert off["ended_better"].mean() <= 0.05


def test_real_improvement_reads_on_track_and_real_worsening_off_track_by_january():
    better = target_statuses(level=0.85, months=("2025-01", "2025-03"))
    worse = target_statuses(level=1.1, months=("2025-01", "2025-03"))
    assert (better.loc[better["month"] == "2025-01", "status"] == "on_track").mean() >= 0.35
    assert (better.loc[better["month"] == "2025-03", "status"] == "on_track").mean() >= 0.6
    assert (worse.loc[worse["month"] == "2025-01", "status"] == "off_track").mean() >= 0.15
    assert (worse["status"] == "on_track").mean() <= 0.05


def test_target_statuses_keep_their_promises_for_tier_shares_unauthorised_absence_older_baselines_and_municipalities():
    """Pooled over four kinds of target where nothing changed (three seeds each): a tier 2-3 share
    (year-to-date, read from few school days in November), unauthorised absence (concentrated on
    few pupils), a baseline two years back, and municipalities of three schools. Before the
    projection was damped and its spread read by size and year, the tier shares' November
    off-track calls ended better in 24-27 % of cases. Here 5 % do (at the promise); undamped, 12.5 %
    do and on-track calls meet the target in 56 %. The bound of 8 % allows for three seeds' noise."""
    judged = pd.concat([target_statuses(seeds=3, **kind) for kind in (
        {"metric": "tier23_share"}, {"metric": "unauthorised_rate"}, {"baseline_gap": 2},
        {"unit": "municipality", "schools": 60})], ignore_index=True)
    on, off = judged[judged["status"] == "on_track"], judged[judged["status"] == "off_track"]
    assert len(off) >= 0.02 * len(judged)
    assert off["ended_better"].mean() <= 0.08
    assert len(on) < 10 or on["met"].mean() >= 0.7


def test_a_flu_autumn_reads_at_risk_not_off_track_for_a_year_that_ends_better():
    """The issue's case: a region-wide flu wave in October-November over a year that truly runs 15 %
    lower. The months so far run above the baseline, yet few schools that end better are called off
    track: the projection's spread reads this year's own month-to-month jumps."""
    judged = target_statuses(level=0.85, shocks={2: 1.4, 3: 1.4})
    ended_better = judged[judged["ended_better"]]
    assert (ended_better["status"] == "off_track").mean() <= 0.08
    assert (judged.loc[judged["month"] == "2024-11", "status"] == "at_risk").mean() >= 0.8
