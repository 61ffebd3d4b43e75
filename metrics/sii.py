"""Slope and Relative Index of Inequality, as PHEindicatormethods v2.1.0 ``phe_sii``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl
from scipy import special

from metrics._arrays import check_one_of, normalise_confidence

logger = logging.getLogger(__name__)

VALUE_TYPES = ("other", "rate", "proportion")
MIN_QUANTILES, MAX_QUANTILES = 5, 100
MIN_REPS = 1000
_Z95 = float(special.ndtri(0.975))  # input CLs are always taken as 95% limits

Transform = Callable[[np.ndarray], np.ndarray]
_TRANSFORMS: dict[str, tuple[Transform, Transform]] = {
    "other": (lambda y: y, lambda t: t),
    "rate": (np.log, np.exp),
    "proportion": (special.logit, special.expit),
}


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise ValueError(f"column {name!r} not found in frame (columns: {frame.columns})")
    return frame.get_column(name).cast(pl.Float64).to_numpy().astype(np.float64)


def _levels(confidence: float | Sequence[float]) -> list[float]:
    levels = [confidence] if np.ndim(confidence) == 0 else list(confidence)  # type: ignore[arg-type]
    if not levels:
        raise ValueError("confidence needs at least one level")
    return [normalise_confidence(level) for level in levels]


def _suffix(level: float) -> str:
    # PHE names multi-level columns e.g. sii_lower95_0cl; here sii_lower95_0, sii_lower99_8.
    return f"{level * 100:.1f}".replace(".", "_")


def _validate(
    quantiles: pl.Series, population: np.ndarray, value: np.ndarray, value_type: str
) -> None:
    k = len(quantiles)
    if quantiles.n_unique() != k or quantiles.null_count():
        raise ValueError("quantile labels must be unique and non-missing (one row per quantile)")
    if not MIN_QUANTILES <= k <= MAX_QUANTILES:
        raise ValueError(f"SII needs {MIN_QUANTILES} to {MAX_QUANTILES} quantiles, got {k}")
    if k > 10:
        logger.warning("SII with %d quantiles: small groups can make it unstable", k)
    if not np.all(population > 0):
        raise ValueError("every quantile needs a population > 0 (missing, zero or negative found)")
    finite = value[np.isfinite(value)]
    if value_type == "rate" and np.any(finite <= 0):
        raise ValueError("rates must be > 0 for value_type='rate' (log scale)")
    if value_type == "proportion" and np.any((finite <= 0) | (finite >= 1)):
        raise ValueError("values must be proportions strictly between 0 and 1")


def _design(population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``sqrt(a)`` and design matrix ``[sqrt(a), b sqrt(a)]`` (relative rank ``b``)."""
    a = population / population.sum()
    b = np.cumsum(a) - a / 2  # cumulative population midpoint (FindXValues)
    sqrt_a = np.sqrt(a)
    return sqrt_a, np.column_stack([sqrt_a, b * sqrt_a])


