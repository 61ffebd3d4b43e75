"""The metric registry: one declarative entry per metric (DATA.md's table).

Pages, the definitions table, the scorecard, the generator and the tests iterate over
:data:`METRICS`; nothing else branches on a metric id.

A network's local indicators (approved provider returns) are metrics too, but they exist
only where the published store carries them: the store's manifest defines them
(:func:`local_metrics`), and the data layer hands them over with :func:`use_local`. Every
place that lists metrics calls :func:`all_metrics`, :func:`outcome_metrics` (and the
dictionaries :func:`metrics`, :func:`outcomes`) or :func:`get`, which see them when the
store holds them; :data:`METRICS_LIST` and the other constants stay the national metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from metrics.categories import DECILE, ETHNICITY, QUINTILE, TOTAL

MSDS = "MSDS"
MBRRACE = "MBRRACE-UK"
CQC = "CQC"
ANNEX3 = "Performance dashboard"

HIGHER_IS_BETTER = "higher_is_better"
LOWER_IS_BETTER = "lower_is_better"
NO_JUDGEMENT = "none"

PROPORTION = "proportion"  # Wilson score intervals
RATE = "rate"  # exact Poisson below 10 events, Byar's from 10

ROUND_TO_5 = "round_to_5"  # MSDS: withhold 1-7, round the rest to 5
WITHHOLD_SMALL = "withhold_small"  # other sources: withhold 1-7, publish the rest as counted
NOT_PEOPLE = "not_people"  # counts of units, not people: no disclosure control

SOURCE_NOTES = {
    MSDS: "Maternity Services Data Set (NHS England). Published monthly about 3 months after "
    "the end of the month; annual statistics about 7 months after the year end.",
    MBRRACE: "MBRRACE-UK perinatal and maternal surveillance. Perinatal figures about 18 "
    "months after the end of the birth year; maternal deaths as 3-year rolling rates, about "
    "2 years after the end of the period.",
    CQC: "Care Quality Commission maternity survey of women giving birth in February; "
    "results published about 10 months later.",
    ANNEX3: "Maternity and Neonatal Performance Dashboard (Annex 3 of NHS England's letter of "
    "16 October 2025); operational figures published monthly.",
}

_MSDS_LEVELS = ("england", "region", "icb", "trust")
_MSDS_PERIODS = ("rolling_12_months", "quarter", "half_year", "financial_year", "month")
_GROUPS = (TOTAL, ETHNICITY, DECILE, QUINTILE)


def _everywhere(dims: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {level: dims for level in _MSDS_LEVELS}


@dataclass(frozen=True)
class Metric:
    """Definition of one metric; see DATA.md for the sources of each figure."""

    id: str
    title: str
    short_title: str
    source: str
    section: str
    unit: str
    multiplier: int
    numerator: str
    denominator: str
    polarity: str
    statistic: str
    disclosure: str
    period_kinds: tuple[str, ...]
    dimensions: dict[str, tuple[str, ...]]
    definition: str
    caveats: tuple[str, ...] = ()
    rare_event: bool = False  # not shown below England where fewer than 8 events
    annex3: bool = False
    decimals: int = 1
    phrase: str = ""  # "had a postpartum haemorrhage of 1,500 ml or more", for gap statements
    subject: str = "women"
    lag: str = field(default="")
    # A description of who is served (each group's share of the women counted), not an
    # outcome: no polarity, and no gaps, ratios, SII/RII, excess, funnels or SPC for it.
    profile: bool = False

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.dimensions)

    @property
    def default_period_kind(self) -> str:
        return self.period_kinds[0]

    @property
    def breakdowns(self) -> tuple[str, ...]:
        """Every dimension available at some level, in a stable order."""
        seen: list[str] = []
        for dims in self.dimensions.values():
            seen.extend(d for d in dims if d not in seen)
        return tuple(seen)

    def dimensions_at(self, level: str) -> tuple[str, ...]:
        return self.dimensions.get(level, ())

    @property
    def counterfactual_phrase(self) -> str:
        """``phrase`` to follow "would have": "were stillborn" -> "been stillborn",
        "had a ..." -> "had a ..." (every phrase starts with "were" or a regular past
        tense, whose past participle is the same word)."""
        verb, _, rest = self.phrase.partition(" ")
        return f"been {rest}" if verb in ("were", "was") else self.phrase

    def format_value(self, value: float | None) -> str:
        """The value with its unit, e.g. ``31.2 per 1,000`` or ``42.0%``."""
        if value is None or value != value:
            return "not available"
        number = f"{value:,.{self.decimals}f}"
        return f"{number}%" if self.unit == "%" else f"{number} {self.unit}"


METRICS_LIST: tuple[Metric, ...] = (
    Metric(
        id="ethnicity_recorded",
        title="Mother's ethnicity recorded at booking",
        short_title="Ethnicity recorded",
        source=MSDS,
        section="Data quality",
        unit="%",
        multiplier=100,
        numerator="Women booked whose ethnic group is recorded (NHS codes A to S)",
        denominator="Women booked for antenatal care",
        polarity=HIGHER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere((TOTAL, DECILE, QUINTILE)),
        definition="The share of women booked whose ethnic group is recorded in a valid "
        "category. Not stated, not known and missing count as not recorded. Where it is low, "
        "every breakdown by ethnicity is less reliable.",
        caveats=("Completeness below 90% makes the ethnicity breakdown unreliable.",),
        phrase="had their ethnicity recorded",
    ),
    Metric(
        id="deprivation_known",
        title="Deprivation identifiable at booking",
        short_title="Deprivation known",
        source=MSDS,
        section="Data quality",
        unit="%",
        multiplier=100,
        numerator="Women booked whose postcode gives a valid IMD decile",
        denominator="Women booked for antenatal care",
        polarity=HIGHER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere((TOTAL, ETHNICITY)),
        definition="The share of women booked whose residence maps to an English IMD decile. "
        "Women resident elsewhere, with a pseudo postcode or with no postcode count as unknown.",
        caveats=("Completeness below 95% makes the deprivation breakdown less reliable.",),
        phrase="had an identifiable deprivation decile",
    ),
    Metric(
        id="booked_by_10_weeks",
        title="Booked for antenatal care by 10 weeks",
        short_title="Booked by 10 weeks",
        source=MSDS,
        section="Access to care",
        unit="%",
        multiplier=100,
        numerator="Women booked at 0 to 70 days' gestation",
        denominator="Women booked with a known gestation at booking",
        polarity=HIGHER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="NICE recommends booking by 10 weeks of pregnancy so that screening and "
        "care can start early. Later booking is more common among Black women and women from "
        "the most deprived areas.",
        phrase="were booked by 10 weeks",
    ),
    Metric(
        id="spontaneous_vaginal",
        title="Spontaneous vaginal birth",
        short_title="Spontaneous vaginal",
        source=MSDS,
        section="Mode of birth",
        unit="%",
        multiplier=100,
        numerator="Babies born by spontaneous vaginal delivery",
        denominator="Babies with a known method of delivery",
        polarity=NO_JUDGEMENT,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Share of babies born by spontaneous vaginal delivery. Mode of birth has "
        "no right level; differences between groups are a prompt to ask why.",
        phrase="had a spontaneous vaginal birth",
        subject="babies",
    ),
    Metric(
        id="instrumental",
        title="Instrumental birth (forceps or ventouse)",
        short_title="Instrumental",
        source=MSDS,
        section="Mode of birth",
        unit="%",
        multiplier=100,
        numerator="Babies born by forceps or ventouse",
        denominator="Babies with a known method of delivery",
        polarity=NO_JUDGEMENT,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Share of babies born with forceps or ventouse (vacuum) assistance.",
        phrase="had an instrumental birth",
        subject="babies",
    ),
    Metric(
        id="caesarean_planned",
        title="Planned (elective) caesarean birth",
        short_title="Planned caesarean",
        source=MSDS,
        section="Mode of birth",
        unit="%",
        multiplier=100,
        numerator="Babies born by elective caesarean section",
        denominator="Babies with a known method of delivery",
        polarity=NO_JUDGEMENT,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Share of babies born by planned caesarean section.",
        phrase="had a planned caesarean birth",
        subject="babies",
    ),
    Metric(
        id="caesarean_emergency",
        title="Emergency caesarean birth",
        short_title="Emergency caesarean",
        source=MSDS,
        section="Mode of birth",
        unit="%",
        multiplier=100,
        numerator="Babies born by emergency caesarean section",
        denominator="Babies with a known method of delivery",
        polarity=NO_JUDGEMENT,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Share of babies born by emergency caesarean section.",
        phrase="had an emergency caesarean birth",
        subject="babies",
    ),
    Metric(
        id="pph_1500",
        title="Postpartum haemorrhage of 1,500 ml or more",
        short_title="PPH ≥1,500 ml",
        source=MSDS,
        section="Outcomes",
        unit="per 1,000",
        multiplier=1000,
        numerator="Women who had a postpartum haemorrhage of 1,500 ml or more",
        denominator="Women giving birth",
        polarity=LOWER_IS_BETTER,
        statistic=RATE,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Rate of major obstetric haemorrhage per 1,000 women giving birth "
        "(MSDS CQIMPPH). England's rate is computed from unrounded counts.",
        caveats=("Not shown where fewer than 8 women had a haemorrhage (disclosure control).",),
        rare_event=True,
        annex3=True,
        phrase="had a postpartum haemorrhage of 1,500 ml or more",
    ),
    Metric(
        id="preterm",
        title="Preterm birth (before 37 weeks)",
        short_title="Preterm birth",
        source=MSDS,
        section="Outcomes",
        unit="per 1,000",
        multiplier=1000,
        numerator="Babies born before 37 completed weeks",
        denominator="Babies born",
        polarity=LOWER_IS_BETTER,
        statistic=RATE,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere(_GROUPS),
        definition="Rate of babies born before 37 weeks per 1,000 babies (MSDS CQIMPreterm). "
        "England's rate is computed from unrounded counts.",
        caveats=("Not shown where fewer than 8 babies were born preterm (disclosure control).",),
        rare_event=True,
        phrase="were born preterm",
        subject="babies",
    ),
    Metric(
        id="stillbirth",
        title="Stillbirth rate",
        short_title="Stillbirth",
        source=MBRRACE,
        section="Mortality",
        unit="per 1,000",
        multiplier=1000,
        numerator="Stillbirths at 24 weeks or more (terminations excluded)",
        denominator="Total births (live births and stillbirths)",
        polarity=LOWER_IS_BETTER,
        statistic=RATE,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("calendar_year",),
        dimensions={
            "england": (TOTAL, ETHNICITY, QUINTILE),
            "region": (TOTAL, ETHNICITY, QUINTILE),
            "icb": (TOTAL,),
            "trust": (TOTAL,),
        },
        definition="Stillbirths per 1,000 total births, by year of birth, as MBRRACE-UK "
        "defines them. Breakdowns by ethnicity and deprivation are published nationally and "
        "regionally, not by trust.",
        caveats=(
            "Crude rates: MBRRACE-UK also publishes stabilised and adjusted rates that account "
            "for trust size and population.",
            "Breakdowns by ethnicity and deprivation are not published below region.",
        ),
        annex3=True,
        decimals=2,
        phrase="were stillborn",
        subject="babies",
    ),
    Metric(
        id="neonatal_death",
        title="Neonatal mortality rate",
        short_title="Neonatal death",
        source=MBRRACE,
        section="Mortality",
        unit="per 1,000",
        multiplier=1000,
        numerator="Deaths in the first 28 days of life of babies born at 24 weeks or more",
        denominator="Live births",
        polarity=LOWER_IS_BETTER,
        statistic=RATE,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("calendar_year",),
        dimensions={
            "england": (TOTAL, ETHNICITY, QUINTILE),
            "region": (TOTAL, ETHNICITY, QUINTILE),
            "icb": (TOTAL,),
            "trust": (TOTAL,),
        },
        definition="Neonatal deaths per 1,000 live births, by year of birth, as MBRRACE-UK "
        "defines them.",
        caveats=(
            "Crude rates by place of birth; MBRRACE-UK stabilised rates differ for small trusts.",
            "Breakdowns by ethnicity and deprivation are not published below region.",
        ),
        annex3=True,
        decimals=2,
        phrase="died in the first 28 days",
        subject="babies",
    ),
    Metric(
        id="maternal_death",
        title="Maternal mortality rate",
        short_title="Maternal death",
        source=MBRRACE,
        section="Mortality",
        unit="per 100,000",
        multiplier=100_000,
        numerator="Women who died during pregnancy or up to 42 days after its end "
        "(direct and indirect causes)",
        denominator="Maternities",
        polarity=LOWER_IS_BETTER,
        statistic=RATE,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("rolling_3_years",),
        dimensions={"england": (TOTAL, ETHNICITY, QUINTILE)},
        definition="Maternal deaths per 100,000 maternities over three calendar years, as "
        "published by MBRRACE-UK in Saving Lives, Improving Mothers' Care.",
        caveats=(
            "Published for England (and the UK) only, as 3-year rolling rates: deaths are too "
            "few for trust or annual figures.",
        ),
        decimals=1,
        phrase="died during or within 42 days of pregnancy",
    ),
    Metric(
        id="concerns_taken_seriously",
        title="Concerns raised during labour and birth taken seriously",
        short_title="Concerns taken seriously",
        source=CQC,
        section="Experience",
        unit="%",
        multiplier=100,
        numerator="Respondents answering \"Yes\" that their concerns were taken seriously",
        denominator="Respondents who raised a concern during labour and birth",
        polarity=HIGHER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("survey_year",),
        dimensions={
            "england": (TOTAL, ETHNICITY, QUINTILE),
            "region": (TOTAL, ETHNICITY, QUINTILE),
            "trust": (TOTAL,),
        },
        definition="From the CQC maternity survey of women who gave birth in February.",
        caveats=("Survey results: unweighted here; CQC's published trust results are "
                 "weighted and have their own confidence intervals.",),
        phrase="said their concerns were taken seriously",
    ),
    Metric(
        id="considered_complaint",
        title="Considered making a complaint",
        short_title="Considered a complaint",
        source=CQC,
        section="Experience",
        unit="%",
        multiplier=100,
        numerator="Respondents answering \"Yes\" to \"did you consider making a complaint "
        "about the care you received?\"",
        denominator="Respondents answering the question",
        polarity=LOWER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("survey_year",),
        dimensions={
            "england": (TOTAL, ETHNICITY, QUINTILE),
            "region": (TOTAL, ETHNICITY, QUINTILE),
            "trust": (TOTAL,),
        },
        definition="The patient-experience measure of the Performance dashboard (Annex 3), "
        "from the CQC maternity survey.",
        caveats=("Survey results: unweighted here.",),
        annex3=True,
        phrase="considered making a complaint",
    ),
    Metric(
        id="ou_suspension",
        title="Obstetric unit suspensions",
        short_title="Obstetric unit suspensions",
        source=ANNEX3,
        section="Performance",
        unit="%",
        multiplier=100,
        numerator="Unit-fortnights in which an obstetric unit reported a suspension",
        denominator="Unit-fortnights (obstetric units × fortnights in the period)",
        polarity=LOWER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=NOT_PEOPLE,
        period_kinds=("quarter", "half_year", "financial_year"),
        dimensions={"england": (TOTAL,), "region": (TOTAL,), "trust": (TOTAL,)},
        definition="The proportion of obstetric units reporting a suspension during the "
        "previous fortnight, pooled over the fortnights of the period.",
        caveats=("Counts units, not people: no breakdown by ethnicity or deprivation.",),
        annex3=True,
        phrase="",
        subject="unit-fortnights",
    ),
    Metric(
        id="nnu_suspension",
        title="Neonatal unit suspensions (internal and external)",
        short_title="Neonatal unit suspensions",
        source=ANNEX3,
        section="Performance",
        unit="%",
        multiplier=100,
        numerator="Unit-fortnights with a suspension to admissions lasting 24 hours or more",
        denominator="Unit-fortnights (neonatal units × fortnights in the period)",
        polarity=LOWER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=NOT_PEOPLE,
        period_kinds=("quarter", "half_year", "financial_year"),
        dimensions={"england": (TOTAL,), "region": (TOTAL,), "trust": (TOTAL,)},
        definition="The proportion of neonatal units reporting suspension to internal or "
        "external admissions for at least one period of 24 hours or more during the previous "
        "fortnight, pooled over the fortnights of the period.",
        caveats=("Counts units, not people: no breakdown by ethnicity or deprivation.",),
        annex3=True,
        subject="unit-fortnights",
    ),
    Metric(
        id="iol_delay",
        title="Delays to induction of labour over 24 hours",
        short_title="Induction delays",
        source=ANNEX3,
        section="Performance",
        unit="%",
        multiplier=100,
        numerator="Inductions of labour delayed by more than 24 hours",
        denominator="Inductions of labour",
        polarity=LOWER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("quarter", "half_year", "financial_year"),
        dimensions={"england": (TOTAL,), "region": (TOTAL,), "trust": (TOTAL,)},
        definition="Annex 3 reports the percentage of trusts where a woman experienced a "
        "delay over 24 hours; here the trust figure is the share of its inductions delayed.",
        caveats=("Annex 3's national figure counts trusts with any delay; this dashboard "
                 "shows the share of inductions delayed.",),
        annex3=True,
        phrase="had an induction delayed by more than 24 hours",
    ),
    Metric(
        id="optimal_perinatal_care",
        title="Optimal perinatal care (all eligible components)",
        short_title="Optimal perinatal care",
        source=ANNEX3,
        section="Performance",
        unit="%",
        multiplier=100,
        numerator="Babies under 34 weeks who received every component they were eligible for "
        "(antenatal steroids, magnesium sulphate, birth in a NICU centre, deferred cord "
        "clamping, normal temperature on admission, breast milk in the first 2 days)",
        denominator="Babies born under 34 weeks",
        polarity=HIGHER_IS_BETTER,
        statistic=PROPORTION,
        disclosure=WITHHOLD_SMALL,
        period_kinds=("financial_year",),
        dimensions={"england": (TOTAL,), "region": (TOTAL,), "trust": (TOTAL,)},
        definition="The NNAP optimal perinatal care composite used by the Performance "
        "dashboard.",
        annex3=True,
        phrase="received optimal perinatal care",
        subject="babies",
    ),
    Metric(
        id="booking_population",
        title="Women booked, by group",
        short_title="Share of women booked",
        source=MSDS,
        section="Population served",
        unit="%",
        multiplier=100,
        numerator="Women booked in the group",
        denominator="Women booked (all groups, including not known)",
        polarity=NO_JUDGEMENT,
        statistic=PROPORTION,
        disclosure=ROUND_TO_5,
        period_kinds=_MSDS_PERIODS,
        dimensions=_everywhere((ETHNICITY, DECILE, QUINTILE)),
        definition="Who an organisation serves: the share of the women booked for antenatal "
        "care who are in each ethnic group or deprivation decile (and quintile), with the "
        "not stated, not known and missing categories shown as groups of their own. It "
        "describes the population; no share is better or worse than another.",
        caveats=(
            "A description of who is served, not an outcome: it has no right level and is "
            "not compared between groups.",
            "The annual statistics count women giving birth in the year, by the group "
            "recorded at booking; the monthly statistics count women booked in the month.",
        ),
        profile=True,
    ),
)

METRICS: dict[str, Metric] = {m.id: m for m in METRICS_LIST}
# Outcome and process metrics: what the Explore, Benchmark, Trends, Map, Intersections,
# Overview and board pack views offer. Profiles are shown on the Data quality page only.
OUTCOME_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS_LIST if not m.profile)
OUTCOMES: dict[str, Metric] = {m.id: m for m in OUTCOME_METRICS}
PROFILE_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS_LIST if m.profile)
ANNEX3_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS_LIST if m.annex3)
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(m.section for m in METRICS_LIST))

# Counts of different metrics that add up, for one organisation, period and group: each
# entry is (total, parts), every one a (metric id, "numerator" or "denominator") pair.
# Disclosure control treats them like a table's groups and total, since a withheld count
# is the total minus the other parts. Counts rounded to 5 (MSDS) need no entry: rounding
# already hides the difference (deliveries and babies, women booked and women delivering).
POPULATION_SUMS: tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...] = (
    # Total births = live births + stillbirths (MBRRACE-UK, counted exactly).
    (("stillbirth", "denominator"),
     (("neonatal_death", "denominator"), ("stillbirth", "numerator"))),
)


# -- local indicators -------------------------------------------------------------------------

LOCAL = "Local"  # the flag every local figure carries
LOCAL_SECTION = "Local indicators"
LOCAL_PREFIX = "local_"
LOCAL_PERIODS = ("quarter", "month", "financial_year")


def local_source(network_name: str) -> str:
    """The source line of a network's local indicators."""
    return f"{LOCAL}: provider returns, approved by {network_name}"


