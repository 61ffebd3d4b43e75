"""Page tests: the app is built once per session (Dash's page registry is process-global)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from dash import dcc


@pytest.fixture(scope="session")
def dash_app(demo_root):
    from app import get_app

    return get_app()


@pytest.fixture(autouse=True)
def _seam_cache(dash_app, monkeypatch):
    """Each test runs in the app's context, as a page does on the server, so the seam's
    cache (``data.queries.cached``) holds a view computed for one test for the next. Pages
    are drawn as component trees for the tests to read, not taken from the cache of encoded
    layouts (the browser tests use that)."""
    from web import layouts

    monkeypatch.setattr(layouts, "_view", lambda layout, query, _search:
                        layouts._render(layout, query))
    with dash_app.server.app_context():
        yield


@pytest.fixture(scope="session")
def page(dash_app):
    """``page("explore")`` -> the loaded page module."""
    return lambda name: sys.modules[f"pages.{name}"]


def text_of(component) -> str:
    """All text in a Dash component tree (for assertions on what a page says)."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    if _is_markup(component):
        return _read(component).text
    children = getattr(component, "children", None)
    parts = [text_of(children)]
    for attr in ("figure",):
        if getattr(component, attr, None) is not None:
            parts.append("[figure]")
    return " ".join(p for p in parts if p)


def find(component, predicate) -> list:
    """Every component in the tree for which ``predicate`` is true."""
    found = []
    if isinstance(component, (list, tuple)):
        for c in component:
            found += find(c, predicate)
        return found
    if component is None or isinstance(component, (str, int, float)):
        return found
    if predicate(component):
        found.append(component)
    found += find(getattr(component, "children", None), predicate)
    return found


def by_id(tree, component_id: str):
    """The component with ``component_id`` in a layout tree (fails if absent)."""
    found = find(tree, lambda c: getattr(c, "id", None) == component_id)
    assert found, f"no component {component_id}"
    return found[0]


# -- tables sent as one HTML string (components.tables.markup) ------------------------------


@dataclass
class Table:
    """One HTML table as a reader sees it: texts unescaped, ``<code>`` spans as their text."""

    id: str | None
    class_name: str
    caption: str = ""
    header: list[str] = field(default_factory=list)  # column headers (the ``<thead>`` row)
    rows: list[list[str]] = field(default_factory=list)  # body rows, every cell in order
    row_headers: list[str | None] = field(default_factory=list)  # each row's scope="row" cell

    @property
    def text(self) -> str:
        """Caption, headers and cells, separated by spaces."""
        return " ".join([self.caption, *self.header, *(c for row in self.rows for c in row)])

    def records(self) -> list[dict[str, str]]:
        """Body rows keyed by column header (every row has one cell per header)."""
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


# Tags that start a new line or cell on screen: their text is kept apart by a space.
_BLOCKS = {"table", "caption", "thead", "tbody", "tr", "th", "td", "p", "div", "br", "ul",
           "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "details", "summary"}


class _MarkupReader(HTMLParser):
    """The tables and the visible text of an HTML string (entities unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.words: list[str] = []
        self._cell: list[str] | None = None  # text of the open cell or caption
        self._scope: str | None = None
        self._row: list[str] | None = None
        self._row_header: str | None = None
        self._in_head = False

    @property
    def text(self) -> str:
        return " ".join("".join(self.words).split())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _BLOCKS:
            self.words.append(" ")
        if tag == "table":
            self.tables.append(Table(id=attrs.get("id"), class_name=attrs.get("class") or ""))
        elif tag in ("thead", "tbody"):
            self._in_head = tag == "thead"
        elif tag == "tr":
            self._row, self._row_header = [], None
        elif tag in ("td", "th", "caption"):
            assert self._cell is None, f"<{tag}> inside another cell"
            self._cell, self._scope = [], attrs.get("scope")

    def handle_endtag(self, tag):
        if tag in _BLOCKS:
            self.words.append(" ")
        if tag == "caption":
            self.tables[-1].caption = "".join(self._cell)
            self._cell = None
        elif tag in ("td", "th"):
            assert self._row is not None, f"<{tag}> outside a row"
            text = "".join(self._cell)
            self._row.append(text)
            if tag == "th" and self._scope == "row":
                self._row_header = text
            self._cell = None
        elif tag == "tr":
            table = self.tables[-1]
            if self._in_head:
                table.header = self._row
            else:
                table.rows.append(self._row)
                table.row_headers.append(self._row_header)
            self._row = None
        elif tag == "thead":
            self._in_head = False

    def handle_data(self, data):
        self.words.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _is_markup(component) -> bool:
    return isinstance(component, dcc.Markdown) and bool(
        getattr(component, "dangerously_allow_html", False))


def _read(component) -> _MarkupReader:
    children = component.children
    reader = _MarkupReader()
    reader.feed(children if isinstance(children, str) else "\n".join(children or []))
    reader.close()
    return reader


def tables_of(tree) -> list[Table]:
    """Every table held as HTML markup in a layout tree, in page order."""
    return [t for markup in find(tree, _is_markup) for t in _read(markup).tables]


def table_of(tree, table_id: str | None = None) -> Table:
    """The table with ``table_id`` (or the only table) in a layout tree (fails if absent)."""
    found = [t for t in tables_of(tree) if table_id is None or t.id == table_id]
    assert len(found) == 1, f"{len(found)} tables with id {table_id}"
    return found[0]
