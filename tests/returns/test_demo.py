"""The demo network: its stories, its figures' shape, and that it is deterministic."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from returns import db, demo, service
from returns.indicators import IndicatorSet

ORGS = pl.DataFrame({
    "org_code": ["R1", "T9", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1"],
    "org_level": ["region"] + ["trust"] * 9,
    "region_code": ["R1"] + ["R1"] * 8 + ["R2"],
    "closed": [None] * 10,
    "annual_births": [None, 3000, 4000, 2000, 5000, 3500, 2500, 6000, 1500, 3000],
}, schema_overrides={"closed": pl.Date})


@pytest.fixture
def seeded(sqlite_engine) -> tuple:
    found = demo.seed(sqlite_engine, organisations=ORGS)
    return sqlite_engine, found


def test_providers_are_picked_from_the_store_table():
    assert demo.pick_providers(ORGS) == ("R1", ("T1", "T2", "T3", "T4", "T5", "T6"))
    with pytest.raises(service.ReturnsError, match="6 open trusts"):
        demo.pick_providers(ORGS.head(4))


def test_the_stories(seeded):
    engine, found = seeded
    assert isinstance(found, IndicatorSet)
    assert found.providers() == ("T1", "T2", "T3", "T4", "T5", "T6")
    cells = service.status(engine, demo.REVIEWER, today=demo.DEMO_TODAY)
    assert len(cells) == 6 * 12
    assert Counter(c.state for c in cells) == {"approved": 67, "missing": 2, "late": 1,
                                               "sent_back": 1, "submitted": 1}
    (resubmitted,) = [c for c in cells if c.version == 2]
    assert (resubmitted.state, resubmitted.org_code) == ("approved", "T2")
    history = service.history(engine, demo.REVIEWER, "T2", resubmitted.month)
    assert [(v.state, v.superseded) for v in history] == [("sent_back", True),
                                                          ("approved", False)]
    assert history[1].changes.startswith("1 figure changed: pmh_referral_28d total All "
                                         "denominator")
    (back,) = [c for c in cells if c.state == "sent_back"]
    assert "ethnicity breakdown" in back.comment
    # Every demo person exists with the right role.
    assert service.person(engine, "submitter@T4") == service.Person("submitter@T4",
                                                                    "submitter", "T4")
    assert service.person(engine, demo.REVIEWER).role == service.REVIEWER
    # Later, the still-due months are late.
    later = service.status(engine, demo.REVIEWER, today=demo.DEMO_TODAY.replace(month=5))
    assert Counter(c.state for c in later)["late"] == 3


def _rate(frame: pl.DataFrame) -> float:
    return frame["numerator"].sum() / frame["denominator"].sum()


def test_figures_add_up_and_show_gradients(seeded):
    engine, _found = seeded
    rows = service.approved_rows(engine)
    assert rows["month"].n_unique() == 12
    totals = rows.filter(dimension="total")
    parts = (rows.filter(pl.col("dimension") != "total")
             .group_by("indicator", "org_code", "month", "dimension")
             .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
             .join(totals, on=["indicator", "org_code", "month"], suffix="_total"))
    assert (parts["numerator"] == parts["numerator_total"]).all()
    assert (parts["denominator"] == parts["denominator_total"]).all()

    def rate(indicator, dimension, group):
        return _rate(rows.filter(indicator=indicator, dimension=dimension, group=group))

    assert 0.6 < _rate(totals.filter(indicator="pmh_referral_28d")) < 0.85
    assert 15 < 1000 * _rate(totals.filter(indicator="readmission_30d")) < 40
    assert rate("continuity_29w", "deprivation_quintile", "Q1 (most deprived)") > \
        rate("continuity_29w", "deprivation_quintile", "Q5 (least deprived)") + 0.05
    assert rate("pmh_referral_28d", "ethnicity", "White") > \
        rate("pmh_referral_28d", "ethnicity", "Black")
    smokers = rows.filter(indicator="smoking_referral", dimension="deprivation_quintile")
    assert smokers.filter(group="Q1 (most deprived)")["denominator"].sum() > \
        2 * smokers.filter(group="Q5 (least deprived)")["denominator"].sum()
    assert set(rows.filter(indicator="readmission_30d")["dimension"]) == \
        {"total", "deprivation_quintile"}


def test_seeding_is_deterministic_and_replaces_itself(seeded):
    engine, _found = seeded
    first = service.approved_rows(engine)
    demo.seed(engine, organisations=ORGS)
    assert service.approved_rows(engine).equals(first)


def test_another_network_is_never_overwritten(sqlite_engine, indicator_set):
    service.define(sqlite_engine, indicator_set, who="admin")
    with pytest.raises(service.ReturnsError, match="another network"):
        demo.seed(sqlite_engine, organisations=ORGS)
    assert service.current_set(sqlite_engine) == indicator_set


def test_demo_store_region(demo_root):
    from data import store

    organisations = store.load_store(demo_root).organisations
    region, codes = demo.pick_providers(organisations)
    trusts = organisations.filter(pl.col("org_code").is_in(list(codes)))
    assert set(trusts["region_code"]) == {region}
    assert set(trusts["org_level"]) == {"trust"}
    assert len(codes) == demo.PROVIDERS
    assert demo.demo_set(organisations).region_code == region


def test_build_demo_seeds_beside_the_store(demo_root, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'returns.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    found = demo.seed_store(demo_root)
    try:
        assert found is not None and found.network_code == demo.NETWORK
        cells = service.status(db.engine(url), demo.REVIEWER, today=demo.DEMO_TODAY)
        assert {c.org_code for c in cells} == set(found.providers())
    finally:
        db.dispose(url)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert demo.seed_store(demo_root) is None  # unreachable: the store build goes on