def local_metric(entry: dict, network: dict) -> Metric:
    """The registry entry of one local indicator, from its definition as a store's manifest
    carries it (``entry``: id, title, short_title, numerator, denominator, unit, multiplier,
    polarity, breakdowns, providers, definition, subject; ``network``: code, name, region).

    Published for each provider (trust) and for the network's providers summed under their
    region; counted exactly and withheld where 1 to 7 (:data:`WITHHOLD_SMALL`).
    """
    name = network["name"]
    providers = entry.get("providers") or network.get("providers") or ()
    breakdowns = tuple(entry["breakdowns"])
    return Metric(
        id=entry.get("metric") or LOCAL_PREFIX + entry["id"],
        title=f"{entry['title']} ({LOCAL})",
        short_title=f"{entry['short_title']} ({LOCAL})",
        source=local_source(name),
        section=LOCAL_SECTION,
        unit=entry["unit"],
        multiplier=int(entry.get("multiplier") or (100 if entry["unit"] == "%" else 1000)),
        numerator=entry["numerator"],
        denominator=entry["denominator"],
        polarity=entry["polarity"],
        statistic=PROPORTION if entry["unit"] == "%" else RATE,
        disclosure=WITHHOLD_SMALL,
        period_kinds=LOCAL_PERIODS,
        dimensions={"region": breakdowns, "trust": breakdowns},
        definition=(entry.get("definition") or entry["title"]) + f" A local indicator of "
        f"{name}, from the monthly returns of its providers, published once approved by "
        "the network's reviewers.",
        caveats=(
            f"Local figures: provider returns to {name}, not official statistics; no "
            "national comparison exists.",
            f"The region's figure is the sum of the network's {len(providers)} providers "
            "(not every trust in the region), for periods in which all of them were "
            "approved.",
        ),
        # For gap sentences: "72.0% of Black women met “PMH seen in 28 days”: ...".
        phrase=f"met “{entry['short_title']}”",
        subject=entry.get("subject", "women"),
    )


