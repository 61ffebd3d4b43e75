"""Nothing leaves the building (issue 16, section 4).

No chart offers to send itself or its data to a third-party service (Plotly's "Share chart",
Chart Studio, the logo linking to plotly.com); and names from an uploaded or kept local file
are drawn as text, never read as Plotly markup (a live ``<a href>`` in a title or legend).
"""

from __future__ import annotations

import base64
import json
import re

import dash
import plotly.io.json
import polars as pl
import pytest

from components import figures
from data.local import store as local_store
from tests.pages.conftest import table_of, tables_of

OFFSITE = {"sendDataToCloud", "sendChartToCloud", "editInChartStudio"}
# Views that draw the charts a page only has with a choice made (trusts side by side, a
# kept local file, a trust's profile), beside every page with no arguments.
VIEWS = {
    "/benchmark": [{"trusts": "SYN010,SYN011"}],
    "/trends": [{"org": "SYN010", "dim": "ethnicity"}],
    "/data-quality": [{"org": "SYN010"}],
    "/mortality": [{"org": "SYN010"}],
    "/experience": [{"org": "SYN010"}],
    "/board-pack": [{"full": "1"}],  # the full pack (the summary draws a chart a headline)
}
# Pages that always draw at least one chart.
CHARTED = {"/explore", "/benchmark", "/map", "/trends", "/intersections", "/scorecard",
           "/data-quality", "/board-pack"}


def as_json(tree) -> object:
    """A layout (components, or the JSON a cached layout already is) as Dash sends it."""
    return json.loads(plotly.io.json.to_json_plotly(tree))


def nodes(tree, kind: str) -> list[dict]:
    """Every component of type ``kind`` (e.g. ``"Graph"``) in a JSON layout."""
    found = []
    if isinstance(tree, list):
        for child in tree:
            found += nodes(child, kind)
    elif isinstance(tree, dict):
        if tree.get("type") == kind and "props" in tree:
            found.append(tree)
        for value in tree.get("props", {}).values():
            found += nodes(value, kind)
    return found


