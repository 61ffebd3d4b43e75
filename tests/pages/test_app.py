"""The app's production settings: security headers, request size limit, safe exports."""

from __future__ import annotations


def test_security_headers(dash_app):
    response = dash_app.server.test_client().get("/explore")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert 'lang="en-GB"' in response.get_data(as_text=True)


def test_oversized_requests_are_refused(dash_app):
    body = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    response = dash_app.server.test_client().post(
        "/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 413


def test_export_accepts_only_this_apps_pages(dash_app):
    client = dash_app.server.test_client()
    for url in ("http://example.com/", "//example.com/x", "/not-a-page", "/../../etc"):
        assert client.get("/export/view.pdf", query_string={"url": url}).status_code == 400
    assert client.get("/export/view.exe", query_string={"url": "/"}).status_code == 404


def test_the_smaller_plotly_bundle_is_served(dash_app):
    """dcc.Graph's plotly.js path serves the vendored build of the charts' trace types,
    which must be the version the installed Plotly writes figures for."""
    from plotly.offline import get_plotlyjs_version

    import app

    assert app.plotly_bundle_matches(), (
        f"assets/vendor holds {app.PLOTLY_BUNDLE.name}; Plotly wants {get_plotlyjs_version()}")
    response = dash_app.server.test_client().get(app.PLOTLY_ROUTE)
    body = response.get_data()
    assert response.status_code == 200
    assert (b"plotly.js (bar, heatmap, scatter - minified) v" + get_plotlyjs_version().encode()
            in body[:200])
    assert len(body) < 2_000_000  # the full bundle is 4.8 MB


BUNDLED_TRACES = {"bar", "heatmap", "scatter"}  # assets/vendor/plotly-entry.js


def test_every_chart_uses_a_trace_type_the_bundle_draws(dash_app):
    import json

    import dash
    from plotly.utils import PlotlyJSONEncoder

    def traces(node):
        if isinstance(node, list):
            for child in node:
                yield from traces(child)
        elif isinstance(node, dict):
            if node.get("type") == "Graph":
                for trace in (node["props"].get("figure") or {}).get("data", []):
                    yield trace.get("type", "scatter")
            for value in node.get("props", {}).values():
                yield from traces(value)

    seen = set()
    with dash_app.server.app_context():
        for page in dash.page_registry.values():
            layout = json.loads(json.dumps(page["layout"](), cls=PlotlyJSONEncoder))
            seen |= set(traces(layout))
    assert seen and seen <= BUNDLED_TRACES, seen - BUNDLED_TRACES
