"""Confidence intervals for proportions, rates, and their ratios and differences.

Single-group intervals follow PHEindicatormethods v2.1.0 (``phe_proportion``, ``phe_rate``,
``wilson_lower/upper``, ``byars_lower/upper``) exactly. Two-group ratios and differences are
standard formulas that the PHE packages do not provide (METHODS.md section 1.3).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from metrics._arrays import (
    ArrayLike,
    Result,
    broadcast,
    check_non_negative,
    check_not_above,
    finish,
    normalise_confidence,
    where_valid,
    z_value,
)

EXACT_BELOW = 10  # phe_rate: exact Poisson for counts < 10, Byar's from 10


# --- Wilson score ---------------------------------------------------------------------------


def wilson_limits(x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits on validated float arrays (shared by funnels and comparisons)."""
    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    if confidence == 1:
        return np.where(valid, 0.0, np.nan), np.where(valid, 1.0, np.nan)
    z = z_value(confidence)

    def limit(sign: float) -> np.ndarray:
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        return (2 * x + z**2 + sign * spread) / 2 / (n + z**2)

    # The formula is 0 at x = 0 and 1 at x = n up to float noise: pin the edges exactly.
    lower = where_valid(valid, lambda: np.where(x == 0, 0.0, limit(-1.0)))
    upper = where_valid(valid, lambda: np.where(x == n, 1.0, limit(+1.0)))
    return np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)


def _proportion_inputs(
    *pairs: tuple[ArrayLike, ArrayLike, str, str],
) -> tuple[list[np.ndarray], bool]:
    """Broadcast (x, n) pairs and check ``0 <= x <= n`` for each."""
    arrays, is_scalar = broadcast(*(v for x, n, _, _ in pairs for v in (x, n)))
    for (_, _, x_name, n_name), xa, na in zip(pairs, arrays[::2], arrays[1::2], strict=True):
        check_non_negative(xa, x_name)
        check_non_negative(na, n_name)
        check_not_above(xa, na, x_name, n_name)
    return arrays, is_scalar


def wilson_ci(
    numerator: ArrayLike,
    denominator: ArrayLike,
    confidence: float = 0.95,
    *,
    multiplier: float = 1.0,
) -> tuple[Result, Result]:
    """Wilson score confidence interval for a proportion, without continuity correction.

    ``lower, upper = (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))``, with
    ``z = qnorm(conf + (1 - conf)/2)``; ``confidence == 1`` gives (0, 1).

    Parameters
    ----------
    numerator, denominator : scalar or array-like
        Cases ``x`` and sample size ``n`` (``0 <= x <= n``; non-integer ``x`` allowed).
    confidence : float, default 0.95
        In (0, 1], or a percentage from 90 to 100.
    multiplier : float, default 1
        Scale of the returned limits (100 for percentages).

    Returns
    -------
    (lower, upper)
        Floats for scalar input, else arrays. NaN where an input is missing or ``n == 0``.

    Raises
    ------
    ValueError
        Negative counts, ``x > n`` or an invalid confidence level.

    References
    ----------
    Wilson EB (1927) JASA 22:209-212; Newcombe RG, Altman DG (2000) in *Statistics with
    confidence*, pp 46-48. PHEindicatormethods ``phe_proportion`` / ``wilson_lower``.
    """
    (x, n), is_scalar = _proportion_inputs((numerator, denominator, "numerator", "denominator"))
    lower, upper = wilson_limits(x, n, normalise_confidence(confidence))
    return finish(lower * multiplier, is_scalar), finish(upper * multiplier, is_scalar)


# --- Poisson counts and crude rates ---------------------------------------------------------


def _byars(x: np.ndarray, confidence: float, side: str) -> np.ndarray:
    z = z_value(confidence)
    if side == "lower":
        out = where_valid(np.isfinite(x), lambda: x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3)
        return np.where(out < 0, np.nan, out)
    x1 = x + 1
    return where_valid(np.isfinite(x), lambda: x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3)


def byars_lower(count: ArrayLike, confidence: float = 0.95) -> Result:
    """Byar's lower confidence limit for a Poisson count (no exact switch).

    ``lower = x (1 - 1/(9x) - z/(3 sqrt(x)))^3``; negative results (tiny counts at high
    confidence, e.g. ``x = 1`` at 99.8%) and ``x = 0`` are returned as NaN, as PHE does.

    References
    ----------
    Breslow NE, Day NE (1987) *Statistical methods in cancer research* vol II.
    PHEindicatormethods ``byars_lower``.
    """
    (x,), is_scalar = broadcast(count)
    check_non_negative(x, "count")
    return finish(_byars(x, normalise_confidence(confidence), "lower"), is_scalar)


