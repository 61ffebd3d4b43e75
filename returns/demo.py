"""The demo network: the demo indicator set over a handful of trusts in one region of the
demo store, and a year of synthetic monthly returns with their review.

Counts are simulated per ethnic group x deprivation quintile cell (binomial numerators
around plausible rates, with ethnic and deprivation gradients and a little variation
between trusts), so every breakdown adds up to its total. Most returns are approved; one
is resubmitted after being sent back (version 2 approved), one is sent back and waiting for
the provider, one is waiting for review, one is late and, on the default ``today``, two of
the last month's are still due. Everything follows from ``seed``.
"""

from __future__ import annotations

import calendar
import csv
import io
import logging
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from metrics.categories import (
    DEPRIVATION_UNKNOWN,
    ETHNIC_GROUPS,
    ETHNIC_UNKNOWN,
    ETHNICITY,
    QUINTILE,
    QUINTILES,
    TOTAL,
)
from returns import db, service
from returns.indicators import IndicatorSet, from_dict

log = logging.getLogger(__name__)

INDICATORS_FILE = Path(__file__).with_name("demo_indicators.toml")
NETWORK = "DEMO-NET"
REVIEWER = "reviewer@network"
DEMO_SEED = 22
DEMO_TODAY = date(2025, 4, 10)  # ten days after the demo year's last month ends
PROVIDERS = 6
DEFAULT_BIRTHS = 3000  # a year, for a trust the store gives no births for

ETHNIC = ETHNIC_GROUPS + ETHNIC_UNKNOWN
DEPRIVATION = QUINTILES + DEPRIVATION_UNKNOWN
ETHNIC_SHARE = np.array([0.72, 0.03, 0.11, 0.06, 0.03, 0.03, 0.015, 0.005])
QUINTILE_SHARE = np.array([0.24, 0.22, 0.20, 0.18, 0.15, 0.01])


@dataclass(frozen=True)
class Model:
    """How an indicator is simulated: the share of births in its denominator, who is in it
    (relative weights by group) and the rate (log-odds effects by group)."""

    share: float
    rate: float
    ethnic_weight: tuple[float, ...] = (1,) * len(ETHNIC)
    deprivation_weight: tuple[float, ...] = (1,) * len(DEPRIVATION)
    ethnic_effect: tuple[float, ...] = (0,) * len(ETHNIC)
    deprivation_effect: tuple[float, ...] = (0,) * len(DEPRIVATION)


MODELS = {
    "pmh_referral_28d": Model(
        share=0.07, rate=0.74, deprivation_weight=(1.3, 1.15, 1, 0.9, 0.8, 1),
        ethnic_effect=(0, -0.2, -0.35, -0.45, -0.3, -0.2, -0.2, -0.2),
        deprivation_effect=(-0.3, -0.2, -0.1, 0, 0, -0.2)),
    "interpreter_at_booking": Model(
        share=0.05, rate=0.82, ethnic_weight=(0.15, 0.5, 2.5, 2.0, 4.0, 1, 1, 1),
        deprivation_weight=(1.4, 1.2, 1, 0.8, 0.6, 1),
        ethnic_effect=(0.2, 0, -0.1, -0.25, -0.35, 0, 0, 0),
        deprivation_effect=(-0.3, -0.15, 0, 0, 0.1, 0)),
    "continuity_29w": Model(
        share=1.0, rate=0.22, ethnic_effect=(0, 0.3, 0.4, 0.6, 0.2, 0, 0, 0),
        deprivation_effect=(0.7, 0.35, 0, -0.1, -0.2, 0)),
    "smoking_referral": Model(
        share=0.09, rate=0.86, ethnic_weight=(1.2, 1, 0.4, 0.5, 0.6, 1, 1, 1),
        deprivation_weight=(2.2, 1.6, 1.1, 0.8, 0.6, 1),
        ethnic_effect=(0, -0.1, -0.2, -0.3, -0.2, 0, 0, 0),
        deprivation_effect=(-0.25, -0.15, 0, 0.05, 0.1, 0)),
    "readmission_30d": Model(
        share=1.0, rate=0.025, ethnic_effect=(0, 0.1, 0.15, 0.25, 0.1, 0, 0, 0),
        deprivation_effect=(0.35, 0.2, 0.1, 0, 0, 0)),
}


@dataclass(frozen=True)
class Story:
    """What happens to one provider's return for one month."""

    state: str  # approved, resubmitted, sent_back, submitted, none
    comment: str = ""


def demo_set(organisations: pl.DataFrame | None = None) -> IndicatorSet:
    """The demo indicator set; its providers and region taken from ``organisations`` (the
    store's table) when given, else as written in ``demo_indicators.toml``."""
    data = tomllib.loads(INDICATORS_FILE.read_text(encoding="utf-8"))
    if organisations is not None:
        region, providers = pick_providers(organisations)
        data["network"] |= {"region": region, "providers": list(providers)}
    return from_dict(data, name=str(INDICATORS_FILE.name))


