"""Funnel plot limits and significance against PHEindicatormethods v2.1.0 (V-F1, V-F3)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

from metrics.stats import (
    SIGNIFICANCE_LABELS,
    funnel_axis,
    funnel_limits,
    funnel_significance,
    poisson_funnel,
    rate_ci,
    sigma_adjustment,
    wilson_ci,
)

# --- V-F1: proportion limits ---------------------------------------------------------------

AV_F1 = 0.806424478571495
V_F1 = [
    # population, lower_2s, upper_2s, lower_3s, upper_3s (percent, 6 dp; baseline 80.642448)
    (1, 3.204264, 100, 0, 100),
    (2, 25.885383, 100, 0, 100),
    (3, 35.933491, 100, 10.150815, 100),
    (4, 41.923356, 100, 19.594903, 100),
    (5, 46.011039, 100, 26.039864, 100),
    (10, 56.154344, 100, 42.03259, 100),
    (27, 65.739462, 95.545433, 57.145237, 100),
    (75, 71.700657, 89.584239, 66.544121, 94.740774),
    (211, 75.311383, 85.973512, 72.237075, 89.04782),
    (598, 77.475765, 83.809131, 75.649608, 85.635287),
    (1699, 78.763743, 82.521152, 77.680336, 83.60456),
    (4818, 79.526814, 81.758082, 78.883452, 82.401444),
    (13669, 79.980099, 81.304797, 79.598137, 81.686759),
    (38775, 80.249188, 81.035707, 80.022404, 81.262492),
    (89294, 80.383302, 80.901594, 80.233858, 81.051037),
    (99108, 80.396467, 80.888428, 80.254616, 81.03028),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]
LIMIT_COLUMNS = ["lower_2s", "upper_2s", "lower_3s", "upper_3s"]


def test_v_f1_proportion_limits():
    populations = [row[0] for row in V_F1]
    table = funnel_limits(average=AV_F1 * 100, points=populations, multiplier=100)
    assert table.columns == ["population", *LIMIT_COLUMNS, "baseline"]
    expected = np.array([row[1:] for row in V_F1], dtype=float)
    np.testing.assert_allclose(table.select(LIMIT_COLUMNS).to_numpy(), expected, atol=5.1e-7)
    np.testing.assert_allclose(table.get_column("baseline"), 80.642448, atol=5e-7)


def test_v_f1_axis_from_denominators():
    # 303 PCTs: min denominator 16386, max 102950 -> axis 0..110000.
    axis = funnel_axis([16386, 50000, 102950])
    assert axis.shape == (100,)
    assert axis[0] == 1 and axis[-1] == 110000
    assert set(row[0] for row in V_F1) <= set(axis.tolist())
    assert np.all(np.diff(axis) >= 1)


V_F1_AXIS = [
    # population, lower_2s, upper_2s, lower_3s, upper_3s (8 dp), av 0.8218033787630717
    (10000, 81.43030244, 82.93037332, 80.99777342, 83.36290233),
    (10121, 81.43479938, 82.92587637, 81.00486365, 83.3558121),
    (10244, 81.43928875, 82.921387, 81.01194194, 83.34873381),
    (18055, 81.62214661, 82.73852914, 81.30024992, 83.06042583),
    (33000, 81.76745696, 82.5932188, 81.52935757, 82.83131819),
]


def test_v_f1_axis_variation_variant():
    axis = funnel_axis([15500, 20000, 30900])  # denominators < 31000: axis 10000..33000
    assert axis[0] == 10000 and axis[-1] == 33000
    assert {row[0] for row in V_F1_AXIS} <= set(axis.tolist())
    table = funnel_limits(average=82.18033787630717, points=axis, multiplier=100)
    rows = table.filter(pl.col("population").is_in([float(row[0]) for row in V_F1_AXIS]))
    np.testing.assert_allclose(
        rows.select(LIMIT_COLUMNS).to_numpy(), [row[1:] for row in V_F1_AXIS], atol=5.1e-9
    )
    np.testing.assert_allclose(rows.get_column("baseline"), 82.18033788, atol=5.1e-9)


def test_limits_from_numerator_and_denominator_alone():
    num, den = [120, 300, None, 90], [150, 400, 200, 100]
    table = funnel_limits(num, den, multiplier=100)
    assert table.height == 100
    assert table.get_column("baseline")[0] == pytest.approx(510 / 650 * 100, rel=1e-14)
    assert table.get_column("population")[0] == 1 and table.get_column("population")[-1] == 420
    assert table.get_column("upper_3s").max() <= 100 and table.get_column("lower_3s").min() >= 0


def test_proportion_limits_are_wilson_inversions():
    # METHODS 1.5: low = proportion whose Wilson upper limit equals av; high likewise.
    for n in (30, 500, 12345):
        for conf, p in ((0.95, 0.975), (0.998, 0.999)):
            low = float(sigma_adjustment(p, n, 0.3, "low"))
            high = float(sigma_adjustment(p, n, 0.3, "high"))
            assert wilson_ci(low * n, n, conf)[1] == pytest.approx(0.3, rel=1e-9)
            assert wilson_ci(high * n, n, conf)[0] == pytest.approx(0.3, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    av=st.floats(min_value=0.001, max_value=0.999), start=st.integers(min_value=1, max_value=10**5)
)
def test_proportion_funnel_narrows_with_population(av, start):
    table = funnel_limits(average=av, points=np.arange(start, start + 2000, 97))
    for column in ("lower_2s", "lower_3s"):
        assert np.all(np.diff(table.get_column(column).to_numpy()) >= -1e-12)
    for column in ("upper_2s", "upper_3s"):
        assert np.all(np.diff(table.get_column(column).to_numpy()) <= 1e-12)
    assert (table["lower_3s"] <= table["lower_2s"] + 1e-12).all()
    assert (table["lower_2s"] <= av + 1e-12).all() and (table["upper_2s"] >= av - 1e-12).all()
    assert (table["upper_2s"] <= table["upper_3s"] + 1e-12).all()


# --- V-F3: ratio (Poisson) limits ----------------------------------------------------------

V_F3 = [
    # O, then (exp_events, count, isr) for lower_2s, upper_2s, lower_3s, upper_3s
    (
        1,
        5.571644585,
        -0.820519779,
        17.94802207,
        0.025317898,
        38.49774946,
        3949.774946,
        9.233410143,
        -0.891697652,
        10.83023482,
        0.001000547,
        998.4532721,
        99945.32721,
    ),
    (
        2,
        7.224687515,
        -0.723171418,
        27.6828582,
        0.242209467,
        7.257315569,
        825.7315569,
        11.22886836,
        -0.821887662,
        17.81123382,
        0.04540199,
        43.05093268,
        4405.093268,
    ),
    (
        3,
        8.767273828,
        -0.657818376,
        34.21816244,
        0.618671905,
        3.849096876,
        484.9096876,
        13.06224507,
        -0.770330446,
        22.96695541,
        0.190533306,
        14.7452787,
        1574.52787,
    ),
    (
        4,
        10.24158653,
        -0.609435512,
        39.05644881,
        1.089865762,
        2.670176768,
        367.0176768,
        14.79414916,
        -0.729622842,
        27.03771576,
        0.42855244,
        8.333746885,
        933.3746885,
    ),
    (
        5,
        11.6683331,
        -0.571489779,
        42.85102213,
        1.623486324,
        2.07979188,
        307.979188,
        16.45474478,
        -0.696136278,
        30.38637225,
        0.739371928,
        5.762496398,
        676.2496398,
    ),
    (
        6,
        13.0594765,
        -0.540563513,
        45.94364867,
        2.201894435,
        1.724926275,
        272.4926275,
        18.0616374,
        -0.667804205,
        33.21957952,
        1.107104434,
        4.419542924,
        541.9542924,
    ),
    (
        10,
        18.39035799,
        -0.456236795,
        54.3763205,
        4.795387629,
        1.085337156,
        208.5337156,
        24.13397235,
        -0.585646331,
        41.43536693,
        2.960519925,
        2.37778507,
        337.778507,
    ),
    (
        20,
        30.88838097,
        -0.352507339,
        64.74926614,
        12.21651877,
        0.637127595,
        163.7127595,
        38.04188668,
        -0.47426372,
        52.57362804,
        8.958211233,
        1.232588569,
        223.2588569,
    ),
    (
        47,
        62.50002175,
        -0.248000262,
        75.19997383,
        34.5338404,
        0.360983877,
        136.0983877,
        72.28346944,
        -0.349782179,
        65.02178211,
        28.62309641,
        0.642030594,
        164.2030594,
    ),
    (
        115,
        138.0400737,
        -0.166908588,
        83.30914124,
        94.94429146,
        0.211236592,
        121.1236592,
        152.1497378,
        -0.244165638,
        75.58343619,
        84.686699,
        0.357946423,
        135.7946423,
    ),
    (
        286,
        321.140619,
        -0.109424398,
        89.05756016,
        253.8110617,
        0.126822441,
        112.6822441,
        342.2132075,
        -0.1642637,
        83.57363004,
        236.5748687,
        0.208919619,
        120.8919619,
    ),
    (
        716,
        770.4222128,
        -0.070639465,
        92.93605352,
        664.5083011,
        0.077488421,
        107.7488421,
        802.60414,
        -0.107903929,
        89.20960712,
        636.1521174,
        0.125516964,
        112.5516964,
    ),
]
BOUNDS = ["lower_2s", "upper_2s", "lower_3s", "upper_3s"]


def test_v_f3_axis():
    axis = funnel_axis([100, 400, 710], statistic="ratio")  # expected counts -> 0..750
    # With offset j - 1 the ratio axis stops short of its maximum (716 of 750).
    assert axis[0] == 1 and axis[-1] == 716 and axis.shape == (100,)
    assert {row[0] for row in V_F3} <= set(axis.tolist())


@pytest.mark.parametrize(("ratio_type", "offset"), [("count", 2), ("isr", 3)])
def test_v_f3_ratio_limits(ratio_type, offset):
    observed = [row[0] for row in V_F3]
    table = funnel_limits(points=observed, statistic="ratio", ratio_type=ratio_type)
    for i, bound in enumerate(BOUNDS):
        exp_events = [row[1 + 3 * i] for row in V_F3]
        limit = [row[offset + 3 * i] for row in V_F3]
        np.testing.assert_allclose(table[f"{bound}_exp_events"], exp_events, rtol=1e-8, atol=5e-10)
        np.testing.assert_allclose(table[bound], limit, rtol=1e-7, atol=1e-9)
    assert table["baseline"].unique().to_list() == [0.0 if ratio_type == "count" else 100.0]


def test_poisson_funnel_agrees_with_exact_chi_square():
    observed = np.array([1, 2, 5, 10, 47, 300, 5000])
    high = poisson_funnel(observed, 0.025, "high")
    low = poisson_funnel(observed, 0.025, "low")

    # The bisection runs on v = mean / (1 + obs + mean) in steps down to 6e-8.
    def v(mean):
        return mean / (1 + observed + mean)

    exact_high = special.gammaincinv(observed + 1, 0.975)
    exact_low = special.gammaincinv(observed, 0.025)
    np.testing.assert_allclose(v(high), v(exact_high), atol=1.2e-7)
    np.testing.assert_allclose(v(low), v(exact_low), atol=1.2e-7)
    np.testing.assert_allclose(high, exact_high, rtol=1e-6)
    assert poisson_funnel(1, 0.025, "high") == pytest.approx(5.571644585, rel=1e-9)
    assert poisson_funnel(0, 0.025, "low") == 0.0


def test_ratio_limits_narrow_towards_baseline():
    table = funnel_limits([5, 9, 40], [6, 10, 35], statistic="ratio", ratio_type="ratio")
    assert table.height == 100
    for bound in BOUNDS:
        gaps = np.abs(table[bound].to_numpy() - 1)
        assert np.all(np.diff(gaps) <= 1e-12)


# --- Rates ---------------------------------------------------------------------------------


def test_rate_limits_are_ratio_limits_scaled_by_the_average():
    events = [1, 3, 10, 40, 200]
    rates = funnel_limits(average=4.5, points=events, statistic="rate", multiplier=1000)
    ratios = funnel_limits(points=events, statistic="ratio", ratio_type="ratio")
    assert rates.columns[0] == "events" and "lower_2s_population_1_year" in rates.columns
    for bound in BOUNDS:
        np.testing.assert_allclose(rates[bound], ratios[bound] * 4.5, rtol=1e-12)
        np.testing.assert_allclose(
            rates[f"{bound}_population_1_year"],
            ratios[f"{bound}_exp_events"] / 0.0045,
            rtol=1e-12,
        )
    assert rates["baseline"].unique().to_list() == [4.5]


def test_rate_axis_in_events_and_years():
    births = [20000, 30000, 39000]  # two years pooled; max <= 2 x min
    events = [90, 120, 200]
    table = funnel_limits(events, births, statistic="rate", multiplier=1000, years_of_data=2)
    av = 410 / 89000
    # per year: signif.floor(10000) = 9000 and signif.ceiling(19500) = 21000, x 2 years
    assert table["events"][0] == np.floor(18000 * av)
    assert table["events"][-1] == np.ceil(42000 * av)
    np.testing.assert_allclose(
        table["lower_2s_population_1_year"] * 2 * av,
        poisson_funnel(table["events"].to_numpy(), 0.025, "high"),
        rtol=1e-12,
    )
    small = funnel_limits([9, 12, 20], [2000, 3000, 3900], statistic="rate", multiplier=1000)
    assert small["events"].to_list() == list(range(4, 104))  # steps of at least one event


def test_funnel_argument_errors():
    with pytest.raises(ValueError, match="statistic"):
        funnel_limits([1], [2], statistic="mean")
    with pytest.raises(ValueError, match="average"):
        funnel_limits(points=[10])
    with pytest.raises(ValueError, match="ratio_type"):
        funnel_limits(points=[10], statistic="ratio", ratio_type="smr")
    with pytest.raises(ValueError, match="positive average"):
        funnel_limits([0, 0], [10, 10], statistic="rate")
    with pytest.raises(ValueError, match="side"):
        poisson_funnel(3, 0.025, "middle")


# --- Significance --------------------------------------------------------------------------


def test_proportion_significance_labels_follow_limits():
    n = np.array([1000, 1000, 1000, 1000, 1000, 1000])
    x = np.array([700, 760, 790, 800, 820, 850])  # av = 0.79 from the pooled data below
    labels = funnel_significance(x, n, average=79, multiplier=100)
    assert labels.tolist() == [
        "Low (0.001)",
        "Low (0.025)",
        "Not significant",
        "Not significant",
        "High (0.025)",
        "High (0.001)",
    ]
    assert set(labels) <= set(SIGNIFICANCE_LABELS)


def test_ratio_significance_matches_the_funnel_table():
    # Observed 2: the 95% funnel has O/E < 1 beyond E = 7.2247, the 99.8% beyond 11.2289.
    labels = funnel_significance([2, 2, 2, 20, 30, 0], [7, 8, 12, 10, 10, 10], statistic="ratio")
    assert labels.tolist() == [
        "Not significant",
        "Low (0.025)",
        "Low (0.001)",
        "High (0.025)",
        "High (0.001)",
        "Low (0.001)",
    ]


@settings(max_examples=100, deadline=None)
@given(
    x=st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=8),
    n=st.lists(st.integers(min_value=50, max_value=5000), min_size=2, max_size=8),
)
def test_rate_significance_is_the_phe_rate_ci_against_the_average(x, n):
    size = min(len(x), len(n))
    x, n = np.array(x[:size]), np.array(n[:size])
    assume(x.sum() > 0)
    av = x.sum() / n.sum()
    labels = funnel_significance(x, n, statistic="rate")
    lower95, upper95 = rate_ci(x, n, 0.95, multiplier=1)
    lower998, upper998 = rate_ci(x, n, 0.998, multiplier=1)
    for i, label in enumerate(labels):
        expected = (
            "High (0.001)"
            if av < lower998[i]
            else "High (0.025)"
            if av < lower95[i]
            else "Low (0.001)"
            if av > upper998[i]
            else "Low (0.025)"
            if av > upper95[i]
            else "Not significant"
        )
        assert label == expected


def test_significance_missing_and_invalid():
    labels = funnel_significance([5, None, 0], [10, 10, 0])
    assert labels[0] in SIGNIFICANCE_LABELS and labels[1] is None and labels[2] is None
    assert funnel_significance(5, 10, average=0.5) == "Not significant"
    assert funnel_significance(None, 10) is None
    assert funnel_significance([None, np.nan], [10, 10], statistic="rate").tolist() == [None] * 2
    with pytest.raises(ValueError, match="numerator must be <= denominator"):
        funnel_significance([11], [10])
    with pytest.raises(ValueError, match="numerator must be >= 0"):
        funnel_significance([-1, 2], [10, 10], statistic="rate")
