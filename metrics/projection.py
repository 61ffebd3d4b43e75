"""Projecting each group's series a few periods ahead, and when a gap would close.

The model is a log-linear trend in the rate, fitted as a quasi-Poisson generalised linear
model with the denominator as exposure (McCullagh and Nelder 1989, *Generalized Linear
Models*, 2nd edition, chapters 6 and 9)::

    events_t ~ quasi-Poisson(mean = n_t * exp(a + b * t), variance = phi * mean)
    log(rate_t) = a + b * t        (t = period index, 0 at the first period shown)

so ``exp(b)`` is the factor by which the rate changes each period. It is fitted by
iteratively reweighted least squares (Nelder and Wedderburn 1972) with NumPy. The
over-dispersion ``phi`` is the Pearson chi-square over its degrees of freedom, floored at 1
(variation beyond Poisson widens every interval; less than Poisson never narrows them).

A projection is a statement about the fitted line carried forward, not a forecast of
events: it assumes the recent pace continues. Rolling periods overlap (each shares months
with the next), so their points are not independent and no projection is made for them.
Proportions are modelled on the same log scale (a short-horizon approximation; projected
shares are capped at 100%), and their Poisson variance overstates binomial variance, which
errs towards wider intervals.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from metrics._arrays import ArrayLike, as_float_array, z_value
from metrics.categories import DIMENSIONS
from metrics.registry import PROPORTION, Metric

MIN_POINTS = 6  # fewer published points give too unstable a slope to carry forward
# Suppressed periods are the ones with few events, so a trend through the rest leans
# upwards; beyond this share of periods suppressed it is not drawn at all.
MAX_SUPPRESSED_SHARE = 0.25
HORIZON = 3  # periods projected ahead by default
ASSUMED_DENOMINATOR_POINTS = 3  # future denominator = mean of the last 3 used in the fit
WITHIN_YEARS = 10  # a gap closing later than this is reported as not closing
DRAWS = 10_000
SEED = 20_251_122  # fixed, so a view always states the same interval
MAX_ITERATIONS = 50
TOLERANCE = 1e-10

# Gap statuses and the reasons behind them.
CLOSING, CLOSED, NOT_CLOSING, UNAVAILABLE = "closing", "already_closed", "not_closing", \
    "unavailable"
NO_GAP, REVERSED = "no_gap", "reversed"  # why a gap counts as already closed
DIVERGING, PARALLEL, TOO_SLOW = "diverging", "parallel", "too_slow"  # why it is not closing

PROJECTION_COLUMNS = ("group", "group_order", "step", "period_end", "denominator", "value",
                      "lower95", "upper95", "fit_lower95", "fit_upper95")


@dataclass(frozen=True, eq=False)
class LogLinearFit:
    """A fitted log-linear rate trend: ``log(rate_t) = intercept + slope * t`` (per unit
    of denominator), with the parameters' covariance already scaled by ``dispersion``."""

    intercept: float
    slope: float
    covariance: np.ndarray  # 2 x 2, order (intercept, slope)
    dispersion: float  # phi = max(1, Pearson chi-square / (points - 2))
    pearson_chi2: float
    points: int
    iterations: int

    @property
    def parameters(self) -> np.ndarray:
        return np.array([self.intercept, self.slope])

    def log_rate(self, times: ArrayLike) -> np.ndarray:
        """``a + b t``: the fitted log rate per unit of denominator."""
        return self.intercept + self.slope * as_float_array(times)

    def log_rate_variance(self, times: ArrayLike) -> np.ndarray:
        """Variance of ``a + b t`` from the parameters: ``x' C x`` with ``x = (1, t)``."""
        t = as_float_array(times)
        c = self.covariance
        return c[0, 0] + 2 * t * c[0, 1] + t * t * c[1, 1]

    def slope_ci(self, confidence: float = 0.95) -> tuple[float, float]:
        """Normal-approximation interval ``b -/+ z sqrt(C[1, 1])``."""
        half = z_value(confidence) * math.sqrt(self.covariance[1, 1])
        return self.slope - half, self.slope + half


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance ``2 sum(y log(y / mu) - (y - mu))`` (``y log y`` = 0 at ``y`` = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def fit_log_linear(
    *,
    events: ArrayLike,
    denominators: ArrayLike,
    times: ArrayLike,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> LogLinearFit:
    """Fit ``log(events / denominator) = a + b t`` as a quasi-Poisson GLM.

    IRLS with the log link and ``log(denominator)`` as offset, started at ``mu = y + 0.1``
    as R's ``glm`` does for the Poisson family. Each step solves the weighted least squares
    ``(X' W X) beta = X' W z`` with ``W = mu`` and working response
    ``z = eta - log(n) + (y - mu) / mu``; it stops when the deviance changes by less than
    ``tolerance * (|deviance| + 0.1)`` (R's ``glm.control`` rule) or the parameters by
    less than ``tolerance`` relative.

    The covariance is ``phi (X' W X)^-1`` at the solution, where
    ``phi = max(1, sum((y - mu)^2 / mu) / (m - 2))`` (Pearson; McCullagh and Nelder 1989,
    section 4.5.2) and ``m`` is the number of points.

    Parameters
    ----------
    events : counts per period (may be non-integer, e.g. from a published rate).
    denominators : exposure per period (> 0).
    times : period index of each point (at least two distinct values).

    Raises
    ------
    ValueError
        On mismatched lengths, missing values, negative events, denominators <= 0, fewer
        than two distinct times, no events at all, or when IRLS does not converge (for
        example when every event falls in one period).
    """
    y, n, t = (as_float_array(v).ravel() for v in (events, denominators, times))
    if not y.size == n.size == t.size:
        raise ValueError(f"events, denominators and times must have the same length, got "
                         f"{y.size}, {n.size} and {t.size}")
    if not (np.isfinite(y).all() and np.isfinite(n).all() and np.isfinite(t).all()):
        raise ValueError("events, denominators and times must be finite (drop suppressed "
                         "points before fitting)")
    if np.any(y < 0):
        raise ValueError(f"events must be >= 0; got {float(y[y < 0][0])!r}")
    if np.any(n <= 0):
        raise ValueError(f"denominators must be > 0; got {float(n[n <= 0][0])!r}")
    if np.unique(t).size < 2:
        raise ValueError("a trend needs points at two or more distinct times")
    if y.sum() == 0:
        raise ValueError("no events in any period: a log-linear trend cannot be fitted")
    x = np.column_stack((np.ones_like(t), t))
    offset = np.log(n)
    mu = y + 0.1
    eta = np.log(mu)
    previous, beta_before = math.inf, np.full(2, np.inf)
    iterations = 0
    while True:
        iterations += 1
        working = eta - offset + (y - mu) / mu
        weighted = x.T * mu
        beta = np.linalg.solve(weighted @ x, weighted @ working)
        eta = x @ beta + offset
        mu = np.exp(eta)
        deviance = _deviance(y, mu)
        # With very large counts the deviance carries rounding noise near zero: also stop
        # once the parameters themselves no longer move.
        if abs(deviance - previous) < tolerance * (abs(deviance) + 0.1) or \
                np.all(np.abs(beta - beta_before) <= tolerance * (np.abs(beta) + 1e-3)):
            break
        if iterations == max_iterations:
            raise ValueError(f"the trend did not converge in {max_iterations} iterations "
                             "(are the events all in one period?)")
        previous, beta_before = deviance, beta
    pearson = float(np.sum((y - mu) ** 2 / mu))
    df = y.size - 2
    dispersion = max(1.0, pearson / df) if df > 0 else 1.0
    covariance = dispersion * np.linalg.inv((x.T * mu) @ x)
    return LogLinearFit(float(beta[0]), float(beta[1]), covariance, dispersion, pearson,
                        int(y.size), iterations)


def project(
    fit: LogLinearFit,
    *,
    times: ArrayLike,
    denominator: float,
    multiplier: float = 1.0,
    confidence: float = 0.95,
    upper_bound: float | None = None,
) -> dict[str, np.ndarray]:
    """The fitted rate at future ``times`` with a confidence and a prediction interval.

    With ``eta = a + b t``, ``v = x' C x`` (parameter uncertainty, already scaled by
    ``phi``) and the expected count ``mu = denominator * exp(eta)`` at the assumed
    ``denominator``::

        value            = exp(eta) * multiplier
        fit interval     = exp(eta -/+ z sqrt(v)) * multiplier              (the line)
        prediction band  = exp(eta -/+ z sqrt(v + phi / mu)) * multiplier   (a new period)

    ``phi / mu`` is the delta-method variance of ``log(Y)`` for a count ``Y`` with mean
    ``mu`` and variance ``phi mu``: the over-dispersed sampling variation of one future
    period, independent of the parameters' error. ``upper_bound`` caps every output (100
    for a percentage).

    Returns
    -------
    dict with arrays ``value, fit_lower, fit_upper, lower, upper``.
    """
    if not denominator > 0:
        raise ValueError(f"denominator must be > 0; got {denominator!r}")
    t = as_float_array(times).ravel()
    eta = fit.log_rate(t)
    v = fit.log_rate_variance(t)
    mu = denominator * np.exp(eta)
    z = z_value(confidence)
    out = {
        "value": np.exp(eta),
        "fit_lower": np.exp(eta - z * np.sqrt(v)), "fit_upper": np.exp(eta + z * np.sqrt(v)),
        "lower": np.exp(eta - z * np.sqrt(v + fit.dispersion / mu)),
        "upper": np.exp(eta + z * np.sqrt(v + fit.dispersion / mu)),
    }
    return {k: np.minimum(a * multiplier, upper_bound) if upper_bound is not None
            else a * multiplier for k, a in out.items()}


def _order_statistics(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Lower and upper simulation limits at 1-based positions ``round(reps (1 - cv))`` and
    ``round(reps cv)``, ``cv = conf + (1 - conf) / 2`` (as ``phe_sii``); no interpolation,
    so draws that never close (infinite) stay infinite."""
    ordered = np.sort(values)
    cv = confidence + (1 - confidence) / 2
    lo = max(round(ordered.size * (1 - cv)), 1) - 1
    hi = max(round(ordered.size * cv), 1) - 1
    return float(ordered[lo]), float(ordered[hi])


def gap_closing(
    *,
    group: LogLinearFit,
    reference: LogLinearFit,
    now: float,
    start: float = 0.0,
    periods_per_year: float,
    within_years: float = WITHIN_YEARS,
    confidence: float = 0.95,
    draws: int = DRAWS,
    seed: int = SEED,
) -> dict:
    """When the fitted trends of ``group`` and ``reference`` would cross, at this pace.

    The gap is measured as the rate ratio. Under the two log-linear fits its log is a
    straight line, ``d(t) = (a_g - a_r) + (b_g - b_r) t``, so the fitted rates meet once,
    after ``-d(now) / (b_g - b_r)`` periods (the rate difference is zero at the same
    moment, so the choice of ratio only matters for the intervals).

    Status, in this order of checks:

    * ``already_closed`` / ``no_gap``: the fitted ratio at ``now`` has a 95% CI including 1;
    * ``already_closed`` / ``reversed``: the lines crossed between ``start`` and ``now`` and
      the ratio is now significantly on the other side of 1;
    * ``not_closing`` / ``parallel``: the CI of ``b_g - b_r`` includes 0;
    * ``not_closing`` / ``diverging``: ``b_g - b_r`` moves ``d`` away from 0;
    * ``not_closing`` / ``too_slow``: the lines would cross later than ``within_years``,
      or in more than half of the simulated draws they do not cross within it;
    * ``closing`` otherwise.

    Uncertainty: ``draws`` parameter pairs from independent normal distributions
    ``N(beta_g, C_g)`` and ``N(beta_r, C_r)`` (NumPy ``default_rng(seed)``); for each, the
    periods until the lines cross (0 if they already have, infinite if they diverge or
    cross later than ``within_years``); the interval is the 2.5th to 97.5th percentile
    (order statistics as ``phe_sii``). An infinite upper limit reads "not within
    ``within_years`` years".

    Returns
    -------
    dict with ``status, why, ratio_now`` and its ``_lower95/_upper95``,
    ``ratio_change_per_year`` (factor per year) and its limits, ``periods`` (until the
    crossing; negative when it is in the past), ``periods_lower, periods_upper``,
    ``years, years_lower, years_upper``, ``not_closing_share`` (of the draws) and
    ``within_years``. Fields that do not apply are None.
    """
    if periods_per_year <= 0 or within_years <= 0 or draws < 100:
        raise ValueError("periods_per_year and within_years must be > 0 and draws >= 100")
    z = z_value(confidence)
    diff = group.parameters - reference.parameters
    cov = group.covariance + reference.covariance
    here = np.array([1.0, now])
    d_now = float(diff @ here)
    se_now = math.sqrt(float(here @ cov @ here))
    db, se_db = float(diff[1]), math.sqrt(float(cov[1, 1]))
    per_year = math.exp(db * periods_per_year)
    half = z * se_db * periods_per_year
    out = {
        "ratio_now": math.exp(d_now), "ratio_now_lower95": math.exp(d_now - z * se_now),
        "ratio_now_upper95": math.exp(d_now + z * se_now),
        "ratio_change_per_year": per_year,
        "ratio_change_per_year_lower95": per_year * math.exp(-half),
        "ratio_change_per_year_upper95": per_year * math.exp(half),
        "periods": None, "periods_lower": None, "periods_upper": None,
        "years": None, "years_lower": None, "years_upper": None,
        "not_closing_share": None, "within_years": within_years,
    }
    crossing = -d_now / db if db != 0 else math.inf  # periods from now (negative: the past)
    if abs(d_now) <= z * se_now:
        return out | {"status": CLOSED, "why": NO_GAP}
    if start - now <= crossing <= 0:
        return out | {"status": CLOSED, "why": REVERSED, "periods": crossing,
                      "years": crossing / periods_per_year}
    if abs(db) <= z * se_db:
        return out | {"status": NOT_CLOSING, "why": PARALLEL}
    if crossing < 0:
        return out | {"status": NOT_CLOSING, "why": DIVERGING}
    within = within_years * periods_per_year
    rng = np.random.default_rng(seed)
    g = rng.multivariate_normal(group.parameters, group.covariance, size=draws)
    r = rng.multivariate_normal(reference.parameters, reference.covariance, size=draws)
    sign = math.copysign(1.0, d_now)
    gap = sign * ((g[:, 0] - r[:, 0]) + (g[:, 1] - r[:, 1]) * now)  # > 0: still open
    shrink = -sign * (g[:, 1] - r[:, 1])  # > 0: closing
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(gap <= 0, 0.0, np.where(shrink > 0, gap / shrink, np.inf))
    steps = np.where(steps > within, np.inf, steps)
    lower, upper = _order_statistics(steps, confidence)
    share = float(np.mean(np.isinf(steps)))
    out |= {"periods": crossing, "periods_lower": lower, "periods_upper": upper,
            "years": crossing / periods_per_year, "years_lower": lower / periods_per_year,
            "years_upper": upper / periods_per_year, "not_closing_share": share}
    if crossing > within or share > 0.5:
        return out | {"status": NOT_CLOSING, "why": TOO_SLOW}
    return out | {"status": CLOSING, "why": None}


# -- series frames ---------------------------------------------------------------------------


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_end(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _timeline(points: pl.DataFrame) -> tuple[dict[date, float], int, str | None]:
    """Period index of each period end, months per period, and why no trend can be fitted
    on these periods (None when one can)."""
    periods = points.select("period_start", "period_end").unique().sort("period_end",
                                                                        "period_start")
    ends = [_month(d) for d in periods["period_end"]]
    if len(ends) < 2:
        return {}, 0, "only one period is published"
    starts = [_month(d) for d in periods["period_start"]]
    if any(s <= e for s, e in zip(starts[1:], ends[:-1], strict=True)):
        return {}, 0, ("the periods overlap (rolling figures share months with their "
                       "neighbours), so successive points are not independent and a trend "
                       "fitted to them would look more certain than it is")
    step = int(np.min(np.diff(ends)))
    return {d: (m - ends[0]) / step for d, m in zip(periods["period_end"], ends,
                                                      strict=True)}, step, None


def _unavailable(reason: str, points: int, suppressed: int) -> dict:
    return {"available": False, "reason": reason, "points": points, "suppressed": suppressed}


def projection(
    points: pl.DataFrame,
    *,
    metric: Metric,
    dimension: str,
    horizon: int = HORIZON,
    min_points: int = MIN_POINTS,
    max_suppressed_share: float = MAX_SUPPRESSED_SHARE,
    within_years: float = WITHIN_YEARS,
    confidence: float = 0.95,
    draws: int = DRAWS,
    seed: int = SEED,
) -> tuple[pl.DataFrame, dict[str, dict], dict[str, dict]]:
    """Project each group's series ``horizon`` periods ahead and say when each group's gap
    to the dimension's reference group would close.

    Parameters
    ----------
    points : a trend frame (``metrics.trend.trend``): ``group, group_order, period_start,
        period_end, denominator, suppressed, value`` (display units). Points without a
        value (suppressed or not published) are dropped from the fit and counted.
    metric : registry entry (multiplier; shares are capped at 100%).
    dimension : the breakdown, for its reference group (none for the total).
    horizon : periods to project (>= 1).
    min_points : fewer published points than this: no projection, with the reason.
    max_suppressed_share : more of the group's periods suppressed than this: no
        projection (suppression hides the low counts, so the remaining points would bias
        the trend upwards).

    Returns
    -------
    ``(projected, fits, gaps)``. ``projected`` has :data:`PROJECTION_COLUMNS`, one row per
    group and step ahead (1..horizon): the fitted value, the prediction interval
    (``lower95, upper95``), the line's interval (``fit_lower95, fit_upper95``), the
    projected ``period_end`` and the assumed ``denominator`` (mean of the last 3 used in
    the fit). ``fits`` maps each group to ``available`` and either ``reason`` or the fit
    (``slope`` per period and its 95% CI, ``change_per_year`` factor and CI,
    ``dispersion``, ``points`` used, ``suppressed`` dropped, ``periods_per_year``).
    ``gaps`` maps each known non-reference group to :func:`gap_closing`'s result plus the
    crossing's ``crossing_end`` (and ``_lower``/``_upper``) period-end dates, or to
    ``{"status": "unavailable", "reason": ...}``.
    """
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of periods >= 1, got {horizon!r}")
    if min_points < 3:
        raise ValueError(f"min_points must be >= 3 (two parameters and a dispersion), "
                         f"got {min_points!r}")
    empty = pl.DataFrame(schema={"group": pl.String, "group_order": pl.Int16,
                                 "step": pl.Int32, "period_end": pl.Date,
                                 "denominator": pl.Float64, "value": pl.Float64,
                                 "lower95": pl.Float64, "upper95": pl.Float64,
                                 "fit_lower95": pl.Float64, "fit_upper95": pl.Float64})
    if points.is_empty():
        return empty, {}, {}
    times, step, why_not = _timeline(points)
    per_year = 12 / step if step else 0.0
    last_end = points["period_end"].max()
    cap = float(metric.multiplier) if metric.statistic == PROPORTION else None
    rows, fits, models = [], {}, {}
    for (group,), part in points.sort("period_end").group_by(["group"], maintain_order=True):
        shown = part.filter(pl.col("value").is_not_null() & (pl.col("denominator") > 0))
        suppressed = part.filter(pl.col("suppressed") & pl.col("value").is_null()).height
        if why_not:
            fits[group] = _unavailable(why_not, shown.height, suppressed)
            continue
        if shown.height < min_points:
            fits[group] = _unavailable(
                f"only {shown.height} published points ({suppressed} suppressed); a "
                f"projection needs at least {min_points}", shown.height, suppressed)
            continue
        if suppressed > max_suppressed_share * part.height:
            fits[group] = _unavailable(
                f"{suppressed} of {part.height} periods are suppressed; they are the periods "
                "with fewest events, so a trend through the others would be biased upwards",
                shown.height, suppressed)
            continue
        den = shown["denominator"].cast(pl.Float64).to_numpy()
        events = shown["value"].to_numpy() * den / metric.multiplier
        t = np.array([times[d] for d in shown["period_end"]])
        try:
            fit = fit_log_linear(events=events, denominators=den, times=t)
        except ValueError as error:
            fits[group] = _unavailable(str(error), shown.height, suppressed)
            continue
        models[group] = fit
        assumed = float(den[-ASSUMED_DENOMINATOR_POINTS:].mean())
        now = times[last_end]
        ahead = project(fit, times=now + np.arange(1, horizon + 1), denominator=assumed,
                        multiplier=metric.multiplier, confidence=confidence, upper_bound=cap)
        lo, hi = fit.slope_ci(confidence)
        fits[group] = {
            "available": True, "points": shown.height, "suppressed": suppressed,
            "slope": fit.slope, "slope_lower95": lo, "slope_upper95": hi,
            "change_per_year": math.exp(fit.slope * per_year),
            "change_per_year_lower95": math.exp(lo * per_year),
            "change_per_year_upper95": math.exp(hi * per_year),
            "dispersion": fit.dispersion, "periods_per_year": per_year,
            "assumed_denominator": assumed,
        }
        for h in range(horizon):
            rows.append({"group": group, "group_order": part["group_order"][0], "step": h + 1,
                         "period_end": _month_end(_month(last_end) + (h + 1) * step),
                         "denominator": assumed, "value": ahead["value"][h],
                         "lower95": ahead["lower"][h], "upper95": ahead["upper"][h],
                         "fit_lower95": ahead["fit_lower"][h],
                         "fit_upper95": ahead["fit_upper"][h]})
    projected = pl.DataFrame(rows, schema=empty.schema) if rows else empty
    gaps = _gaps(models, fits, dimension=dimension, now=times.get(last_end, 0.0),
                 per_year=per_year, step=step, last_end=last_end, within_years=within_years,
                 confidence=confidence, draws=draws, seed=seed)
    return projected, fits, gaps


def _gaps(models: dict[str, LogLinearFit], fits: dict[str, dict], *, dimension: str,
          now: float, per_year: float, step: int, last_end: date, within_years: float,
          confidence: float, draws: int, seed: int) -> dict[str, dict]:
    reference = DIMENSIONS[dimension].reference
    if reference is None or reference not in fits:
        return {}
    out = {}
    for group in DIMENSIONS[dimension].groups:
        if group == reference or group not in fits:
            continue
        if reference not in models or group not in models:
            missing = group if group not in models else reference
            out[group] = {"status": UNAVAILABLE, "reason": f"no trend for {missing}: "
                          f"{fits[missing]['reason']}"}
            continue
        result = gap_closing(group=models[group], reference=models[reference], now=now,
                             periods_per_year=per_year, within_years=within_years,
                             confidence=confidence, draws=draws, seed=seed)

        def end_of(periods: float | None) -> date | None:
            if periods is None or math.isinf(periods):
                return None
            return _month_end(_month(last_end) + math.ceil(periods) * step)

        out[group] = result | {"crossing_end": end_of(result["periods"]),
                               "crossing_end_lower": end_of(result["periods_lower"]),
                               "crossing_end_upper": end_of(result["periods_upper"])}
    return out
