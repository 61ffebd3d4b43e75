"""Fuzzed requests against the app's own server (Flask test client, session demo store):
random and tampered query strings on every page, the layout route, malformed and tampered
callback requests, path traversal in every parameter and file route.

No answer is a 500 (nor shows a traceback), none takes longer than a generous bound (a
hang), a page shown from a bad link says so and logs a warning naming the page and the
parameters it could not use (cached views too), and every refused request leaves a line in
the log.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import dash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SLOW = 10.0  # seconds: far above any real answer, so only a hang trips it
TRAVERSAL = ("../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "/etc/passwd",
             "....//....//etc/passwd", "..\\..\\windows\\win.ini", "file:///etc/passwd",
             "%00", "\x00", "http://evil.example/", "//evil.example/x")
JUNK = st.one_of(
    st.sampled_from(TRAVERSAL),
    st.sampled_from(("<script>alert(1)</script>", "' OR 1=1 --", "=HYPERLINK(\"x\")", "NaN",
                     "-1", "9" * 400, "ENG," * 300, "\u202e\u200b", "all", "ENG", "pph_1500",
                     "ethnicity", "total", "peer")),
    st.text(max_size=30),
)
KEYS = st.sampled_from(("org", "metric", "period", "dim", "vs", "trusts", "group", "kind",
                        "peer", "proj", "region", "sort", "points", "url", "file", "path",
                        "page", "x"))
QUERIES = st.dictionaries(KEYS, JUNK, max_size=6)
CALLBACK = "/_dash-update-component"
def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture(scope="module")
def paths(dash_app, client) -> list[str]:
    """Every page's path, each drawn once first: a cold start on a busy machine is no hang."""
    out = sorted(page["path"] for page in dash.page_registry.values())
    for path in out:
        client.post(CALLBACK, json=router(path, ""))
    return out


