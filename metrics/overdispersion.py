"""Funnel limits widened for over-dispersion, as Spiegelhalter (2005) and NHS-R FunnelPlotR.

Real trusts differ by more than chance: case mix, coding and recording vary, so with the
PHE limits (:mod:`metrics.funnel`) far more than 5% of trusts fall outside the 95% funnel.
Each unit's z-score against the target, winsorised, estimates how much wider the spread
is than chance allows: a multiplicative factor ``phi`` or an additive between-unit variance
``tau2`` (DerSimonian-Laird). The unadjusted PHE funnel stays the default; these are an
option beside it.

z-scores are the score statistics of the PHE funnel: for proportions
``z = (p - p0) / sqrt(p0 (1 - p0) / n)``, whose +/-1.96 limits are exactly the PHE
Wilson-based 95% limits; for rates and ratios ``z = (y - r0) / sqrt(r0 / n)`` (Poisson),
the normal approximation to the PHE exact limits. These are Spiegelhalter's (2005, Table I)
natural-scale z-scores; FunnelPlotR transforms first (arcsine for proportions, log for
ratios), which would no longer reproduce the PHE funnel when there is no over-dispersion.
The estimators of ``phi`` and ``tau2`` are FunnelPlotR's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from metrics._arrays import (
    ArrayLike,
    as_float_array,
    broadcast,
    check_non_negative,
    check_not_above,
    check_one_of,
)
from metrics.funnel import (
    FUNNEL_LEVELS,
    STATISTICS,
    funnel_axis,
    funnel_significance,
    pooled_average,
)
from metrics.registry import Metric

METHODS = ("phi", "tau2")
DEFAULT_TRIM = 0.1  # winsorise 10% at each end (Spiegelhalter 2005; FunnelPlotR trim_by)
LIMIT_COLUMNS = ("lower_2s", "upper_2s", "lower_3s", "upper_3s")
CURVE_POINTS = 100


@dataclass(frozen=True)
class Dispersion:
    """How much more the units vary than chance allows.

    ``phi`` is the dispersion ratio (1 = as chance predicts, above 1 = over-dispersed);
    ``tau2`` the between-unit variance on the per-unit scale of the statistic (a
    proportion 0-1, or events per person): ``sqrt(tau2) x multiplier`` is the spread of
    the units' underlying values in display units. ``units`` is how many units gave it.
    """

    phi: float
    tau2: float
    units: int
    trim: float

    @property
    def over_dispersed(self) -> bool:
        """True when the units vary more than chance allows (``phi > 1``)."""
        return self.phi > 1


def _check_trim(trim: float) -> float:
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), the share winsorised at each end; got "
                         f"{trim!r}")
    return float(trim)


def winsorise(values: ArrayLike, *, trim: float = DEFAULT_TRIM) -> np.ndarray:
    """Pull values beyond the ``trim`` and ``1 - trim`` quantiles in to those quantiles.

    Quantiles are R's default (type 7, linear interpolation), as FunnelPlotR
    ``winsorisation``; missing values stay missing.

    References
    ----------
    Spiegelhalter DJ (2005) Stat Med 24:1185-1202, section 6; FunnelPlotR ``winsorisation``.
    """
    trim = _check_trim(trim)
    v = as_float_array(values).ravel()
    finite = np.isfinite(v)
    if not finite.any():
        return v
    low, high = np.quantile(v[finite], [trim, 1 - trim])
    return np.where(finite, np.clip(v, low, high), np.nan)


def dispersion(
    z_scores: ArrayLike, standard_errors: ArrayLike, *, trim: float = DEFAULT_TRIM
) -> Dispersion:
    """Dispersion ratio ``phi`` and between-unit variance ``tau2`` from units' z-scores.

    With ``n`` units, winsorised z-scores ``z_i`` and standard errors ``s_i``
    (weights ``w_i = 1 / s_i^2``)::

        phi  = sum(z_i^2) / n
        tau2 = max(0, (n phi - (n - 1)) / (sum(w_i) - sum(w_i^2) / sum(w_i)))

    ``tau2`` is the DerSimonian-Laird moment estimator with ``n phi`` in place of
    Cochran's Q: with ``trim=0`` and the z-scores taken about the inverse-variance
    weighted mean it is exactly DerSimonian-Laird.

    Parameters
    ----------
    z_scores, standard_errors : array-like
        One per unit; units with a missing value or a standard error of 0 are left out.
    trim : float, default 0.1
        Share winsorised at each end before ``phi`` is taken.

    Raises
    ------
    ValueError
        Fewer than 2 usable units, or ``trim`` outside [0, 0.5).

    References
    ----------
    Spiegelhalter DJ (2005) Qual Saf Health Care 14:347-351 and Stat Med 24:1185-1202;
    DerSimonian R, Laird N (1986) Control Clin Trials 7:177-188; FunnelPlotR ``phi_func``,
    ``tau_func``.
    """
    trim = _check_trim(trim)
    (z, s), _ = broadcast(z_scores, standard_errors)
    keep = np.isfinite(z) & np.isfinite(s) & (s > 0)
    n = int(keep.sum())
    if n < 2:
        raise ValueError(f"over-dispersion needs at least 2 units with a z-score; got {n}")
    phi = float(np.mean(winsorise(z[keep], trim=trim) ** 2))
    w = 1 / s[keep] ** 2
    spread = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (n * phi - (n - 1)) / spread) if spread > 0 else 0.0
    return Dispersion(phi=phi, tau2=float(tau2), units=n, trim=trim)


def _inputs(numerator: ArrayLike, denominator: ArrayLike, statistic: str
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``(x, n, valid)``: valid where both are present and ``n > 0``."""
    check_one_of(statistic, STATISTICS, "statistic")
    (x, n), _ = broadcast(numerator, denominator)
    check_non_negative(x, "numerator")
    check_non_negative(n, "denominator")
    if statistic == "proportion":
        check_not_above(x, n, "numerator", "denominator")
    return x, n, np.isfinite(x) & np.isfinite(n) & (n > 0)


