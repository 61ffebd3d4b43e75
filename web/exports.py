"""The export routes: a view of this app as a file, with its progress for the page to show.

``/export/view.<kind>?url=/path?query`` draws one of the app's own pages with this process's
export browser (``export.render``) from the app's private address and answers the file,
named after the view. With ``progress=TOKEN`` (letters, digits, ``-`` and ``_``) each stage
of the drawing is kept under that token in the shared cache, and ``/export/progress/TOKEN``
answers the latest, so the page can show the steps while a long export (a board pack) is
drawn. The stages are those of the renderer: waiting, opening the view, drawing the charts,
printing.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import socket
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import dash
from flask import Response, abort, current_app, jsonify, request

from data import queries

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")
PROGRESS_SECONDS = 600  # how long a stage is kept for the page that asked
Progress = Callable[[str], None]


def draw_view(kind: str, view: str, abandoned: Callable[[], bool],
              progress: Progress | None = None) -> bytes:
    """The view at ``view`` (path and query) drawn by this process's export browser from the
    app's private loopback address (never from an address a request names)."""
    from export.render import renderer
    from export.server import internal_base

    return renderer().render(internal_base(current_app._get_current_object()) + view, kind,
                             abandoned=abandoned, progress=progress)


def draw_deck(view: str, abandoned: Callable[[], bool],
              progress: Progress | None = None) -> bytes:
    """The view at ``view`` as an editable slide deck: the board summary's own deck for a
    board summary (tables as tables, numbers in the notes), else a slide per chart."""
    from export import slides
    from export.server import internal_base
    from views import boardpack
    from web import layouts

    base = internal_base(current_app._get_current_object())
    parts = urlsplit(view)
    page = next((p for p in dash.page_registry.values() if p["path"] == parts.path), {})
    if parts.path == "/board-pack":
        search, _ = layouts.canonical(page["module"], dict(parse_qsl(parts.query)))
        query = dict(parse_qsl(search.lstrip("?")))
        if query.get("full") != "1":
            model = boardpack.summary(query["org"], query["period"])
            return slides.board_deck(model, base + parts.path + search,
                                     abandoned=abandoned, progress=progress)
    return slides.view_deck(base + view, abandoned=abandoned, progress=progress)


class ExportKind(NamedTuple):
    mimetype: str
    make: Callable[..., bytes]  # (view, abandoned, progress) -> the file


# What /export/view.<kind> offers; one line adds a kind.
EXPORT_KINDS = {
    "pdf": ExportKind("application/pdf", functools.partial(draw_view, "pdf")),
    "png": ExportKind("image/png", functools.partial(draw_view, "png")),
    "pptx": ExportKind("application/vnd.openxmlformats-officedocument.presentationml."
                       "presentation", draw_deck),
}


def client_gone(environ: dict) -> Callable[[], bool]:
    """A check that the client of the request with ``environ`` has closed its connection
    (gunicorn and werkzeug put the socket in the environ; without it, never)."""
    connection = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")

    def gone() -> bool:
        try:
            return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, ValueError):  # nothing to read (or TLS): still there
            return False
        except OSError:
            return True

    return gone if connection is not None else (lambda: False)


def busy(retry_after: int) -> Response:
    """503 with ``Retry-After``: the export queue is full."""
    return Response(f"The export service is busy, try again in {retry_after} s.\n", 503,
                    mimetype="text/plain", headers={"Retry-After": str(retry_after)})


def _progress_key(token: str) -> str:
    return f"export-progress:{token}"


def recorder(token: str | None) -> Progress | None:
    """A function keeping each stage of an export under ``token`` (None without a token)."""
    if not token:
        return None

    def record(stage: str) -> None:
        queries.cache.set(_progress_key(token), stage, timeout=PROGRESS_SECONDS)

    return record


def _page_paths() -> set[str]:
    return {page["path"] for page in dash.page_registry.values()}


def export_view(kind: str, url: str, token: str | None = None) -> Response:
    """The app's own view at ``url`` (a path and query) as a download of ``kind`` (a key of
    ``EXPORT_KINDS``), named after the view (``export.names.export_filename``).

    Only paths of this app's pages are drawn, always from this process's private address, so
    the export cannot be pointed at another site; when the export queue is full the answer
    is 503 with ``Retry-After``.
    """
    from export.names import export_filename
    from export.render import ExportAbandoned, ExportBusy, ExportError

    export = EXPORT_KINDS.get(kind)
    if export is None:
        abort(404)
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or parts.path not in _page_paths():
        abort(400, description="Export needs the path of one of this dashboard's pages.")
    view = parts.path + (f"?{parts.query}" if parts.query else "")
    progress = recorder(token)
    try:
        content = export.make(view, client_gone(request.environ), progress)
    except ExportBusy as full:
        return busy(full.retry_after)
    except ExportAbandoned as error:
        log.warning("%s", error)
        abort(503, description="The export took too long; please try again.")
    except ExportError as error:
        log.error("%s", error)
        abort(503, description="The export could not be made just now; please try again.")
    finally:
        if progress:
            progress("done")
    name = export_filename(view, kind, datetime.date.today())
    return Response(content, mimetype=export.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def install(app: dash.Dash) -> None:
    """Add the export routes to ``app``'s server."""

    @app.server.route("/export/view.<kind>")
    def _export(kind: str):
        token = request.args.get("progress")
        if token is not None and not TOKEN.fullmatch(token):
            abort(400, description="The export's progress token is not valid.")
        return export_view(kind, request.args.get("url", "/"), token)

    @app.server.route("/export/progress/<token>")
    def _progress(token: str):
        if not TOKEN.fullmatch(token):
            abort(404)
        return jsonify(stage=queries.cache.get(_progress_key(token)))
