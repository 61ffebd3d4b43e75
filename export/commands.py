"""``equalities export view`` and ``equalities export board-pack``."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from export.render import ExportError, renderer
from export.server import running_app

FORMATS = {".pdf": "pdf", ".png": "png"}


class ExportUsageError(ValueError):
    """A bad export argument (reported in one line, exit code 2)."""


def _format_of(out: Path, allowed: tuple[str, ...]) -> str:
    kind = FORMATS.get(out.suffix.lower())
    if kind not in allowed:
        raise ExportUsageError(f"--out must end in {' or '.join('.' + a for a in allowed)}: "
                               f"{out}")
    return kind


def _write_atomically(out: Path, content: bytes) -> None:
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


def _page_path(url: str) -> str:
    import dash

    parts = urlsplit(url)
    paths = sorted(p["path"] for p in dash.page_registry.values())
    if parts.path not in paths:
        raise ExportUsageError(f"unknown page {parts.path!r} in --url; pages: {', '.join(paths)}")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def export_view(url: str, out: Path, app) -> Path:
    """Export the view at ``url`` (any host; its path and query are used) of ``app`` (the
    Dash app, whose pages are registered) to ``out``."""
    kind = _format_of(out, ("pdf", "png"))
    path = _page_path(url)
    started = time.perf_counter()
    with running_app(app.server) as base:
        _progress(f"drawing {path}", started)
        content = renderer().render(base + path, kind)
    _write_atomically(out, content)
    _progress(f"wrote {out} ({len(content) / 1024:,.0f} KB)", started)
    return out


def export_board_pack(org: str, period: str | None, out: Path, app) -> Path:
    """Export one trust's board pack (every metric) of ``app`` as a numbered PDF."""
    from data import queries

    _format_of(out, ("pdf",))
    started = time.perf_counter()
    _progress("loading the data store", started)
    orgs = queries.organisations()
    trusts = orgs.filter(orgs["org_level"] == "trust")["org_code"].to_list()
    if org not in trusts:
        raise ExportUsageError(f"unknown trust {org!r}; list trusts with "
                               "`equalities list-orgs --level trust`")
    if period is not None:
        from metrics.registry import METRICS_LIST

        known = {p for m in METRICS_LIST for p in queries.periods(m.id)}
        if period not in known:
            years = ", ".join(sorted({p for m in METRICS_LIST
                                      for p in queries.periods(m.id, "financial_year")}))
            raise ExportUsageError(f"unknown period {period!r}; for example: {years}")
    query = urlencode({"org": org} | ({"period": period} if period else {}))
    with running_app(app.server) as base:
        _progress(f"composing the board pack for {queries.org_name(org)}", started)
        try:
            content = renderer().render(f"{base}/board-pack?{query}", "pdf")
        except ExportError as error:
            raise ExportUsageError(str(error)) from error
        _progress("printed", started)
    _write_atomically(out, content)
    _progress(f"wrote {out} ({len(content) / 1024:,.0f} KB)", started)
    return out
