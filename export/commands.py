"""``equalities export view`` and ``equalities export board-pack``."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from export.render import ExportError, renderer
from export.server import running_app

FORMATS = {".pdf": "pdf", ".png": "png", ".pptx": "pptx", ".xlsx": "xlsx"}


class ExportUsageError(ValueError):
    """A bad export argument (reported in one line, exit code 2)."""


def _format_of(out: Path, allowed: tuple[str, ...]) -> str:
    kind = FORMATS.get(out.suffix.lower())
    if kind not in allowed:
        raise ExportUsageError(f"--out must end in {' or '.join('.' + a for a in allowed)}: "
                               f"{out}")
    return kind


def write_atomically(out: Path, content: bytes) -> None:
    """Write ``content`` to ``out`` via a temporary file, so a failure leaves no half file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _progress(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:5.1f}s] {message}", file=sys.stderr, flush=True)


@contextmanager
def _ticking(message: str, started: float, every: float = 3.0) -> Iterator[None]:
    """Say ``message`` now and again every ``every`` seconds until the block ends, so that a
    long wait for the browser shows that work goes on."""
    done = threading.Event()

    def tick() -> None:
        _progress(message, started)
        while not done.wait(every):
            _progress(f"{message} (still working)", started)

    thread = threading.Thread(target=tick, name="export-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _page_path(url: str) -> str:
    import dash

    parts = urlsplit(url)
    paths = sorted(p["path"] for p in dash.page_registry.values())
    if parts.path not in paths:
        raise ExportUsageError(f"unknown page {parts.path!r} in --url; pages: {', '.join(paths)}")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pack_file_name(org: str, org_name: str, period: str, *, full: bool, suffix: str) -> str:
    """A name that says what the file is: ``board-summary_SYN071_coldhurst-nhs-trust_2024-25
    .pdf`` (``board-pack_...`` for the full pack)."""
    words = re.sub(r"[^a-z0-9]+", "-", org_name.lower()).strip("-")[:40].strip("-")
    kind = "board-pack" if full else "board-summary"
    return f"{kind}_{org}_{words}_{re.sub(r'[^A-Za-z0-9-]+', '-', period)}{suffix}"


def export_view(url: str, out: Path, app) -> Path:
    """Export the view at ``url`` (any host; its path and query are used) of ``app`` (the
    Dash app, whose pages are registered) to ``out`` (PDF, PNG or a PowerPoint deck)."""
    kind = _format_of(out, ("pdf", "png", "pptx"))
    path = _page_path(url)
    started = time.perf_counter()
    with running_app(app.server) as base, _ticking(f"drawing {path}", started):
        if kind == "pptx":
            from export import slides

            content = slides.view_deck(base + path)
        else:
            content = renderer().render(base + path, kind)
    write_atomically(out, content)
    _progress(f"wrote {out} ({len(content) / 1024:,.0f} KB)", started)
    return out


def _checked_pack(org: str, period: str | None) -> None:
    """Refuse an unknown trust or period with a one-line message naming good ones."""
    from data import queries

    orgs = queries.organisations()
    trusts = orgs.filter(orgs["org_level"] == "trust")["org_code"].to_list()
    if org not in trusts:
        raise ExportUsageError(f"unknown trust {org!r}; list trusts with "
                               "`equalities list-orgs --level trust`")
    if period is not None:
        from metrics import registry

        known = {p for m in registry.all_metrics() for p in queries.periods(m.id)}
        if period not in known:
            years = ", ".join(sorted({p for m in registry.all_metrics()
                                      for p in queries.periods(m.id, "financial_year")}))
            raise ExportUsageError(f"unknown period {period!r}; for example: {years}")


def export_board_pack(org: str, period: str | None, out: Path, app, *,
                      full: bool = False) -> Path:
    """Export one trust's board summary (or with ``full`` the pack of every metric) of
    ``app`` as a numbered PDF, or the summary as a PowerPoint deck. ``out`` may be a folder:
    the file is then named after the trust and period (:func:`pack_file_name`)."""
    from data import queries
    from views import boardpack

    started = time.perf_counter()
    _progress("loading the data store", started)
    _checked_pack(org, period)
    period = period or boardpack.default_period()
    if out.is_dir():
        out = out / pack_file_name(org, queries.org_name(org), period, full=full,
                                   suffix=".pdf")
    kind = _format_of(out, ("pdf", "pptx", "xlsx"))
    if kind != "pdf" and full:
        raise ExportUsageError("the full pack prints as PDF only; slides and workbooks hold "
                               "the board summary (leave out --full)")
    what = "full board pack" if full else "board summary"
    page = "/board-pack?" + urlencode({"org": org, "period": period}
                                      | ({"full": "1"} if full else {}))
    with running_app(app.server) as base:
        with app.server.test_request_context():
            _progress(f"working out the {what} for {queries.org_name(org)}, {period}", started)
            model = boardpack.summary(org, period)  # the summary's figures, now cached
            if full:
                _warm_full_pack(org, period, lambda m: _progress(m, started))
        try:
            doing = "writing the workbook" if kind == "xlsx" else \
                "drawing the pages in the export browser"
            with _ticking(doing, started):
                if kind == "xlsx":
                    from export import workbook

                    content = workbook.board_workbook(model)
                elif kind == "pptx":
                    from export import slides

                    content = slides.board_deck(model, base + page)
                else:
                    content = renderer().render(base + page, "pdf")
        except ExportError as error:
            raise ExportUsageError(str(error)) from error
        _progress("done", started)
    write_atomically(out, content)
    _progress(f"wrote {out} ({len(content) / 1024:,.0f} KB)", started)
    return out


def _warm_full_pack(org: str, period: str, progress) -> None:
    """Work out each metric's figures before printing (they are cached for the page), so
    the long wait is shown metric by metric."""
    from data import queries
    from metrics.categories import TOTAL
    from views import boardpack

    metrics = boardpack.pack_metrics()
    for number, metric in enumerate(metrics, start=1):
        progress(f"metric {number} of {len(metrics)}: {metric.short_title}")
        shown = boardpack.period_for(metric, period)
        if shown is None:
            continue
        for dimension in queries.dimensions_at(metric.id, "trust"):
            queries.breakdown(metric.id, org, shown, dimension, "england")
        queries.benchmark(metric.id, shown)
        queries.funnel(metric.id, shown)
        for kind in metric.period_kinds:
            queries.trend(metric.id, org, kind, TOTAL)
