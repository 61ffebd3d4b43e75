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
