"""A persistent headless Chromium that turns app URLs into PDF or PNG.

Playwright's synchronous objects belong to the thread that made them, and web requests
arrive on many threads, so one worker thread owns the browser and serves jobs from a queue.
The browser starts on the first export (about 0.5 s) and is reused afterwards.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
from concurrent.futures import Future
from dataclasses import dataclass

log = logging.getLogger(__name__)

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


class ExportError(RuntimeError):
    """The page could not be drawn or printed."""


@dataclass(frozen=True)
class Job:
    url: str
    kind: str  # "pdf" or "png"
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request the page makes


class Renderer:
    """Owns one Chromium; :meth:`render` is safe to call from any thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Job, Future]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def render(self, url: str, kind: str, headers: dict[str, str] | None = None) -> bytes:
        """The page at ``url`` as PDF (A4 landscape, numbered pages) or a full-page PNG.

        The app's internal token goes with every request, so pages draw when sign-in is on;
        ``headers`` adds others (the credentials of the person asking).
        """
        from web.auth import internal_headers

        if kind not in ("pdf", "png"):
            raise ValueError(f"unknown export format {kind!r}; use pdf or png")
        self._start()
        future: Future = Future()
        sent = internal_headers() | (headers or {})
        self._jobs.put((Job(url, kind, tuple(sent.items())), future))
        return future.result(timeout=TIMEOUT_MS / 1000 * 2)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="export-browser",
                                                daemon=True)
                self._thread.start()

    def _work(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=list(BROWSER_ARGS))
            page = browser.new_page(viewport=VIEWPORT)
            page.emulate_media(media="print")
            while True:
                job, future = self._jobs.get()
                try:
                    future.set_result(self._draw(page, job))
                except (PlaywrightError, ExportError) as error:
                    log.error("export of %s failed: %s", job.url, error)
                    future.set_exception(ExportError(f"Could not export {job.url}: {error}"))

    @staticmethod
    def _draw(page, job: Job) -> bytes:
        page.set_extra_http_headers(dict(job.headers))
        page.goto(job.url, wait_until="networkidle", timeout=TIMEOUT_MS)
        page.wait_for_function(CHARTS_DRAWN, timeout=TIMEOUT_MS, polling=100)
        if job.kind == "pdf":
            return page.pdf(**PDF_OPTIONS)
        return page.screenshot(full_page=True, type="png")


_renderer: Renderer | None = None


def renderer() -> Renderer:
    """The process's renderer (one browser per process)."""
    global _renderer
    if _renderer is None:
        _renderer = Renderer()
    return _renderer
