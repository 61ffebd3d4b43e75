"""Over-dispersed funnels (Spiegelhalter 2005; NHS-R FunnelPlotR): phi, tau2, widened limits
and labels, against published figures and hand-worked formulas."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import special

from metrics import registry
from metrics.benchmark import benchmark
from metrics.breakdown import breakdown
from metrics.overdispersion import (
    Dispersion,
    adjusted_benchmark,
    adjusted_funnel_curve,
    adjusted_funnel_limits,
    adjusted_funnel_significance,
    benchmark_dispersion,
    dispersion,
    funnel_flags,
    funnel_z_scores,
    overdispersion,
    winsorise,
)
from metrics.stats import SIGNIFICANCE_LABELS, funnel_significance

Z95, Z998 = special.ndtri(0.975), special.ndtri(0.999)
OUTSIDE = [label for label in SIGNIFICANCE_LABELS if label != "Not significant"]

# --- Published figures: DerSimonian-Laird on the BCG vaccine trials --------------------------
#
# Colditz GA et al. (1994) JAMA 271:698-702, as metafor's dat.bcg: vaccinated with / without
# TB (tpos, tneg), unvaccinated with / without TB (cpos, cneg).
BCG = np.array([
    (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
    (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619),
    (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
    (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825),
], dtype=float)
# metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r (wviechtb/metafor), log
# risk ratios, each checked there against Stata `metan tpos tneg cpos cneg, fixedi / randomi
# rr log`: Cochran's Q = 152.2330 (fixed effect) and DerSimonian-Laird tau^2 = 0.3088.
BCG_Q, BCG_TAU2 = 152.2330, 0.3088


def _bcg_log_risk_ratios() -> tuple[np.ndarray, np.ndarray]:
    tpos, tneg, cpos, cneg = BCG.T
    y = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    v = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return y, np.sqrt(v)


def test_unwinsorised_dispersion_is_dersimonian_laird_on_the_bcg_trials():
    # About the fixed-effect (inverse-variance) mean, n phi is Cochran's Q and tau2 is the
    # DerSimonian-Laird estimate: the Spiegelhalter (2005) additive model's own derivation.
    y, se = _bcg_log_risk_ratios()
    w = 1 / se**2
    z = (y - (w * y).sum() / w.sum()) / se
    fit = dispersion(z, se, trim=0)
    assert fit.units == 13
    assert fit.phi * fit.units == pytest.approx(BCG_Q, abs=5e-5)
    assert fit.tau2 == pytest.approx(BCG_TAU2, abs=5e-5)
    assert fit.over_dispersed


# --- Winsorising and the estimators, worked by hand ------------------------------------------


def test_winsorise_uses_r_default_quantiles():
    # R: quantile(1:10, c(0.1, 0.9)) = 1.9, 9.1 (type 7: h = (n - 1) p + 1, interpolated).
    out = winsorise(np.arange(1.0, 11.0), trim=0.1)
    np.testing.assert_allclose(out, [1.9, 2, 3, 4, 5, 6, 7, 8, 9, 9.1])
    with_missing = winsorise([np.nan, 1.0, 2.0, 3.0, 100.0], trim=0.25)
    # finite 1, 2, 3, 100: quantile 0.25 at h = 1.75 -> 1.75; 0.75 at h = 3.25 -> 27.25
    np.testing.assert_allclose(with_missing, [np.nan, 1.75, 2, 3, 27.25])
    np.testing.assert_array_equal(winsorise([3.0, -1.0], trim=0), [3.0, -1.0])


def test_phi_and_tau2_from_winsorised_z_scores():
    z = np.array([-4.0, -1.0, -0.5, 0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 9.0])
    s = np.array([0.05, 0.04, 0.03, 0.05, 0.02, 0.04, 0.03, 0.05, 0.04, 0.02])
    fit = dispersion(z, s, trim=0.1)
    # 10% tails: quantile 0.1 at h = 1.9 -> -4 + 0.9 x 3 = -1.3; 0.9 at h = 9.1 -> 2.7.
    wins = np.array([-1.3, -1.0, -0.5, 0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 2.7])
    phi = np.sum(wins**2) / 10
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - (w**2).sum() / w.sum())
    assert fit.phi == pytest.approx(phi, rel=1e-12)
    assert fit.tau2 == pytest.approx(max(tau2, 0.0), rel=1e-12)
    assert fit.units == 10 and fit.trim == 0.1


def test_tau2_is_zero_without_over_dispersion():
    # FunnelPlotR tau_func: n phi < n - 1 gives tau2 = 0.
    fit = dispersion([0.1, -0.2, 0.3, -0.1, 0.0], [0.1] * 5, trim=0)
    assert fit.phi < 1 and fit.tau2 == 0.0 and not fit.over_dispersed


def test_missing_units_are_left_out():
    full = dispersion([1.0, -2.0, 3.0], [0.1, 0.2, 0.3], trim=0)
    gappy = dispersion([1.0, np.nan, -2.0, 3.0, 5.0], [0.1, 0.1, 0.2, 0.3, 0.0], trim=0)
    assert gappy == full


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dispersion([1.0], [0.1]), "at least 2"),
        (lambda: dispersion([1.0, 2.0], [0.1, 0.1], trim=0.5), "trim"),
        (lambda: winsorise([1.0], trim=-0.1), "trim"),
        (lambda: funnel_z_scores([1, 2], [0, 0], statistic="rate"), "no unit"),
        (lambda: funnel_z_scores([5, 6], [4, 10]), "numerator must be <="),
        (lambda: funnel_z_scores([0, 0], [4, 10]), "centre"),
        (lambda: funnel_z_scores([1, 2], [4, 10], statistic="mean"), "statistic"),
        (lambda: adjusted_funnel_limits([1, 2], [4, 10], method="both"), "method"),
        (lambda: adjusted_funnel_limits(points=[10], fit=Dispersion(1, 0, 2, 0.1)), "average"),
    ],
)
def test_bad_input_raises_a_specific_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_z_scores_are_score_statistics_against_the_centre():
    x, n = np.array([30.0, 12.0, 0.0]), np.array([100.0, 60.0, 0.0])
    z, se, target = funnel_z_scores(x, n, statistic="proportion")
    p0 = 42 / 160
    assert target == pytest.approx(p0)
    np.testing.assert_allclose(se[:2], np.sqrt(p0 * (1 - p0) / n[:2]))
    np.testing.assert_allclose(z[:2], (x[:2] / n[:2] - p0) / np.sqrt(p0 * (1 - p0) / n[:2]))
    assert np.isnan(z[2]) and np.isnan(se[2])
    # rates against England's 25 per 1,000: Poisson variance r0 / n
    z, se, target = funnel_z_scores([30, 5], [1000, 400], statistic="rate", average=25,
                                    multiplier=1000)
    assert target == 0.025
    np.testing.assert_allclose(z, [(0.03 - 0.025) / np.sqrt(0.025 / 1000),
                                   (0.0125 - 0.025) / np.sqrt(0.025 / 400)])
    # ratios O/E centre on 1
    z, _, target = funnel_z_scores([12], [8], statistic="ratio")
    assert target == 1.0 and z[0] == pytest.approx((1.5 - 1) / np.sqrt(1 / 8))


# --- Widened limits ---------------------------------------------------------------------------

# PHEindicatormethods testdata_funnel_prop_outputs.csv (METHODS.md V-F1, 6 dp): with phi = 1 or
# tau2 = 0 the adjusted proportion funnel must be PHE's, exactly.
AV_F1 = 0.806424478571495
V_F1 = [
    (27, 65.739462, 95.545433, 57.145237, 100),
    (75, 71.700657, 89.584239, 66.544121, 94.740774),
    (211, 75.311383, 85.973512, 72.237075, 89.04782),
    (1699, 78.763743, 82.521152, 77.680336, 83.60456),
    (38775, 80.249188, 81.035707, 80.022404, 81.262492),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]
LIMITS = ["lower_2s", "upper_2s", "lower_3s", "upper_3s"]
NO_SPREAD = Dispersion(phi=0.8, tau2=0.0, units=303, trim=0.1)


@pytest.mark.parametrize("method", ["phi", "tau2"])
def test_without_over_dispersion_the_limits_are_phes(method):
    table = adjusted_funnel_limits(points=[r[0] for r in V_F1], method=method, fit=NO_SPREAD,
                                   average=AV_F1 * 100, multiplier=100)
    assert table.columns == ["denominator", *LIMITS, "baseline"]
    np.testing.assert_allclose(table.select(LIMITS).to_numpy(),
                               np.array([r[1:] for r in V_F1]), atol=5.1e-7)
    np.testing.assert_allclose(table["baseline"], AV_F1 * 100)


def test_phi_widens_by_its_square_root_and_tau2_adds_its_variance():
    p0, n = 0.3, np.array([50.0, 400.0, 3000.0])
    s = np.sqrt(p0 * (1 - p0) / n)
    fit = Dispersion(phi=4.0, tau2=0.0025, units=20, trim=0.1)
    phi = adjusted_funnel_limits(points=n, method="phi", fit=fit, average=30, multiplier=100)
    np.testing.assert_allclose(phi["upper_2s"], (p0 + Z95 * 2 * s) * 100)
    np.testing.assert_allclose(phi["lower_3s"], np.maximum(0, p0 - Z998 * 2 * s) * 100)
    tau = adjusted_funnel_limits(points=n, method="tau2", fit=fit, average=30, multiplier=100)
    np.testing.assert_allclose(tau["lower_2s"], (p0 - Z95 * np.sqrt(s**2 + 0.0025)) * 100)
    np.testing.assert_allclose(tau["upper_3s"], (p0 + Z998 * np.sqrt(s**2 + 0.0025)) * 100)
    # the additive model keeps a floor of width for the largest units; phi shrinks to 0
    assert tau["upper_2s"][2] - 30 > Z95 * 0.05 * 100 > phi["upper_2s"][2] - 30


def test_rate_limits_and_clipping():
    r0, n = 0.025, np.array([100.0, 5000.0])
    fit = Dispersion(phi=2.0, tau2=1e-5, units=50, trim=0.1)
    table = adjusted_funnel_limits(points=n, statistic="rate", method="tau2", fit=fit,
                                   average=25, multiplier=1000)
    spread = np.sqrt(r0 / n + 1e-5)
    np.testing.assert_allclose(table["upper_2s"], (r0 + Z95 * spread) * 1000)
    np.testing.assert_allclose(table["lower_2s"], np.maximum(0, r0 - Z95 * spread) * 1000)
    assert table["lower_3s"][0] == 0.0  # never below zero events


def test_limits_estimate_the_fit_and_axis_from_the_units():
    x = np.array([30, 45, 60, 20, 80, 33, 50], dtype=float)
    n = np.array([100, 120, 150, 90, 160, 110, 140], dtype=float)
    table = adjusted_funnel_limits(x, n, method="phi")
    fit = overdispersion(x, n)
    p0 = x.sum() / n.sum()
    assert table.height == 100 and table["denominator"].min() >= 1
    expected = p0 + Z95 * np.sqrt(max(fit.phi, 1) * p0 * (1 - p0) / table["denominator"])
    np.testing.assert_allclose(table["upper_2s"], np.minimum(1, expected))


# --- Labels -----------------------------------------------------------------------------------


def test_proportion_labels_without_over_dispersion_are_phes():
    rng = np.random.default_rng(7)
    n = rng.integers(50, 5000, size=300).astype(float)
    x = rng.binomial(n.astype(int), rng.uniform(0.2, 0.4, size=300)).astype(float)
    phe = funnel_significance(x, n, average=30, multiplier=100)
    for method in ("phi", "tau2"):
        adjusted = adjusted_funnel_significance(x, n, method=method, fit=NO_SPREAD,
                                                average=30, multiplier=100)
        assert adjusted.tolist() == phe.tolist()
    assert set(phe) > {"Not significant"}


def test_adjusted_labels_use_the_widened_z_score():
    x, n = np.array([45.0, 100.0, np.nan]), np.array([100.0, 200.0, 50.0])
    fit = Dispersion(phi=2.25, tau2=0.004, units=30, trim=0.1)
    p0 = 0.3
    s = np.sqrt(p0 * (1 - p0) / n[:2])
    phi_z = (x[:2] / n[:2] - p0) / (1.5 * s)  # 2.18, 4.11
    tau_z = (x[:2] / n[:2] - p0) / np.sqrt(s**2 + 0.004)  # 1.92, 2.81
    assert Z95 < phi_z[0] < Z998 < phi_z[1] and tau_z[0] < Z95 < tau_z[1] < Z998
    labels = adjusted_funnel_significance(x, n, method="phi", fit=fit, average=30,
                                          multiplier=100)
    assert labels.tolist() == ["High (0.025)", "High (0.001)", None]
    labels = adjusted_funnel_significance(x, n, method="tau2", fit=fit, average=30,
                                          multiplier=100)
    assert labels.tolist() == ["Not significant", "High (0.025)", None]
    # unadjusted, the first is far outside: z = 0.15 / 0.0458 = 3.27
    assert funnel_significance(45, 100, average=30, multiplier=100) == "High (0.001)"
    low = adjusted_funnel_significance([5.0, 20.0], [100.0, 100.0], method="phi", fit=fit,
                                       average=30, multiplier=100)
    # z = -0.25 / (1.5 x 0.0458) = -3.64 and -0.1 / (1.5 x 0.0458) = -1.45
    assert low.tolist() == ["Low (0.001)", "Not significant"]


def test_funnel_flags_default_to_phe():
    x, n = [30.0, 80.0, 12.0], [100.0, 150.0, 60.0]
    assert funnel_flags(x, n).tolist() == funnel_significance(x, n).tolist()
    assert funnel_flags(x, n, method="tau2").tolist() == \
        adjusted_funnel_significance(x, n, method="tau2").tolist()


# --- On the demo store: PPH is over-dispersed ------------------------------------------------


@pytest.fixture(scope="module")
def pph_trusts(demo):
    metric = registry.get("pph_1500")
    period = "2024-25"
    england = breakdown(demo.counts, metric=metric, org_code="ENG", period_label=period,
                        dimension="total")["value"][0]
    frame = benchmark(demo.counts, demo.organisations, metric=metric, period_label=period,
                      average=england)
    outlier = next(code for code, stories in demo.manifest["stories"].items()
                   if "pph_outlier" in stories)
    return metric, frame, england, outlier


def test_pph_trusts_are_over_dispersed_and_fewer_are_flagged(pph_trusts):
    metric, frame, england, outlier = pph_trusts
    fit = benchmark_dispersion(frame, metric=metric, average=england)
    assert fit.over_dispersed and fit.tau2 > 0
    shown = frame.filter(pl.col("value").is_not_null()).height
    assert fit.units == shown
    outside_phe = frame["funnel"].is_in(OUTSIDE).sum()
    assert outside_phe > 0.2 * shown  # far more than 5% outside the 95% funnel
    for method in ("phi", "tau2"):
        adjusted = adjusted_benchmark(frame, metric=metric, method=method, average=england,
                                      fit=fit)
        outside = adjusted["funnel_adjusted"].is_in(OUTSIDE).sum()
        assert 0 < outside < outside_phe
        assert adjusted.filter(pl.col("value").is_null())["funnel_adjusted"].null_count() == \
            frame["value"].null_count()
        # the story trust planted as an outlier stays one
        assert adjusted.filter(pl.col("org_code") == outlier)["funnel_adjusted"][0] == \
            "High (0.001)"


def test_adjusted_curve_spans_the_trusts(pph_trusts):
    metric, frame, england, _ = pph_trusts
    curve = adjusted_funnel_curve(frame, metric=metric, method="tau2", average=england)
    assert set(curve["limit"]) == set(LIMITS)
    den = frame.filter(pl.col("value").is_not_null())["denominator"]
    assert curve["denominator"].min() == pytest.approx(0.9 * den.min())
    assert curve["denominator"].max() == pytest.approx(1.05 * den.max())
    upper = curve.filter(pl.col("limit") == "upper_2s")["value"].to_numpy()
    lower = curve.filter(pl.col("limit") == "lower_2s")["value"].to_numpy()
    assert np.all(np.diff(upper) < 0) and np.all(np.diff(lower) > 0)
    assert np.all(lower < england) and np.all(upper > england)
    empty = adjusted_funnel_curve(frame.head(1), metric=metric, method="phi")
    assert empty.is_empty() and empty.columns == ["limit", "denominator", "value"]
