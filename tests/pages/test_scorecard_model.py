"""One fact, one place: Scorecard's chart, table, summary and CSV are drawn from one view
model (``views.scorecard``), built once per organisation and cached.

Random trusts of the demo store, England and the planted story trust; for each, every number
the page shows is read back from the dot chart (each panel's value, CI and England mark),
the table, the summary sentence and the CSV download, and each must be the model's fact,
written the same way.
"""

from __future__ import annotations

import ast
import csv
import io
import random
import re
from pathlib import Path

import pytest
from dash import dcc

from components import format as fmt
from components import scorecard as card
from data import queries
from metrics import registry
from tests.pages.conftest import by_id, find, text_of
from tests.pages.test_benchmark_model import same
from views import scorecard as models

ORGS = 10
ARROWS = "".join(card.CHANGE_ARROWS.values())


@pytest.fixture(scope="module")
def scorecard(page):
    return page("scorecard")


def random_orgs(count: int, seed: int = 23) -> list[str]:
    """England, the demo's story trust and trusts drawn from the page's own choices."""
    offered = sorted(models.choices().offered)
    return list(dict.fromkeys(["ENG", "SYN118", *random.Random(seed).sample(offered, count)]))


def on_screen(tree, table_id: str) -> list[list[str]]:
    """The table's body rows as text, without the links column."""
    body = by_id(tree, table_id).children[2]
    return [[text_of(cell).strip().lstrip(ARROWS).strip() for cell in tr.children[:-1]]
            for tr in body.children]


def csv_rows(content: str) -> list[list[str]]:
    body = [line for line in content.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    return [[c[1:] if c.startswith("'") else c for c in row] for row in rows]


def shown(row: dict) -> bool:
    return row["status"] == "ok" and not fmt.missing(row["value"])


def test_every_place_says_the_models_numbers(scorecard):
    for org in random_orgs(ORGS):
        _check_org(scorecard, org)


def _check_org(scorecard, org: str) -> None:
    view, notices = scorecard.ScorecardView.parse({"org": org})
    assert not notices and view.org == org
    m = scorecard.model(view)
    tree = scorecard.layout(org=org)
    rows = list(m.frame.iter_rows(named=True))
    assert len(rows) == len(registry.ANNEX3_METRICS)
    _check_chart(find(tree, lambda c: isinstance(c, dcc.Graph))[0].figure, m, rows)
    table = on_screen(tree, scorecard.SCORECARD_TABLE)
    _check_table(table, m, rows)
    content = scorecard.download_csv(view.search())["content"]
    assert csv_rows(content) == [list(card.COLUMNS), *table]
    for note in card.england_notes(m.frame):
        assert note in content
    _check_summary(text_of(tree), m, rows)


def _check_chart(figure, m, rows: list[dict]) -> None:
    """Panel ``i`` is metric ``i``: its dot is the value, its line the 95% CI, its blue mark
    England's value; a metric without a value says why on its panel."""
    for i, row in enumerate(rows):
        axis = f"x{'' if i == 0 else i + 1}"
        on = [t for t in figure.data if t.xaxis == axis]
        by_name = {t.name.split(" ")[-1]: t for t in on}
        if shown(row):
            assert list(by_name["CI"].x) == [row["lower95"], row["upper95"]]
            assert list(by_name["CI)"].x) == [row["value"]]
            metric = registry.get(row["metric"])
            assert fmt.value(metric, row["value"]) in by_name["CI)"].hovertemplate
        else:
            assert not [t for t in on if t.name != "England"]
            notes = [a.text for a in figure.layout.annotations if a.xref == f"{axis} domain"]
            assert any(n.startswith(("Suppressed", "No data")) for n in notes), notes
        england = [list(t.x) for t in on if t.name == "England"]
        expected = [] if m.benchmark_only or fmt.missing(row["england_value"]) else \
            [[row["england_value"]]]
        assert england == expected, row["metric"]


def _check_table(table: list[list[str]], m, rows: list[dict]) -> None:
    for cells, row in zip(table, rows, strict=True):
        record = dict(zip(card.COLUMNS, cells, strict=True))
        metric = registry.get(row["metric"])
        assert record["Metric"] == metric.title
        assert record["Period"] == (row["period"] or ":")
        if shown(row):
            assert record["Value"] == fmt.value(metric, row["value"])
            assert record["95% CI"] == (f"{fmt.number(row['lower95'], metric.decimals)} to "
                                        f"{fmt.number(row['upper95'], metric.decimals)}")
        else:
            assert record["Value"] in ("*", ":") and record["95% CI"] == record["Value"]
        england = record["England"].removesuffix(f" ({card.SUMMED_MARK})")
        assert england == (":" if fmt.missing(row["england_value"]) else
                           fmt.value(metric, row["england_value"]))
        rag = "grey" if m.benchmark_only else (row["rag"] or "grey")
        assert record["RAG rating"] == card.RAG_WORDS[rag]


def _check_summary(said: str, m, rows: list[dict]) -> None:
    """"2 red, 4 amber ... of 8 metrics": the model's ratings, counted."""
    counts: dict[str, int] = {}
    for row in rows:
        rag = "grey" if m.benchmark_only else (row["rag"] or "grey")
        counts[rag] = counts.get(rag, 0) + 1
    found = re.search(rf"{re.escape(m.org_name)}: ([^.]*) of (\d+) metrics\.", said)
    assert found, said
    assert int(found[2]) == len(rows)
    said_counts = {colour: int(n) for n, colour in
                   re.findall(r"(\d+) (red|amber|green|grey)", found[1])}
    assert said_counts == counts


# -- built once, cached, and the page's only source ---------------------------------------------


def test_the_model_is_built_once_per_view(scorecard, dash_app, monkeypatch):
    """Within the app the model of an organisation is built once; a link with parameters the
    page does not know reads the same cached model."""
    calls = []
    original = queries.scorecard

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "scorecard", counted)
    with dash_app.server.test_request_context("/scorecard"):
        queries.cache.clear()
        first = scorecard.model(scorecard.ScorecardView.parse({"org": "SYN118"})[0])
        assert len(calls) == 1
        again = scorecard.model(scorecard.ScorecardView.parse({"org": "SYN118",
                                                               "junk": "1"})[0])
        assert len(calls) == 1
        assert same(again, first)
        other = scorecard.model(scorecard.ScorecardView.parse({"org": "SYN010"})[0])
        assert len(calls) == 2 and other.org_name != first.org_name


def test_a_render_and_its_download_make_one_model_call_each(scorecard, monkeypatch):
    calls = []
    original = models.scorecard

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(models, "scorecard", counted)
    scorecard.layout(org="SYN118")
    scorecard.download_csv("?org=SYN118")
    assert calls == [("SYN118",), ("SYN118",)]


def test_the_page_reads_the_store_only_through_its_model(scorecard):
    tree = ast.parse(Path(scorecard.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"data", "data.queries", "data.store"}, imported
