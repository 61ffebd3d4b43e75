"""The export queue is short and says so: one page drawn at a time, a bounded number waiting,
503 with ``Retry-After`` past that, and exports nobody waits for any more are dropped rather
than drawn (the browser replaced by a stand-in that draws when told to)."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import quote

import pytest

from export import render
from export.render import ExportAbandoned, ExportBusy, Renderer
from web import exports


class HeldBrowser:
    """Stands in for Chromium: each drawing waits until the test lets it go."""

    def __init__(self) -> None:
        self.drawn: list[str] = []
        self.drawing = threading.Event()
        self.go = threading.Event()

    def draw(self, ticket) -> bytes:
        self.drawing.set()
        assert self.go.wait(timeout=30)
        if ticket.abandoned.is_set():
            raise ExportAbandoned(f"export of {ticket.job.url} abandoned while drawing")
        self.drawn.append(ticket.job.url)
        return b"%PDF-drawn"

    def close(self) -> None:
        pass


@pytest.fixture
def held(monkeypatch):
    """The process's renderer with a held browser and one export allowed to wait."""
    browser = HeldBrowser()
    renderer = Renderer(waiting=1)
    renderer._browser = browser
    monkeypatch.setattr(render, "renderer", lambda: renderer)
    yield renderer, browser
    browser.go.set()


def in_background(function, *args, **kwargs) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def until(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_full_queue_refuses_at_once_with_a_time_to_retry(held):
    renderer, browser = held
    first, drawn = in_background(renderer.render, "http://127.0.0.1:1/a", "pdf")
    assert browser.drawing.wait(timeout=10)
    second, waited = in_background(renderer.render, "http://127.0.0.1:1/b", "pdf")
    assert until(lambda: renderer._admitted == 2)
    started = time.monotonic()
    with pytest.raises(ExportBusy, match=r"busy, try again in \d+ s") as refused:
        renderer.render("http://127.0.0.1:1/c", "pdf")
    assert time.monotonic() - started < 0.5  # refused, not queued
    assert refused.value.retry_after >= 1
    browser.go.set()
    first.join(timeout=10), second.join(timeout=10)
    assert drawn["value"] == waited["value"] == b"%PDF-drawn"
    assert browser.drawn == ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"]
    assert renderer._admitted == 0
    assert renderer.render("http://127.0.0.1:1/d", "pdf") == b"%PDF-drawn"  # room again


def test_an_export_whose_requester_left_is_not_drawn(held):
    renderer, browser = held
    first, _ = in_background(renderer.render, "http://127.0.0.1:1/a", "pdf")
    assert browser.drawing.wait(timeout=10)
    left = threading.Event()
    queued, outcome = in_background(renderer.render, "http://127.0.0.1:1/gone", "pdf",
                                    abandoned=left.is_set)
    assert until(lambda: renderer._admitted == 2)
    left.set()
    queued.join(timeout=5)
    assert isinstance(outcome.get("error"), ExportAbandoned)
    assert renderer._admitted == 1  # its place in the queue is free at once
    browser.go.set()
    first.join(timeout=10)
    assert until(lambda: renderer._admitted == 0)
    assert browser.drawn == ["http://127.0.0.1:1/a"]  # the abandoned one never drawn


def test_an_export_abandoned_while_drawing_is_stopped(held):
    renderer, browser = held
    left = threading.Event()
    drawing, outcome = in_background(renderer.render, "http://127.0.0.1:1/a", "pdf",
                                     abandoned=left.is_set)
    assert browser.drawing.wait(timeout=10)
    left.set()
    drawing.join(timeout=5)
    assert isinstance(outcome.get("error"), ExportAbandoned)
    browser.go.set()
    assert until(lambda: renderer._admitted == 0)
    assert browser.drawn == []


def test_the_route_answers_503_busy_with_retry_after(held, client):
    _, browser = held
    url = "/export/view.pdf?url=" + quote("/explore?org=SYN020&metric=pph_1500", safe="")
    requests = [in_background(client.get, url) for _ in range(2)]
    assert browser.drawing.wait(timeout=30)
    assert until(lambda: held[0]._admitted == 2)
    refused = client.get(url)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert "busy, try again in" in refused.get_data(as_text=True)
    browser.go.set()
    for thread, outcome in requests:
        thread.join(timeout=30)
        assert outcome["value"].status_code == 200
        assert outcome["value"].data == b"%PDF-drawn"


def test_a_closed_connection_counts_as_gone():
    here, there = socket.socketpair()
    gone = exports.client_gone({"gunicorn.socket": here})
    assert not gone()
    there.sendall(b"GET / HTTP/1.1\r\n")  # more from the client (pipelined): still there
    assert not gone()
    there.close()
    here.recv(100)
    assert gone()
    here.close()
    assert exports.client_gone({})() is False  # no socket to look at: never gone