def _simulate(
    centre: np.ndarray,
    se: np.ndarray,
    sqrt_a: np.ndarray,
    design: np.ndarray,
    back: Transform | None,
    reps: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Refit the regression on ``reps`` normal draws; return (intercepts, slopes)."""
    projector = np.linalg.solve(design.T @ design, design.T)  # (X'X)^-1 X'
    chunk = max(1, 2_000_000 // len(centre))
    fits = []
    for start in range(0, reps, chunk):
        size = min(chunk, reps - start)
        draws = centre[:, None] + se[:, None] * rng.standard_normal((len(centre), size))
        if back is not None:
            draws = back(draws)
        fits.append(projector @ (sqrt_a[:, None] * draws))
    coef = np.concatenate(fits, axis=1)
    return coef[0], coef[1]


def _order_stats(values: np.ndarray, level: float) -> tuple[float, float]:
    """Sorted draws at 1-based positions round(reps (1-cv)) and round(reps cv) (R rounding)."""
    reps = len(values)
    cv = level + (1 - level) / 2
    ordered = np.sort(values)
    low = int(np.round(reps * (1 - cv)))
    high = int(np.round(reps * cv))
    return float(ordered[max(low, 1) - 1]), float(ordered[max(high, 1) - 1])


def sii(
    frame: pl.DataFrame,
    *,
    quantile: str,
    population: str,
    value: str,
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    value_type: str = "other",
    transform: bool = False,
    multiplier: float = 1,
    confidence: float | Sequence[float] = 0.95,
    reps: int = 100_000,
    seed: int | np.random.Generator | None = None,
    intercept: bool = False,
) -> pl.DataFrame:
    """Slope Index of Inequality (SII) and Relative Index of Inequality (RII), as ``phe_sii``.

    Rows are sorted by ``quantile``; quantile 1 (the first label) must be the most
    deprived. With population shares ``a_i`` and relative ranks
    ``b_i = sum_{j<i} a_j + a_i/2``, fit ``sqrt(a) t = b0 sqrt(a) + b1 b sqrt(a)`` by least
    squares without intercept, where ``t = y`` (``transform=False``) or ``f(y)``
    (``transform=True``; ``f`` = log for rates, logit for proportions).

    * ``transform=False``: ``SII = multiplier b1``, ``RII = (b0 + b1)/b0``.
    * ``transform=True``: ``y0 = f^-1(b0)``, ``y1 = f^-1(b0 + b1)``,
      ``SII = (y1 - y0) multiplier``, ``RII = y1/y0``.

    RII is inverted when ``multiplier < 0``. Standard errors: ``se`` as given (on the
    log/logit scale for rates/proportions), else ``(f(upper) - f(lower)) / (2 x 1.959964)``
    from 95% limits whatever ``confidence`` is.

    Confidence limits by simulation: ``reps`` draws ``Y*_i ~ N(f(y_i), se_i)``,
    back-transformed unless ``transform=True``, refitted; the limits are the sorted
    simulated values at positions ``round(reps (1-cv))`` and ``round(reps cv)`` with
    ``cv = conf + (1-conf)/2``. With ``transform=True`` the simulated slope quantiles
    ``s`` are mapped back around the fitted midpoint ``xh = b0 + b1/2``:
    ``SII = f^-1(xh + s/2) - f^-1(xh - s/2)``, ``RII = f^-1(xh + s/2) / f^-1(xh - s/2)``.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per quantile.
    quantile, population, value : str
        Column names: quantile label (sortable), population (> 0) and indicator value.
    lower, upper : str, optional
        Columns with the value's 95% confidence limits (used when ``se`` is not given).
    se : str, optional
        Column with standard errors (on the transformed scale for rates/proportions).
    value_type : {"other", "rate", "proportion"}
    transform : bool, default False
        Fit on the log/logit scale (rates/proportions only; needs ``lower``/``upper``).
    multiplier : float, default 1
        Scale of the SII (e.g. 100 for percentage points, -1 to reverse polarity).
    confidence : float or sequence of float, default 0.95
        One level, or several (e.g. ``(0.95, 0.998)``).
    reps : int, default 100,000
        Simulation draws (minimum 1,000).
    seed : int or numpy.random.Generator, optional
        Seed for ``numpy.random.default_rng``, for reproducible limits.
    intercept : bool, default False
        Also return the fitted value at the most deprived end (``b0``; ``y0 |multiplier|``
        when transformed).

    Returns
    -------
    polars.DataFrame
        One row. For a single level: ``sii, sii_lower, sii_upper, rii, rii_lower,
        rii_upper`` (+ ``intercept``). For several levels the limits are suffixed with the
        level in percent, one decimal, dot as underscore: ``sii, sii_lower95_0,
        sii_upper95_0, sii_lower99_8, sii_upper99_8, rii, rii_lower95_0, ...``.
        All values are NaN if any quantile's value or standard error is missing.

    Raises
    ------
    ValueError
        Fewer than 5 or more than 100 quantiles, duplicated labels, populations not > 0,
        negative standard errors, neither ``se`` nor both limits given, ``transform`` for
        "other" or with ``se``, values outside the transform's domain, ``reps < 1000``.

    References
    ----------
    Low A, Low A (2004) J Public Health 26:388-395; PHEindicatormethods ``phe_sii``.
    """
    check_one_of(value_type, VALUE_TYPES, "value_type")
    levels = _levels(confidence)
    if reps < MIN_REPS:
        raise ValueError(f"reps must be at least {MIN_REPS}, got {reps}")
    if se is None and (lower is None or upper is None):
        raise ValueError("give se, or both lower and upper confidence limit columns")
    if transform and value_type == "other":
        raise ValueError("transform=True needs value_type 'rate' or 'proportion'")
    if transform and se is not None:
        raise ValueError("transform=True derives standard errors from lower/upper, not se")

    data = frame.sort(quantile)
    pop, y = _column(data, population), _column(data, value)
    _validate(data.get_column(quantile), pop, y, value_type)
    f, f_inv = _TRANSFORMS[value_type]
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = f(y)
        if se is not None:
            se_t = _column(data, se)
        else:
            assert lower is not None and upper is not None  # checked above
            se_t = (f(_column(data, upper)) - f(_column(data, lower))) / _Z95 / 2
    if np.any(se_t < 0):
        raise ValueError("standard errors must be >= 0 (a lower limit above its upper limit?)")
    names = _output_names(levels, intercept)
    if not (np.all(np.isfinite(centre)) and np.all(np.isfinite(se_t))):
        return pl.DataFrame({name: [float("nan")] for name in names})

    sqrt_a, design = _design(pop)
    (b0, b1), *_ = np.linalg.lstsq(design, sqrt_a * (centre if transform else y), rcond=None)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sims = _simulate(centre, se_t, sqrt_a, design, None if transform else f_inv, reps, rng)

    if transform:
        y0, y1 = float(f_inv(b0)), float(f_inv(b0 + b1))
        row = {"sii": (y1 - y0) * multiplier, "rii": y1 / y0, "intercept": y0 * abs(multiplier)}
    else:
        row = {"sii": float(b1) * multiplier, "rii": float((b0 + b1) / b0), "intercept": float(b0)}
    if multiplier < 0:
        row["rii"] = 1 / row["rii"]
    for level in levels:
        tag = "" if len(levels) == 1 else _suffix(level)
        if transform:
            limits = _transformed_limits(sims[1], b0 + b1 / 2, f_inv, level, multiplier)
        else:
            limits = _limits(sims, level, multiplier)
        for name, limit in zip(
            ("sii_lower", "sii_upper", "rii_lower", "rii_upper"), limits, strict=True
        ):
            row[f"{name}{tag}"] = limit
    return pl.DataFrame({name: [row[name]] for name in names})


def _limits(
    sims: tuple[np.ndarray, np.ndarray], level: float, multiplier: float
) -> tuple[float, float, float, float]:
    """SII and RII limits from simulated (intercept, slope) pairs on the natural scale."""
    intercepts, slopes = sims
    rii = (intercepts + slopes) / intercepts
    if multiplier < 0:
        rii = 1 / rii
    return (*_order_stats(slopes * multiplier, level), *_order_stats(rii, level))


def _transformed_limits(
    slopes: np.ndarray, midpoint: float, f_inv: Transform, level: float, multiplier: float
) -> tuple[float, float, float, float]:
    """Map log/logit-scale slope quantiles back around the fitted midpoint (phe_sii)."""
    ends = np.array(_order_stats(slopes, level))
    top, bottom = f_inv(midpoint + ends / 2), f_inv(midpoint - ends / 2)
    sii_ends = np.sort((top - bottom) * multiplier)
    rii_ends = np.sort(top / bottom if multiplier >= 0 else bottom / top)
    return float(sii_ends[0]), float(sii_ends[1]), float(rii_ends[0]), float(rii_ends[1])


def _output_names(levels: list[float], intercept: bool) -> list[str]:
    tags = [""] if len(levels) == 1 else [_suffix(level) for level in levels]
    names = []
    for stat in ("sii", "rii"):
        names.append(stat)
        for tag in tags:
            names += [f"{stat}_lower{tag}", f"{stat}_upper{tag}"]
    return names + (["intercept"] if intercept else [])
