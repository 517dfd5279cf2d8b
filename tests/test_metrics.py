"""Metrics against figures computed by hand from the helpers' small files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lasnaolo import disclosure, metrics
from lasnaolo.contract import SuppressionPolicy


def frame(rows):
    columns = ["unit", "month", "pupils", "lesson_hours", "illness_hours", "authorised_hours",
               "unauthorised_hours", "tier1_pupils", "tier2_pupils", "tier3_pupils"]
    return pd.DataFrame(rows, columns=columns)


ROWS = frame([
    ("a", "2024-09", 20, 1680, 60, 20, 4, 3, 1, 0),
    ("a", "2024-10", 21, 1512, 90, 30, 6, 4, 2, 1),
    ("b", "2024-09", 30, 3780, 150, 60, 40, 5, 3, 1),
    ("b", "2024-09", 3, 378, 40, 0, 0, 0, 1, 1),
])


def test_key_figures_of_one_unit_by_hand():
    figures = metrics.key_figures(ROWS[ROWS.unit == "a"], "a", "2024-2025")
    # Hours summed over both months; pupils and tiers from October, the latest month.
    assert (figures.lesson_hours, figures.illness_hours, figures.authorised_hours, figures.unauthorised_hours) == (3192, 150, 50, 10)
    assert figures.pupils == 21
    assert figures.absence_rate == pytest.approx(210 / 3192 * 100)
    assert figures.illness_rate == pytest.approx(150 / 3192 * 100)
    assert figures.authorised_rate == pytest.approx(50 / 3192 * 100)
    assert figures.unauthorised_rate == pytest.approx(10 / 3192 * 100)
    assert (figures.tier1_share, figures.tier2_share, figures.tier3_share) == pytest.approx((400 / 21, 200 / 21, 100 / 21))
    assert figures.suppressed == []


def test_figures_by_group_use_each_groups_latest_month():
    out = metrics.figures_by(ROWS, ["unit"]).set_index("unit")
    assert out.loc["b", "pupils"] == 33
    assert out.loc["b", "absence_rate"] == pytest.approx(290 / 4158 * 100)
    assert out.loc["a", "latest_month"] == "2024-10"


def test_small_groups_are_suppressed_not_shown():
    tiny = ROWS.iloc[[3]]
    figures = metrics.key_figures(tiny, "b7", "2024-2025")
    assert figures.absence_rate is None and figures.pupils is None and figures.tier3_share is None
    assert "absence_rate" in figures.suppressed and "pupils" in figures.suppressed
    allowed = metrics.key_figures(tiny, "b7", "2024-2025", SuppressionPolicy(min_pupils=3))
    assert allowed.absence_rate == pytest.approx(40 / 378 * 100)


def test_complementary_suppression_hides_a_second_cell_so_totals_do_not_reveal_the_first():
    grades = frame([
        ("s", "2024-09", 30, 3780, 150, 60, 40, 5, 3, 1),
        ("s", "2024-09", 3, 378, 40, 0, 0, 0, 1, 1),
        ("s", "2024-09", 12, 1500, 60, 10, 5, 2, 0, 0),
        ("s", "2024-09", 25, 3000, 90, 10, 5, 2, 0, 0),
    ]).assign(grade=[7, 8, 9, 6])
    out = metrics.figures_by(grades, ["unit", "grade"])
    assert out["suppressed"].tolist() == [False, False, True, False]  # grades 6, 7, 8, 9
    protected = disclosure.complementary_suppression(out, ["unit"]).set_index("grade")
    assert protected.loc[8, "suppressed"] and protected.loc[9, "suppressed"]  # 9 is the smallest other
    assert math.isnan(protected.loc[9, "absence_rate"]) and protected.loc[9, "complementary"]
    assert not protected.loc[7, "suppressed"] and not protected.loc[6, "suppressed"]


def test_change_interval_combines_the_two_standard_errors_and_flags_only_clear_changes():
    result = metrics.change("absence_rate", 10.0, 8.0, 0.6, 0.8)
    assert result.difference == pytest.approx(2.0)
    assert (result.ci_low, result.ci_high) == pytest.approx((2 - 1.959964, 2 + 1.959964), abs=1e-5)  # hypot = 1.0
    assert result.larger_than_chance is True
    assert metrics.change("absence_rate", 10.0, 8.0, 0.9, 0.9).larger_than_chance is False  # se 1.27
    assert metrics.change("absence_rate", None, 8.0, 0.6, 0.8).difference is None


def test_a_units_standard_error_comes_from_its_pupils_spread_by_its_tiers():
    rows = pd.DataFrame({"school_year": "2024-2025", "month": ["2024-09"], "pupils": [400], "lesson_hours": [40_000],
                         "illness_hours": [2_400], "authorised_hours": [1_200], "unauthorised_hours": [400],
                         "tier1_pupils": [120], "tier2_pupils": [60], "tier3_pupils": [12]})
    figures = metrics.key_figures(rows, "x", "2024-2025")
    variance = metrics.pupil_variance(10.0, 400, 120, 60, 12)
    assert metrics.standard_error(figures, "absence_rate") == pytest.approx(math.sqrt(variance / 400))
    # A rate by reason: the same spread scaled by its share of all absence (illness: 6 of 10 points).
    assert metrics.standard_error(figures, "illness_rate") == pytest.approx(math.sqrt(variance * 0.6 / 400))
    # A tier share: binomial over the pupils (tier 1: 30 %).
    assert metrics.standard_error(figures, "tier1_share") == pytest.approx(math.sqrt(0.3 * 0.7 / 400) * 100)
    # Several times narrower than the bound sqrt(p(1-p)/n) the chance model used to take.
    assert metrics.standard_error(figures, "absence_rate") < 0.5 * math.sqrt(0.1 * 0.9 / 400) * 100


def test_a_units_spread_is_exact_where_the_sum_of_squared_pupil_shares_is_given():
    # Pupils at 0, 10 and 20 %: mean 10, squares 0 + 100 + 400 = 500, variance 500/3 - 100 = 66.67.
    assert metrics.pupil_variance(10.0, 3, 0, 1, 0, squares=500.0) == pytest.approx(500 / 3 - 100)
    # Unknown squares (NaN) fall back to the tiers' fit, element by element.
    both = metrics.pupil_variance([10.0, 10.0], [3, 400], [0, 120], [1, 60], [0, 12], squares=[500.0, np.nan])
    assert both.tolist() == pytest.approx([500 / 3 - 100, float(metrics.pupil_variance(10.0, 400, 120, 60, 12))])
    rows = pd.DataFrame({"school_year": "2024-2025", "month": ["2024-09", "2024-09"], "pupils": [200, 200],
                         "lesson_hours": [20_000, 20_000], "illness_hours": [1_200, 1_200], "authorised_hours": [600, 600],
                         "unauthorised_hours": [200, 200], "tier1_pupils": [60, 60], "tier2_pupils": [30, 30],
                         "tier3_pupils": [6, 6], "pupil_share_squares": [40_000.0, 50_000.0]})
    figures = metrics.key_figures(rows, "x", "2024-2025")
    # 400 pupils at 10 %: squares 90,000 give variance 90,000/400 - 100 = 125.
    assert metrics.standard_error(figures, "absence_rate") == pytest.approx(math.sqrt(125 / 400))
    assert "pupil_share_squares" not in figures.as_report()
    lacking = metrics.key_figures(rows.assign(pupil_share_squares=[40_000.0, np.nan]), "x", "2024-2025")
    assert lacking.pupil_share_squares is None
    assert metrics.standard_error(lacking, "absence_rate") == pytest.approx(
        math.sqrt(float(metrics.pupil_variance(10.0, 400, 120, 60, 12)) / 400))


def test_same_point_last_year_takes_the_same_months():
    previous, months = metrics.same_point_last_year("2024-2025", "2024-11")
    assert previous == "2023-2024"
    assert months == ["2023-08", "2023-09", "2023-10", "2023-11"]


def test_survey_values_under_the_minimum_respondents_are_withheld():
    assert metrics.survey_value(55.0, 9) is None
    assert metrics.survey_value(55.0, 10) == 55.0


def test_one_units_period_rate_and_tier_share_are_the_figures_including_what_is_withheld():
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(1, 6))
        rows = pd.DataFrame({"month": [f"2024-{m:02d}" for m in range(8, 8 + n)],
                             "pupils": rng.integers(0, 30, n), "lesson_hours": rng.integers(0, 3000, n) * rng.integers(0, 2, n),
                             "illness_hours": rng.integers(0, 100, n), "authorised_hours": rng.integers(0, 50, n),
                             "unauthorised_hours": rng.integers(0, 20, n), "tier1_pupils": 0,
                             "tier2_pupils": rng.integers(0, 5, n), "tier3_pupils": rng.integers(0, 3, n)})
        if rng.random() < 0.2:
            rows = rows.astype({"illness_hours": float})
            rows.loc[rows.index[-1], "illness_hours"] = np.nan  # a withheld month
        figures = metrics.figures_by(rows, []).iloc[0]
        for metric, numerator in (("absence_rate", ["illness_hours", "authorised_hours", "unauthorised_hours"]),
                                  ("unauthorised_rate", ["unauthorised_hours"])):
            expected = None if pd.isna(figures[metric]) else pytest.approx(float(figures[metric]))
            assert metrics.period_rate(rows, numerator) == expected
        share = None if pd.isna(figures["tier23_share"]) else pytest.approx(float(figures["tier23_share"]))
        assert metrics.period_tier23_share(rows) == share


def test_complementary_suppression_picks_what_a_group_by_group_reading_of_the_rule_picks():
    """The rule read group by group (exactly one withheld cell and another cell: withhold the
    visible cell of the smallest size, the first of equals, a missing size the largest; rows with a
    missing key a group of their own) against the vectorised one, on random frames with ties,
    missing sizes and keys, and no parent."""
    import numpy as np

    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(1, 80))
        frame = pd.DataFrame({"a": rng.integers(0, 4, n), "b": rng.choice(["x", "y", None], n),
                              "pupils": rng.choice([3.0, 7.0, 7.0, 12.0, np.nan], n),
                              "suppressed": rng.random(n) < 0.3}, index=rng.permutation(n) + 100)
        parent = [["a", "b"], ["a"], []][trial % 3]
        expected = pd.Series(False, index=frame.index)
        groups = frame.groupby(parent, sort=False).groups if parent else {None: frame.index}
        for index in groups.values():
            cells = frame.loc[index]
            if cells["suppressed"].sum() == 1 and len(cells) >= 2:
                expected[cells.loc[~cells["suppressed"], "pupils"].fillna(np.inf).idxmin()] = True
        got = disclosure.complementary_suppression(frame, parent, value_columns=["pupils"])
        assert got["complementary"].tolist() == expected.tolist(), (trial, parent)
        assert (got["suppressed"] == (frame["suppressed"] | expected)).all()
