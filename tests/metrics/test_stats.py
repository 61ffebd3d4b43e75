"""Confidence intervals and benchmark comparisons against the METHODS.md reference vectors.

Vectors: PHEindicatormethods v2.1.0 test workbooks (V-W1, V-W2, V-B1, V-B2); Newcombe (1998)
Table II for the difference of proportions; invariants and property tests for the rest.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from metrics.stats import (
    byars_lower,
    byars_upper,
    compare_with_benchmark,
    exact_poisson_ci,
    funnel_significance,
    proportion_difference_ci,
    rate_ci,
    rate_difference_ci,
    rate_ratio_ci,
    risk_ratio_ci,
    sigma_adjustment,
    wilson_ci,
    z_value,
)

REL = 1e-12

# --- z -------------------------------------------------------------------------------------


def test_z_value_matches_r_qnorm():
    assert z_value(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert z_value(0.998) == pytest.approx(3.090232306167813, rel=1e-15)
    assert z_value(99.8) == z_value(0.998)
    assert z_value(1) == math.inf


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, 50, 89.9, 100.1, None, "high"])
def test_invalid_confidence_raises(bad):
    with pytest.raises(ValueError, match="confidence"):
        z_value(bad)
    with pytest.raises(ValueError, match="confidence"):
        wilson_ci(1, 10, bad)


# --- Wilson (V-W1, V-W2) -------------------------------------------------------------------

V_W1 = [
    (65, 100, 0.95, 0.55254443296887967, 0.73635751756902468),
    (1045, 5000, 0.95, 0.19795549880013297, 0.22049130373189027),
    (0.44500000000000001, 1, 0.95, 4.3817447720588223e-2, 0.93346212769791559),
    (65, 100, 0.998, 0.49549465740704313, 0.77835406140896968),
    (1045, 5000, 0.998, 0.19179381799015244, 0.22731562902525818),
    (0.44500000000000001, 1, 0.998, 1.9347006132900975e-2, 0.97022599470195414),
]


@pytest.mark.parametrize(("x", "n", "conf", "lower", "upper"), V_W1)
def test_wilson_reference_v_w1(x, n, conf, lower, upper):
    got_lower, got_upper = wilson_ci(x, n, conf)
    assert isinstance(got_lower, float)
    assert got_lower == pytest.approx(lower, rel=REL)
    assert got_upper == pytest.approx(upper, rel=REL)


def test_wilson_percent_confidence_and_certainty():
    assert wilson_ci(65, 100, 99.8) == wilson_ci(65, 100, 0.998)
    lower, upper = wilson_ci([3, 0, 10], [10, 10, 10], 1)
    assert lower.tolist() == [0, 0, 0] and upper.tolist() == [1, 1, 1]
    assert wilson_ci(3, 10, 100) == (0.0, 1.0)


V_W2 = {
    "x": [1, 5, 20, 65, 9856, 7776456, 222, 999],
    "n": [100, 100, 100, 100, 12345, 7564336677, 3215, 3456],
    "value": [
        0.01,
        0.05,
        0.2,
        0.65,
        0.79837991089509919,
        1.0280420256339154e-3,
        6.9051321928460335e-2,
        0.2890625,
    ],
    "lower95": [
        1.7674320641406511e-3,
        2.154367915436798e-2,
        0.1333669333310325,
        0.55254443296887967,
        0.79121017529090687,
        1.0273201001641094e-3,
        6.0791690363636595e-2,
        0.27418951080009873,
    ],
    "upper95": [
        5.4486196178705294e-2,
        0.11175046923191911,
        0.28882916559315885,
        0.73635751756902468,
        0.80536400736149094,
        1.0287644578977231e-3,
        7.8339566813836331e-2,
        0.30440389662818057,
    ],
    "lower998": [
        8.73065697299977e-4,
        1.3865320725997183e-2,
        0.10519162066711432,
        0.49549465740704313,
        0.7869924108419063,
        1.0269040118442213e-3,
        5.647101964624248e-2,
        0.26583995768074953,
    ],
    "upper998": [
        0.10455445283705821,
        0.16458852282596442,
        0.3471109417008601,
        0.77835406140896968,
        0.80930614125896261,
        1.0291812992698397e-3,
        8.4184141852701344e-2,
        0.31344754492799848,
    ],
}


@pytest.mark.parametrize("as_type", [list, np.array, pl.Series])
def test_phe_proportion_reference_v_w2(as_type):
    x, n = as_type(V_W2["x"]), as_type(V_W2["n"])
    lower95, upper95 = wilson_ci(x, n, 0.95)
    lower998, upper998 = wilson_ci(x, n, 0.998)
    assert isinstance(lower95, np.ndarray) and lower95.shape == (8,)
    np.testing.assert_allclose(lower95, V_W2["lower95"], rtol=REL)
    np.testing.assert_allclose(upper95, V_W2["upper95"], rtol=REL)
    np.testing.assert_allclose(lower998, V_W2["lower998"], rtol=REL)
    np.testing.assert_allclose(upper998, V_W2["upper998"], rtol=REL)
    np.testing.assert_allclose(np.asarray(x) / np.asarray(n), V_W2["value"], rtol=REL)


def test_phe_proportion_percentage_v_w2():
    lower, upper = wilson_ci(65, 100, multiplier=100)
    assert lower == pytest.approx(55.25444329688797, rel=REL)
    assert upper == pytest.approx(73.635751756902465, rel=REL)
    lower, upper = wilson_ci(65, 100, 0.998, multiplier=100)
    assert lower == pytest.approx(49.549465740704314, rel=REL)
    assert upper == pytest.approx(77.835406140896964, rel=REL)


def test_wilson_missing_inputs_give_nan_not_errors():
    # Area09-11 of the PHE sheet: a missing numerator or denominator gives NA.
    lower, upper = wilson_ci([None, 5, np.nan, 3], [100, None, 10, 0 + 10])
    assert np.isnan(lower[:3]).all() and np.isnan(upper[:3]).all()
    assert np.isfinite(lower[3]) and np.isfinite(upper[3])
    assert all(math.isnan(v) for v in wilson_ci(None, None))
    assert all(math.isnan(v) for v in wilson_ci(0, 0))  # zero denominator -> NaN
    lower, upper = wilson_ci(pl.Series([1, None], dtype=pl.Int64), pl.Series([10, 10]))
    assert np.isfinite(lower[0]) and np.isnan(lower[1])


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (-1, 10, "numerator must be >= 0"),
        (5, -10, "denominator must be >= 0"),
        (11, 10, "numerator must be <= denominator"),
        ([1, 12], [10, 10], "12.0 > 10.0"),
    ],
)
def test_wilson_invalid_inputs_raise(x, n, message):
    with pytest.raises(ValueError, match=message):
        wilson_ci(x, n)


def test_wilson_edges_are_exact():
    lower, upper = wilson_ci([0, 0, 7, 7], [1, 5000, 7, 10**9 + 7])
    assert lower[0] == 0.0 and lower[1] == 0.0
    assert upper[2] == 1.0
    assert 0 < lower[3] < upper[3] < 1e-7


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=10**8),
    share=st.floats(min_value=0, max_value=1),
    conf=st.sampled_from([0.9, 0.95, 0.99, 0.998]),
)
def test_wilson_properties(n, share, conf):
    x = round(share * n)
    lower, upper = wilson_ci(x, n, conf)
    wider_lower, wider_upper = wilson_ci(x, n, 0.999)
    p = x / n
    assert not (math.isnan(lower) or math.isnan(upper))
    assert 0 <= lower <= p <= upper <= 1
    assert wider_lower <= lower + 1e-15 and upper <= wider_upper + 1e-15
    if x == 0:
        assert lower == 0
    if x == n:
        assert upper == 1


# --- Byar's and crude rates (V-B1, V-B2) ----------------------------------------------------

V_B1 = [
    (65, 0.95, 50.163187710459454, 82.849138545939837),
    (1045, 0.95, 982.59320180733255, 1110.3312129856499),
    (1, 0.95, 1.3072132901504351e-2, 5.5637555824752605),
    (65, 0.998, 42.880261471480203, 94.000290844318016),
    (1045, 0.998, 947.94070356103737, 1148.8061609880331),
    (10, 0.998, 2.916318374695686, 24.193724927880535),
    (1, 0.998, math.nan, 9.362180217908362),
]


@pytest.mark.parametrize(("x", "conf", "lower", "upper"), V_B1)
def test_byars_reference_v_b1(x, conf, lower, upper):
    got = byars_lower(x, conf)
    if math.isnan(lower):
        assert math.isnan(got)  # negative Byar's lower limit -> NA, as PHE
    else:
        assert got == pytest.approx(lower, rel=REL)
    assert byars_upper(x, conf) == pytest.approx(upper, rel=REL)


def test_byars_vectorised_and_validated():
    np.testing.assert_allclose(
        byars_lower([65, 1045], 0.95), [50.163187710459454, 982.59320180733255], rtol=REL
    )
    with pytest.raises(ValueError, match="count must be >= 0"):
        byars_upper(-1)


V_B2 = [
    # x, n, value, lower95, upper95, lower998, upper998
    (1, 100, 1000, 25.317807984289896, 5571.6433909388979, 1.0005003335835343, 9233.4134764515857),
    (5, 100, 5000, 1623.4863901184199, 11668.332079322669, 739.37173191783893, 16454.745203680104),
    (
        20,
        100,
        20000,
        12211.428834875936,
        30889.880369197064,
        8922.8023651441927,
        38085.035625041914,
    ),
    (
        65,
        100,
        65000,
        50163.187710459453,
        82849.138545939844,
        42880.261471480204,
        94000.290844318006,
    ),
    (
        9856,
        12345,
        79837.991089509916,
        78269.490589767578,
        81430.016542721409,
        77375.905432710526,
        82354.472770954308,
    ),
    (
        7776456,
        7564336677,
        102.80420256339154,
        102.73196005302074,
        102.87648334092832,
        102.690317308454,
        102.91817639509068,
    ),
    (
        222,
        3215,
        6905.1321928460338,
        6026.5748776526743,
        7875.7293708718507,
        5560.7376952598534,
        8461.0466817334109,
    ),
    (
        999,
        3456,
        28906.25,
        27141.304936090521,
        30755.833237378414,
        26162.147596445768,
        31845.604819822653,
    ),
    (
        250,
        220,
        113636.36363636365,
        99984.947385328764,
        128631.14487455782,
        92710.005544389525,
        137651.23772147458,
    ),  # x > n is allowed for rates
]


@pytest.mark.parametrize("row", V_B2)
@pytest.mark.parametrize("multiplier", [100000, 100])
def test_phe_rate_reference_v_b2(row, multiplier):
    x, n, _, lower95, upper95, lower998, upper998 = row
    scale = multiplier / 100000
    assert rate_ci(x, n, 0.95, multiplier) == pytest.approx(
        (lower95 * scale, upper95 * scale), rel=1e-12
    )
    assert rate_ci(x, n, 0.998, multiplier=multiplier) == pytest.approx(
        (lower998 * scale, upper998 * scale), rel=1e-12
    )


def test_rate_ci_vectorised_missing_and_zero():
    xs = [row[0] for row in V_B2] + [None, 3, 0]
    ns = [row[1] for row in V_B2] + [100, None, 100]
    lower, upper = rate_ci(pl.Series(xs), np.array(ns, dtype=float), 0.95, 100000)
    np.testing.assert_allclose(lower[:9], [row[3] for row in V_B2], rtol=1e-12)
    np.testing.assert_allclose(upper[:9], [row[4] for row in V_B2], rtol=1e-12)
    assert np.isnan(lower[9:11]).all() and np.isnan(upper[9:11]).all()
    assert lower[11] == 0.0  # zero events: exact lower limit 0, not NaN
    assert upper[11] == pytest.approx(-math.log(0.025) / 100 * 100000, rel=1e-12)
    assert all(math.isnan(v) for v in rate_ci(5, 0))
    with pytest.raises(ValueError, match="count must be >= 0"):
        rate_ci(-1, 100)
    with pytest.raises(ValueError, match="denominator must be >= 0"):
        rate_ci(1, -100)


def test_exact_switch_is_at_ten():
    exact9 = exact_poisson_ci(9)
    assert rate_ci(9, 1, multiplier=1) == pytest.approx(exact9, rel=1e-14)
    assert rate_ci(10, 1, multiplier=1) == pytest.approx(
        (byars_lower(10), byars_upper(10)), rel=1e-14
    )
    # PHE's rationale: Byar's is within 0.2% of exact from 10 events at 95%.
    assert byars_lower(10) == pytest.approx(exact_poisson_ci(10)[0], rel=2e-3)


@settings(max_examples=200, deadline=None)
@given(
    x=st.integers(min_value=0, max_value=10**6),
    n=st.floats(min_value=1, max_value=1e8),
    conf=st.sampled_from([0.9, 0.95, 0.99]),
)
def test_rate_ci_properties(x, n, conf):
    lower, upper = rate_ci(x, n, conf, multiplier=1000)
    wide_lower, wide_upper = rate_ci(x, n, 0.998, multiplier=1000)
    rate = x / n * 1000
    assert not math.isnan(lower) and not math.isnan(upper)
    assert 0 <= lower <= rate <= upper
    assert wide_lower <= lower and upper <= wide_upper
    if x == 0:
        assert lower == 0


# --- Ratios and differences -----------------------------------------------------------------


def test_rate_ratio_formula():
    ratio, lower, upper = rate_ratio_ci(30, 1000, 20, 2000)
    se = math.sqrt(1 / 30 + 1 / 20)
    assert ratio == pytest.approx(3.0, rel=1e-14)
    assert lower == pytest.approx(3.0 * math.exp(-1.959963984540054 * se), rel=1e-14)
    assert upper == pytest.approx(3.0 * math.exp(1.959963984540054 * se), rel=1e-14)


def test_rate_ratio_zero_counts_give_nan_limits():
    ratio, lower, upper = rate_ratio_ci([0, 5, 5], [100, 100, 100], [5, 0, 5], [100, 100, 0])
    assert ratio[0] == 0 and np.isnan(lower[0]) and np.isnan(upper[0])
    assert np.isnan(ratio[1:]).all() and np.isnan(lower[1:]).all()


def test_risk_ratio_katz_formula_and_validation():
    ratio, lower, upper = risk_ratio_ci(20, 100, 10, 100)
    se = math.sqrt(1 / 20 - 1 / 100 + 1 / 10 - 1 / 100)
    assert ratio == pytest.approx(2.0, rel=1e-14)
    assert (lower, upper) == pytest.approx(
        (2 * math.exp(-z_value(0.95) * se), 2 * math.exp(z_value(0.95) * se)), rel=1e-14
    )
    with pytest.raises(ValueError, match="x2 must be <= n2"):
        risk_ratio_ci(1, 10, 11, 10)
    assert all(math.isnan(v) for v in risk_ratio_ci(1, 10, None, 10))


def test_rate_difference_wald_formula():
    diff, lower, upper = rate_difference_ci(30, 1000, 20, 2000, multiplier=1000)
    half = z_value(0.95) * math.sqrt(30 / 1000**2 + 20 / 2000**2) * 1000
    assert diff == pytest.approx(20.0, rel=1e-14)
    assert (lower, upper) == pytest.approx((20 - half, 20 + half), rel=1e-14)
    assert rate_difference_ci(0, 10, 0, 10) == (0.0, 0.0, 0.0)


NEWCOMBE_1998_METHOD_10 = [
    # Newcombe (1998) Stat Med 17:873, Table II, method 10 (4 dp)
    ((56, 70, 48, 80), 0.0524, 0.3339),
    ((9, 10, 3, 10), 0.1705, 0.8090),
    ((5, 56, 0, 29), -0.0381, 0.1926),
    ((0, 10, 0, 20), -0.1611, 0.2775),
    ((0, 10, 0, 10), -0.2775, 0.2775),
    ((10, 10, 0, 20), 0.6791, 1.0000),
    ((10, 10, 0, 10), 0.6075, 1.0000),
]


@pytest.mark.parametrize(("counts", "lower", "upper"), NEWCOMBE_1998_METHOD_10)
def test_newcombe_hybrid_score_published_examples(counts, lower, upper):
    diff, got_lower, got_upper = proportion_difference_ci(*counts)
    assert diff == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3], abs=1e-15)
    assert got_lower == pytest.approx(lower, abs=5e-5)
    assert got_upper == pytest.approx(upper, abs=5e-5)


def test_newcombe_uses_the_wilson_limits():
    l1, u1 = wilson_ci(56, 70)
    l2, u2 = wilson_ci(48, 80)
    p1, p2 = 0.8, 0.6
    diff, lower, upper = proportion_difference_ci(56, 70, 48, 80, multiplier=100)
    assert lower == pytest.approx(100 * (p1 - p2 - math.hypot(p1 - l1, u2 - p2)), rel=1e-13)
    assert upper == pytest.approx(100 * (p1 - p2 + math.hypot(u1 - p1, p2 - l2)), rel=1e-13)


counts = st.integers(min_value=1, max_value=10**6)


@settings(max_examples=150, deadline=None)
@given(o1=counts, o2=counts, n1=counts, n2=counts, conf=st.sampled_from([0.95, 0.998]))
def test_ratio_and_difference_intervals_contain_estimates(o1, o2, n1, n2, conf):
    ratio, lower, upper = rate_ratio_ci(o1, n1, o2, n2, conf)
    assert 0 < lower <= ratio <= upper
    diff, lower, upper = rate_difference_ci(o1, n1, o2, n2, conf)
    assert lower <= diff <= upper
    x1, x2 = min(o1, n1), min(o2, n2)
    ratio, lower, upper = risk_ratio_ci(x1, n1, x2, n2, conf)
    assert lower <= ratio * (1 + 1e-12) and ratio <= upper * (1 + 1e-12)
    diff, lower, upper = proportion_difference_ci(x1, n1, x2, n2, conf)
    assert -1 <= lower <= diff <= upper <= 1
    _, wide_lower, wide_upper = proportion_difference_ci(x1, n1, x2, n2, 0.999)
    assert wide_lower <= lower and upper <= wide_upper


def test_two_group_functions_broadcast_and_return_arrays():
    ratio, lower, upper = rate_ratio_ci([10, 20, 30], [1000, 1000, 1000], 15, 1000)
    assert ratio.shape == lower.shape == upper.shape == (3,)
    assert np.all(np.diff(ratio) > 0)


# --- Benchmark comparison (Fingertips) -------------------------------------------------------


def test_single_overlapping_ci_is_inclusive_at_the_limit():
    lower, upper = wilson_ci(65, 100)
    assert compare_with_benchmark(65, 100, upper) == "similar"
    assert compare_with_benchmark(65, 100, lower) == "similar"
    assert compare_with_benchmark(65, 100, math.nextafter(upper, 1)) == "worse"
    assert compare_with_benchmark(65, 100, math.nextafter(lower, 0)) == "better"


def test_polarity_and_units():
    x, n = [40, 65, 90], [100, 100, 100]
    assert list(compare_with_benchmark(x, n, 65, multiplier=100)) == ["worse", "similar", "better"]
    assert list(compare_with_benchmark(x, n, 65, multiplier=100, polarity="lower_is_better")) == [
        "better",
        "similar",
        "worse",
    ]
    assert list(compare_with_benchmark(x, n, 0.65, polarity="none")) == [
        "lower",
        "similar",
        "higher",
    ]


def test_rate_comparison_uses_phe_rate_limits():
    # 20 per 100 births: 95% CI 12.21-30.89 per 100 (Byar's), 99.8% CI 8.92-38.09.
    assert (
        compare_with_benchmark(
            20, 100, 12.0, statistic="rate", multiplier=100, polarity="lower_is_better"
        )
        == "worse"
    )
    assert (
        compare_with_benchmark(
            20,
            100,
            12.0,
            statistic="rate",
            multiplier=100,
            polarity="lower_is_better",
            confidence=0.998,
        )
        == "similar"
    )
    assert compare_with_benchmark(250, 220, 1.0, statistic="rate") == "similar"


def test_missing_inputs_are_not_compared():
    got = compare_with_benchmark(pl.Series([5, None, 0, 5]), [10, 10, 0, 10], [0.5, 0.5, 0.5, None])
    assert list(got) == ["similar", "not compared", "not compared", "not compared"]
    assert compare_with_benchmark(None, 10, 0.5) == "not compared"


def test_comparison_validation():
    with pytest.raises(ValueError, match="polarity"):
        compare_with_benchmark(1, 10, 0.1, polarity="up")
    with pytest.raises(ValueError, match="statistic"):
        compare_with_benchmark(1, 10, 0.1, statistic="mean")
    with pytest.raises(ValueError, match="numerator must be <= denominator"):
        compare_with_benchmark(11, 10, 0.1)


def test_spc_for_proportions_centres_wilson_on_expected_count():
    # METHODS 1.3: n = 50, P0 = 0.3 at 95% -> limits 0.19104 to 0.43750, which differ from the
    # PHE funnel limits 0.17298 to 0.42702 at the same n.
    assert sigma_adjustment(0.975, 50, 0.3, "low") == pytest.approx(0.17298, abs=5e-6)
    assert sigma_adjustment(0.975, 50, 0.3, "high") == pytest.approx(0.42702, abs=5e-6)
    got = compare_with_benchmark(
        [9, 10, 21, 22], 50, 30, multiplier=100, method="spc", polarity="none"
    )
    assert list(got) == ["lower", "similar", "similar", "higher"]  # 0.18, 0.20, 0.42, 0.44


def test_spc_for_rates_uses_poisson_limits_around_expected():
    # expected 10 events: exact 95% limits for a count of 10 are about 4.8 and 18.4.
    got = compare_with_benchmark(
        [4, 5, 18, 19], 1000, 10, statistic="rate", multiplier=1000, method="spc", polarity="none"
    )
    assert list(got) == ["lower", "similar", "similar", "higher"]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=10**6),
    share=st.floats(min_value=0, max_value=1),
    av=st.floats(min_value=0.01, max_value=0.99),
)
def test_funnel_and_single_ci_agree_at_95(n, share, av):
    # METHODS 1.5: outside the 95% funnel <=> the unit's own Wilson 95% CI excludes av.
    x = round(share * n)
    lower, upper = wilson_ci(x, n)
    assume(min(abs(lower - av), abs(upper - av)) > 1e-9)
    label = funnel_significance(x, n, average=av)
    outside = label != "Not significant"
    assert outside == (compare_with_benchmark(x, n, av) != "similar")


# --- Benchmark comparison on a published interval (METHODS 1.3 item 1) -----------------------
# An MBRRACE-UK style rate per 1,000 published with its CI "1.92 to 3.37".


def test_published_interval_is_compared_as_published():
    kwargs = dict(value=2.56, lower=1.92, upper=3.37, polarity="lower_is_better")
    assert compare_with_benchmark(benchmark=3.0, **kwargs) == "similar"
    assert compare_with_benchmark(benchmark=3.5, **kwargs) == "better"  # value below England
    assert compare_with_benchmark(benchmark=1.5, **kwargs) == "worse"


def test_published_interval_is_inclusive_at_either_limit():
    kwargs = dict(value=2.56, lower=1.92, upper=3.37)
    assert compare_with_benchmark(benchmark=1.92, **kwargs) == "similar"
    assert compare_with_benchmark(benchmark=3.37, **kwargs) == "similar"
    assert compare_with_benchmark(benchmark=math.nextafter(3.37, 4), **kwargs) == "worse"
    assert compare_with_benchmark(benchmark=math.nextafter(1.92, 0), **kwargs) == "better"
    # A zero-width interval: only the benchmark equal to it is similar.
    assert compare_with_benchmark(value=5, lower=5, upper=5, benchmark=5) == "similar"


def test_published_interval_polarity_flips_and_none_keeps_direction():
    value, lower, upper = [70.0, 80.0, 90.0], [65.0, 77.0, 86.0], [74.0, 83.0, 93.0]
    args = dict(value=value, lower=lower, upper=upper, benchmark=80.0)
    assert list(compare_with_benchmark(**args)) == ["worse", "similar", "better"]
    assert list(compare_with_benchmark(**args, polarity="lower_is_better")) == [
        "better", "similar", "worse"]
    assert list(compare_with_benchmark(**args, polarity="none")) == [
        "lower", "similar", "higher"]


def test_published_interval_agrees_with_the_counts_path_on_the_same_limits():
    # The counts path is the same rule on limits it works out itself (Wilson here).
    x, n, bench = np.array([40, 65, 90]), 100, 0.65
    lower, upper = wilson_ci(x, n)
    assert list(compare_with_benchmark(value=x / n, lower=lower, upper=upper,
                                       benchmark=bench)) == list(
        compare_with_benchmark(x, n, bench))


def test_published_interval_missing_figures_are_not_compared():
    got = compare_with_benchmark(value=pl.Series([2.5, None, 2.5, 2.5]),
                                 lower=[2.0, 2.0, np.nan, 2.0], upper=[3.0, 3.0, 3.0, 3.0],
                                 benchmark=[1.0, 1.0, 1.0, None])
    assert list(got) == ["better", "not compared", "not compared", "not compared"]
    assert compare_with_benchmark(value=None, lower=None, upper=None,
                                  benchmark=1.0) == "not compared"


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(value=2.0, lower=3.0, upper=1.0, benchmark=2.0), "lower must be <= upper"),
    (dict(value=4.0, lower=1.0, upper=3.0, benchmark=2.0), "value must lie within its own"),
    (dict(value=[2.0, 0.5], lower=1.0, upper=3.0, benchmark=2.0), "0.5 outside 1.0 to 3.0"),
    (dict(value=2.0, lower=1.0, benchmark=2.0), "upper not given"),
    (dict(value=2.0, benchmark=2.0), "lower and upper not given"),
    (dict(value=2.0, lower=1.0, upper=3.0), "benchmark is required"),
    (dict(numerator=5, denominator=10, value=0.5, lower=0.2, upper=0.8, benchmark=0.5),
     "not both"),
    (dict(numerator=5, benchmark=0.5), "numerator and denominator"),
    (dict(benchmark=0.5), "numerator and denominator"),
    (dict(value=2.0, lower=1.0, upper=3.0, benchmark=2.0, method="spc"), "needs the area's"),
    (dict(value=2.0, lower=1.0, upper=3.0, benchmark=2.0, polarity="up"), "polarity"),
])
def test_published_interval_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare_with_benchmark(**kwargs)
