"""Simulate births record by record, then sum them into a cube of counts.

Each record is one woman giving birth (one baby: multiple births are not modelled) in a trust
and month, with an ethnic group, an IMD decile and her outcomes drawn from the calibration
targets: group effects multiply a national base rate that is rescaled so the national rate
matches its target; each trust carries its own random effect. The cube sums records by trust,
month, ethnic group and decile; every published table is an aggregate of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from data.periods import month_index, month_of
from data.synthetic import calibration as cal
from data.synthetic.organisations import Geography

N_ETH = len(cal.ETHNIC_CODES)
UNKNOWN_ETH = N_ETH - 3  # index of the first "not recorded" category
N_DEP = 11  # deciles 1..10 then unknown (index 10)
# Minority ethnic women are more often resident in deprived areas: tilt each trust's decile
# mix by ethnic group (log-weight slope per decile step towards the most deprived) [E].
DEPRIVATION_TILT = {"Mixed": 0.06, "Asian": 0.12, "Black": 0.14, "Other": 0.08}


def _months() -> np.ndarray:
    return np.arange(month_index(*cal.START), month_index(*cal.END) + 1)


def _year_value(by_year: dict[int, float], years: np.ndarray) -> np.ndarray:
    return np.array([by_year[int(y)] for y in years])


def _sample(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category per row of a cumulative probability matrix."""
    u = rng.random(cumulative.shape[0])[:, None]
    return np.minimum((u > cumulative).sum(axis=1), cumulative.shape[1] - 1)


def _ethnic_multiplier(table: dict[str, float], eth: np.ndarray, neutral: float) -> np.ndarray:
    lookup = np.full(N_ETH, neutral)
    for i, code in enumerate(cal.ETHNIC_CODES):
        if code in table:
            lookup[i] = table[code]
        elif i >= UNKNOWN_ETH and "unknown" in table:
            lookup[i] = table["unknown"]
    return lookup[eth]


