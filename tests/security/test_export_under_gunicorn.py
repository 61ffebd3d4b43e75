"""Exports under the production server (gunicorn as ``serve --prod`` runs it, two workers of
four threads, with basic sign-in on), reached over TCP and over a unix socket as a proxy
would reach it.

A forged ``Host`` (or ``X-Forwarded-Host``, ``Forwarded``) never changes where the export
browser draws from: another server on loopback receives nothing, while the export is made.
Ten exports asked for at once are drawn or refused with 503 and ``Retry-After``, and
``/healthz`` and pages answer within a second all the while. Exports whose clients hang up
are dropped, not drawn.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from cli import GUNICORN_SETTINGS
from tests.security.conftest import PASSWORD
from tests.security.elsewhere import recording_server

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
WORKERS, THREADS = 2, 4  # serve --prod's defaults
ANSWER_WITHIN = 1.0  # seconds
AT_ONCE = 10
SIGNED_IN = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
VIEW = "/explore?org=SYN020&metric=pph_1500&dim=ethnicity&period=2024-25"
EXPORT = f"/export/view.pdf?url={quote(VIEW, safe='')}"


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket, as nginx talks to ``gunicorn --bind unix:PATH``."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


@contextlib.contextmanager
def connection(address: str | int, timeout: float) -> Iterator[http.client.HTTPConnection]:
    """A connection to a TCP port on loopback or to a unix socket's path."""
    made = (http.client.HTTPConnection("127.0.0.1", address, timeout=timeout)
            if isinstance(address, int) else UnixConnection(address, timeout))
    try:
        yield made
    finally:
        made.close()


def get(address: str | int, path: str, headers: dict[str, str] | None = None,
        timeout: float = 180) -> tuple[int, dict[str, str], bytes, float]:
    """(status, headers, body, seconds) of ``GET path``; ``headers`` may set ``Host``."""
    started = time.perf_counter()
    with connection(address, timeout) as made:
        headers = SIGNED_IN | (headers or {})
        made.putrequest("GET", path, skip_host="Host" in headers)
        for name, value in headers.items():
            made.putheader(name, value)
        made.endheaders()
        answer = made.getresponse()
        body = answer.read()
        return answer.status, dict(answer.getheaders()), body, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(demo_root, alice_hash, tmp_path_factory) -> Iterator[dict[str, str | int]]:
    """``{"port": ..., "unix": ...}`` of gunicorn serving the app with basic sign-in."""
    folder = tmp_path_factory.mktemp("gunicorn")
    port, unix, log = _free_port(), str(folder / "app.sock"), folder / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EQUALITIES_AUTH")} | {
        "EQUALITIES_DATA_DIR": str(demo_root), "EQUALITIES_AUTH": "basic",
        "EQUALITIES_USERS": f"alice:{alice_hash}",
        "EQUALITIES_INTERNAL_TOKEN": secrets.token_urlsafe(32)}
    process = subprocess.Popen(
        [str(GUNICORN), *GUNICORN_SETTINGS, "--workers", str(WORKERS), "--threads",
         str(THREADS), "--bind", f"127.0.0.1:{port}", "--bind", f"unix:{unix}", "app:server"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while True:
            with contextlib.suppress(OSError):
                if get(port, "/healthz", timeout=5)[0] == 200:
                    break
            if process.poll() is not None or time.time() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        for _ in range(4 * WORKERS):  # every worker serves a page before the tests begin
            assert get(port, "/")[0] == 200
        yield {"port": port, "unix": unix, "log": str(log)}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("through", ["unix", "port"])
def test_a_forged_host_never_moves_the_export_browser(served, through):
    with recording_server() as (elsewhere, reached):
        forged = elsewhere.removeprefix("http://")
        status, headers, body, _ = get(served[through], EXPORT, {
            "Host": forged, "X-Forwarded-Host": forged, "X-Forwarded-Proto": "http",
            "X-Forwarded-Port": forged.rsplit(":", 1)[1], "Forwarded": f"host={forged}"})
        assert reached == [], "the export browser was sent to another server"
    assert status == 200, body[:300]
    assert body.startswith(b"%PDF")
    name = headers["Content-Disposition"]
    assert "explore-pph_1500-SYN020-2024-25-" in name and name.endswith('.pdf"')


def test_ten_exports_at_once_leave_the_server_answering(served):
    port = served["port"]
    outcomes: list[tuple[int, dict[str, str], bytes, float]] = []

    def export() -> None:
        outcomes.append(get(port, EXPORT))

    asked = [threading.Thread(target=export, daemon=True) for _ in range(AT_ONCE)]
    for thread in asked:
        thread.start()
    health, pages = [], []
    while any(thread.is_alive() for thread in asked):
        health.append(get(port, "/healthz", timeout=10)[3])
        status, _, _, took = get(port, "/", timeout=10)
        assert status == 200
        pages.append(took)
        time.sleep(0.2)
    for thread in asked:
        thread.join()
    assert len(health) >= 3, "the exports ended before the server could be watched"
    assert max(health) < ANSWER_WITHIN, health
    assert max(pages) < ANSWER_WITHIN, pages
    drawn = [body for status, _, body, _ in outcomes if status == 200]
    refused = [(headers, body) for status, headers, body, _ in outcomes if status == 503]
    assert len(drawn) + len(refused) == AT_ONCE, [o[0] for o in outcomes]
    assert drawn and all(body.startswith(b"%PDF") for body in drawn)
    assert refused, "ten exports at once fitted in the queue: it is not bounded"
    for headers, body in refused:
        retry = int(headers["Retry-After"])
        assert retry >= 1 and f"busy, try again in {retry} s" in body.decode()
    # Drained afterwards: the next export is drawn.
    status, _, body, _ = get(port, EXPORT)
    assert status == 200 and body.startswith(b"%PDF")


def test_exports_whose_clients_left_are_not_drawn(served):
    log = Path(served["log"])
    seen = len(log.read_text())
    # Views not drawn before (uncached), so each export takes longer than the clients wait.
    views = [f"/trends?org=SYN0{n}&metric=pph_1500&dim=ethnicity" for n in range(40, 44)]

    def leave(view: str) -> None:
        with contextlib.suppress(OSError):  # the client's timeout: it hangs up
            get(served["port"], f"/export/view.pdf?url={quote(view, safe='')}", timeout=0.2)

    clients = [threading.Thread(target=leave, args=(view,)) for view in views]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    deadline = time.time() + 60
    while "abandoned while queued: not drawn" not in log.read_text()[seen:]:
        assert time.time() < deadline, log.read_text()[seen:][-3000:]
        time.sleep(0.2)
    assert "the requester went away" in log.read_text()[seen:]
    status, _, body, _ = get(served["port"], EXPORT)  # the queue is free again
    assert status == 200 and body.startswith(b"%PDF")
