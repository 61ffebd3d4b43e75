"""Malformed callback inputs and addresses (issue 20, item 4): a list or an object where a
component holds text, JSON nested thousands deep, a lone surrogate in the body, the path or
the query. Each is refused with a polite 400 (or drawn with a notice), never a 500; the
app's own requests still get the answers they got before.
"""

from __future__ import annotations

import json
import logging
import time

import dash
import pytest

from components import controls, viewstate
from data import queries
from metrics.registry import OUTCOMES
from tests.security.test_fuzz_requests import CALLBACK, SKIPPED, _payloads, router, timed
from web import inputs

PLAIN = {"search": "", "pathname": "/"}
TAMPERED = {"a list of text": ["ethnicity"], "a list of numbers": [1, 2],
            "an object": {"value": "ethnicity"}}
QUICK = 2.0  # seconds: refusing a deep body must not parse it


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


def _plain(body: dict) -> dict:
    body = json.loads(json.dumps(body))
    for entry in body["inputs"] + body.get("state", []):
        entry["value"] = PLAIN.get(entry["property"])
    return body


def _post(client, body, caplog):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return timed(client, "POST", CALLBACK, data)


def _refused(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rejected request" in r.getMessage()]


# -- values of the wrong JSON type ------------------------------------------------------------


@pytest.mark.parametrize("tampered", sorted(TAMPERED))
def test_every_input_of_every_callback_takes_a_list_or_object_without_failing(
        client, dash_app, tampered, caplog):
    """Each input and state of each callback in turn holds a list or an object (the others
    plain): the answer is the callback's (the value fits its component) or a 400 naming the
    input, never a 500."""
    tried, answers = 0, {}
    bodies = [b for b in [router("/explore", ""), *_payloads(dash_app)]
              if not b["output"].startswith(SKIPPED)]
    expected = sum(len(b.get(key, [])) for b in bodies for key in ("inputs", "state"))
    for body in bodies:
        for key in ("inputs", "state"):
            for index, entry in enumerate(body.get(key, [])):
                sent = _plain(body)
                sent[key][index]["value"] = TAMPERED[tampered]
                response, text = _post(client, sent, caplog)
                label = f"{entry['id']}.{entry['property']}"
                answers[label] = response.status_code
                assert response.status_code in (200, 204, 400), (label, text[:300])
                if response.status_code == 400:
                    assert json.loads(text)["error"] == (
                        f"This request's input {label} is not a valid value. Reload the "
                        "page or start again from its link."), label
                    assert _refused(caplog), label
                    assert "ethnicity" not in text  # the value is not echoed
                tried += 1
    assert tried == expected >= 40  # every input and state of every server callback
    # Single-choice dropdowns, radio items, buttons and the URL take no list or object.
    # (The pages' menus write the URL in the browser: their values reach the server only as
    # text in the link, which the page parsers check.)
    for label in ("explore-download-button.n_clicks", "url.search",
                  "_pages_location.pathname"):
        assert answers[label] == 400, (label, answers[label])


def test_a_multi_choice_dropdown_takes_a_list_of_its_values(dash_app):
    """A multi-choice menu's list is accepted and a list of numbers is not (its options are
    text), for the check of any callback that reads it."""
    from web.errors import _layouts

    known = inputs.Inputs(lambda module: _layouts(dash_app, module))
    with dash_app.server.test_request_context("/"):
        accepts = known.accepts("pages.benchmark")("benchmark-trusts", "value")
    assert accepts.admits(["SYN001", "SYN002"])
    assert not accepts.admits([1, 2])


def test_the_log_names_a_refused_value_briefly(client, dash_app, caplog):
    body = _plain(next(p for p in _payloads(dash_app)
                       if p["output"] == "explore-download.data"))
    body["state"][0]["value"] = list(range(100_000))
    response, _ = _post(client, body, caplog)
    assert response.status_code == 400
    (line,) = _refused(caplog)
    assert "url.search is list" in line and len(line) < 300


def test_a_plain_id_sent_as_a_pattern_list_is_refused(client, dash_app, caplog):
    body = _plain(next(p for p in _payloads(dash_app)
                       if p["output"] == "explore-download.data"))
    body["inputs"] = [[dict(body["inputs"][0], value=1)]]
    response, _ = _post(client, body, caplog)
    assert response.status_code == 400


@pytest.mark.parametrize("changed", [[{"a": 1}], [["explore-org.value"]]])
def test_changed_properties_must_be_a_list_of_text(client, dash_app, changed, caplog):
    body = _plain(router("/explore", ""))
    body["changedPropIds"] = changed
    response, _ = _post(client, body, caplog)
    assert response.status_code == 400


# -- nesting and encoding of the body ---------------------------------------------------------


@pytest.mark.parametrize("deep", ["[" * 3000 + "]" * 3000,
                                  '{"a":' * 3000 + "1" + "}" * 3000])
def test_json_nested_thousands_deep_is_refused_quickly(client, deep, caplog):
    for body in (deep, json.dumps(router("/explore", ""))[:-1] + f', "x": {deep}}}'):
        started = time.perf_counter()
        response, text = _post(client, body, caplog)
        assert time.perf_counter() - started < QUICK
        assert response.status_code == 400 and json.loads(text)["error"]
        assert any("nested more than 100 deep" in m for m in _refused(caplog))


def test_the_depth_limit_counts_brackets_outside_strings_only():
    assert not inputs.depth_exceeds("[" * 100 + "]" * 100, 100)
    assert inputs.depth_exceeds("[" * 101 + "]" * 101, 100)
    assert not inputs.depth_exceeds(json.dumps({"a": "[" * 500, "b": ['\\"[[[']}), 3)
    assert inputs.body_problem(json.dumps(router("/explore", "?org=ENG")).encode()) is None


@pytest.mark.parametrize("where", ["pathname", "search"])
def test_a_lone_surrogate_in_a_callback_body_is_refused(client, dash_app, where, caplog):
    """``\\udcff`` escaped in JSON, as Python's json writes it; a pathname once reached
    the print header's export link and failed to encode (a 500)."""
    download = _plain(next(p for p in _payloads(dash_app)
                           if p["output"] == "explore-download.data"))
    for body in (router("/explore", "?org=ENG"), download):
        value = {"pathname": "/explore\udcff", "search": "?org=\udcff"}[where]
        for entry in body["inputs"] + body.get("state", []):
            if entry["property"] == where:
                entry["value"] = value
        if "\\udcff" not in json.dumps(body):
            continue  # the download has no pathname
        response, _ = _post(client, body, caplog)
        assert response.status_code == 400
        assert any("lone surrogate" in m for m in _refused(caplog))


@pytest.mark.parametrize("raw", [b"\xed\xb3\xbf", b"\xff", b"\xc3"])
def test_a_body_that_is_not_utf8_is_refused(client, raw, caplog):
    body = json.dumps(router("/explore", "?org=XYZ")).encode().replace(b"XYZ", raw)
    response, _ = _post(client, body, caplog)
    assert response.status_code == 400
    assert any("not UTF-8" in m for m in _refused(caplog))


# -- the address: path and query string -------------------------------------------------------


@pytest.mark.parametrize("address", [
    "/explore?org=%ED%B3%BF", "/explore?%ED%B3%BF=1", "/explore%ED%B3%BF", "/%ED%A0%80",
    "/explore?org=%FF", "/export/view.pdf?url=/explore%3Forg%3D%ED%B3%BF",
    "/_dash-layout?x=%ED%B3%BF",
])
def test_a_lone_surrogate_in_the_address_is_refused(client, address, caplog):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "GET", address)
    assert response.status_code == 400, address
    assert "could not be read as text" in text
    assert _refused(caplog)


