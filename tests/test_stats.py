"""Intervals, funnel limits and peer groups against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lasnaolo import metrics, stats
from lasnaolo.stats import PeerCriteria


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def expit_pct(x: float) -> float:
    return 100 / (1 + math.exp(-x))


def test_rate_interval_from_the_pupils_spread_on_the_logit_scale_by_hand():
    # 400 pupils whose shares have SD 6 points: se 0.3 points; on the logit scale 0.3 / (0.1 × 0.9 × 100).
    low, high = stats.rate_interval(10.0, 400, 36.0)
    se = 0.3 / 9
    assert (low, high) == pytest.approx((expit_pct(logit(0.1) - 1.959964 * se), expit_pct(logit(0.1) + 1.959964 * se)), abs=1e-5)
    # A tiny unit's interval stays inside 0-100 % and above zero.
    low, high = stats.rate_interval(1.0, 2, 4.0)
    assert 0 < low < 1.0 < high < 100


SCHOOLS = pd.DataFrame({
    "school_id": ["a", "b", "c", "d"],
    "pupils": [100, 100, 400, 25],
    "lesson_hours": [10_000, 10_000, 40_000, 2_500],
    "absent_hours": [500, 1_500, 2_000, 125],
    "tier1_pupils": [20, 20, 80, 5], "tier2_pupils": [5, 30, 20, 1], "tier3_pupils": [1, 10, 4, 0],
}).assign(absence_rate=lambda f: f["absent_hours"] / f["lesson_hours"] * 100)


def test_funnel_limits_and_verdicts_by_hand_with_a_given_spread():
    result = stats.funnel(SCHOOLS, variance=36.0, between=0.0)
    # Pooled reference: 4125 / 62500 = 6.6 %; at 100 pupils se = 0.6 points, on the logit scale
    # 0.6 / (0.066 × 0.934 × 100).
    assert result.reference_rate == pytest.approx(6.6)
    se100 = 0.6 / (0.066 * 0.934 * 100)
    z = result.units.set_index("school_id")["z"]
    assert z["a"] == pytest.approx((logit(0.05) - logit(0.066)) / se100)
    assert z["b"] == pytest.approx((logit(0.15) - logit(0.066)) / se100)
    verdict = result.units.set_index("school_id")[["outside_95", "outside_998", "direction"]]
    assert verdict.loc["b"].tolist() == [True, True, "higher"]
    assert verdict.loc["a"].tolist() == [True, False, ""]  # z = -3.03
    at_100 = result.limits.set_index("pupils").loc[100.0]
    assert at_100["upper_998"] == pytest.approx(expit_pct(logit(0.066) + 3.090232 * se100), abs=1e-4)
    assert at_100["lower_95"] == pytest.approx(expit_pct(logit(0.066) - 1.959964 * se100), abs=1e-4)
    # The funnel narrows with size and its lower limits stay above zero however small the unit.
    assert result.limits["upper_95"].is_monotonic_decreasing
    assert (result.limits[["lower_95", "lower_998"]] > 0).all(axis=None)
    assert result.dispersion == pytest.approx(float((z ** 2).mean()))


def test_funnel_widens_by_the_between_school_variance():
    narrow = stats.funnel(SCHOOLS, variance=36.0, between=0.0)
    wide = stats.funnel(SCHOOLS, variance=36.0, between=0.04)
    se100 = 0.6 / (0.066 * 0.934 * 100)
    assert wide.units.set_index("school_id").loc["b", "z"] == pytest.approx(
        (logit(0.15) - logit(0.066)) / math.sqrt(se100 ** 2 + 0.04))
    assert (wide.limits["upper_95"] > narrow.limits["upper_95"]).all()


def test_between_variance_is_zero_for_chance_alone_recovers_a_planted_one_and_resists_outliers():
    rng = np.random.default_rng(3)
    se = np.full(2000, 0.1)
    assert stats.between_variance(rng.normal(0, 0.1, 2000), se) < 0.001
    planted = rng.normal(0, math.sqrt(0.1 ** 2 + 0.3 ** 2), 2000)
    assert stats.between_variance(planted, se) == pytest.approx(0.09, rel=0.15)
    # Twenty schools by chance alone and one far out: the far one barely moves the estimate.
    twenty = rng.normal(0, 0.1, 20)
    assert stats.between_variance(np.r_[twenty, 5.0], np.full(21, 0.1)) < 0.01


def test_between_variances_per_row_equal_the_formula_with_numpys_percentiles_over_each_rows_units():
    """Every school's peer group at once (rows of different members, NaN for the others) gives
    what the formula gives for that group alone, computed here with np.percentile."""
    rng = np.random.default_rng(11)
    deviation = rng.normal(0, 0.3, (40, 60))
    se = rng.uniform(0.05, 0.4, (40, 60))
    members = rng.random((40, 60)) < rng.uniform(0.05, 0.9, (40, 1))
    members[0] = False  # no peers
    members[1, :2], members[1, 2:] = True, False  # too few for a variance
    expected = []
    for row in range(40):
        d, e = deviation[row, members[row]], se[row, members[row]]
        if len(d) < 3:
            expected.append(0.0)
            continue
        z = d / e
        low, high = np.percentile(z, [10, 90])
        phi = np.mean(np.clip(z, low, high) ** 2) / stats._CONSISTENCY
        w = 1 / e ** 2
        expected.append(max((len(d) * phi - (len(d) - 1)) / (w.sum() - (w ** 2).sum() / w.sum()), 0.0))
    got = stats.between_variances(np.where(members, deviation, np.nan), np.where(members, se, np.nan))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert (np.array(expected) > 0).sum() >= 10  # rows with a positive variance were checked, not only zeros


def test_funnel_around_a_given_reference():
    result = stats.funnel(SCHOOLS, reference_rate=5.0, variance=36.0, between=0.0)
    assert result.units.set_index("school_id").loc["a", "z"] == pytest.approx(0.0)


PEERS = pd.DataFrame({
    "school_id": ["me", "same", "swedish", "big", "primary", "small"],
    "school_type": ["comprehensive", "comprehensive", "comprehensive", "comprehensive", "primary", "comprehensive"],
    "language": ["fi", "fi", "sv", "fi", "fi", "fi"],
    "pupils": [300, 250, 310, 900, 300, 160],
})


def test_peer_group_criteria():
    default = stats.peer_group(PEERS, "me")
    assert default.members["school_id"].tolist() == ["same", "small"]  # 150..600 pupils, fi, comprehensive
    any_language = stats.peer_group(PEERS, "me", PeerCriteria(same_language=False)).members
    assert any_language["school_id"].tolist() == ["same", "swedish", "small"]
    any_size = stats.peer_group(PEERS, "me", PeerCriteria(size_factor=None)).members
    assert any_size["school_id"].tolist() == ["same", "big", "small"]


def test_peer_group_widens_until_it_has_enough():
    assert len(stats.widened_peer_group(PEERS, "me", minimum=2).members) == 2
    wider = stats.widened_peer_group(PEERS, "me", minimum=4)  # any language, 100..900 pupils
    assert wider.criteria == PeerCriteria(True, False, 3.0) and len(wider.members) == 4
    assert stats.widened_peer_group(PEERS, "me", minimum=10).criteria.size_factor is None


def test_peer_positions_take_the_peers_exact_spread_from_their_squared_shares_when_all_have_them():
    # Six like schools of 100 pupils at 8 %; each peer group holds the other five. Their squares
    # sum to 5 × 100 × (8² + 36) = 50,000 over 500 pupils: variance 100 - 64 = 36.
    schools = pd.DataFrame({"school_id": list("abcdef"), "school_type": "comprehensive", "language": "fi",
                            "pupils": 100, "absent_hours": 800, "lesson_hours": 10_000, "absence_rate": 8.0,
                            "tier1_pupils": 30, "tier2_pupils": 10, "tier3_pupils": 2,
                            "pupil_share_squares": 100 * (64 + 36.0)})
    exact = stats.peer_positions(schools, PeerCriteria(), minimum=5)
    assert exact["variance"].tolist() == pytest.approx([36.0] * 6)
    # One school lacking them: every group it belongs to falls back to the tiers (its own keeps them).
    lacking = stats.peer_positions(schools.assign(pupil_share_squares=[np.nan, *[10_000.0] * 5]), PeerCriteria(), minimum=5)
    from_tiers = float(metrics.pupil_variance(8.0, 500, 150, 50, 10))
    assert lacking["variance"].tolist() == pytest.approx([36.0] + [from_tiers] * 5)
    assert from_tiers != pytest.approx(36.0)


def test_two_sided_p_is_twice_the_normal_tail_and_keeps_missing_values():
    from scipy.stats import norm

    z = np.array([0.0, 1.959963984540054, -2.5758293035489, 8.0, np.nan, -0.3])
    expected = 2 * norm.sf(np.abs(z))
    np.testing.assert_allclose(stats.two_sided_p(z), expected, rtol=1e-12, atol=1e-300)
    assert stats.two_sided_p(z)[1] == pytest.approx(0.05) and np.isnan(stats.two_sided_p(z)[4])