def strings(node) -> list[str]:
    """Every string in a JSON value (a figure: titles, names, texts, hovers, ticks)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    return []


def offsite_problems(graph: dict) -> list[str]:
    """What in one dcc.Graph (JSON) could send a chart or its data off-site."""
    config = graph["props"].get("config") or {}
    problems = [f"{key} is not false" for key in
                ("showSendToCloud", "showEditInChartStudio", "displaylogo")
                if config.get(key) is not False]
    if config.get("watermark"):
        problems.append("watermark (the plotly.com logo link) is on")
    if config.get("plotlyServerURL"):
        problems.append(f"plotlyServerURL is {config['plotlyServerURL']!r}")
    removed = set(config.get("modeBarButtonsToRemove") or ())
    if not OFFSITE <= removed:
        problems.append(f"modeBarButtonsToRemove lacks {sorted(OFFSITE - removed)}")
    if "toImage" in removed:
        problems.append("the download-as-image button is removed")
    if config.get("modeBarButtonsToAdd") or config.get("modeBarButtons"):
        problems.append("buttons are added or replaced")
    figure = graph["props"].get("figure") or {}
    if (figure.get("layout") or {}).get("modebar", {}).get("add"):
        problems.append("the figure adds mode bar buttons")
    return problems


def test_the_shared_config_keeps_charts_in_the_building():
    graph = {"props": {"config": figures.CONFIG}}
    assert offsite_problems(graph) == []
    assert figures.CONFIG["toImageButtonOptions"]["format"] == "png"


def test_every_chart_on_every_page_keeps_its_data_in_the_building(dash_app):
    drawn: dict[str, int] = {}
    with dash_app.server.app_context():
        for page in dash.page_registry.values():
            path = page["path"]
            for query in [{}, *VIEWS.get(path, [])]:
                graphs = nodes(as_json(page["layout"](**query)), "Graph")
                drawn[path] = drawn.get(path, 0) + len(graphs)
                for graph in graphs:
                    assert offsite_problems(graph) == [], (path, query, graph["props"].get("id"))
    assert {p for p, n in drawn.items() if n} >= CHARTED, drawn
    assert drawn["/board-pack"] >= 10 and drawn["/mortality"] and drawn["/experience"]


def test_board_pack_charts_are_static_pictures_with_the_shared_config(page):
    static = page("boardpack").STATIC
    assert static["staticPlot"] is True and static["displayModeBar"] is False
    assert {k: v for k, v in static.items() if k not in ("staticPlot", "displayModeBar")} == \
        figures.CONFIG


# -- names drawn as text -----------------------------------------------------------------------

LINK = '<a href="http://evil.example">x</a>'
BOLD = "<b>bold</b>"
ORG = f"{LINK} LMNS"
INDICATOR = f"{LINK} {BOLD} indicator"
FILE = "<b>bold audit.csv"  # a browser's file name has no "/"


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


HOSTILE_FILE = (
    "organisation,metric,period,group,dimension,numerator,denominator,source\n"
    f"{_quoted(ORG)},booked_by_10_weeks,2022-23,Black,ethnicity,412,731,{_quoted(BOLD)}\n"
    f"{_quoted(ORG)},booked_by_10_weeks,2022-23,White,ethnicity,5230,7415,{_quoted(BOLD)}\n"
    f"{BOLD} & Co,pph_1500,{BOLD} 2023,All,total,40,1200,{_quoted(LINK)}\n"
    f"{_quoted(ORG)},{_quoted(INDICATOR)},2022-23,All,total,61,88,{_quoted(LINK)}\n"
)
ESCAPED_LINK = figures.plain(LINK)  # &lt;a href="http://evil.example"&gt;x&lt;/a&gt;
MARKUP = re.compile(r"<a[\s>]|<b>bold", re.IGNORECASE)


def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_plain_escapes_what_plotly_reads_as_markup():
    assert figures.plain(LINK) == '&lt;a href="http://evil.example"&gt;x&lt;/a&gt;'
    assert figures.plain("A &amp; B <br>") == "A &amp;amp; B &lt;br&gt;"
    # Wrapped as written, then escaped line by line: the one <br> is the wrap's own.
    assert figures.wrap(f"{BOLD} & Co: booked", 12) == \
        "&lt;b&gt;bold&lt;/b&gt;<br>&amp; Co: booked"
    frame = figures.plain_columns(pl.DataFrame({"name": [BOLD, None], "n": [1, 2]}), "name")
    assert frame["name"].to_list() == ["&lt;b&gt;bold&lt;/b&gt;", None]


def check_local_view(view: object) -> None:
    """The figures and tables of a local file's view (or of the page holding it) show its
    names as text."""
    tree = as_json(view)
    graphs = nodes(tree, "Graph")
    assert len(graphs) == 2  # booked by 10 weeks by ethnicity; PPH in total
    texts = []
    for graph in graphs:
        assert offsite_problems(graph) == []
        figure = graph["props"]["figure"]
        found = strings(figure)
        assert not [s for s in found if MARKUP.search(s)], [s for s in found if
                                                               MARKUP.search(s)]
        texts.append(figure)
    booked, pph = texts
    # Title, legend, hover and source note carry the names, escaped (so the check above
    # is not vacuous): Plotly shows "&lt;" as "<", and makes no link of it.
    assert ESCAPED_LINK in booked["layout"]["title"]["text"]
    local = next(t for t in booked["data"] if t["name"].startswith("Local: "))
    assert local["name"] == f"Local: {ESCAPED_LINK} LMNS"
    assert ESCAPED_LINK in local["hovertemplate"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; Co" in pph["layout"]["title"]["text"]
    assert "&lt;b&gt;bold&lt;/b&gt; 2023" in pph["layout"]["title"]["text"]
    # Tables sent as one HTML string: escaped there, read back as the names written.
    markup = [m["props"]["children"] for m in nodes(tree, "Markdown")
              if m["props"].get("dangerously_allow_html")]
    assert markup and not [m for m in markup if MARKUP.search(m)]
    assert any("&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt;" in m
               for m in markup)
    cells = " ".join(t.text for t in tables_of(view))
    assert ORG in cells and INDICATOR in cells and f"{BOLD} 2023" in cells


def test_an_uploaded_files_names_are_drawn_as_text(page):
    data_page = page("_local_data")
    view = data_page.on_upload(data_url(HOSTILE_FILE), FILE)
    check_local_view(view)
    source = next(a["text"] for g in nodes(as_json(view), "Graph")
                  for a in g["props"]["figure"]["layout"]["annotations"]
                  if "your file" in a["text"])
    assert "your file &lt;b&gt;bold audit.csv (not official statistics)" in source
    # The download is CSV, not HTML: the names as written (formulas aside).
    result, notice = data_page.on_local_download(1, data_url(HOSTILE_FILE), FILE)
    assert notice == ""
    assert _quoted(ORG) in result["content"] and _quoted(INDICATOR) in result["content"]


@pytest.fixture
def hostile_kept(demo_root, tmp_path):
    """The hostile file kept on the server, as ``equalities ingest --local`` keeps it."""
    path = tmp_path / "hostile audit.csv"
    path.write_text(HOSTILE_FILE, encoding="utf-8")
    saved = local_store.ingest(path, demo_root)
    yield saved.path.stem
    saved.path.unlink()
    if not any(saved.path.parent.iterdir()):
        saved.path.parent.rmdir()


def test_a_kept_files_names_are_drawn_as_text_on_the_page_the_export_prints(
        page, dash_app, hostile_kept):
    # The PDF and PNG exports print the page at this URL, drawn from this layout.
    data_page = page("downloads")
    with dash_app.server.app_context():
        tree = data_page.layout(local=hostile_kept)
    check_local_view(tree)
    rows = table_of(tree, page("_local_data").DATA_KEPT_TABLE).rows
    assert [r[1] for r in rows] == [hostile_kept]
