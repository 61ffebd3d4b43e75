"""Dash application factory: ``create_app()`` builds the app; ``server`` is for gunicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import flask_bootstrap
from dash import Dash
from flask import send_from_directory

from components import shell
from data import queries, store

ROOT = Path(__file__).resolve().parent
BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).resolve().parent / "static" / "bootstrap5" / "css"
log = logging.getLogger(__name__)


def _layout():
    """The frame, read per page load so a newly published store shows at once."""
    try:
        manifest = queries.current().manifest
    except store.StoreError as error:
        log.error("%s", error)
        return shell.frame(None, error=str(error))
    return shell.frame(manifest)


def create_app() -> Dash:
    """Build the multi-page app with its cache and locally served styles (nothing fetched)."""
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        external_stylesheets=["/vendor/bootstrap.min.css"],
        title="Maternity and Neonatal Equalities",
        suppress_callback_exceptions=True,
        serve_locally=True,
        update_title=None,
    )
    # Language for screen readers; Dash's script holder is a <footer>, which would be a
    # second contentinfo landmark beside the page's own footer.
    app.index_string = (app.index_string.replace("<html>", '<html lang="en-GB">')
                        .replace("<footer>", '<div class="dash-scripts">')
                        .replace("</footer>", "</div>"))

    @app.server.route("/vendor/bootstrap.min.css")
    def _bootstrap():
        return send_from_directory(BOOTSTRAP_DIR, "bootstrap.min.css")

    queries.init_cache(app.server)
    app.layout = _layout
    return app


_app: Dash | None = None


def get_app() -> Dash:
    """The process's one app (Dash's page registry is process-global)."""
    global _app
    if _app is None:
        _app = create_app()
    return _app


def __getattr__(name: str):
    # ``gunicorn app:server`` and ``app.app`` build the app on first use, not on import.
    if name == "server":
        return get_app().server
    if name == "app":
        return get_app()
    raise AttributeError(name)


if __name__ == "__main__":
    get_app().run(debug=False)