@pytest.mark.parametrize("route", ["/explore", "/", "/export/view.pdf", "/_dash-layout"])
@pytest.mark.parametrize("raw", ["\xed\xb3\xbf", "\xff"])
def test_raw_bytes_that_are_not_utf8_in_the_address_are_refused(client, route, raw, caplog):
    """As a server passes them on (WSGI: Latin-1 strings of the bytes); Werkzeug decodes a
    raw query string strictly when it is read, so the export answered 500 before."""
    for environ in ({"PATH_INFO": route + raw}, {"PATH_INFO": route, "QUERY_STRING": "url=" + raw},
                    {"PATH_INFO": route, "QUERY_STRING": raw + "=1"}):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = client.get("/", environ_overrides=environ)
        assert response.status_code == 400, environ
        assert _refused(caplog)


def test_ordinary_addresses_pass_the_check():
    for environ in ({"PATH_INFO": "/explore", "QUERY_STRING": "org=ENG&dim=ethnicity"},
                    {"PATH_INFO": "/caf\xc3\xa9", "QUERY_STRING": "n=%C3%A9%F0%9F%98%80"},
                    {}):
        assert inputs.address_problem(environ) is None


# -- the app's own requests -------------------------------------------------------------------


def test_an_ordinary_callback_gets_the_same_answer_as_before(client, dash_app, page, caplog):
    explore = page("explore")
    body = _plain(next(p for p in _payloads(dash_app)
                       if p["output"] == "explore-download.data"))
    body["inputs"][0]["value"] = 1
    body["state"][0]["value"] = "?org=ENG&metric=pph_1500"
    response, text = _post(client, body, caplog)
    assert response.status_code == 200, text[:300]
    answer = json.loads(text)["response"]["explore-download"]["data"]
    assert answer == json.loads(json.dumps(explore.download_csv("?org=ENG&metric=pph_1500")))
    assert not _refused(caplog)

    # Explore's controls write its URL in the browser: no request reaches the server for it.
    url = [spec for key, spec in dash_app.callback_map.items()
           if key.startswith("page-url.search")
           and spec["inputs"][0]["id"] == "explore-org"]
    assert len(url) == 1 and "callback" not in url[0]


