"""The organisation menu's order: England, regions, ICBs, trusts, closed trusts last."""

from __future__ import annotations

from datetime import date

import polars as pl

from components import controls


def _organisations() -> pl.DataFrame:
    return pl.DataFrame({
        "org_code": ["T2", "T1", "ENG", "T0", "I1", "R1"],
        "org_level": ["trust", "trust", "england", "trust", "icb", "region"],
        "name": ["Bravo Trust", "Alpha Trust", "England", "Aardvark Trust", "Some ICB",
                 "North"],
        "closed": [None, None, None, date(2021, 3, 31), None, None],
    })


def test_england_regions_icbs_then_trusts_in_name_order_closed_last():
    options = controls.org_options(_organisations(), ("england", "region", "icb", "trust"))
    assert [o["value"] for o in options] == ["ENG", "R1", "I1", "T1", "T2", "T0"]
    assert options[-1]["label"] == "Aardvark Trust (Trust) – closed Mar 2021"


def test_without_a_closed_column_the_order_is_by_level_and_name():
    options = controls.org_options(_organisations().drop("closed"), ("trust",))
    assert [o["value"] for o in options] == ["T0", "T1", "T2"]


def test_one_levels_labels_may_leave_the_level_out():
    named = controls.org_options(_organisations(), ("trust",))
    bare = controls.org_options(_organisations(), ("trust",), named=False)
    assert [o["value"] for o in bare] == [o["value"] for o in named]
    assert [o["label"] for o in bare] == ["Alpha Trust", "Bravo Trust",
                                          "Aardvark Trust – closed Mar 2021"]
