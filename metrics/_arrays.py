"""Shared plumbing for the statistics modules: input coercion, validation and ``z``.

Every public statistic accepts scalars or array-likes (lists, NumPy arrays, Polars Series),
treats ``None``/null/NaN as missing, and returns a Python ``float`` when all inputs were
scalars or a NumPy array otherwise. These helpers keep that contract in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from scipy import special

ArrayLike = Any  # float | int | None | Sequence[float | None] | np.ndarray | pl.Series
Result = float | np.ndarray


def as_float_array(values: ArrayLike) -> np.ndarray:
    """Return ``values`` as a float64 array with ``None``/null mapped to NaN."""
    if isinstance(values, pl.Series):
        return values.cast(pl.Float64).to_numpy().astype(np.float64, copy=True)
    return np.array(values, dtype=np.float64)


def broadcast(*values: ArrayLike) -> tuple[list[np.ndarray], bool]:
    """Coerce and broadcast inputs; also report whether every input was a scalar."""
    arrays = [as_float_array(v) for v in values]
    is_scalar = all(a.ndim == 0 for a in arrays)
    return [np.array(a) for a in np.broadcast_arrays(*arrays)], is_scalar


def finish(values: np.ndarray, is_scalar: bool) -> Result:
    """Return a Python float for scalar calls, else the array."""
    if is_scalar:
        return float(values)
    return values


def normalise_confidence(confidence: float) -> float:
    """Return ``confidence`` as a fraction in (0, 1].

    Values from 90 to 100 are read as percentages (as PHEindicatormethods does).

    Raises
    ------
    ValueError
        If the level is missing, not in (0, 1] and not a percentage from 90 to 100.
    """
    try:
        level = float(confidence)
    except (TypeError, ValueError) as err:
        raise ValueError(f"confidence must be a number, got {confidence!r}") from err
    if 90 <= level <= 100:
        level /= 100
    if not 0 < level <= 1:
        raise ValueError(
            f"confidence must be in (0, 1] or a percentage from 90 to 100, got {confidence!r}"
        )
    return level


def z_value(confidence: float) -> float:
    """Two-sided standard normal critical value ``qnorm(conf + (1 - conf) / 2)``.

    Parameters
    ----------
    confidence : float
        Confidence level in (0, 1], or a percentage from 90 to 100.

    Returns
    -------
    float
        1.959963984540054 for 0.95, 3.090232306167813 for 0.998, ``inf`` for 1.

    References
    ----------
    PHEindicatormethods (v2.1.0), all ``phe_*`` functions.
    """
    level = normalise_confidence(confidence)
    return float(special.ndtri(level + (1 - level) / 2))


def check_non_negative(values: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if any non-missing value is negative."""
    bad = values < 0
    if np.any(bad):
        raise ValueError(f"{name} must be >= 0; got {float(values[bad].flat[0])!r}")


def check_not_above(x: np.ndarray, n: np.ndarray, x_name: str, n_name: str) -> None:
    """Raise ``ValueError`` if any ``x`` exceeds its ``n`` (a proportion above 1)."""
    bad = x > n
    if np.any(bad):
        raise ValueError(
            f"{x_name} must be <= {n_name} for a proportion; got {float(x[bad].flat[0])!r} > "
            f"{float(n[bad].flat[0])!r}"
        )


def check_one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def where_valid(valid: np.ndarray, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """Evaluate ``compute()`` silently and blank out invalid positions with NaN."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.asarray(compute(), dtype=np.float64)
    return np.where(valid, out, np.nan)
