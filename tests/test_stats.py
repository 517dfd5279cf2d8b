"""Intervals, funnel limits and peer groups against values computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lasnaolo import stats
from lasnaolo.stats import PeerCriteria


def test_rate_interval_uses_the_pupil_bound():
    low, high = stats.rate_interval(10.0, 400)
    se = math.sqrt(0.1 * 0.9 / 400) * 100  # 1.5 points
    assert (low, high) == pytest.approx((10 - 1.959964 * se, 10 + 1.959964 * se), abs=1e-5)
    assert stats.rate_interval(1.0, 2) == pytest.approx((0.0, 1 + 1.959964 * math.sqrt(0.01 * 0.99 / 2) * 100), abs=1e-5)


def test_wilson_interval_by_hand():
    # 10 of 50: p = 0.2, z = 1.96 -> (0.1124, 0.3304), the textbook values.
    low, high = stats.wilson_interval(10, 50)
    assert (low, high) == pytest.approx((11.24, 33.04), abs=0.01)
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))
    assert stats.wilson_interval(0, 20)[0] == pytest.approx(0.0, abs=1e-12)


SCHOOLS = pd.DataFrame({
    "school_id": ["a", "b", "c", "d"],
    "pupils": [100, 100, 400, 25],
    "lesson_hours": [10_000, 10_000, 40_000, 2_500],
    "absent_hours": [500, 1_500, 2_000, 125],
}).assign(absence_rate=lambda f: f["absent_hours"] / f["lesson_hours"] * 100)


def test_funnel_limits_and_verdicts_by_hand():
    result = stats.funnel(SCHOOLS)
    # Pooled reference: 4125 / 62500 = 6.6 %.
    assert result.reference_rate == pytest.approx(6.6)
    se100 = math.sqrt(0.066 * 0.934 / 100) * 100  # 2.4829 points at 100 pupils
    z = result.units.set_index("school_id")["z"]
    assert z["a"] == pytest.approx((5 - 6.6) / se100) and z["b"] == pytest.approx((15 - 6.6) / se100)
    verdict = result.units.set_index("school_id")[["outside_95", "outside_998", "direction"]]
    assert verdict.loc["b"].tolist() == [True, True, "higher"]  # z = 3.38
    assert verdict.loc["a"].tolist() == [False, False, ""]  # z = -0.64
    assert verdict.loc["c"].tolist() == [False, False, ""]  # 5 % on 400 pupils: z = -1.29
    at_100 = result.limits.set_index("pupils").loc[100.0]
    assert at_100["upper_998"] == pytest.approx(6.6 + 3.090232 * se100, abs=1e-4)
    assert at_100["lower_95"] == pytest.approx(6.6 - 1.959964 * se100, abs=1e-4)
    # The funnel narrows with size and never leaves 0-100 %.
    assert result.limits["upper_95"].is_monotonic_decreasing
    assert (result.limits[["lower_95", "lower_998"]] >= 0).all(axis=None)
    assert result.dispersion == pytest.approx(float((z ** 2).mean()))


def test_funnel_around_a_given_reference():
    result = stats.funnel(SCHOOLS, reference_rate=5.0)
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