def _centre(numerator: ArrayLike | None, denominator: ArrayLike | None, statistic: str,
            average: float | None, multiplier: float) -> float:
    """The funnel's centre per unit: ``average``, else the pooled value (1 for ratios)."""
    if statistic == "ratio" and average is None:
        centre = 1.0
    elif average is not None:
        centre = float(average) / multiplier
    else:
        if numerator is None or denominator is None:
            raise ValueError("give average, or numerator and denominator to pool it")
        x, n, valid = _inputs(numerator, denominator, statistic)
        centre = pooled_average(x[valid], n[valid], None, multiplier)
    upper = 1.0 if statistic == "proportion" else np.inf
    if not 0 < centre < upper:
        raise ValueError(f"the funnel's centre must be inside (0, {upper * multiplier:g}) "
                         f"for a {statistic}; got {centre * multiplier!r}")
    return centre


def _standard_error(target: float, n: np.ndarray, statistic: str) -> np.ndarray:
    """``sqrt(p0 (1 - p0) / n)`` (binomial) or ``sqrt(r0 / n)`` (Poisson); NaN where n = 0."""
    variance = target * (1 - target) if statistic == "proportion" else target
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.sqrt(variance / n), np.nan)


def funnel_z_scores(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Each unit's z-score against the funnel's centre, and its standard error.

    ``z = (x/n - t) / s`` with ``s = sqrt(t (1 - t) / n)`` for proportions and
    ``s = sqrt(t / n)`` for rates and ratios (O/E, ``t = 1``), ``t`` the centre.

    Parameters
    ----------
    numerator, denominator : array-like
        Cases and populations, events and denominators, or observed and expected counts.
    statistic : {"proportion", "rate", "ratio"}
    average : float, optional
        Centre in display units (e.g. England's value); default the pooled
        ``sum(x) / sum(n)`` over non-missing pairs (1 for ratios).
    multiplier : float, default 1
        Units of ``average`` (100 for percentages, 1000 for rates per 1,000).

    Returns
    -------
    (z, se, target)
        Arrays (NaN where an input is missing or the denominator is 0) and the centre
        per unit (a proportion 0-1 or events per person).

    References
    ----------
    Spiegelhalter DJ (2005) Stat Med 24:1185-1202, Table I; FunnelPlotR
    ``transformed_zscore``.
    """
    x, n, valid = _inputs(numerator, denominator, statistic)
    if not valid.any():
        raise ValueError("no unit has both a numerator and a denominator above 0")
    target = _centre(numerator, denominator, statistic, average, multiplier)
    se = _standard_error(target, n, statistic)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(valid, (x / n - target) / se, np.nan)
    return z.ravel(), se.ravel(), target


def overdispersion(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float = 1.0,
    trim: float = DEFAULT_TRIM,
) -> Dispersion:
    """:func:`dispersion` of a set of units from their counts (:func:`funnel_z_scores`)."""
    z, se, _ = funnel_z_scores(numerator, denominator, statistic=statistic, average=average,
                               multiplier=multiplier)
    return dispersion(z, se, trim=trim)


def _widened(se: np.ndarray, fit: Dispersion, method: str) -> np.ndarray:
    """Standard error widened for over-dispersion: ``sqrt(phi) s`` or ``sqrt(s^2 + tau2)``.

    ``phi`` below 1 is taken as 1: limits are never narrowed (FunnelPlotR falls back to
    the unadjusted limits then too).
    """
    if check_one_of(method, METHODS, "method") == "phi":
        return np.sqrt(max(fit.phi, 1.0)) * se
    return np.sqrt(se**2 + fit.tau2)


def adjusted_funnel_limits(
    numerator: ArrayLike | None = None,
    denominator: ArrayLike | None = None,
    *,
    statistic: str = "proportion",
    method: str = "tau2",
    fit: Dispersion | None = None,
    average: float | None = None,
    points: ArrayLike | None = None,
    multiplier: float = 1.0,
    trim: float = DEFAULT_TRIM,
) -> pl.DataFrame:
    """95% and 99.8% funnel limits widened for over-dispersion.

    ``limit = t -/+ q s*`` with ``q = qnorm(0.975)`` ("2s") or ``qnorm(0.999)`` ("3s"),
    ``s`` the standard error of :func:`funnel_z_scores` at the denominator and

    * ``method="phi"`` (multiplicative): ``s* = sqrt(max(phi, 1)) s``;
    * ``method="tau2"`` (additive random effects): ``s* = sqrt(s^2 + tau2)``.

    With ``phi = 1`` / ``tau2 = 0`` the proportion limits are exactly PHE's
    (``calculate_funnel_limits``); rate limits are then the normal approximation to PHE's
    exact Poisson limits.

    Parameters
    ----------
    numerator, denominator : array-like, optional
        The units: used to estimate ``fit`` when it is not given, to pool the centre when
        ``average`` is not given, and (``denominator``) to build the axis when ``points``
        is not given.
    statistic : {"proportion", "rate", "ratio"}
    method : {"phi", "tau2"}
    fit : Dispersion, optional
        Default :func:`overdispersion` of the units against the same centre.
    average : float, optional
        Centre in display units; default pooled (1 for ratios).
    points : array-like, optional
        Denominators to evaluate the limits at; default the PHE 100-point axis over the
        units' denominators (:func:`metrics.funnel.funnel_axis`).
    multiplier : float, default 1
        Output units. Lower limits are clipped at 0, proportion upper limits at
        ``multiplier``.
    trim : float, default 0.1
        Winsorising used when ``fit`` is estimated here.

    Returns
    -------
    polars.DataFrame
        ``denominator, lower_2s, upper_2s, lower_3s, upper_3s, baseline`` (display units).

    References
    ----------
    Spiegelhalter DJ (2005) Stat Med 24:1185-1202 (section 6) and Qual Saf Health Care
    14:347-351; FunnelPlotR ``calculate_limits``.
    """
    check_one_of(statistic, STATISTICS, "statistic")
    check_one_of(method, METHODS, "method")
    if fit is None:
        if numerator is None or denominator is None:
            raise ValueError("give fit, or numerator and denominator to estimate it")
        fit = overdispersion(numerator, denominator, statistic=statistic, average=average,
                             multiplier=multiplier, trim=trim)
    target = _centre(numerator, denominator, statistic, average, multiplier)
    if points is None:
        if denominator is None:
            raise ValueError("give points, or denominator to build the axis")
        points = funnel_axis(denominator)
    x_axis = as_float_array(points).ravel()
    check_non_negative(x_axis, "points")
    spread = _widened(_standard_error(target, x_axis, statistic), fit, method)
    ceiling = multiplier if statistic == "proportion" else np.inf
    columns: dict[str, np.ndarray] = {"denominator": x_axis}
    for name, p, _ in FUNNEL_LEVELS:
        q = special.ndtri(p)
        columns[f"lower_{name}"] = np.maximum(0.0, (target - q * spread) * multiplier)
        columns[f"upper_{name}"] = np.minimum(ceiling, (target + q * spread) * multiplier)
    columns["baseline"] = np.full(x_axis.shape, target * multiplier)
    return pl.DataFrame(columns).select("denominator", *LIMIT_COLUMNS, "baseline")


def adjusted_funnel_significance(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    method: str = "tau2",
    fit: Dispersion | None = None,
    average: float | None = None,
    multiplier: float = 1.0,
    trim: float = DEFAULT_TRIM,
) -> np.ndarray:
    """Label each unit against the over-dispersed funnel, with the PHE labels.

    The adjusted z-score ``(y - t) / s*`` (``s*`` as :func:`adjusted_funnel_limits`) above
    ``qnorm(0.999)`` is "High (0.001)", above ``qnorm(0.975)`` "High (0.025)", below
    their negatives "Low (0.001)" / "Low (0.025)", else "Not significant"; ``None`` where an
    input is missing or the denominator is 0.

    Returns
    -------
    numpy.ndarray of object
        One label per unit (labels of :data:`metrics.funnel.SIGNIFICANCE_LABELS`).
    """
    check_one_of(method, METHODS, "method")
    z, se, _ = funnel_z_scores(numerator, denominator, statistic=statistic, average=average,
                               multiplier=multiplier)
    if fit is None:
        fit = dispersion(z, se, trim=trim)
    with np.errstate(invalid="ignore"):
        adjusted = z * se / _widened(se, fit, method)
    labels = np.full(z.shape, None, dtype=object)
    valid = np.isfinite(adjusted)
    labels[valid] = "Not significant"
    q95, q998 = (special.ndtri(p) for _, p, _ in FUNNEL_LEVELS)
    with np.errstate(invalid="ignore"):
        # Reverse precedence, as metrics.funnel.funnel_significance: the first rule wins.
        rules = [(adjusted > q95, "High (0.025)"), (adjusted > q998, "High (0.001)"),
                 (adjusted < -q95, "Low (0.025)"), (adjusted < -q998, "Low (0.001)")]
    for condition, label in rules:
        labels[condition & valid] = label
    return labels


def funnel_flags(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float = 1.0,
    method: str | None = None,
    trim: float = DEFAULT_TRIM,
) -> np.ndarray:
    """Funnel labels per unit: PHE's (``method=None``, the default) or adjusted for
    over-dispersion by ``"phi"`` or ``"tau2"`` (:func:`adjusted_funnel_significance`)."""
    if method is None:
        return np.atleast_1d(np.asarray(funnel_significance(
            numerator, denominator, statistic=statistic, average=average,
            multiplier=multiplier), dtype=object))
    return adjusted_funnel_significance(numerator, denominator, statistic=statistic,
                                        method=method, average=average,
                                        multiplier=multiplier, trim=trim)


# --- Benchmark frames -----------------------------------------------------------------------


def _shown_counts(frame: pl.DataFrame, metric: Metric) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """``(shown, events, denominator)`` of a benchmark frame; events from the value, so
    rare-event rates use their published value (as :func:`metrics.values.with_values`)."""
    denominator = frame["denominator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    value = frame["value"].fill_null(np.nan).to_numpy()
    with np.errstate(invalid="ignore"):
        shown = np.isfinite(value) & (denominator > 0)
    return shown, value * denominator / metric.multiplier, denominator


def benchmark_dispersion(
    frame: pl.DataFrame, *, metric: Metric, average: float | None = None,
    trim: float = DEFAULT_TRIM,
) -> Dispersion | None:
    """:func:`overdispersion` of the trusts shown in a :func:`metrics.benchmark.benchmark`
    frame, against ``average`` (display units; default pooled); None with fewer than 2."""
    shown, events, denominator = _shown_counts(frame, metric)
    if shown.sum() < 2:
        return None
    return overdispersion(events[shown], denominator[shown], statistic=metric.statistic,
                          average=average, multiplier=metric.multiplier, trim=trim)


def adjusted_benchmark(
    frame: pl.DataFrame, *, metric: Metric, method: str, average: float | None = None,
    fit: Dispersion | None = None,
) -> pl.DataFrame:
    """A :func:`metrics.benchmark.benchmark` frame with ``funnel_adjusted``: each trust's
    label against the funnel widened by ``method`` ("phi" or "tau2"); null where the trust
    is not shown or fewer than 2 trusts are. ``fit`` defaults to
    :func:`benchmark_dispersion` of the same frame."""
    if fit is None:
        fit = benchmark_dispersion(frame, metric=metric, average=average)
    shown, events, denominator = _shown_counts(frame, metric)
    labels = np.full(frame.height, None, dtype=object)
    if fit is not None:
        labels[shown] = adjusted_funnel_significance(
            events[shown], denominator[shown], statistic=metric.statistic, method=method,
            fit=fit, average=average, multiplier=metric.multiplier)
    return frame.with_columns(funnel_adjusted=pl.Series(labels.tolist(), dtype=pl.String))


def adjusted_funnel_curve(
    frame: pl.DataFrame, *, metric: Metric, method: str, average: float | None = None,
    fit: Dispersion | None = None,
) -> pl.DataFrame:
    """The widened funnel over a benchmark frame's denominators, long as
    :func:`metrics.benchmark.funnel_curve`: ``limit, denominator, value`` (display units,
    :data:`CURVE_POINTS` denominators per limit); empty with fewer than 2 trusts shown."""
    if fit is None:
        fit = benchmark_dispersion(frame, metric=metric, average=average)
    shown, events, denominator = _shown_counts(frame, metric)
    if fit is None:
        return pl.DataFrame(schema={"limit": pl.String, "denominator": pl.Float64,
                                    "value": pl.Float64})
    # As metrics.benchmark.funnel_curve: from 0.9x the smallest denominator to 1.05x the
    # largest, here on an even log scale.
    points = np.geomspace(0.9 * denominator[shown].min(), 1.05 * denominator[shown].max(),
                          CURVE_POINTS)
    limits = adjusted_funnel_limits(events[shown], denominator[shown],
                                    statistic=metric.statistic, method=method, fit=fit,
                                    average=average, points=points,
                                    multiplier=metric.multiplier)
    return (limits.unpivot(index="denominator", on=list(LIMIT_COLUMNS), variable_name="limit")
            .select("limit", "denominator", "value").sort("limit", "denominator"))