def local_metrics(section: dict | None) -> tuple[Metric, ...]:
    """The local metrics a store's manifest defines (its ``local`` section; none if None)."""
    if not section:
        return ()
    return tuple(local_metric(entry, section["network"]) for entry in section["indicators"])


def _no_local() -> tuple[Metric, ...]:
    return ()


_local_source: Callable[[], tuple[Metric, ...]] = _no_local


def use_local(source: Callable[[], tuple[Metric, ...]] | None) -> None:
    """Take the local metrics from ``source`` (a function of no arguments giving the
    published store's, see ``data.queries``); None for national metrics only."""
    global _local_source
    _local_source = source or _no_local


def local() -> tuple[Metric, ...]:
    """The local metrics of the published store (none when it carries none)."""
    return _local_source()


def all_metrics() -> tuple[Metric, ...]:
    """Every metric: the national ones, then the published store's local ones."""
    return METRICS_LIST + local()


def metrics() -> dict[str, Metric]:
    """Metric id -> metric for :func:`all_metrics`."""
    return METRICS | {m.id: m for m in local()}


def outcome_metrics() -> tuple[Metric, ...]:
    """Outcome and process metrics (:data:`OUTCOME_METRICS`) and the local ones."""
    return OUTCOME_METRICS + local()


def outcomes() -> dict[str, Metric]:
    """Metric id -> metric for :func:`outcome_metrics`."""
    return OUTCOMES | {m.id: m for m in local()}


def sections() -> tuple[str, ...]:
    """Sections in order (:data:`SECTIONS`), with the local indicators' last if any."""
    return SECTIONS + ((LOCAL_SECTION,) if local() else ())


def is_local(metric: Metric) -> bool:
    """True for a network's local indicator."""
    return metric.section == LOCAL_SECTION


def get(metric_id: str) -> Metric:
    """The metric with ``metric_id``; ``KeyError`` listing valid ids otherwise."""
    found = METRICS.get(metric_id)
    if found is not None:
        return found
    known = metrics()
    try:
        return known[metric_id]
    except KeyError:
        raise KeyError(
            f"unknown metric {metric_id!r}; choose one of: {', '.join(known)}"
        ) from None
