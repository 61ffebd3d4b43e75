"""A persistent headless Chromium that turns app URLs into PDF or PNG.

Playwright's synchronous objects belong to the thread that made them, and web requests
arrive on many threads, so one worker thread owns the browser and serves jobs from a queue.
The browser starts on the first export (about 0.5 s) and is reused afterwards.

The queue is short: a process draws one page at a time and lets at most ``WAITING`` more
exports wait, so requests waiting for exports hold at most ``DRAWING + WAITING`` of a
server's threads and pages keep being served; past that :meth:`Renderer.render` refuses at
once (:class:`ExportBusy`, with a time to try again). An export whose requester has gone or
waited too long is dropped before (or stopped while) it is drawn.

The browser loads only the origin of the address it was given (the app's private address,
``export.server``): every request to another origin is aborted before it is sent, so the
app's token and the requester's credentials go to that origin only (redirects, which
Playwright does not route, are kept at home by that server), and a page that ends up
elsewhere is refused.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from export.server import origin

log = logging.getLogger(__name__)
T = TypeVar("T")

CHROMIUM = os.environ.get("EQUALITIES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync")
# The width of A4 landscape inside 10 mm margins at 96 px per inch (277 mm), so charts are
# drawn at the width they print at: Plotly sizes its SVG once, for the window it sees.
VIEWPORT = {"width": 1046, "height": 740}
# A4 landscape with room for the page number footer.
PDF_OPTIONS = dict(
    format="A4", landscape=True, print_background=True, display_header_footer=True,
    header_template="<div></div>",
    footer_template='<div style="font:8px Arial,sans-serif;width:100%;text-align:center;'
                    'color:#425563">Page <span class="pageNumber"></span> of '
                    '<span class="totalPages"></span></div>',
    margin={"top": "10mm", "bottom": "14mm", "left": "10mm", "right": "10mm"},
)
# Ready when Dash is idle, the page heading is there, every chart has Plotly's SVG and every
# sortable table its rows (dcc.Graph and DataTable draw a container at once and their
# content only after lazily loaded code has run, so count containers, not content).
CHARTS_DRAWN = """() => {
  const graphs = Array.from(document.querySelectorAll('.dash-graph'));
  const grids = Array.from(document.querySelectorAll('.dash-table-container'));
  const busy = document.querySelectorAll('[data-dash-is-loading="true"]').length;
  return !busy && document.querySelector('main h1') !== null &&
         graphs.every(g => g.querySelector('.main-svg') !== null) &&
         grids.every(t => t.querySelector('table') !== null);
}"""
TIMEOUT_MS = 60_000
# How long a request waits for its export (queued and drawn) before giving up on it.
WAIT_SECONDS = TIMEOUT_MS / 1000 * 2
DRAWING = 1  # pages drawn at once per process (one browser page; two cores on the server)
WAITING = 1  # exports allowed to wait behind it; more are refused with a time to try again
POLL_SECONDS = 0.25  # how often a waiting request checks that its requester is still there
FIRST_GUESS_SECONDS = 2.0  # time to draw a view, until this process has drawn some


class ExportError(RuntimeError):
    """The page could not be drawn or printed."""


class ExportBusy(ExportError):
    """Too many exports are being made; ``retry_after`` whole seconds is a fair wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy, try again in {retry_after} s")
        self.retry_after = retry_after


class ExportAbandoned(ExportError):
    """The requester went away or waited too long, so the page was not (fully) drawn."""


# How a drawn page becomes a file, by export kind.
PRINTERS: dict[str, Callable[[Any], bytes]] = {
    "pdf": lambda page: page.pdf(**PDF_OPTIONS),
    "png": lambda page: page.screenshot(full_page=True, type="png"),
}


@dataclass(frozen=True)
class Job:
    url: str
    printer: Callable[[Any], Any]  # the drawn Playwright page -> what the job returns
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request to the url's origin

    @property
    def origin(self) -> str:
        return origin(self.url)


