"""Organisation menus: a layout sends the chosen organisation only and names the file of
every option, which the browser fetches once per store build (web/menus.py)."""

from __future__ import annotations

import pytest

from components import controls
from data import queries
from tests.pages.conftest import find

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
