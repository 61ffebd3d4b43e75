"""Statistical disclosure control, as the Equalities dashboard and MSDS apply it (DATA.md).

Sub-national counts of people: zero stays zero; 1 to 7 are never shown (the cell is flagged
suppressed and its count withheld); everything else is rounded to the nearest 5 for MSDS, or
published as counted for sources that publish unrounded counts (MBRRACE-UK, CQC). National
counts are not controlled. Rare-event rates (PPH, preterm) are computed from unrounded counts and
not shown where the numerator is under 8.
"""

from __future__ import annotations

import polars as pl

SMALL_MAX = 7
RARE_EVENT_MIN = 8

SYMBOL_ZERO = "-"
SYMBOL_NOT_AVAILABLE = ":"
SYMBOL_NOT_APPLICABLE = "z"
SYMBOL_SUPPRESSED = "*"


def round_to_5(count: pl.Expr) -> pl.Expr:
    """Nearest multiple of 5 (halves up, as the MSDS pipeline's ``5*round(x/5)`` on integers)."""
    return ((count + 2) // 5) * 5


def is_small(count: pl.Expr) -> pl.Expr:
    """True where a count of people is 1 to 7 and so must not be shown."""
    return count.is_between(1, SMALL_MAX)


def controlled_count(count: pl.Expr, *, rounded: bool) -> pl.Expr:
    """The publishable version of a raw count: null when small, else rounded or as counted."""
    shown = round_to_5(count) if rounded else count
    return pl.when(is_small(count)).then(None).otherwise(shown)
