"""How pages are served: each layout cached per store build and view, failures as a notice.

A page is a pure function of its URL and the store, so its rendered layout is kept (per
store build, page and view) and a view seen before costs a cache lookup. A layout that fails
shows a friendly notice instead of an error page, and a view that could not use part of its
link logs which parameters, on every request. Every page comes with its print heading and
export links for the view, made fresh (they state when they were generated), so a view costs
one request to the server and no second callback.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import orjson
import plotly.io.json
from dash import dcc, html
from flask import has_app_context

from components import ids, shell, viewstate, viewwords
from data import queries, settings, store
from web import follow

log = logging.getLogger(__name__)
MAX_LOGGED_CHARS = 80  # of each parameter name and value in the server log
MAX_LOGGED_PARAMETERS = 8
CANONICAL_KEPT = 512  # links whose canonical view each process remembers (per build)

_LAYOUTS: dict[str, Callable[..., object]] = {}
CACHED: set[str] = set()  # modules whose layouts are cached per store build and view


def _render(layout: Callable[..., object], query: dict) -> tuple[object, tuple[str, ...]]:
    """The layout for ``query`` and the link parameters it could not use (see ``unused``)."""
    with viewstate.refusals() as refused:
        try:
            component = layout(**query)
        except store.StoreError as error:
            log.error("store unavailable: %s", error)
            component = dbc.Alert(str(error), color="danger")
        except Exception:  # noqa: BLE001 - any failure becomes a notice, logged in full
            log.exception("layout failed for %s with %r", layout.__module__, query)
            component = dbc.Alert(
                "Sorry, this view could not be shown. The link may be damaged; try the "
                "page without its options.", color="danger")
    return component, unused(refused, query)


def _short(text: object) -> str:
    # repr keeps control characters and line breaks out of the log line.
    return repr(str(text)[:MAX_LOGGED_CHARS])


def unused(refused: viewstate.Refusals, query: dict) -> tuple[str, ...]:
    """``key='value'`` for each link parameter a page showed a notice about.

    Empty when no notice was shown. When the notice came from a check of the view as a
    whole rather than of one parameter, every parameter of the link is named.
    """
    if not refused.notices or not query:
        return ()
    named = list(dict.fromkeys(refused.parameters)) or list(query.items())
    return tuple(f"{_short(k)}={_short(v)}" for k, v in named[:MAX_LOGGED_PARAMETERS])


def _log_unused(module: str, parameters: tuple[str, ...]) -> None:
    if parameters:
        page = dash.page_registry.get(module, {}).get("path", module)
        log.warning("link parameters not used on %s: %s", page, ", ".join(parameters))


@queries.cached
def _view_json(module: str, search: str) -> tuple[bytes, tuple[str, ...]]:
    """A page's layout for one view (its canonical query), encoded once as the JSON Dash
    sends to the browser, and the link parameters it could not use."""
    component, parameters = _render(_LAYOUTS[module], viewstate.query_of(search))
    return plotly.io.json.to_json_plotly(component).encode(), parameters


_decoded = contextvars.ContextVar("decoded", default=False)


@contextlib.contextmanager
def decoded() -> Iterator[None]:
    """Pages drawn in this block hold a cached view's layout as JSON objects, for code that
    reads the tree (the check of callback inputs), not as the encoded text Dash sends."""
    token = _decoded.set(True)
    try:
        yield
    finally:
        _decoded.reset(token)


def _view(layout: Callable[..., object], query: dict, search: str | None
          ) -> tuple[object, tuple[str, ...]]:
    """The layout for ``query``: from the cache under its canonical ``search`` when given
    (so parameters the page does not know make no new entry), else drawn now. From the
    cache it is the JSON text itself, put into the response as it is (``orjson.Fragment``)
    rather than decoded and encoded again on every request (2 of a 10x page's 6 ms)."""
    if search is None or not has_app_context():
        return _render(layout, query)
    try:
        queries.build_id()  # a store that cannot be read gets the page's own notice
    except store.StoreError:
        return _render(layout, query)
    encoded, parameters = _view_json(layout.__module__, search)
    return _as_sent(encoded), parameters


def _as_sent(encoded: bytes) -> orjson.Fragment | dict:
    """Encoded JSON as a response holds it (the text itself), or decoded in a
    :func:`decoded` block."""
    return orjson.loads(encoded) if _decoded.get() else orjson.Fragment(encoded)


def canonical(module: str, query: dict) -> tuple[str, bool]:
    """The page's own canonical query for ``query`` (defaults filled in, parameters it does
    not know dropped), and whether the page could use the link as given (no value refused),
    so an export states every selection and the cache holds one entry per view.

    Worked out once per store build and link in each process (the parse reads the store:
    2 of a 10x page's 8 ms from the cache), in a bounded cache, so links made up by the
    thousand cannot fill memory."""
    raw = viewstate.search({str(k): str(v) for k, v in query.items()})
    if "canonical" not in dash.page_registry.get(module, {}):
        return raw, False
    # The link as given (a repeated parameter comes as a list), as a key.
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items()))
    try:
        return _recent_canonical(queries.build_id(), module, key, raw)
    except (store.StoreError, TypeError):  # no store, or a value that cannot be a key
        return _canonical(module, query, raw)