def byars_upper(count: ArrayLike, confidence: float = 0.95) -> Result:
    """Byar's upper confidence limit for a Poisson count (no exact switch).

    ``upper = (x+1) (1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3``.

    References
    ----------
    Breslow NE, Day NE (1987). PHEindicatormethods ``byars_upper``.
    """
    (x,), is_scalar = broadcast(count)
    check_non_negative(x, "count")
    return finish(_byars(x, normalise_confidence(confidence), "upper"), is_scalar)


def _exact_poisson(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    # qchisq(a, 2x) / 2 == gammaincinv(x, a); the lower limit for x = 0 is 0 by definition.
    alpha = 1 - confidence
    valid = np.isfinite(x)
    lower = where_valid(valid, lambda: special.gammaincinv(np.where(x > 0, x, 1), alpha / 2))
    lower = np.where(x == 0, 0.0, lower)
    upper = where_valid(valid, lambda: special.gammaincinv(x + 1, 1 - alpha / 2))
    return lower, upper


def exact_poisson_ci(count: ArrayLike, confidence: float = 0.95) -> tuple[Result, Result]:
    """Exact (chi-square) confidence interval for a Poisson count.

    ``lower = qchisq((1-conf)/2, 2x) / 2`` (0 when ``x = 0``),
    ``upper = qchisq(conf + (1-conf)/2, 2x + 2) / 2``.

    References
    ----------
    PHEindicatormethods ``phe_rate`` (method "Exact").
    """
    (x,), is_scalar = broadcast(count)
    check_non_negative(x, "count")
    lower, upper = _exact_poisson(x, normalise_confidence(confidence))
    return finish(lower, is_scalar), finish(upper, is_scalar)


def poisson_limits(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """PHE count limits on validated arrays: exact below 10 events, Byar's from 10."""
    exact_lower, exact_upper = _exact_poisson(x, confidence)
    exact = x < EXACT_BELOW
    lower = np.where(exact, exact_lower, _byars(x, confidence, "lower"))
    upper = np.where(exact, exact_upper, _byars(x, confidence, "upper"))
    return lower, upper


def rate_ci(
    count: ArrayLike,
    denominator: ArrayLike,
    confidence: float = 0.95,
    multiplier: float = 1000,
) -> tuple[Result, Result]:
    """Confidence interval for a crude rate, exactly as ``phe_rate``.

    Counts below 10 use the exact chi-square limits, counts of 10 or more Byar's
    approximation; both are divided by the denominator and scaled by ``multiplier``.
    Counts above the denominator are allowed (rates are not proportions).

    Parameters
    ----------
    count, denominator : scalar or array-like
        Events (``>= 0``) and population or births (``> 0``; 0 gives NaN).
    confidence : float, default 0.95
    multiplier : float, default 1000
        E.g. 1000 for "per 1,000 births"; PHE's own default is 100,000.

    Returns
    -------
    (lower, upper)

    References
    ----------
    PHEindicatormethods ``phe_rate``; PHE Technical Guide (2018): Byar's is within 0.2% of
    exact for counts of 10 or more at 95%.
    """
    (x, n), is_scalar = broadcast(count, denominator)
    check_non_negative(x, "count")
    check_non_negative(n, "denominator")
    lower, upper = poisson_limits(x, normalise_confidence(confidence))
    valid = n > 0
    lower = where_valid(valid, lambda: lower / n * multiplier)
    upper = where_valid(valid, lambda: upper / n * multiplier)
    return finish(lower, is_scalar), finish(upper, is_scalar)


# --- Two-group ratios and differences [derived] ----------------------------------------------


def _log_ratio_ci(
    ratio: np.ndarray, se: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    z = z_value(confidence)
    valid = np.isfinite(se) & np.isfinite(ratio)
    return (
        where_valid(valid, lambda: ratio * np.exp(-z * se)),
        where_valid(valid, lambda: ratio * np.exp(z * se)),
    )


def rate_ratio_ci(
    num1: ArrayLike,
    den1: ArrayLike,
    num2: ArrayLike,
    den2: ArrayLike,
    confidence: float = 0.95,
) -> tuple[Result, Result, Result]:
    """Ratio of two Poisson rates with a log-method confidence interval.

    ``RR = (O1/N1) / (O2/N2)``, ``SE(ln RR) = sqrt(1/O1 + 1/O2)``,
    ``CI = RR exp(-/+ z SE)``.

    Returns
    -------
    (ratio, lower, upper)
        The limits are NaN when either count is 0 (the log method is undefined); the
        ratio is NaN when the reference rate is 0. Prefer counts of 10 or more.

    References
    ----------
    Breslow NE, Day NE (1987) vol II; METHODS.md 1.3 [derived].
    """
    (o1, n1, o2, n2), is_scalar = broadcast(num1, den1, num2, den2)
    for values, name in ((o1, "num1"), (n1, "den1"), (o2, "num2"), (n2, "den2")):
        check_non_negative(values, name)
    ratio = where_valid((n1 > 0) & (n2 > 0) & (o2 > 0), lambda: (o1 / n1) / (o2 / n2))
    se = where_valid((o1 > 0) & (o2 > 0), lambda: np.sqrt(1 / o1 + 1 / o2))
    lower, upper = _log_ratio_ci(ratio, se, normalise_confidence(confidence))
    return finish(ratio, is_scalar), finish(lower, is_scalar), finish(upper, is_scalar)


def risk_ratio_ci(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    confidence: float = 0.95,
) -> tuple[Result, Result, Result]:
    """Ratio of two proportions with the Katz log confidence interval.

    ``RR = (x1/n1) / (x2/n2)``, ``SE(ln RR) = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)``.

    Returns
    -------
    (ratio, lower, upper)
        Limits are NaN when either ``x`` is 0; the ratio is NaN when ``x2`` is 0.

    References
    ----------
    Katz D et al. (1978) Biometrics 34:469-474; METHODS.md 1.3 [derived].
    """
    (xa1, na1, xa2, na2), is_scalar = _proportion_inputs((x1, n1, "x1", "n1"), (x2, n2, "x2", "n2"))
    ratio = where_valid((na1 > 0) & (na2 > 0) & (xa2 > 0), lambda: (xa1 / na1) / (xa2 / na2))
    se = where_valid((xa1 > 0) & (xa2 > 0), lambda: np.sqrt(1 / xa1 - 1 / na1 + 1 / xa2 - 1 / na2))
    lower, upper = _log_ratio_ci(ratio, se, normalise_confidence(confidence))
    return finish(ratio, is_scalar), finish(lower, is_scalar), finish(upper, is_scalar)


def rate_difference_ci(
    num1: ArrayLike,
    den1: ArrayLike,
    num2: ArrayLike,
    den2: ArrayLike,
    confidence: float = 0.95,
    multiplier: float = 1000,
) -> tuple[Result, Result, Result]:
    """Difference of two Poisson rates with a Wald confidence interval.

    ``RD = O1/N1 - O2/N2``, ``SE = sqrt(O1/N1^2 + O2/N2^2)``, ``CI = RD -/+ z SE``, all
    scaled by ``multiplier``.

    Returns
    -------
    (difference, lower, upper)

    References
    ----------
    METHODS.md 1.3 [derived]; statsmodels ``confint_poisson_2indep(compare='diff',
    method='wald')`` uses the same formula.
    """
    (o1, n1, o2, n2), is_scalar = broadcast(num1, den1, num2, den2)
    for values, name in ((o1, "num1"), (n1, "den1"), (o2, "num2"), (n2, "den2")):
        check_non_negative(values, name)
    z = z_value(confidence)
    valid = (n1 > 0) & (n2 > 0)
    diff = where_valid(valid, lambda: (o1 / n1 - o2 / n2) * multiplier)
    half = where_valid(valid, lambda: z * np.sqrt(o1 / n1**2 + o2 / n2**2) * multiplier)
    return (
        finish(diff, is_scalar),
        finish(diff - half, is_scalar),
        finish(diff + half, is_scalar),
    )


def proportion_difference_ci(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    confidence: float = 0.95,
    *,
    multiplier: float = 1.0,
) -> tuple[Result, Result, Result]:
    """Difference of two proportions with Newcombe's hybrid score interval.

    With Wilson limits ``(l_i, u_i)`` for each proportion ``p_i``:
    ``D = p1 - p2``, ``L = D - sqrt((p1-l1)^2 + (u2-p2)^2)``,
    ``U = D + sqrt((u1-p1)^2 + (p2-l2)^2)``.

    Returns
    -------
    (difference, lower, upper)
        As proportions, times ``multiplier`` (100 for percentage points).

    References
    ----------
    Newcombe RG (1998) Stat Med 17:873-890, method 10; METHODS.md 1.3 [derived].
    """
    (xa1, na1, xa2, na2), is_scalar = _proportion_inputs((x1, n1, "x1", "n1"), (x2, n2, "x2", "n2"))
    level = normalise_confidence(confidence)
    l1, u1 = wilson_limits(xa1, na1, level)
    l2, u2 = wilson_limits(xa2, na2, level)
    p1 = where_valid(na1 > 0, lambda: xa1 / na1)
    p2 = where_valid(na2 > 0, lambda: xa2 / na2)
    diff = p1 - p2
    lower = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (
        finish(diff * multiplier, is_scalar),
        finish(lower * multiplier, is_scalar),
        finish(upper * multiplier, is_scalar),
    )