# The stages of an export, as its progress reports them (and the page shows them).
STAGES = ("waiting", "opening", "drawing", "printing", "done")


def _quiet(_stage: str) -> None:
    """Progress nobody asked to see."""


@dataclass
class _Ticket:
    job: Job
    future: Future = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[str], None] = _quiet  # told each stage of ``STAGES`` as it starts

    def abandon(self) -> bool:
        """Drop the job; True when it was still queued (a drawing job checks ``abandoned``)."""
        self.abandoned.set()
        return self.future.cancel()


class Renderer:
    """Owns one Chromium; :meth:`render` is safe to call from any thread."""

    def __init__(self, waiting: int = WAITING) -> None:
        self._jobs: queue.Queue[_Ticket] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._limit = DRAWING + waiting
        self._admitted = 0  # queued or being drawn
        self._draw_seconds = FIRST_GUESS_SECONDS  # running average of recent draws
        self._browser = _Browser()

    def render(self, url: str, kind: str, headers: dict[str, str] | None = None, *,
               abandoned: Callable[[], bool] | None = None,
               progress: Callable[[str], None] | None = None) -> bytes:
        """The page at ``url`` as PDF (A4 landscape, numbered pages) or a full-page PNG
        (``kind``, a key of ``PRINTERS``); see :meth:`draw`."""
        if kind not in PRINTERS:
            raise ValueError(f"unknown export format {kind!r}; use {' or '.join(PRINTERS)}")
        return self.draw(url, PRINTERS[kind], headers, abandoned=abandoned, progress=progress)

    def draw(self, url: str, printer: Callable[[Any], T],
             headers: dict[str, str] | None = None, *,
             abandoned: Callable[[], bool] | None = None,
             progress: Callable[[str], None] | None = None) -> T:
        """``printer(page)`` once the page at ``url`` is drawn (every chart and table there),
        called on the browser's thread with the Playwright page (print media, ``VIEWPORT``).

        The app's internal token goes with every request to ``url``'s origin, so pages draw
        when sign-in is on; ``headers`` adds others (the credentials of the person asking).
        Raises :class:`ExportBusy` at once when the queue is full, and
        :class:`ExportAbandoned` when ``abandoned()`` turns true (the requester has gone) or
        the wait passes ``WAIT_SECONDS``. ``progress`` is told each stage (``STAGES``) as it
        starts, from the browser's thread.
        """
        from web.auth import internal_headers

        sent = internal_headers() | (headers or {})
        ticket = _Ticket(Job(url, printer, tuple(sent.items())), progress=progress or _quiet)
        self._admit()
        ticket.progress("waiting")
        self._start()
        self._jobs.put(ticket)
        return self._wait(ticket, abandoned or (lambda: False))

    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self._limit:
                wait = math.ceil(self._admitted * self._draw_seconds)
                log.warning("export refused: %d exports in hand (retry after %d s)",
                            self._admitted, wait)
                raise ExportBusy(max(1, wait))
            self._admitted += 1

    def _wait(self, ticket: _Ticket, abandoned: Callable[[], bool]) -> Any:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                return ticket.future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                gone = abandoned()
                if gone or time.monotonic() > deadline:
                    if ticket.abandon():  # never to be drawn: its place is free at once
                        self._release()
                    why = "the requester went away" if gone else "it took too long"
                    raise ExportAbandoned(f"export of {ticket.job.url} dropped: {why}") from None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="export-browser",
                                                daemon=True)
                self._thread.start()

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    def _work(self) -> None:
        while True:
            ticket = self._jobs.get()
            if not ticket.future.set_running_or_notify_cancel():
                log.warning("export of %s abandoned while queued: not drawn", ticket.job.url)
                continue  # released by its requester when it gave up
            try:
                self._fulfil(ticket)
            finally:
                self._release()

    def _fulfil(self, ticket: _Ticket) -> None:
        from playwright.sync_api import Error as PlaywrightError

        started = time.monotonic()
        try:
            ticket.future.set_result(self._browser.draw(ticket))
            took = time.monotonic() - started
            self._draw_seconds = 0.8 * self._draw_seconds + 0.2 * took
        except ExportAbandoned as error:
            log.warning("%s: not printed", error)
            ticket.future.set_exception(error)
        except ExportError as error:
            log.error("export of %s failed: %s", ticket.job.url, error)
            ticket.future.set_exception(error)
        except PlaywrightError as error:
            log.error("export of %s failed: %s", ticket.job.url, error)
            ticket.future.set_exception(ExportError(f"Could not export {ticket.job.url}: "
                                                    f"{error}"))
            self._browser.close()  # a crashed or stuck browser: start afresh next time
        except Exception as error:
            log.exception("export of %s failed", ticket.job.url)
            ticket.future.set_exception(ExportError(f"Could not export {ticket.job.url}: "
                                                    f"{error}"))
            self._browser.close()


