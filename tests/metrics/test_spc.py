"""Making Data Count XmR charts against NHSRplotthedots v0.2.2 (METHODS.md 3.4)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.spc import (
    classify_special_cause,
    part_of_seven,
    part_of_two_in_three,
    point_type,
    seven_point_one_side_mean,
    seven_point_trend,
    two_in_three,
    variation_icon,
)
from metrics.stats import POINT_TYPES, SPECIAL_CAUSE_RULES, spc

# R: set.seed(123); rnorm(20)
V_S1 = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
]
V_S2 = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def limits(result):
    return result.summary.mean, result.summary.lpl, result.summary.upl


# --- V-S1 / V-S2: limits -------------------------------------------------------------------


def test_v_s1_screened_limits_all_common_cause():
    result = spc(V_S1)
    assert limits(result) == pytest.approx((0.1416238035, -3.0113795941, 3.2946272011), abs=1e-9)
    assert (result.summary.upl - result.summary.mean) / 2.66 == pytest.approx(
        1.1853396231578948, rel=1e-9
    )
    assert result.points.get_column("point_type").to_list() == ["common_cause"] * 20
    assert result.points.get_column("relative_to_mean").to_list()[:15] == [
        -1,
        -1,
        1,
        -1,
        -1,
        1,
        1,
        -1,
        -1,
        -1,
        1,
        1,
        1,
        -1,
        -1,
    ]
    assert result.summary.common_cause == 20 and result.summary.n == 20
    assert result.summary.variation_icon == "common_cause"
    assert result.summary.trial_limits is False


def test_v_s1_outlier_point_screened_and_unscreened():
    y = list(V_S1)
    y[14] = 10  # R's y[15]
    screened = spc(y)
    assert limits(screened) == pytest.approx((0.6694159, -2.383666, 3.722497), abs=5e-7)
    point = screened.points.row(14, named=True)
    assert point["special_cause_rule"] == "Above UCL"
    assert point["point_type"] == "special_cause_improvement"
    unscreened = spc(y, screen_outliers=False)
    assert limits(unscreened) == pytest.approx((0.6694159, -4.596625, 5.935457), abs=5e-7)


def test_v_s1_facets_are_separate_charts():
    first, last = spc(V_S1[:10]), spc(V_S1[10:])
    assert limits(first) == pytest.approx((0.074625645, -2.6005854054, 2.7498366954), abs=1e-9)
    assert limits(last) == pytest.approx((0.208621962, -3.2790054461, 3.6962493701), abs=1e-9)
    assert first.summary.trial_limits and last.summary.trial_limits  # fewer than 13 points


def test_v_s2_screening_versus_excel():
    screened = spc(V_S2)
    assert limits(screened) == pytest.approx((1.944444444, -0.715555556, 4.604444444), abs=1e-9)
    excel = spc(V_S2, screen_outliers=False)
    assert limits(excel) == pytest.approx((1.944444444, -3.062614379, 6.951503268), abs=1e-9)
    assert (excel.summary.upl - excel.summary.mean) / 2.66 == pytest.approx(1.882352941, rel=1e-9)
    for result in (screened, excel):
        assert result.points.row(4, named=True)["point_type"] == "special_cause_improvement"
    near = screened.points.row(0, named=True)
    assert near["near_upl"] - near["mean"] == pytest.approx(2 / 3 * 2.66, rel=1e-12)


# --- V-S4: rule helpers ----------------------------------------------------------------------


def test_seven_point_trend():
    assert seven_point_trend([]).tolist() == []
    assert seven_point_trend(range(1, 7)).tolist() == [0] * 6
    assert seven_point_trend([1, 2, 3, 3, 4, 5, 6]).tolist() == [0] * 7  # a tie breaks it
    assert seven_point_trend(range(1, 8)).tolist() == [0] * 6 + [1]
    assert seven_point_trend([2, *range(1, 8), 3]).tolist() == [0] * 7 + [1, 0]
    assert seven_point_trend(range(7, 0, -1)).tolist() == [0] * 6 + [-1]
    assert seven_point_trend([2, *range(7, 0, -1), 3]).tolist() == [0] * 7 + [-1, 0]


def test_seven_point_one_side_mean():
    assert seven_point_one_side_mean([]).tolist() == []
    assert seven_point_one_side_mean([1] * 6).tolist() == [0] * 6
    assert seven_point_one_side_mean([1] * 6 + [-1]).tolist() == [0] * 7
    assert seven_point_one_side_mean([1] * 8 + [-1]).tolist() == [0] * 6 + [1, 1, 0]
    assert seven_point_one_side_mean([-1] * 8 + [1]).tolist() == [0] * 6 + [1, 1, 0]
    assert seven_point_one_side_mean([0] * 9).tolist() == [0] * 9  # on the mean: no run


def test_part_of_seven():
    assert part_of_seven([]).tolist() == []
    assert part_of_seven([0] * 6).tolist() == [0] * 6
    assert part_of_seven([0] * 6 + [1, 0]).tolist() == [1] * 7 + [0]
    assert part_of_seven([0] * 7 + [1, 0]).tolist() == [0] + [1] * 7 + [0]
    assert part_of_seven([0] * 6 + [-1, 0]).tolist() == [1] * 7 + [0]
    assert part_of_seven([0] * 7 + [-1, 0]).tolist() == [0] + [1] * 7 + [0]


def test_two_in_three():
    assert two_in_three([], []).tolist() == []
    assert two_in_three([0, 0, 0], [0, 0, 0]).tolist() == [0, 0, 0]
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert two_in_three(close, [1, 1, 1]).tolist() == [1, 1, 1]
        assert two_in_three(close, [1, -1, 1]).tolist() == [0, 0, 0]
    assert two_in_three([0, 0, 1, 0, 1, 0, 0], [1] * 7).tolist() == [0, 0, 1, 1, 1, 0, 0]
    assert two_in_three([0, 0, 1, 1, 0, 0, 0], [1] * 7).tolist() == [0, 1, 1, 1, 1, 0, 0]
    assert two_in_three([0, 0, 1, 0, 1, 0, 0], [1, -1] * 3 + [1]).tolist() == [0] * 7
    assert two_in_three([0, 0, 1, 1, 0, 0, 0], [-1, 1] * 3 + [-1]).tolist() == [0] * 7


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        ([1, 0, 1], [1, 0, 1]),
        ([0, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
        ([1, 0, 0, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_part_of_two_in_three(close, expected):
    flags = two_in_three(close, [1] * len(close))
    assert part_of_two_in_three(flags, close).tolist() == expected


def test_special_cause_precedence_example():
    # ptd_special_cause_type unit test with the rule flags fixed as in the package's mocks.
    labels = classify_special_cause(
        values=range(1, 9),
        relative_to_mean=[1, 1, 1, 1, -1, -1, -1, -1],
        outside_limits=[0, 0, 0, 0, 0, 1, -1, 0],
        part_trend=[1, -1, 0, 0, 0, 0, 0, 0],
        part_two_in_three=[0, 0, 0, 0, 1, 0, 0, 0],
        part_shift=[0, 0, 1, -1, 0, 0, 0, 0],
    )
    assert labels.tolist() == [
        "7 Point Trend (Increasing)",
        "7 Point Trend (Increasing)",
        "7 Points Above CL",
        "7 Points Above CL",
        "2 in 3 Below CL",
        "Below LCL",
        "Below LCL",
        "Common Cause",
    ]


def test_outside_limits_beats_every_other_rule():
    labels = classify_special_cause([1] * 3, [1, 1, 1], [1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1])
    assert labels.tolist()[0] == "Above UCL"
    assert labels.tolist()[1].startswith("7 Point Trend")
    assert labels.tolist()[2] == "2 in 3 Above CL"


def test_point_type_orientation():
    rules = ["Above UCL", "7 Point Trend (Decreasing)", "2 in 3 Below CL", "Common Cause"]
    assert point_type(rules, "increase").tolist() == [
        "special_cause_improvement",
        "special_cause_concern",
        "special_cause_concern",
        "common_cause",
    ]
    assert point_type(rules, "decrease").tolist() == [
        "special_cause_concern",
        "special_cause_improvement",
        "special_cause_improvement",
        "common_cause",
    ]
    assert point_type(rules, "neutral").tolist() == [
        "special_cause_neutral_high",
        "special_cause_neutral_low",
        "special_cause_neutral_low",
        "common_cause",
    ]


# --- Whole-chart behaviour -----------------------------------------------------------------

TREND = [5, 3, 5, 3, 5, 3, 5, 3, 5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 3, 5, 3, 5]


def test_trend_flags_every_point_of_the_run():
    result = spc(TREND, improvement="decrease")
    assert not result.points.get_column("outside_limits").any()
    rules = result.points.get_column("special_cause_rule").to_list()
    assert rules[9:16] == ["7 Point Trend (Increasing)"] * 7
    assert set(rules[:9] + rules[16:]) == {"Common Cause"}
    assert result.points.get_column("point_type").to_list()[9:16] == ["special_cause_concern"] * 7


def test_shift_and_variation_icon():
    y = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10] + [10.5] * 8
    result = spc(y, improvement="decrease")
    rules = result.points.get_column("special_cause_rule").to_list()
    assert rules[-8:] == ["7 Points Above CL"] * 8
    assert result.summary.variation_type == "special_cause_concern"
    assert result.summary.variation_icon == "concern_high"
    assert result.summary.special_cause_concern == 8


def test_point_on_the_mean_breaks_a_shift():
    run = [2.5, 2.5, 2.5, 2.0, 2.5, 2.5, 2.5]
    y = [1.0, 3.0] * 5 + run + [1.5] * 6
    result = spc(y)
    assert result.summary.mean == 2.0
    assert result.points.get_column("relative_to_mean").to_list()[13] == 0
    assert set(result.points.get_column("special_cause_rule")) == {"Common Cause"}
    run[3] = 2.5  # without the point on the mean the seven points form a shift
    rules = spc([1.0, 3.0] * 5 + run + [1.5] * 6).points.get_column("special_cause_rule")
    assert rules.to_list()[10:17] == ["7 Points Above CL"] * 7


def test_icons_per_direction():
    assert variation_icon("special_cause_improvement", "increase") == "improvement_high"
    assert variation_icon("special_cause_improvement", "decrease") == "improvement_low"
    assert variation_icon("special_cause_concern", "increase") == "concern_low"
    assert variation_icon("special_cause_concern", "decrease") == "concern_high"
    assert variation_icon("special_cause_neutral_low", "neutral") == "neutral_low"
    assert variation_icon("common_cause") == "common_cause"


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (5.0, "increase", "consistent_fail"),
        (-5.0, "increase", "consistent_pass"),
        (0.5, "increase", "inconsistent"),
        (5.0, "decrease", "consistent_pass"),
        (-5.0, "decrease", "consistent_fail"),
        (5.0, "neutral", None),
        (None, "increase", None),
    ],
)
def test_assurance(target, improvement, expected):
    summary = spc(V_S1, target=target, improvement=improvement).summary
    assert summary.assurance_type == expected
    icons = {"consistent_pass": "pass", "consistent_fail": "fail", "inconsistent": "inconsistent"}
    assert summary.assurance_icon == icons.get(expected)


def test_fix_after_n_points_and_rebase():
    y = V_S1 + [v + 5 for v in V_S1]
    fixed = spc(y, fix_after_n_points=20)
    assert limits(fixed) == pytest.approx(limits(spc(V_S1)), abs=1e-12)
    assert fixed.points.height == 40
    # Limits from the first 20 points apply to the shifted second half: all above the UCL
    # except 5 - 1.97 = 3.03, which is inside it but part of a 20-point shift.
    rules = fixed.points.get_column("special_cause_rule").to_list()
    assert rules[20:] == ["Above UCL"] * 17 + ["7 Points Above CL", "Above UCL", "Above UCL"]
    rebased = spc(y, rebase_at=[20])
    assert rebased.points.get_column("segment").to_list() == [0] * 20 + [1] * 20
    assert limits(rebased) == pytest.approx(
        (limits(spc(V_S1))[0] + 5, limits(spc(V_S1))[1] + 5, limits(spc(V_S1))[2] + 5), abs=1e-9
    )
    with pytest.raises(ValueError, match="fix_after_n_points must be >= 12"):
        spc(y, fix_after_n_points=11)
    with pytest.raises(ValueError, match="rebase_at"):
        spc(y, rebase_at=[40])
    with pytest.raises(ValueError, match="improvement"):
        spc(y, improvement="up")


def test_missing_values_and_degenerate_series():
    y = pl.Series([1.0, None, 2.0, 1.5, 1.2, 1.8, 1.4, 1.6, 1.3, 1.7, 1.5, 1.6, 1.4])
    result = spc(y)
    assert result.points.get_column("special_cause_rule")[1] is None
    assert result.points.get_column("point_type")[1] is None
    assert result.summary.n == 13 and not result.summary.trial_limits
    flat = spc([3.0] * 15, screen_outliers=False)
    assert limits(flat) == (3.0, 3.0, 3.0)
    assert set(flat.points.get_column("special_cause_rule")) == {"Common Cause"}
    # As NHSRplotthedots: screening drops every zero range (0 >= 3.267 x 0), so no limits.
    screened = spc([3.0] * 15)
    assert screened.summary.mean == 3.0 and np.isnan(screened.summary.upl)
    assert set(screened.points.get_column("special_cause_rule")) == {"Common Cause"}
    assert spc([]).points.height == 0 and spc([]).summary.variation_type is None
    empty = spc([None] * 5)
    assert empty.summary.n == 5 and np.isnan(empty.summary.mean)
    assert empty.points.get_column("special_cause_rule").null_count() == 5
    single = spc([4.2])
    assert single.summary.mean == 4.2 and np.isnan(single.summary.upl)
    assert single.summary.trial_limits


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=60),
    improvement=st.sampled_from(["increase", "decrease", "neutral"]),
    screen=st.booleans(),
)
def test_labels_only_from_the_allowed_sets(values, improvement, screen):
    result = spc(values, improvement=improvement, screen_outliers=screen)
    points = result.points
    assert set(points.get_column("special_cause_rule")) <= set(SPECIAL_CAUSE_RULES)
    assert set(points.get_column("point_type")) <= set(POINT_TYPES)
    summary = result.summary
    assert (
        summary.common_cause
        + summary.special_cause_improvement
        + summary.special_cause_concern
        + summary.special_cause_neutral
    ) == len(values)
    outside = points.filter(pl.col("outside_limits")).get_column("special_cause_rule")
    assert set(outside) <= {"Above UCL", "Below LCL"}  # rule 1 takes precedence
    assert not (points.get_column("outside_limits") & points.get_column("close_to_limits")).any()
    if improvement == "neutral":
        assert summary.special_cause_improvement == summary.special_cause_concern == 0