@functools.lru_cache(maxsize=CANONICAL_KEPT)
def _recent_canonical(_build: str, module: str, key: tuple, raw: str) -> tuple[str, bool]:
    query = {k: list(v) if isinstance(v, tuple) else v for k, v in key}
    return _canonical(module, query, raw)


def _canonical(module: str, query: dict, raw: str) -> tuple[str, bool]:
    page = dash.page_registry[module]
    try:
        with viewstate.refusals() as refused:
            search = page["canonical"](query)
    except Exception:  # noqa: BLE001 - a heading must never break the page
        log.exception("could not describe %s%s", page.get("path"), raw)
        return raw, False
    # Used as given: no value refused, and none the view holds was replaced by another.
    kept = viewstate.query_of(search)
    same = all(kept[k] == str(v) for k, v in query.items() if k in kept)
    return search, same and not (refused.parameters or refused.notices)


def safe_layout(layout: Callable[..., object] | None = None, *, cache: bool = True):
    """Render a friendly notice instead of an error page if a layout fails.

    Inside the web app the rendered layout is cached per store build, page and view (a page
    is a pure function of its URL and the store), so a view seen before costs a cache
    lookup instead of rebuilding its figures and tables. ``cache=False`` for pages whose
    content also depends on the clock. A view that shows a notice about its link logs a
    warning naming the page and the parameters it could not use, on every request.
    """
    if layout is None:
        return functools.partial(safe_layout, cache=cache)
    _LAYOUTS[layout.__module__] = layout
    if cache:
        CACHED.add(layout.__module__)

    @functools.wraps(layout)
    def wrapper(**query):
        search, exact = canonical(layout.__module__, query)
        # A link the page could not use as given is drawn each time (with its notice),
        # never cached: tampered links cannot fill the cache.
        component, parameters = _view(layout, query, search if cache and exact else None)
        # Every time, cached or not: a tampered link is worth a line per request.
        _log_unused(layout.__module__, parameters)
        if isinstance(component, dict | orjson.Fragment):
            return plain_page(frame_json(layout.__module__, search, exact), component)
        return html.Div([*frame(layout.__module__, search, exact, _generated()), component])

    return wrapper


def frame(module: str, search: str, exact: bool, generated: str) -> list:
    """What every page starts with, for the view of ``module`` at its canonical ``search``
    (``exact``: as its link gave it): the page's address, the links every page carries for
    the view, and the print heading (``generated`` at that time) with the export links."""
    return [dcc.Location(id=ids.PAGE_URL, refresh="callback-nav"),
            dcc.Store(id=ids.NAV_LINKS, data=follow.nav_links(module, search,
                                                              replaced=not exact)),
            *print_frame(module, search, generated)]


def _generated() -> str:
    return datetime.now().strftime("%d %B %Y, %H:%M")


def frame_json(module: str, search: str, exact: bool) -> tuple[orjson.Fragment | dict, ...]:
    """:func:`frame` as encoded JSON, one item per component, worked out once per store
    build, view, minute (the heading's time) and public address (the heading's link) in
    each process: the links for every page and the heading cost 3 of a cached page's 5 ms
    on the server when made afresh."""
    generated = _generated()
    try:
        build = queries.build_id()
    except store.StoreError:
        return tuple(_encoded(frame(module, search, exact, generated)))
    parts = _recent_frame(build, generated, settings.public_url(), module, search, exact)
    return tuple(_as_sent(part) for part in parts)


@functools.lru_cache(maxsize=CANONICAL_KEPT)
def _recent_frame(_build: str, generated: str, _address: str | None, module: str,
                  search: str, exact: bool) -> tuple[bytes, ...]:
    return tuple(orjson.dumps(part) for part in
                 _encoded(frame(module, search, exact, generated)))


def plain_page(frame: tuple[orjson.Fragment | dict, ...], encoded: dict | orjson.Fragment
               ) -> dict:
    """The page as Dash's JSON: the ``frame``'s components and the view's layout, each
    already encoded. A response of plain JSON is encoded in one pass; one holding a
    component object is first walked whole by Plotly's encoder, which took most of the
    time of a 10x page from the cache (9 of 18 ms)."""
    return {"type": "Div", "namespace": "dash_html_components",
            "props": {"children": [*frame, encoded]}}


def _encoded(components: list) -> list:
    return json.loads(plotly.io.json.to_json_plotly(components))


def print_frame(module: str, search: str, generated: str) -> list:
    """What a page's view (its canonical ``search``) starts with: the heading printed on
    paper and in exports (what, for whom, when, from where) and the links that export it."""
    path = dash.page_registry.get(module, {}).get("path", "/")
    try:
        store_now = queries.current()
    except store.StoreError:
        return []
    title, lines = viewwords.describe(path, search, store_now.names)
    return [shell.print_header(title, lines, path + search, generated, store_now.manifest),
            shell.export_bar({kind: viewwords.export_href(path, search, kind)
                              for kind in shell.EXPORTS}),
            shell.see_also(follow.see_also(path, search))]