def pick_providers(organisations: pl.DataFrame, count: int = PROVIDERS
                   ) -> tuple[str, tuple[str, ...]]:
    """The region with the fewest open trusts (at least ``count``; ties by code) and its
    first ``count`` trusts by code."""
    trusts = organisations.filter(pl.col("org_level") == "trust", pl.col("closed").is_null(),
                                  pl.col("region_code").is_not_null())
    sizes = (trusts.group_by("region_code").len().filter(pl.col("len") >= count)
             .sort("len", "region_code"))
    if sizes.is_empty():
        raise service.ReturnsError(f"no region of the store has {count} open trusts for the "
                                   "demo network")
    region = sizes["region_code"][0]
    codes = trusts.filter(pl.col("region_code") == region).sort("org_code")["org_code"]
    return region, tuple(codes.head(count).to_list())


def stories(providers: tuple[str, ...], months: list[date]) -> dict[tuple[str, date], Story]:
    """Which return is resubmitted, sent back, waiting, late or still due; the rest are
    approved."""
    out = {(p, m): Story("approved") for p in providers for m in months}
    last, before = months[-1], months[-2]
    p = providers
    out[(p[1], months[5])] = Story("resubmitted", "The perinatal mental health denominator "
                                   "is about ten times last month's: please check the total.")
    out[(p[2], months[-3])] = Story("sent_back", "The interpreter figures have no ethnicity "
                                    "breakdown: please add it and resubmit.")
    out[(p[3], before)] = Story("submitted")
    out[(p[4], before)] = Story("none")  # late
    for provider in p[3:5]:
        out[(provider, last)] = Story("none")  # still due on the default today
    return out


def simulate(indicator_set: IndicatorSet, births: dict[str, int], months: list[date],
             rng: np.random.Generator) -> dict[tuple[str, date], list[tuple]]:
    """Rows ``(indicator, dimension, group, numerator, denominator)`` per provider and
    month."""
    out: dict[tuple[str, date], list[tuple]] = {}
    for provider in indicator_set.providers():
        ethnic = rng.dirichlet(ETHNIC_SHARE * 300)
        deprivation = rng.dirichlet(QUINTILE_SHARE * 300)
        trust_effect = {i.id: rng.normal(0, 0.25) for i in indicator_set.indicators}
        for month in months:
            season = 1 + 0.06 * np.cos(2 * np.pi * (month.month - 8) / 12)
            expected = births.get(provider, DEFAULT_BIRTHS) / 12 * season
            rows: list[tuple] = []
            for indicator in indicator_set.indicators_for(provider):
                model = MODELS[indicator.id]
                num, den = _cells(model, expected, ethnic, deprivation,
                                  trust_effect[indicator.id], rng)
                rows += _rows(indicator.id, indicator.breakdowns, num, den)
            out[(provider, month)] = rows
    return out


