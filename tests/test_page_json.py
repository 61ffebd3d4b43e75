"""A page drawn from the cache is answered as plain JSON, encoded in one pass: no component
object in the response, so Plotly's encoder never walks the whole page first."""

from __future__ import annotations

import orjson
import pytest
from dash import _callback as callback_module

from data import queries


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
