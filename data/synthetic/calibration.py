"""Calibration targets for the synthetic demo, with their sources.

National figures are the verified anchors in DATA.md and its reference file
(``published-figures.md``); values marked [E] there are estimates used only to give the demo a
plausible shape, never presented as published figures. Group effects are relative to White
women and to the least deprived quintile (Q5).
"""

from __future__ import annotations

from dataclasses import dataclass

START = (2020, 1)  # first simulated month
END = (2025, 3)  # last simulated month

# Deliveries a year relative to the 2022-23 trust profiles (531k): HES 578,562 in 2021-22,
# 547,244 in 2022-23, 542,235 in 2024-25.
VOLUME_BY_YEAR = {2020: 1.09, 2021: 1.09, 2022: 1.035, 2023: 1.025, 2024: 1.02, 2025: 1.02}

ETHNIC_CODES = ("White", "Mixed", "Asian", "Black", "Other", "Not stated", "Not known", "Missing")
QUINTILE_AXIS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RateTarget:
    """A binary outcome: national level by year, and multiplicative group effects."""

    by_year: dict[int, float]
    ethnicity: dict[str, float]
    quintile: tuple[float, float, float, float, float]  # Q1 (most deprived) .. Q5
    trust_sd: float  # SD of the trust effect on the log scale


# Stillbirths per total birth: 3.33 (2020), 3.35 (2022), 3.22 (2023) per 1,000 [V]; 2021 rose
# [V, level E]. Black a little over 2x White, Asian about 1.6x [V]; most deprived about twice
# least deprived [V, 2019 births].
STILLBIRTH = RateTarget(
    {2020: 3.33e-3, 2021: 3.50e-3, 2022: 3.35e-3, 2023: 3.22e-3, 2024: 3.20e-3, 2025: 3.2e-3},
    {"Mixed": 1.15, "Asian": 1.6, "Black": 2.2, "Other": 1.3, "unknown": 1.2},
    (1.9, 1.55, 1.3, 1.12, 1.0),
    0.12,
)
# Neonatal deaths per live birth: 1.53 (2020), 1.69 (2022), 1.63 (2023) per 1,000 [V];
# most deprived quintile 2.5 vs least deprived 1.03 per 1,000 (2023) [V]; Black +43%, Asian
# about +60% (2019 births) [V].
NEONATAL = RateTarget(
    {2020: 1.53e-3, 2021: 1.62e-3, 2022: 1.69e-3, 2023: 1.63e-3, 2024: 1.60e-3, 2025: 1.6e-3},
    {"Mixed": 1.1, "Asian": 1.45, "Black": 1.45, "Other": 1.2, "unknown": 1.15},
    (2.35, 1.8, 1.45, 1.2, 1.0),
    0.12,
)
# Maternal deaths per maternity: 13.56 (2020-22), 12.82 (2021-23) per 100,000 [V]; Black 2-4x
# White, Asian almost 2x [V]; most deprived more than 2x least deprived [V].
MATERNAL = RateTarget(
    {y: 13.0e-5 for y in range(2020, 2026)},
    {"Mixed": 1.3, "Asian": 1.7, "Black": 2.8, "Other": 1.3, "unknown": 1.2},
    (2.3, 1.7, 1.35, 1.15, 1.0),
    0.0,
)
# PPH >= 1,500 ml: 27 per 1,000 (2020) rising to 32 (2025) [V]; Black and Asian about 1.2-1.4x
# White [E].
PPH = RateTarget(
    {2020: 27e-3, 2021: 28e-3, 2022: 29e-3, 2023: 30e-3, 2024: 31e-3, 2025: 32e-3},
    {"Mixed": 1.1, "Asian": 1.3, "Black": 1.35, "Other": 1.15, "unknown": 1.05},
    (1.12, 1.08, 1.05, 1.02, 1.0),
    0.22,
)
# Preterm (< 37 weeks) about 7-8% of babies [V]; Black ~8.5-9%, Asian ~8%, White ~7%, IMD Q1
# ~8.5% vs Q5 ~6.5% [E].
PRETERM = RateTarget(
    {2020: 0.074, 2021: 0.076, 2022: 0.077, 2023: 0.076, 2024: 0.075, 2025: 0.075},
    {"Mixed": 1.05, "Asian": 1.12, "Black": 1.25, "Other": 1.05, "unknown": 1.05},
    (1.3, 1.2, 1.12, 1.05, 1.0),
    0.10,
)


@dataclass(frozen=True)
class ShareTarget:
    """A yes/no share: national level by year and additive group effects on the logit scale."""

    by_year: dict[int, float]
    ethnicity: dict[str, float]
    quintile: tuple[float, float, float, float, float]
    trust_sd: float


