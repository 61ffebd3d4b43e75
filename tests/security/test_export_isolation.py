"""The export browser stays on the address it was given: requests to any other origin are
aborted, credentials go to that origin only, and the server it draws from never redirects
it elsewhere nor answers for another host (real Chromium, tiny local servers)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from export.render import ExportError, Renderer
from export.server import confined, running_app
from tests.security.elsewhere import recording_server
from web.auth import INTERNAL_HEADER, internal_token

SECRET = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}  # alice:secret


def greedy_site(elsewhere: str, seen: list[tuple[str, dict]]):
    """A WSGI app whose page reaches for ``elsewhere`` in every way a page can, and whose
    ``/away`` redirects there."""
    page = f"""<!doctype html><html><head>
<link rel="stylesheet" href="{elsewhere}/style.css">
<script src="{elsewhere}/script.js"></script></head>
<body><main><h1>The app's page</h1>
<img src="{elsewhere}/pixel.png"><img src="/local.png">
<iframe src="{elsewhere}/frame"></iframe>
<script>fetch("{elsewhere}/fetch", {{method: "POST", body: "x"}}).catch(() => {{}});
navigator.sendBeacon && navigator.sendBeacon("{elsewhere}/beacon", "x");</script>
</main></body></html>"""

    @Request.application
    def app(request: Request) -> Response:
        seen.append((request.path, dict(request.headers)))
        if request.path == "/away":
            return Response(status=302, headers={"Location": f"{elsewhere}/stolen"})
        if request.path == "/local.png":
            return Response(b"", mimetype="image/png")
        return Response(page, mimetype="text/html")

    return app


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    yield Renderer()


def test_a_page_reaching_for_another_origin_is_refused(renderer):
    with recording_server() as (elsewhere, reached), contextlib.ExitStack() as stack:
        asked: list[tuple[str, dict]] = []
        base = stack.enter_context(running_app(greedy_site(elsewhere, asked)))
        image = renderer.render(f"{base}/page", "png", headers=SECRET)
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    assert reached == [], "the other origin was reached"
    paths = [path for path, _ in asked]
    assert "/page" in paths and "/local.png" in paths  # the page's own requests go through
    for _, headers in asked:  # ... each with the token and the requester's credentials
        assert headers.get(INTERNAL_HEADER) == internal_token()
        assert headers.get("Authorization") == SECRET["Authorization"]


def test_any_printer_gets_the_drawn_page_under_the_same_rules(renderer):
    with recording_server() as (elsewhere, reached), contextlib.ExitStack() as stack:
        base = stack.enter_context(running_app(greedy_site(elsewhere, [])))
        heading = renderer.draw(f"{base}/page", lambda page: page.inner_text("main h1"))
    assert heading == "The app's page"
    assert reached == []


def test_a_redirect_to_another_origin_is_not_followed(renderer):
    with recording_server() as (elsewhere, reached), contextlib.ExitStack() as stack:
        base = stack.enter_context(running_app(greedy_site(elsewhere, [])))
        with pytest.raises(ExportError, match="away"):
            renderer.render(f"{base}/away", "pdf", headers=SECRET)
    assert reached == []


def test_the_export_server_answers_only_for_itself():
    own = "http://127.0.0.1:5999"
    app = confined(greedy_site("http://127.0.0.1:6000", []), own, token=internal_token,
                   refused=("/export/",))
    client = Client(app)
    token = {INTERNAL_HEADER: internal_token()}
    assert client.get("/page", headers=token | {"Host": "127.0.0.1:5999"}).status_code == 200
    for headers in ({"Host": "127.0.0.1:6000"} | token,  # forged host
                    {"Host": "127.0.0.1:5999"},  # no token
                    {"Host": "127.0.0.1:5999", INTERNAL_HEADER: "guess"}):
        assert client.get("/page", headers=headers).status_code == 403, headers
    export = client.get("/export/view.pdf?url=/", headers=token | {"Host": "127.0.0.1:5999"})
    assert export.status_code == 403  # an export of an export would wait for itself
    away = client.get("/away", headers=token | {"Host": "127.0.0.1:5999"})
    assert away.status_code == 502 and "Location" not in away.headers
