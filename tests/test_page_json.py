"""A page drawn from the cache is answered as plain JSON, encoded in one pass: no component
object in the response, so Plotly's encoder never walks the whole page first."""

from __future__ import annotations

import json

import dash
import orjson
import pytest
from dash import _callback as callback_module

from data import queries
from web import layouts


@pytest.fixture(scope="module")
def app(demo_root):
    from app import get_app

    return get_app()


def router_body(path: str) -> dict:
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "changedPropIds": ["_pages_location.pathname"],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}]}


@pytest.mark.parametrize("path", ["/", "/benchmark", "/map"])
def test_a_cached_page_is_encoded_without_walking_it(app, path, monkeypatch):
    client = app.server.test_client()
    with app.server.app_context():
        queries.cache.clear()
    first = client.post("/_dash-update-component", json=router_body(path))
    assert first.status_code == 200

    encoded = []
    real = callback_module.to_json

    def one_pass(value):  # what Dash encodes the response from must need no cleaning
        encoded.append(orjson.dumps(value))
        return real(value)

    monkeypatch.setattr(callback_module, "to_json", one_pass)
    again = client.post("/_dash-update-component", json=router_body(path))
    assert again.status_code == 200
    page = again.get_json()["response"]["_pages_content"]["children"]
    assert page["type"] == "Div" and page["props"]["children"][0]["type"] == "Location"
    # The same page as the first answer, but for the time the heading states.
    assert len(again.get_data()) == len(first.get_data())
    assert len(encoded) == 1


def page_children(response) -> list:
    return response.get_json()["response"]["_pages_content"]["children"]["props"]["children"]


@pytest.mark.parametrize("path", ["/", "/benchmark", "/scorecard"])
def test_the_frame_is_remembered_per_minute_and_is_the_one_made_afresh(app, path, monkeypatch):
    client = app.server.test_client()
    module = next(m for m, page in dash.page_registry.items() if page["path"] == path)
    monkeypatch.setattr(layouts, "_generated", lambda: "01 January 2030, 09:00")
    served = page_children(client.post("/_dash-update-component", json=router_body(path)))
    with app.server.test_request_context():
        search, exact = layouts.canonical(module, {})
        fresh = layouts._encoded(layouts.frame(module, search, exact, "01 January 2030, 09:00"))
    assert served[:-1] == fresh
    assert "01 January 2030, 09:00" in json.dumps(served[:-1])
    hits = layouts._recent_frame.cache_info().hits
    assert page_children(client.post("/_dash-update-component", json=router_body(path))) == served
    assert layouts._recent_frame.cache_info().hits == hits + 1

    # The next minute's answer states the next minute: the heading is never stale.
    monkeypatch.setattr(layouts, "_generated", lambda: "01 January 2030, 09:01")
    later = page_children(client.post("/_dash-update-component", json=router_body(path)))
    assert "09:01" in json.dumps(later[:-1]) and "09:00" not in json.dumps(later[:-1])
    assert later[-1] == served[-1]


def test_the_frame_follows_the_public_address(app, monkeypatch):
    """The heading's "Reproduce this view" link names the address set when it is drawn."""
    client = app.server.test_client()
    monkeypatch.setattr(layouts, "_generated", lambda: "01 January 2030, 09:00")
    monkeypatch.delenv("EQUALITIES_PUBLIC_URL", raising=False)
    plain = json.dumps(page_children(client.post("/_dash-update-component",
                                                 json=router_body("/trends")))[:-1])
    monkeypatch.setenv("EQUALITIES_PUBLIC_URL", "https://equalities.example.nhs.uk")
    public = json.dumps(page_children(client.post("/_dash-update-component",
                                                  json=router_body("/trends")))[:-1])
    assert "https://equalities.example.nhs.uk/trends?" not in plain
    assert "https://equalities.example.nhs.uk/trends?" in public