def router(path, search) -> dict:
    """The request Dash's pages router makes to draw ``path`` with ``search``."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


def timed(client, method: str, path: str, body=None, *, failing: bool = False):
    """The answer to one request, checked; ``failing`` for a test that breaks the server on
    purpose (the only place a 500 is right)."""
    started = time.perf_counter()
    if body is None:
        response = client.open(path, method=method)
    else:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        response = client.open(path, method=method, data=data,
                               content_type="application/json")
    elapsed = time.perf_counter() - started
    text = response.get_data(as_text=True)
    assert elapsed < SLOW, (method, path, elapsed)
    assert "Traceback" not in text and 'File "' not in text, (path, text[:300])
    assert response.status_code < 500 or failing, (method, path, response.status_code,
                                                   text[:300])
    return response, text


def _rejected(caplog) -> bool:
    return any("rejected request" in r.getMessage() for r in caplog.records)


def _unused_links(caplog, path: str) -> list[str]:
    """Warnings that ``path`` was drawn from a link with parameters it could not use."""
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
            and r.getMessage().startswith(f"link parameters not used on {path}: ")]


@fuzz(60)
@given(data=st.data(), query=QUERIES)
def test_random_query_strings_on_every_page(client, paths, data, query, caplog):
    path = data.draw(st.sampled_from(paths))
    search = "?" + urlencode(query) if query else ""
    response, _ = timed(client, "GET", path + search)
    assert response.status_code == 200
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "POST", CALLBACK, router(path, search))
    assert response.status_code == 200, text[:300]
    assert "could not be shown" not in text, (path, search)  # no layout fell over
    # A notice on the page and a warning in the log go together.
    noticed = "page-notice" in text and "could not be used" in text
    assert bool(_unused_links(caplog, path)) == noticed, (path, search)


def test_tampered_links_show_a_notice_on_every_page(client, paths, caplog):
    search = "?" + urlencode({"org": "../../etc/passwd", "metric": "<script>",
                              "period": "1999", "dim": "../x", "group": "%00"})
    for path in paths:
        for attempt in ("first", "cached"):  # the second answer comes from the layout cache
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                response, text = timed(client, "POST", CALLBACK, router(path, search))
            assert response.status_code == 200
            assert "page-notice" in text and "could not be used" in text, path
            assert "<script>" not in text.replace("\\u003cscript\\u003e", "")
            logged = _unused_links(caplog, path)
            assert len(logged) == 1, (path, attempt, logged)
            assert any(f"'{key}'=" in logged[0] for key in ("org", "metric", "dim")), logged


def test_the_log_line_names_parameters_safely(client, caplog):
    """Values reach the log cut short and quoted: a line break cannot forge a log line."""
    value = "SYN\nINFO forged line" + "x" * 5_000
    search = "?" + urlencode({"org": value, "metric": "pph_1500"})
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "POST", CALLBACK, router("/explore", search))
    assert response.status_code == 200 and "page-notice" in text
    (line,) = _unused_links(caplog, "/explore")
    assert "\n" not in line and "'SYN\\nINFO forged line" in line
    assert "'metric'" not in line  # a parameter that was used is not named
    assert len(line) < 400


def test_layout_and_dependencies_answer(client):
    for route in ("/_dash-layout", "/_dash-dependencies", "/healthz"):
        response, _ = timed(client, "GET", route)
        assert response.status_code == 200, route


def _payloads(app) -> list[dict]:
    """A well-formed request for every callback of the app (values filled in below)."""
    out = []
    for key, spec in app.callback_map.items():
        if "callback" not in spec:
            continue  # clientside: the browser runs it
        outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
        described = [{"id": o.component_id, "property": o.component_property}
                     for o in outputs]
        out.append({"output": key,
                    "outputs": described if isinstance(spec["output"], list) else described[0],
                    "inputs": [dict(i) for i in spec["inputs"]],
                    "state": [dict(s) for s in spec["state"]],
                    "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]]})
    return out


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), JUNK,
    st.lists(st.integers(), max_size=5),
    st.builds(lambda n: list(range(n)), st.integers(10_000, 120_000)),  # huge list
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
# Data page downloads of every metric at once are big by design; not what this is about.
SKIPPED = ("data-counts-download", "data-values-download")


@fuzz(120)
@given(data=st.data())
def test_tampered_callback_requests(client, dash_app, data, caplog):
    payloads = [p for p in _payloads(dash_app) if not p["output"].startswith(SKIPPED)]
    body = data.draw(st.sampled_from(payloads))
    body = json.loads(json.dumps(body))
    for entry in body["inputs"] + body["state"]:
        entry["value"] = data.draw(VALUES)
    damage = data.draw(st.sampled_from(("values only", "unknown id", "drop key", "wrong type",
                                        "unknown output", "url not text")))
    if damage == "unknown id":
        body["inputs"][0]["id"] = data.draw(JUNK) if body["inputs"] else "x"
    elif damage == "drop key":
        body.pop(data.draw(st.sampled_from(sorted(body))))
    elif damage == "wrong type":
        body[data.draw(st.sampled_from(sorted(body)))] = data.draw(VALUES)
    elif damage == "unknown output":
        body["output"] = data.draw(JUNK)
    elif damage == "url not text":
        body["state"] = body["state"] + [{"id": "url", "property": "search",
                                          "value": data.draw(st.lists(st.integers()))}]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "POST", CALLBACK, body)
    assert response.status_code in (200, 204, 400, 413), (damage, response.status_code, text[:200])
    if response.status_code in (400, 413):
        assert json.loads(text)["error"]
        assert _rejected(caplog), damage


@pytest.mark.parametrize("route", [
    "/assets/../../etc/passwd", "/assets/..%2F..%2Fetc%2Fpasswd",
    "/_dash-component-suites/../../../etc/passwd",
    "/_dash-component-suites/dash/../../../../etc/passwd",
    "/vendor/../../etc/passwd",
    *(f"/export/view.pdf?url={v}" for v in TRAVERSAL),
    "/export/view.png?url=/explore/../../etc/passwd", "/export/view.exe?url=/",
    "/export/view.pdf?url=/explore/..%2F..%2Fetc%2Fpasswd",
])
def test_traversal_is_refused_and_logged(client, route, caplog):
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "GET", route)
    assert "root:" not in text and "[extensions]" not in text
    if response.status_code == 200:  # the path folded to a page address: the app's own page
        assert not route.startswith("/export") and 'lang="en-GB"' in text, route
        return
    assert response.status_code in (400, 404), (route, response.status_code)
    assert _rejected(caplog), route


def test_malformed_bodies(client, caplog):
    for body in ("not json", "{", "[]", "null", "123", '{"output": 1}', "\x00" * 10,
                 json.dumps({"output": "url.search", "inputs": "x"})):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response, text = timed(client, "POST", CALLBACK, body)
        assert response.status_code == 400, body
        assert _rejected(caplog)
    too_big = json.dumps({"output": "x", "inputs": [{"id": "a" * 3_000_000}]})
    response, _ = timed(client, "POST", CALLBACK, too_big)
    assert response.status_code == 413


def test_a_failing_callback_answers_politely_and_logs(client, dash_app, page, caplog,
                                                      monkeypatch):
    def broken(_search):
        raise RuntimeError("secret detail that must not reach the browser")

    monkeypatch.setattr(page("explore"), "download_csv", broken)
    body = next(p for p in _payloads(dash_app) if p["output"] == "explore-download.data")
    body["inputs"][0]["value"] = 1
    body["state"][0]["value"] = "?org=ENG"
    with caplog.at_level(logging.WARNING):
        response, text = timed(client, "POST", CALLBACK, body, failing=True)
    assert response.status_code == 500
    assert json.loads(text)["error"] and "secret detail" not in text
    failed = [r for r in caplog.records if "request failed" in r.getMessage()]
    assert failed and failed[0].exc_info, "the server log keeps the traceback"


def test_well_formed_callback_requests_pass(client, dash_app):
    """The fuzz starts from requests the app accepts: each callback, plain values."""
    for body in _payloads(dash_app):
        if body["output"].startswith(SKIPPED):
            continue
        for entry in body["inputs"] + body["state"]:
            entry["value"] = {"search": "", "pathname": "/"}.get(entry["property"])
        response, text = timed(client, "POST", CALLBACK, body)
        assert response.status_code in (200, 204), (body["output"], text[:300])


def test_every_callback_of_the_app_passes_the_request_check(dash_app):
    """The check refuses tampered requests, never the app's own: each callback's request as
    the browser sends it (outputs named as in the callback map, ``@<hash>`` suffixes of
    ``allow_duplicate`` outputs included) is accepted."""
    from web.errors import callback_problem

    checked = 0
    for key, spec in dash_app.callback_map.items():
        if "callback" not in spec:
            continue
        names = key.strip(".").split("...") if key.startswith("..") else [key]
        outputs = []
        for name in names:
            ident, _, prop = name.rpartition(".")
            outputs.append({"id": ident, "property": prop})
        if any(ident.startswith("{") for ident in (o["id"] for o in outputs)):
            continue  # pattern-matching outputs: ids are dicts chosen in the browser
        items = {k: [{"id": i["id"], "property": i["property"], "value": None}
                     for i in spec.get(k, []) if isinstance(i["id"], str)]
                 for k in ("inputs", "state")}
        if any(len(items[k]) != len(spec.get(k, [])) for k in items):
            continue
        payload = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
                   **items, "changedPropIds": []}
        assert callback_problem(payload, dash_app.callback_map) is None, key
        checked += 1
    assert checked > 20
