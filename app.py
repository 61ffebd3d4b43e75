"""Dash application factory: ``create_app()`` builds the app; ``server`` is for gunicorn."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import flask_bootstrap
from dash import Dash
from flask import send_from_directory

from components import shell
from data import queries, store
from web import auth, compressed, errors, exports, menus, returns

ROOT = Path(__file__).resolve().parent
BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).resolve().parent / "static" / "bootstrap5" / "css"
# plotly.js built with only the trace types this dashboard draws: scatter, bar and heatmap
# (MIT; `make plotly-bundle`, assets/vendor/README.md).
PLOTLY_VERSION = "4.1.1"
PLOTLY_BUNDLE = ROOT / "assets" / "vendor" / f"plotly-charts-{PLOTLY_VERSION}.min.js"
PLOTLY_ROUTE = "/_dash-component-suites/plotly/package_data/plotly.min.js"
# Dash puts Babel's polyfill (core-js 2 and regenerator-runtime: 99 KB, about 100 ms of script
# on every page load) before React. Browsers since 2020 have everything core-js 2 adds; the
# generator runtime that Dash's component bundles call is all that is still needed (MIT;
# assets/vendor/README.md).
REGENERATOR = ROOT / "assets" / "vendor" / "regenerator-runtime-0.14.1.js"
# Browsers may reuse these unversioned files for a day without asking again.
STATIC_MAX_AGE = 24 * 3600
GZIP_LEVEL = 3  # responses are compressed (Dash compress=True) at this gzip level

log = logging.getLogger(__name__)


def plotly_bundle_matches() -> bool:
    """True when the vendored plotly.js is the version the installed Plotly expects (after
    an upgrade the full bundle Dash ships is served until the vendored one is replaced)."""
    from plotly.offline import get_plotlyjs_version

    wanted = get_plotlyjs_version()
    if PLOTLY_VERSION == wanted and PLOTLY_BUNDLE.exists():
        return True
    log.warning("Vendored %s does not match plotly.js %s; serving the full bundle.",
                PLOTLY_BUNDLE.name, wanted)
    return False


def _drop_babel_polyfill() -> None:
    """Take @babel/polyfill out of the scripts Dash loads before React (see REGENERATOR)."""
    from dash import _dash_renderer

    for dependency in _dash_renderer._js_dist_dependencies:
        for key in ("relative_package_path", "external_url"):
            for mode, paths in dependency.get(key, {}).items():
                dependency[key][mode] = [p for p in paths if "/polyfill@" not in f"/{p}"]


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
    _drop_babel_polyfill()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        # Vendored scripts are served by the routes below, not put on every page.
        assets_path_ignore=["vendor"],
        external_stylesheets=["/vendor/bootstrap.min.css"],
        external_scripts=[f"/vendor/{REGENERATOR.name}"],
        title="Maternity and Neonatal Equalities",
        suppress_callback_exceptions=True,
        serve_locally=True,
        update_title=None,
        compress=True,  # gzip: the largest callback (Benchmark, 230 KB) travels as ~27 KB
    )
    # gzip level 3, not 6: 2.3x faster on a 290 KB layout for 8% more bytes on the wire
    # (1.05 ms against 2.31 ms; 43 KB against 40 KB), measured on the 10x store's Trends.
    app.server.config["COMPRESS_LEVEL"] = GZIP_LEVEL
    # Language for screen readers; Dash's script holder is a <footer>, which would be a
    # second contentinfo landmark beside the page's own footer.
    app.index_string = (app.index_string.replace("<html>", '<html lang="en-GB">')
                        .replace("<footer>", '<div class="dash-scripts">')
                        .replace("</footer>", "</div>"))

    @app.server.route("/vendor/bootstrap.min.css")
    def _bootstrap():
        return send_from_directory(BOOTSTRAP_DIR, "bootstrap.min.css", max_age=STATIC_MAX_AGE)

    @app.server.route(f"/vendor/{REGENERATOR.name}")
    def _regenerator():
        return send_from_directory(REGENERATOR.parent, REGENERATOR.name,
                                   mimetype="text/javascript", max_age=STATIC_MAX_AGE)

    if plotly_bundle_matches():
        # dcc.Graph fetches plotly.js from this fixed path on the first chart; the build
        # with only the charts' trace types is a quarter of the full bundle's size and
        # runs in about half the time of plotly's own "cartesian" partial bundle.
        @app.server.route(PLOTLY_ROUTE)
        def _plotly():
            return send_from_directory(PLOTLY_BUNDLE.parent, PLOTLY_BUNDLE.name,
                                       mimetype="text/javascript", max_age=STATIC_MAX_AGE)

    exports.install(app)
    returns.install(app.server)
    menus.install(app.server)
    compressed.install(app.server, GZIP_LEVEL)  # before Flask-Compress, which then skips
    _secure(app)
    auth.install(app.server)  # first: nothing is answered before sign-in
    errors.install(app)
    queries.init_cache(app.server)
    app.layout = _layout
    # Finish Dash's per-server set-up now: done lazily on the first request, it races when
    # a fresh worker's first requests arrive together on several threads (plotly/dash#3971).
    with app.server.test_request_context("/"):
        app._setup_server()
    return app


# Requests larger than this are refused (Dash callbacks are small JSON bodies).
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def _secure(app: Dash) -> None:
    """Production headers: a Content Security Policy that allows only this server's own
    scripts (plus the hashes of Dash's inline scripts), no framing, no MIME sniffing."""
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @functools.cache
    def policy() -> str:
        # Hashed once Dash has assembled its inline scripts (after server set-up).
        return "; ".join((
            "default-src 'self'",
            f"script-src 'self' {' '.join(app.csp_hashes())}",
            "style-src 'self' 'unsafe-inline'",  # Plotly and React set inline styles
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ))

    @app.server.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


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