def _cells(model: Model, expected: float, ethnic: np.ndarray, deprivation: np.ndarray,
           trust_effect: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    weights = np.outer(ethnic * model.ethnic_weight, deprivation * model.deprivation_weight)
    total = rng.poisson(expected * model.share)
    den = rng.multinomial(total, (weights / weights.sum()).ravel()).reshape(weights.shape)
    logit = (np.log(model.rate / (1 - model.rate)) + trust_effect + rng.normal(0, 0.05)
             + np.add.outer(model.ethnic_effect, model.deprivation_effect))
    num = rng.binomial(den, 1 / (1 + np.exp(-logit)))
    return num, den


def _rows(indicator: str, breakdowns: tuple[str, ...], num: np.ndarray,
          den: np.ndarray) -> list[tuple]:
    rows = [(indicator, TOTAL, "All", int(num.sum()), int(den.sum()))]
    if ETHNICITY in breakdowns:
        rows += [(indicator, ETHNICITY, g, int(n), int(d))
                 for g, n, d in zip(ETHNIC, num.sum(1), den.sum(1), strict=True) if d]
    if QUINTILE in breakdowns:
        rows += [(indicator, QUINTILE, g, int(n), int(d))
                 for g, n, d in zip(DEPRIVATION, num.sum(0), den.sum(0), strict=True) if d]
    return rows


def return_csv(org_code: str, month: date, rows: list[tuple]) -> str:
    """A return's CSV as a provider would send it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("organisation", "month", "indicator", "dimension", "group", "numerator",
                     "denominator"))
    writer.writerows((org_code, f"{month:%Y-%m}", *row) for row in rows)
    return out.getvalue()


def seed(engine: sa.Engine, *, today: date = DEMO_TODAY,
         organisations: pl.DataFrame | None = None, seed: int = DEMO_SEED) -> IndicatorSet:
    """Replace the demo network's data in ``engine`` with a fresh year of returns as they
    stood on ``today``; returns the demo set.

    ``organisations`` is the store's organisations table (providers are picked from it and
    their births scale the counts); without it the TOML file's providers are used. A
    database holding any other network is refused (:class:`~returns.service.ReturnsError`)
    and left as it is.
    """
    indicator_set = demo_set(organisations)
    births = _births(organisations)
    _clear(engine)
    rng = np.random.default_rng(seed)
    months = _months(indicator_set)
    figures = simulate(indicator_set, births, months, rng)
    service.define(engine, indicator_set, who=REVIEWER)
    service.grant(engine, REVIEWER, service.REVIEWER)
    for provider in indicator_set.providers():
        service.grant(engine, submitter(provider), service.SUBMITTER, provider)
    plan = stories(indicator_set.providers(), months)
    events = []
    for (provider, month), story in plan.items():
        events += _events(provider, month, story, figures[(provider, month)], rng)
    cutoff = datetime.combine(today, time())
    for when, _order, act in sorted(events, key=lambda e: (e[0], e[1])):
        if when < cutoff:
            act(engine, when)
    log.info("seeded the demo returns: %d providers, %d months", len(plan) // len(months),
             len(months))
    return indicator_set


def submitter(org_code: str) -> str:
    """The demo submitter of ``org_code``."""
    return f"submitter@{org_code}"


def _events(provider: str, month: date, story: Story, rows: list[tuple],
            rng: np.random.Generator) -> list[tuple]:
    """``(when, order, act)`` for one provider-month: submissions and reviews."""
    if story.state == "none":
        return []
    end = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    sent = datetime.combine(end, time(9)) + timedelta(days=int(rng.integers(2, 7)),
                                                      minutes=int(rng.integers(0, 480)))
    reviewed = sent + timedelta(days=int(rng.integers(1, 4)), hours=int(rng.integers(1, 6)))
    who = submitter(provider)
    name = f"{provider}-{month:%Y-%m}.csv"

    def send(csv_rows, filename=name):
        text = return_csv(provider, month, csv_rows)
        return lambda engine, when: _submit(engine, who, provider, month, text, filename, when)

    def review(state, comment="", version=1):
        def act(engine, when):
            found = service.history(engine, REVIEWER, provider, month)[version - 1]
            if state == service.APPROVED:
                service.approve(engine, REVIEWER, found.id, comment=comment, now=when)
            else:
                service.send_back(engine, REVIEWER, found.id, comment=comment, now=when)
        return act

    if story.state == "submitted":
        return [(sent, 0, send(rows))]
    if story.state == "sent_back":
        partial = [r for r in rows if not (r[0] == "interpreter_at_booking"
                                           and r[1] == ETHNICITY)]
        return [(sent, 0, send(partial)), (reviewed, 1, review(service.SENT_BACK,
                                                                  story.comment))]
    if story.state == "resubmitted":
        wrong = [(i, d, g, n, den * 10) if (i == "pmh_referral_28d" and d == TOTAL) else
                 (i, d, g, n, den) for i, d, g, n, den in rows]
        again = reviewed + timedelta(days=2, hours=3)
        return [(sent, 0, send(wrong)),
                (reviewed, 1, review(service.SENT_BACK, story.comment)),
                (again, 2, send(rows, name.replace(".csv", "-corrected.csv"))),
                (again + timedelta(days=1), 3, review(service.APPROVED, "Thank you: "
                                                      "corrected.", version=2))]
    return [(sent, 0, send(rows)), (reviewed, 1, review(service.APPROVED))]


def _submit(engine, who, provider, month, text, filename, when) -> None:
    service.submit(engine, who, provider, month, text, filename=filename, now=when)


def _months(indicator_set: IndicatorSet) -> list[date]:
    month, out = indicator_set.first_month, []
    last = indicator_set.last_month or indicator_set.first_month
    while month <= last:
        out.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def _births(organisations: pl.DataFrame | None) -> dict[str, int]:
    if organisations is None or "annual_births" not in organisations.columns:
        return {}
    trusts = organisations.filter(pl.col("annual_births").is_not_null())
    return dict(zip(trusts["org_code"], trusts["annual_births"], strict=True))


def _clear(engine: sa.Engine) -> None:
    """Empty the tables, unless they hold another network's data (then refuse)."""
    with engine.begin() as conn:
        networks = set(conn.execute(sa.select(db.indicator_sets.c.network_code)).scalars())
        if networks - {NETWORK}:
            raise service.ReturnsError(
                f"the returns database holds another network ({', '.join(sorted(networks))}): "
                "the demo is not written over it")
        for table in (db.return_rows, db.returns, db.people, db.indicator_sets):
            conn.execute(sa.delete(table))


def seed_store(data_dir: Path | None = None, *, today: date = DEMO_TODAY) -> IndicatorSet | None:
    """Seed the demo returns beside the demo store in ``data_dir`` (or the database
    ``DATABASE_URL`` names); None, with a warning, when that database holds another network
    or cannot be reached (the store itself is built either way)."""
    from data import store

    organisations = store.load_store(data_dir).organisations
    try:
        target = db.engine(db.database_url(Path(data_dir) if data_dir else None))
        return seed(target, today=today, organisations=organisations)
    except (service.ReturnsError, sa.exc.OperationalError) as error:
        log.warning("demo returns not seeded: %s", str(error).splitlines()[0])
        return None
