"""Every page with a period menu offers 6-month periods for a metric with quarterly data, and
a link to one of them opens it."""

from __future__ import annotations

import pytest

from data import queries
from tests.pages.conftest import by_id, text_of

# (page, its period menu, a metric with quarters on that page)
MENUS = [("explore", "EXPLORE_PERIOD", "pph_1500"),
         ("explore", "EXPLORE_PERIOD", "iol_delay"),
         ("benchmark", "BENCHMARK_PERIOD", "pph_1500"),
         ("map", "MAP_PERIOD", "pph_1500"),
         ("data_quality", "DATA_QUALITY_PERIOD", "ethnicity_recorded")]


def _values(dropdown) -> list[str]:
    return [o["value"] for o in dropdown.options]


@pytest.mark.parametrize(("name", "menu", "metric"), MENUS)
def test_period_menu_offers_half_years(page, name, menu, metric):
    module = page(name)
    halves = queries.periods(metric, "half_year")
    assert len(halves) >= 8
    offered = _values(by_id(module.layout(metric=metric), getattr(module, menu)))
    assert set(halves) <= set(offered)
    latest = halves[-1]
    chosen = by_id(module.layout(metric=metric, period=latest), getattr(module, menu))
    assert chosen.value == latest


def test_trends_offers_half_years_with_spc(page):
    module = page("trends")
    tree = module.layout(metric="pph_1500")
    kinds = by_id(tree, module.TRENDS_KIND)
    assert "half_year" in _values(kinds)
    label = next(o["label"] for o in kinds.options if o["value"] == "half_year")
    assert "overlapping" not in label
    tree = module.layout(metric="pph_1500", kind="half_year")
    assert by_id(tree, module.TRENDS_KIND).value == "half_year"
    assert queries.periods("pph_1500", "half_year")[-1] in text_of(tree)


def test_exported_heading_names_half_years():
    from components import viewwords

    _, lines = viewwords.describe("/trends", "?metric=pph_1500&kind=half_year", {})
    assert ("Periods", "6 months (financial half-years: April to September, October to "
            "March)") in lines