def _quintile_multiplier(values: tuple, dec: np.ndarray, neutral: float) -> np.ndarray:
    lookup = np.array([values[d // 2] for d in range(10)] + [neutral])
    return lookup[dec]


class Population:
    """The simulated records as numpy columns."""

    def __init__(self, geography: Geography, rng: np.random.Generator) -> None:
        self.geo = geography
        self.rng = rng
        trusts = geography.trusts
        months = _months()
        years = months // 12
        calendar_month = months % 12
        seasonal = 1 + 0.04 * np.cos(2 * np.pi * (calendar_month - 7) / 12)
        volume = _year_value(cal.VOLUME_BY_YEAR, years)
        expected = np.array([t.deliveries for t in trusts])[:, None] * volume * seasonal / 12
        counts = rng.poisson(expected)
        code_index = {t.code: i for i, t in enumerate(trusts)}
        merge_month = month_index(*cal.MERGER_MONTH)
        for i, trust in enumerate(trusts):
            if trust.successor:
                after = months >= merge_month
                counts[code_index[trust.successor], after] += counts[i, after]
                counts[i, after] = 0
        self.trust = np.repeat(np.repeat(np.arange(len(trusts)), len(months)), counts.ravel())
        self.month = np.repeat(np.tile(months, len(trusts)), counts.ravel())
        self.year = self.month // 12
        self.n = self.trust.size
        self._draw_people()
        self.trust_effect = self._trust_effects()

    def _draw_people(self) -> None:
        trusts = self.geo.trusts
        eth_cum = np.cumsum(np.array([t.ethnicity for t in trusts]), axis=1)
        self.eth = _sample(self.rng, eth_cum[self.trust])
        base = np.array([t.deprivation for t in trusts])  # trusts x 11
        steps = np.concatenate([np.arange(9, -1, -1), [0]])  # decile 1 gets the most tilt
        dep = np.empty(self.n, dtype=np.int64)
        for e, code in enumerate(cal.ETHNIC_CODES):
            rows = np.flatnonzero(self.eth == e)
            if rows.size == 0:
                continue
            tilted = base * np.exp(DEPRIVATION_TILT.get(code, 0.0) * steps)
            tilted /= tilted.sum(axis=1, keepdims=True)
            dep[rows] = _sample(self.rng, np.cumsum(tilted, axis=1)[self.trust[rows]])
        self.dep = dep

    def _trust_effects(self) -> dict[str, np.ndarray]:
        """Per-trust random effects (log or logit scale), one array per outcome."""
        n = len(self.geo.trusts)
        names = {
            "stillbirth": cal.STILLBIRTH.trust_sd, "neonatal": cal.NEONATAL.trust_sd,
            "pph": cal.PPH.trust_sd, "preterm": cal.PRETERM.trust_sd,
            "concerns": cal.CONCERNS_SERIOUS.trust_sd,
            "complaint": cal.CONSIDERED_COMPLAINT.trust_sd, "iol": cal.IOL_DELAY.trust_sd,
            "opc": cal.OPTIMAL_CARE.trust_sd, "ou": 0.5, "nnu": 0.5, "mode": 0.12,
        }
        effects = {k: self.rng.normal(0, sd, n) for k, sd in names.items()}
        for i, trust in enumerate(self.geo.trusts):
            if "pph_outlier" in trust.stories:
                effects["pph"][i] = np.log(cal.OUTLIER_PPH_EFFECT)
        return effects

    # -- outcome models ------------------------------------------------------------------
    def rate_outcome(self, target: cal.RateTarget, effect: str | None, mask=None) -> np.ndarray:
        """Draw a binary outcome with multiplicative effects, calibrated to the national rate."""
        rows = np.arange(self.n) if mask is None else np.flatnonzero(mask)
        relative = _ethnic_multiplier(target.ethnicity, self.eth[rows], 1.0)
        relative = relative * _quintile_multiplier(target.quintile, self.dep[rows], 1.2)
        if effect is not None:
            relative = relative * np.exp(self.trust_effect[effect][self.trust[rows]])
        if effect == "pph":
            relative = relative * self._pph_story(rows)
        years = self.year[rows]
        p = np.empty(rows.size)
        for year in np.unique(years):
            sel = years == year
            p[sel] = target.by_year[int(year)] * relative[sel] / relative[sel].mean()
        out = np.zeros(self.n, dtype=bool)
        out[rows] = self.rng.random(rows.size) < np.clip(p, 0, 1)
        return out

    def _pph_story(self, rows: np.ndarray) -> np.ndarray:
        """The story trust's Black-White PPH gap, which closes after its intervention."""
        factor = np.ones(rows.size)
        black = cal.ETHNIC_CODES.index("Black")
        ratio = cal.PPH.ethnicity["Black"]  # the national effect the story replaces
        for i, trust in enumerate(self.geo.trusts):
            if "pph_gap_closes" not in trust.stories:
                continue
            sel = (self.trust[rows] == i) & (self.eth[rows] == black)
            before = self.month[rows] < month_index(*cal.PPH_INTERVENTION)
            factor[sel & before] = cal.PPH_GAP_BEFORE / ratio
            factor[sel & ~before] = cal.PPH_GAP_AFTER / ratio
        return factor

    def share_outcome(self, target: cal.ShareTarget, effect: str | None, mask=None,
                      extra_logit: np.ndarray | None = None) -> np.ndarray:
        """Draw a yes/no outcome with additive logit effects, calibrated to the national share."""
        rows = np.arange(self.n) if mask is None else np.flatnonzero(mask)
        shift = _ethnic_multiplier(target.ethnicity, self.eth[rows], 0.0)
        shift = shift + _quintile_multiplier(target.quintile, self.dep[rows], 0.0)
        if effect is not None:
            shift = shift + self.trust_effect[effect][self.trust[rows]]
        if extra_logit is not None:
            shift = shift + extra_logit[self.trust[rows]]
        years = self.year[rows]
        p = np.empty(rows.size)
        for year in np.unique(years):
            sel = years == year
            p[sel] = _calibrated_logistic(target.by_year[int(year)], shift[sel])
        out = np.zeros(self.n, dtype=bool)
        out[rows] = self.rng.random(rows.size) < p
        return out

    def mode_of_birth(self) -> np.ndarray:
        """Index into calibration.MODES, or -1 when not recorded."""
        shares = np.array([cal.MODE_SHARES[int(y)] for y in range(self.year.min(),
                                                                  self.year.max() + 1)])
        weights = shares[self.year - self.year.min()].copy()
        for code, mult in cal.MODE_ETHNICITY.items():
            weights[self.eth == cal.ETHNIC_CODES.index(code)] *= mult
        quintile = np.where(self.dep < 10, self.dep // 2 + 1, 0)
        for q, mult in cal.MODE_QUINTILE.items():
            weights[quintile == q] *= mult
        weights[:, 2:] *= np.exp(self.trust_effect["mode"][self.trust])[:, None]
        weights /= weights.sum(axis=1, keepdims=True)
        mode = _sample(self.rng, np.cumsum(weights, axis=1))
        mode[self.rng.random(self.n) > cal.MODE_KNOWN] = -1
        return mode


def _calibrated_logistic(target: float, shift: np.ndarray) -> np.ndarray:
    """Probabilities ``expit(a + shift)`` with ``a`` chosen so their mean equals ``target``."""
    lo, hi = -10.0, 10.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(mid + shift)))).mean() < target:
            lo = mid
        else:
            hi = mid
    return 1 / (1 + np.exp(-((lo + hi) / 2 + shift)))


def simulate_cube(
    geography: Geography, rng: np.random.Generator, progress: Callable[[str], None] = print
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Simulate every birth and return (person cube, unit cube).

    The person cube has one row per trust x month x ethnic group x decile with summed counts;
    the unit cube has the Annex 3 unit-fortnight counts per trust and month.
    """
    pop = Population(geography, rng)
    progress(f"simulated {pop.n:,} births in {len(geography.trusts)} trusts")
    eth_known = pop.eth < UNKNOWN_ETH
    gestation_known = rng.random(pop.n) < cal.GESTATION_AT_BOOKING_KNOWN
    booking_shift = np.array([t.booking_logit for t in geography.trusts])
    booked10 = pop.share_outcome(cal.BOOKED_BY_10_WEEKS, None, gestation_known, booking_shift)
    mode = pop.mode_of_birth()
    stillbirth = pop.rate_outcome(cal.STILLBIRTH, "stillbirth")
    neonatal = pop.rate_outcome(cal.NEONATAL, "neonatal", ~stillbirth)
    induced = rng.random(pop.n) < cal.INDUCTION_SHARE
    preterm = pop.rate_outcome(cal.PRETERM, "preterm")
    under34 = preterm & (rng.random(pop.n) < cal.UNDER_34_WEEKS_SHARE / cal.PRETERM.by_year[2023])
    february = (pop.month % 12) == 1
    respondent = february & (rng.random(pop.n) < cal.CQC_RESPONSE) & ~stillbirth
    raised = respondent & (rng.random(pop.n) < cal.CQC_RAISED_CONCERN)
    answered = respondent & (rng.random(pop.n) < cal.CQC_ANSWERED_COMPLAINT)
    progress("drew outcomes")
    columns = {
        "women": np.ones(pop.n, dtype=bool),
        "eth_known": eth_known,
        "dep_known": pop.dep < 10,
        "gestation_known": gestation_known,
        "booked_by_10_weeks": booked10,
        "mode_known": mode >= 0,
        "spontaneous_vaginal": mode == 0,
        "instrumental": mode == 1,
        "caesarean_planned": mode == 2,
        "caesarean_emergency": mode == 3,
        "pph_1500": pop.rate_outcome(cal.PPH, "pph"),
        "preterm": preterm,
        "stillbirth": stillbirth,
        "live_births": ~stillbirth,
        "neonatal_death": neonatal,
        "maternal_death": pop.rate_outcome(cal.MATERNAL, None),
        "inductions": induced,
        "iol_delay": pop.share_outcome(cal.IOL_DELAY, "iol", induced),
        "under_34_weeks": under34,
        "optimal_perinatal_care": pop.share_outcome(cal.OPTIMAL_CARE, "opc", under34),
        "cqc_raised_concern": raised,
        "concerns_taken_seriously": pop.share_outcome(cal.CONCERNS_SERIOUS, "concerns", raised),
        "cqc_answered_complaint": answered,
        "considered_complaint": pop.share_outcome(cal.CONSIDERED_COMPLAINT, "complaint", answered),
    }
    frame = pl.DataFrame(
        {"trust": pop.trust.astype(np.int32), "month": pop.month.astype(np.int32),
         "eth": pop.eth.astype(np.int8), "dep": pop.dep.astype(np.int8)}
        | {k: v.astype(np.int32) for k, v in columns.items()}
    )
    cube = frame.group_by(["trust", "month", "eth", "dep"]).agg(
        pl.col(k).sum() for k in columns
    )
    progress(f"summed into {cube.height:,} cube cells")
    return cube, _unit_cube(pop)


def _unit_cube(pop: Population) -> pl.DataFrame:
    """Obstetric and neonatal unit-fortnights (and suspensions) per trust and month."""
    rows = []
    months = _months()
    births = np.bincount(pop.trust * len(months) + (pop.month - months[0]),
                         minlength=len(pop.geo.trusts) * len(months)).reshape(-1, len(months))
    for i, trust in enumerate(pop.geo.trusts):
        ou_units = 1 + int(trust.deliveries > 6000) + int(trust.deliveries > 11000)
        nnu_units = 1 + int(trust.deliveries > 9000)
        p_ou = cal.OU_SUSPENSION_RATE * np.exp(pop.trust_effect["ou"][i])
        p_nnu = cal.NNU_SUSPENSION_RATE * np.exp(pop.trust_effect["nnu"][i])
        for j, month in enumerate(months):
            if births[i, j] == 0:
                continue
            fortnights = 2 + int(month_of(int(month))[1] in (1, 7))  # 26 a year
            ou = ou_units * fortnights
            nnu = nnu_units * fortnights
            rows.append((i, int(month), ou, int(pop.rng.binomial(ou, min(p_ou, 0.9))),
                         nnu, int(pop.rng.binomial(nnu, min(p_nnu, 0.9)))))
    return pl.DataFrame(
        rows,
        schema=["trust", "month", "ou_units", "ou_suspension", "nnu_units", "nnu_suspension"],
        orient="row",
    )
