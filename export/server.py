"""The app served on a private loopback address, the only place the export browser draws from.

Each web process serves its own copy of the app to its export browser in background threads,
on a port of its own, so an export never depends on what a request says about the host it
was sent to (a forged ``Host`` cannot point the browser elsewhere) and never waits for the
public server's worker threads (which may all be busy waiting for exports). Command-line
exports serve the app the same way for as long as they run.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Paths the export browser is never given: an export of an export would wait for itself.
NOT_FOR_THE_BROWSER = ("/export/",)


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, lower-cased (empty for a relative address)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def confined(wsgi, own: str, token: Callable[[], str] | None = None,
             refused: tuple[str, ...] = ()):
    """``wsgi`` answering only as the origin ``own``.

    Requests addressed to another host, for a path starting with one of ``refused`` or
    (given ``token``, which returns the app's internal token) without that token are
    refused with 403; a redirect to
    another origin becomes a 502, so a browser that only loads ``own`` is never sent away
    (browsers follow redirects before any request interception sees them).
    """
    from web.auth import INTERNAL_HEADER

    token_key = "HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")

    def refuse(start_response, status: str, why: str):
        log.warning("export server refused %s", why)
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Refused."]

    def app(environ, start_response):
        host = environ.get("HTTP_HOST", "").lower()
        if f"http://{host}" != own:
            return refuse(start_response, "403 Forbidden", f"a request for host {host[:80]!r}")
        path = environ.get("PATH_INFO", "")
        if path.startswith(refused):
            return refuse(start_response, "403 Forbidden", f"a request for {path[:80]!r}")
        sent = environ.get(token_key, "")
        if token is not None and not hmac.compare_digest(sent.encode(), token().encode()):
            return refuse(start_response, "403 Forbidden", "a request without the token")

        def checked(status: str, headers: list, exc_info=None):
            location = next((v for k, v in headers if k.lower() == "location"), None)
            if location is not None and origin(urljoin(own + "/", location)) != own:
                log.warning("export server refused a redirect to %s", location[:200])
                status = "502 Bad Gateway"
                headers = [(k, v) for k, v in headers if k.lower() != "location"]
            return start_response(status, headers, exc_info)

        return wsgi(environ, checked)

    return app


def _serve(wsgi, *, token: Callable[[], str] | None = None,
           refused: tuple[str, ...] = ()) -> tuple[BaseWSGIServer, str]:
    """Serve ``wsgi``, confined to its own address, on a free loopback port in a daemon
    thread; return the server and its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(LOOPBACK, 0, wsgi, threaded=True)
    base = f"http://{LOOPBACK}:{server.server_port}"
    server.app = confined(wsgi, base, token=token, refused=refused)
    threading.Thread(target=server.serve_forever, name="export-server", daemon=True).start()
    return server, base


@contextmanager
def running_app(wsgi) -> Iterator[str]:
    """Serve ``wsgi`` (the dashboard's Flask server) on a free loopback port; yield its base
    URL; stop it after."""
    server, base = _serve(wsgi)
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


_internal: dict[int, str] = {}  # process id -> base URL of that process's export server
_internal_lock = threading.Lock()


def internal_base(wsgi) -> str:
    """Base URL of this process's private copy of ``wsgi`` for its export browser, started on
    first use (in each process: threads do not survive a fork). It answers only requests
    carrying the internal token, for its own address, and never an export."""
    from web.auth import internal_token

    with _internal_lock:
        pid = os.getpid()
        if pid not in _internal:
            _internal.clear()
            _, _internal[pid] = _serve(wsgi, token=internal_token,
                                       refused=NOT_FOR_THE_BROWSER)
            log.info("export browser draws from %s", _internal[pid])
        return _internal[pid]
