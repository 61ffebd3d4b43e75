"""Breakdown dimensions and their groups, in display order.

Ethnicity follows MSDS ``EthnicCategoryMotherGroup`` (ONS high-level groups); deprivation follows
``DeprivationDecileAtBooking`` (IMD of the mother's residence, 1 = most deprived), with quintiles
formed by pairing deciles (1-2 -> Q1). Reference groups are White and the least deprived.
"""

from __future__ import annotations

from dataclasses import dataclass

TOTAL = "total"
ETHNICITY = "ethnicity"
DECILE = "deprivation_decile"
QUINTILE = "deprivation_quintile"
ETHNICITY_BY_QUINTILE = "ethnicity_by_quintile"
# The breakdowns a map of regions shows a gap in.
MAP_DIMENSIONS = (ETHNICITY, QUINTILE)

ALL_GROUP = "All"

ETHNIC_GROUPS = ("White", "Mixed", "Asian", "Black", "Other")
ETHNIC_UNKNOWN = ("Not stated", "Not known", "Missing")
DECILES = tuple(
    "1 (most deprived)" if d == 1 else "10 (least deprived)" if d == 10 else str(d)
    for d in range(1, 11)
)
QUINTILES = ("Q1 (most deprived)", "Q2", "Q3", "Q4", "Q5 (least deprived)")
DEPRIVATION_UNKNOWN = ("Unknown",)


@dataclass(frozen=True)
class Dimension:
    """A breakdown: its groups (known first, then the unknown categories) and reference."""

    id: str
    label: str
    groups: tuple[str, ...]
    unknown: tuple[str, ...]
    reference: str | None
    ordered: bool  # True when groups form a gradient (deprivation), for SII/RII

    @property
    def all_groups(self) -> tuple[str, ...]:
        return self.groups + self.unknown

    def order(self, group: str) -> int:
        """Display position of ``group`` (0 for the total)."""
        return self.all_groups.index(group) + 1 if group in self.all_groups else 0


def _cross_groups() -> tuple[str, ...]:
    return tuple(f"{e} × {q.split(' ')[0]}" for e in ETHNIC_GROUPS for q in QUINTILES)


DIMENSIONS: dict[str, Dimension] = {
    TOTAL: Dimension(TOTAL, "All women and babies", (ALL_GROUP,), (), None, False),
    ETHNICITY: Dimension(ETHNICITY, "Ethnicity", ETHNIC_GROUPS, ETHNIC_UNKNOWN, "White", False),
    DECILE: Dimension(
        DECILE, "Deprivation decile", DECILES, DEPRIVATION_UNKNOWN, DECILES[-1], True
    ),
    QUINTILE: Dimension(
        QUINTILE, "Deprivation quintile", QUINTILES, DEPRIVATION_UNKNOWN, QUINTILES[-1], True
    ),
    ETHNICITY_BY_QUINTILE: Dimension(
        ETHNICITY_BY_QUINTILE,
        "Ethnicity by deprivation quintile",
        _cross_groups(),
        (),
        "White × Q5",
        False,
    ),
}
