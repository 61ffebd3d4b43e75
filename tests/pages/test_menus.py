"""Organisation menus: a layout sends the chosen organisations only and names the file of
every option, which the browser fetches once per store build (web/menus.py); Benchmark's
multi-select picker of one level's units too."""

from __future__ import annotations

import pytest

from components import controls
from data import queries
from tests.pages.conftest import find
from views import benchmark as models

# Pages with an organisation menu, and a view of each naming a trust.
VIEWS = {
    "overview": {"org": "SYN071"},
    "explore": {"org": "SYN071"},
    "trends": {"org": "SYN071"},
    "intersections": {"org": "SYN071"},
    "scorecard": {"org": "SYN071"},
    "data_quality": {"org": "SYN071"},
    "mortality": {"org": "SYN071"},
    "experience": {"org": "SYN071"},
}


def _menus(tree) -> list[dict]:
    return [w.to_plotly_json()["props"] for w in
            find(tree, lambda c: getattr(c, "className", None) == "org-menu")]


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_page_sends_the_chosen_organisation_and_the_file_gives_every_one(
        dash_app, page, name):
    with dash_app.server.test_request_context("/"):
        menus = _menus(page(name).layout(**VIEWS[name]))
        assert menus, name
        for menu in menus:
            dropdown = menu["children"]
            assert [o["value"] for o in dropdown.options] == [dropdown.value]
            url = menu["data-menu-options"]
            assert menu["data-menu-id"] == dropdown.id
            assert url.startswith(f"/menus/organisations/{queries.build_id()}/")
            levels = tuple(url.rsplit("/", 1)[1].removesuffix(".json").split("-"))
            expected = controls.org_options(queries.organisations(), levels)
    answer = dash_app.server.test_client().get(url)
    assert answer.status_code == 200
    assert answer.json == expected and len(expected) > 100
    assert dropdown.options[0] in expected
    assert "immutable" in answer.headers["Cache-Control"]


def test_an_old_build_or_an_unknown_level_is_not_kept(dash_app):
    client = dash_app.server.test_client()
    old = client.get("/menus/organisations/19990101T000000-000000/england-trust.json")
    assert old.status_code == 200 and old.headers["Cache-Control"] == "no-cache"
    assert client.get("/menus/organisations/x/england-planet.json").status_code == 404


def _picker_options_before(metric: str, level: str) -> list[dict]:
    """The options Benchmark's picker carried in its layout before the menus file: the
    level's units, the level's suffix taken off each label."""
    suffix = f" ({controls.LEVEL_LABELS[level]})"
    return [o | {"label": o["label"].replace(suffix, "")} for o in
            controls.org_options(models.choices(metric).units_at(level), (level,))]


@pytest.mark.parametrize(("query", "level", "chosen"), [
    ({"trusts": "SYN020,SYN010"}, "trust", ["SYN020", "SYN010"]),
    ({}, "trust", []),
    ({"compare": "icb", "trusts": "SYNQ01"}, "icb", ["SYNQ01"]),
    ({"compare": "region"}, "region", []),
])
def test_the_benchmark_picker_sends_the_chosen_units_and_the_file_gives_every_one(
        dash_app, page, query, level, chosen):
    metric = "pph_1500"
    with dash_app.server.test_request_context("/"):
        [menu] = [m for m in _menus(page("benchmark").layout(metric=metric, **query))
                  if m["data-menu-id"] == "benchmark-trusts"]
        before = _picker_options_before(metric, level)
        url = menu["data-menu-options"]
        assert url == f"/menus/units/{queries.build_id()}/{level}.json"
    picker = menu["children"]
    assert picker.id == "benchmark-trusts" and picker.multi and picker.clearable
    assert picker.value == chosen, "the chosen units, in the order chosen"
    assert picker.options == [o for o in before if o["value"] in chosen]
    assert picker.closeOnSelect is False and picker.labels["selected_count"] == ""
    assert picker.optionHeight == controls.option_height(len(before))
    answer = dash_app.server.test_client().get(url)
    assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"]
    assert answer.json == before and len(before) >= (100 if level == "trust" else 7)
    assert all("(Trust)" not in o["label"] and "(ICB)" not in o["label"] for o in answer.json)


def test_only_the_two_kinds_of_menu_are_files(dash_app):
    client = dash_app.server.test_client()
    assert client.get("/menus/units/x/trust.json").is_json
    # Any other address is a page of the dashboard (which says it is not found).
    assert not client.get("/menus/people/x/trust.json").is_json