def test_the_layouts_own_values_are_accepted(dash_app):
    """Every value a page's layout gives one of its callbacks' inputs is one the check
    accepts (so the first requests of a page are never refused)."""
    from web.errors import _layouts

    known = inputs.Inputs(lambda module: _layouts(dash_app, module))
    read = {(inputs.id_key(item["id"]), item["property"])
            for spec in dash_app.callback_map.values()
            for item in spec.get("inputs", []) + spec.get("state", [])}
    checked = 0
    for page in dash.page_registry.values():
        module = page["module"]
        with dash_app.server.test_request_context("/"):
            drawn = inputs.index(_layouts(dash_app, module))
            accepts = known.accepts(module)
        for key, entries in drawn.items():
            for _cls, props in entries:
                for prop, value in props.items():
                    if (key, prop) in read:
                        assert accepts(key, prop).admits(value), (module, key, prop)
                        checked += 1
    assert checked > 40
    with dash_app.server.test_request_context("/"):
        assert not known.accepts("pages.explore")("explore-dimension", "value").admits(["x"])
        assert known.accepts("pages.benchmark")("benchmark-trusts", "value").admits(["A"])
        assert known.accepts("pages.trends")("trends-projection", "value").admits(["1"])


def test_shapes_from_component_annotations():
    from dash import dcc

    dropdown = inputs.declared(dcc.Dropdown, "value")
    assert dropdown.admits("a") and dropdown.admits(["a", 1]) and dropdown.admits(None)
    assert not dropdown.admits({"a": 1}) and not dropdown.admits([["a"]])
    assert not inputs.accepted(dcc.Dropdown, "value", {"multi": False}).admits(["a"])
    assert not inputs.accepted(dcc.Dropdown, "value", {"options": ["a"]}).admits(1)
    assert inputs.declared(dcc.Location, "search") == inputs.TEXT
    assert not inputs.declared(dcc.Location, "search").admits(["?a=1"])
    clicks = inputs.FALLBACK["n_clicks"]
    assert clicks.admits(3) and not clicks.admits(True) and not clicks.admits(float("nan"))


# -- page parsers: a tampered value falls back, never raises -----------------------------------


TAMPERED_VALUES = [["ethnicity"], {"dim": "ethnicity"}, [1, 2], [[]]]


@pytest.mark.parametrize("value", TAMPERED_VALUES)
def test_the_breakdown_parser_falls_back_on_values_that_are_not_text(dash_app, value):
    """The five pages with a breakdown control failed here (``TypeError: unhashable``)."""
    notices: list[str] = []
    with dash_app.server.app_context():
        chosen = controls.choose_dimension(
            {"dim": value}, OUTCOMES["pph_1500"], notices, org_name="trusts",
            offered=queries.dimensions_at("pph_1500", "trust"),
            stored=queries.stored_dimensions("pph_1500", "trust"))
    assert chosen == "ethnicity" and "Unknown breakdown" in notices[0]


@pytest.mark.parametrize("value", [*TAMPERED_VALUES, 3])
def test_view_parsers_fall_back_on_values_that_are_not_text(value):
    notices: list[str] = []
    assert viewstate.choose({"dim": value}, "dim", ["ethnicity"], "total", notices,
                            "breakdown") == "total"
    assert notices == ["Unknown breakdown; showing total instead."]
    assert viewstate.choose_many({"t": value}, "t", ["A"], [], "trust", 5) == ()
    assert viewstate.choose_many({"t": ["A", value, "A"]}, "t", ["A"], [], "trust", 5) == ("A",)
    assert viewstate.query_of(value) == {}
