"""The categories of every MSDS dimension the ingest reads: a closed list, edition by edition.

NHS England relabels categories between editions (``Elective caesarean section`` became
``Elective caesarean`` in 2023-24; deciles are ``02`` in most editions and ``2`` in 2020-21).
A label that is not listed here is never matched to nothing: the reader reports it with its
file, line, column and value, and the metrics fed by that dimension are left out of that
edition (``--lenient``) or the file is refused.

Each entry is ``label -> (category, editions seen in)``; the editions are those of the
published files this list was checked against (annual 2019-20 to 2023-24, monthly exp-data
February and March 2025). Categories are the project's own names, used by
:mod:`data.ingest.msds_annual` to say which categories a metric counts.
"""

from __future__ import annotations

MISSING = "missing"
TOTAL = "total"
ALL = "all editions"
_MISSING = {
    "Missing value / Value outside reporting parameters": (MISSING, "annual 2020-21 on"),
    "Missing Value / Value outside reporting parameters": (
        MISSING, "annual 2020-21 (mode of birth), monthly 2025"),
    "Missing Value/Value outside reporting parameters": (
        MISSING, "annual 2019-20 (mode of birth), 2020-21 (gestation at birth)"),
}
MODE_OF_BIRTH = {
    "Spontaneous": ("spontaneous", ALL),
    "Instrumental": ("instrumental", ALL),
    "Elective caesarean section": ("caesarean_planned", "annual 2019-20 to 2022-23, monthly"),
    "Elective caesarean": ("caesarean_planned", "annual 2023-24"),
    "Emergency caesarean section": ("caesarean_emergency",
                                    "annual 2019-20 to 2022-23, monthly"),
    "Emergency caesarean": ("caesarean_emergency", "annual 2023-24"),
    "Other": ("other", ALL),
} | _MISSING
ETHNICITY = {
    "White": ("White", ALL),
    "Mixed": ("Mixed", ALL),
    "Asian or Asian British": ("Asian", ALL),
    "Black or Black British": ("Black", ALL),
    "Any other ethnic group": ("Other", ALL),
    "Not Stated": ("Not stated", ALL),
    "Not known": ("Not known", ALL),
} | _MISSING
DEPRIVATION = {
    "01 - Most deprived": ("1", ALL),
    **{f"{d:02d}": (str(d), "annual 2021-22 on, monthly") for d in range(2, 10)},
    **{str(d): (str(d), "annual 2020-21") for d in range(2, 10)},
    "10 - Least deprived": ("10", ALL),
    "Resident Elsewhere in UK, Channel Islands or Isle of Man": ("resident_elsewhere", ALL),
    "Pseudo postcode recorded (includes no fixed abode or resident overseas)": (
        "pseudo_postcode", ALL),
} | _MISSING
BOOKING = {
    "0 to 70 days": ("0_to_70_days", ALL),
    "71 to 90 days": ("71_to_90_days", ALL),
    "91 to 140 days": ("91_to_140_days", ALL),
    "141+ days": ("141_days_or_more", ALL),
} | _MISSING
GESTATION_37 = {
    "<37 weeks": ("preterm", ALL),
    ">=37 weeks": ("term", ALL),
} | _MISSING
TOTAL_ONLY = {"": (TOTAL, ALL)}

# Published dimension name (it changed between editions too) -> its categories.
DIMENSIONS: dict[str, dict[str, tuple[str, str]]] = {
    "DeliveryMethodBabyGroup": MODE_OF_BIRTH,
    "MethodOfDelivery": MODE_OF_BIRTH,
    "METHODOFDELIVERY": MODE_OF_BIRTH,
    "EthnicCategoryMotherGroup": ETHNICITY,
    "DeprivationDecileAtBooking": DEPRIVATION,
    "GestAgeFormalAntenatalBookingGroup": BOOKING,
    "GestationLengthBirthGroup37": GESTATION_37,
    "TotalDeliveries": TOTAL_ONLY,
    "TOTAL DELIVERIES": TOTAL_ONLY,
}
DECILE_CATEGORIES = tuple(str(d) for d in range(1, 11))


def category(dimension: str, label: str) -> str | None:
    """The category ``label`` stands for in ``dimension``, or None when it is not listed."""
    entry = DIMENSIONS[dimension].get(label.strip())
    return entry[0] if entry else None


def unknown_message(dimension: str, label: str) -> str:
    """Why an unlisted label is refused, naming the labels the dimension may hold."""
    known = ", ".join(repr(k) for k in DIMENSIONS[dimension] if k)
    return (f"a {dimension} category this ingest does not know (a new or changed label in "
            f"this edition?); it is never counted as nothing: the metrics from {dimension} "
            f"are left out of this file. Known labels: {known}")
