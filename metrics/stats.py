"""Public statistics API of the dashboard.

Pure functions (no Dash, Plotly, Flask or I/O), implemented in small sibling modules:

* :mod:`metrics.intervals` - Wilson, exact Poisson / Byar's, rate and risk ratios and
  differences (PHEindicatormethods ``phe_proportion``, ``phe_rate``; METHODS.md 1.1-1.3).
* :mod:`metrics.significance` - comparison with a benchmark as Fingertips (METHODS.md 1.3).
* :mod:`metrics.sii` - slope / relative index of inequality (``phe_sii``; METHODS.md 1.4).
* :mod:`metrics.funnel` - funnel limits and significance (METHODS.md 1.5).
* :mod:`metrics.spc` - Making Data Count XmR charts (NHSRplotthedots; METHODS.md 3).

Conventions: scalars or array-likes (lists, NumPy arrays, Polars Series) in; a Python
``float`` out for scalar input, else a NumPy array. Missing inputs (``None``/null/NaN) give
NaN, never an exception; invalid inputs (negative counts, a numerator above its
denominator for a proportion, a confidence level outside (0, 1] that is not a percentage
from 90 to 100) raise ``ValueError``.
"""

from __future__ import annotations

from metrics._arrays import normalise_confidence, z_value
from metrics.funnel import (
    SIGNIFICANCE_LABELS,
    funnel_axis,
    funnel_limits,
    funnel_significance,
    poisson_funnel,
    sigma_adjustment,
)
from metrics.intervals import (
    byars_lower,
    byars_upper,
    exact_poisson_ci,
    proportion_difference_ci,
    rate_ci,
    rate_difference_ci,
    rate_ratio_ci,
    risk_ratio_ci,
    wilson_ci,
)
from metrics.significance import compare_with_benchmark
from metrics.sii import sii
from metrics.spc import (
    POINT_TYPES,
    SPECIAL_CAUSE_RULES,
    SPCResult,
    SPCSummary,
    spc,
)

__all__ = [
    "POINT_TYPES",
    "SIGNIFICANCE_LABELS",
    "SPECIAL_CAUSE_RULES",
    "SPCResult",
    "SPCSummary",
    "byars_lower",
    "byars_upper",
    "compare_with_benchmark",
    "exact_poisson_ci",
    "funnel_axis",
    "funnel_limits",
    "funnel_significance",
    "normalise_confidence",
    "poisson_funnel",
    "proportion_difference_ci",
    "rate_ci",
    "rate_difference_ci",
    "rate_ratio_ci",
    "risk_ratio_ci",
    "sigma_adjustment",
    "sii",
    "spc",
    "wilson_ci",
    "z_value",
]
