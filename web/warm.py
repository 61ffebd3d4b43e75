"""Each page's first view drawn once when a build is published, and what it computed saved
with the build (``data.warm``), so a new server answers its first pages without computing
them: the landing page's "what changed" alone is about a second of work."""

from __future__ import annotations

import logging

import dash
from dash import Dash

from data import queries, warm
from metrics import registry
from web import layouts as web_layouts

log = logging.getLogger(__name__)


def prime(app: Dash, paths: tuple[str, ...] | None = None) -> tuple[str, int]:
    """Draw the default view of each page in ``paths`` (by default every page whose views
    are cached: the views a visitor meets first) from the published store, work out every
    metric's look-ups (its periods, breakdowns and levels with figures, which every view of
    the metric asks for and which read all of its rows), and save every result that
    computed with the build: (the build's id, results saved). Every result is computed
    afresh (neither the cache nor results saved before are read)."""
    layouts = {page["path"]: page["layout"] for page in dash.page_registry.values()}
    if paths is None:
        paths = tuple(page["path"] for page in dash.page_registry.values()
                      if page["module"] in web_layouts.CACHED)
    server = app.server
    with server.app_context(), warm.recording() as entries:
        build = queries.current()
        for path in paths:
            with server.test_request_context(path):
                try:
                    layouts[path]()
                except Exception:  # noqa: BLE001 - that page's results are left to compute
                    log.exception("could not draw %s to save its results", path)
        for metric in registry.all_metrics():
            queries.held_dimensions(metric.id)
            queries.figure_levels(metric.id)
    return build.build_id, warm.save(build.path, entries)