class _Browser:
    """Chromium with one page, used only on the renderer's worker thread."""

    def __init__(self) -> None:
        self._playwright = None
        self._page = None
        self._allowed = ""  # the only origin the page may reach

    def draw(self, ticket: _Ticket) -> Any:
        job = ticket.job
        ticket.progress("opening")
        page = self._open(job.origin)
        page.set_extra_http_headers(dict(job.headers))
        try:
            response = page.goto(job.url, wait_until="networkidle", timeout=TIMEOUT_MS)
            if response is None or not response.ok:
                status = response.status if response else "nothing"
                raise ExportError(f"{job.url} answered {status}")
            self._check(page, ticket)
            ticket.progress("drawing")
            page.wait_for_function(CHARTS_DRAWN, timeout=TIMEOUT_MS, polling=100)
            self._check(page, ticket)
            ticket.progress("printing")
            return job.printer(page)
        finally:
            page.set_extra_http_headers({})  # nothing of this requester's stays behind

    @staticmethod
    def _check(page, ticket: _Ticket) -> None:
        """Stop a job whose requester has gone, or whose page is not where it was sent."""
        if ticket.abandoned.is_set():
            raise ExportAbandoned(f"export of {ticket.job.url} abandoned while drawing")
        if origin(page.url) != ticket.job.origin:
            raise ExportError(f"{ticket.job.url} led the browser to {origin(page.url)}")

    def _open(self, allowed: str):
        """The page, refusing every request to an origin other than ``allowed``."""
        if self._page is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            browser = self._playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=list(BROWSER_ARGS))
            context = browser.new_context(viewport=VIEWPORT, service_workers="block")
            self._page = context.new_page()
            self._page.emulate_media(media="print")
            self._allowed = ""
        if allowed != self._allowed:
            self._page.unroute_all()
            # A pattern (not a Python predicate) is matched by Playwright's driver, so the
            # page's own requests never wait for this thread; every other one is aborted
            # before it is sent, headers and all. Redirects are not routed: the server the
            # browser draws from never redirects elsewhere (``export.server.confined``).
            self._page.route(re.compile(f"^(?!{re.escape(allowed)}/)"), self._refuse)
            self._allowed = allowed
        return self._page

    def _refuse(self, route) -> None:
        log.warning("export from %s: refused a request to %s", self._allowed,
                    route.request.url[:200])
        route.abort("blockedbyclient")

    def close(self) -> None:
        if self._playwright is not None:
            try:
                self._playwright.stop()
            except Exception:
                log.exception("could not stop the export browser")
        self._playwright = self._page = None


_renderers: dict[int, Renderer] = {}  # process id -> its renderer
_renderers_lock = threading.Lock()


def renderer() -> Renderer:
    """The process's renderer (one browser per process; a forked process makes its own)."""
    with _renderers_lock:
        pid = os.getpid()
        if pid not in _renderers:
            _renderers.clear()
            _renderers[pid] = Renderer()
        return _renderers[pid]