# Booked by 10 weeks: 63% (Sep 2020), 62% (Jul 2021), about 75% (2023) [V]; lower for Black
# women and the most deprived [E].
BOOKED_BY_10_WEEKS = ShareTarget(
    {2020: 0.63, 2021: 0.64, 2022: 0.68, 2023: 0.72, 2024: 0.73, 2025: 0.73},
    {"Mixed": -0.15, "Asian": -0.25, "Black": -0.55, "Other": -0.35, "unknown": -0.3},
    (-0.45, -0.3, -0.15, -0.05, 0.0),
    0.35,
)
# CQC: 77% (2022), 80% (2023) said concerns in labour were taken seriously; 18% said not
# (2024, 2025) [V]; lower for Black and Asian women [E].
CONCERNS_SERIOUS = ShareTarget(
    {2020: 0.78, 2021: 0.78, 2022: 0.77, 2023: 0.80, 2024: 0.82, 2025: 0.82},
    {"Mixed": -0.2, "Asian": -0.3, "Black": -0.4, "Other": -0.25, "unknown": -0.1},
    (-0.2, -0.12, -0.06, -0.02, 0.0),
    0.25,
)
# Considered making a complaint: no published national figure; about 10-15% [E].
CONSIDERED_COMPLAINT = ShareTarget(
    {y: 0.12 for y in range(2020, 2026)},
    {"Mixed": 0.15, "Asian": 0.2, "Black": 0.35, "Other": 0.2, "unknown": 0.05},
    (0.15, 0.1, 0.05, 0.02, 0.0),
    0.25,
)
# Induction of labour about 1 in 3 [V]; delays over 24 hours about 1 in 10 inductions [E].
INDUCTION_SHARE = 0.33
IOL_DELAY = ShareTarget({y: 0.10 for y in range(2020, 2026)}, {}, (0, 0, 0, 0, 0), 0.6)
# Optimal perinatal care composite: about 45-55% nationally [E], improving (deferred cord
# clamping 60.4% in 2022 to 68.3% in 2023 [V]).
UNDER_34_WEEKS_SHARE = 0.022
OPTIMAL_CARE = ShareTarget(
    {2020: 0.42, 2021: 0.45, 2022: 0.48, 2023: 0.52, 2024: 0.55, 2025: 0.56},
    {}, (0, 0, 0, 0, 0), 0.4,
)

# Mode of birth shares by year: caesarean 42% in 2023-24 (elective 99,783, emergency 125,979)
# and 45% in 2024-25; instrumental about 11% [V]. Group multipliers [E]: more emergency
# caesareans for Black and Asian women, fewer planned caesareans in the most deprived areas.
MODES = ("spontaneous", "instrumental", "caesarean_planned", "caesarean_emergency")
MODE_SHARES = {
    2020: (0.505, 0.115, 0.165, 0.215),
    2021: (0.49, 0.115, 0.17, 0.225),
    2022: (0.475, 0.112, 0.178, 0.235),
    2023: (0.46, 0.11, 0.185, 0.245),
    2024: (0.44, 0.11, 0.195, 0.255),
    2025: (0.435, 0.11, 0.197, 0.258),
}
MODE_ETHNICITY = {
    "Black": (1.0, 0.85, 1.1, 1.35),
    "Asian": (1.0, 1.1, 1.0, 1.15),
    "Mixed": (1.0, 1.0, 1.0, 1.05),
    "Other": (1.0, 1.0, 1.05, 1.1),
}
MODE_QUINTILE = {1: (1.0, 0.9, 0.85, 1.0), 2: (1.0, 0.95, 0.9, 1.0), 3: (1.0, 1.0, 0.95, 1.0)}
MODE_KNOWN = 0.985
GESTATION_AT_BOOKING_KNOWN = 0.97

# Annex 3 unit suspensions: share of unit-fortnights with a suspension [E].
OU_SUSPENSION_RATE = 0.10
NNU_SUSPENSION_RATE = 0.07

# CQC sampling: women giving birth in February, about 40% respond (18,000-25,000 a year [V]);
# most answer the complaint question; about 55% raised a concern in labour [E].
CQC_RESPONSE = 0.42
CQC_RAISED_CONCERN = 0.55
CQC_ANSWERED_COMPLAINT = 0.92

# Planted stories (DATA.md): see organisations.STORIES for which trusts carry them.
PPH_GAP_BEFORE = 2.6  # Black vs White PPH rate ratio at the story trust before its intervention
PPH_GAP_AFTER = 1.0
PPH_INTERVENTION = (2022, 10)
OUTLIER_PPH_EFFECT = 1.9
POOR_RECORDING_UNKNOWN_SHARE = 0.38
SMALL_UNIT_DELIVERIES = 420
MERGER_MONTH = (2023, 4)
