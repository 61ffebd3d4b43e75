"""One fact, one place: the Data and definitions page's file cards, definitions, sources,
store table and every download are drawn from one view model (``views.downloads``), built
once per choice of metric and cached.

Metrics drawn at random from the page's own menu (every metric, or all of them); for each,
the numbers and facts the page shows are read back from the screen and the CSV files, and
each must be the model's, written the same way.
"""

from __future__ import annotations

import ast
import csv
import io
import pickle
import random
from pathlib import Path

import pytest

from components import definitions as defs
from components import pagekit
from data import queries
from metrics import registry
from tests.pages.conftest import find, table_of, text_of
from views import downloads as models

METRICS = 4


@pytest.fixture(scope="module")
def data_page(page):
    return page("downloads")


@pytest.fixture(scope="module")
def local_data(page):
    return page("_local_data")


def random_choices(count: int, seed: int = 17) -> list[str]:
    """Every metric at once, then metrics drawn from the page's menu."""
    return [models.ALL_METRICS, *random.Random(seed).sample(list(registry.METRICS), count)]


def csv_parts(content: str) -> tuple[list[str], list[dict]]:
    """A download's ``#`` lines (without the ``# ``) and its rows."""
    lines = content.splitlines()
    header = [line[2:] for line in lines if line.startswith("#")]
    body = "\n".join(line for line in lines if not line.startswith("#"))
    return header, list(csv.DictReader(io.StringIO(body)))


def card_text(tree, button_id: str) -> str:
    """The text of the file card holding ``button_id``."""
    cards = find(tree, lambda c: type(c).__name__ == "CardBody" and find(
        c, lambda d: getattr(d, "id", None) == button_id))
    assert len(cards) == 1, button_id
    return text_of(cards[0])


def expected_header(m: models.Downloads, what: str) -> list[str]:
    """The first lines every data file of ``m`` opens with."""
    lines = [f"{what}. Data store: {m.store_title}, built {m.built_at}."]
    if m.synthetic:
        lines.append("SYNTHETIC DEMONSTRATION DATA: every organisation and figure is invented.")
    return lines


def test_every_place_says_the_models_facts(data_page):
    for metric in random_choices(METRICS):
        _check_choice(data_page, metric)


def _check_choice(data_page, metric: str) -> None:
    view, notices = data_page.DataView.parse({"metric": metric})
    assert not notices and view.metric == metric
    m = data_page.model(view)
    assert m.metric == metric
    tree = data_page.layout(metric=metric)
    # The file cards: the rows of the files offered and of the organisations.
    rows = sum(m.rows.values()) if metric == models.ALL_METRICS else m.rows[metric]
    assert m.file_rows == rows == (sum(queries.download_rows().values())
                                   if metric == models.ALL_METRICS
                                   else queries.download_rows()[metric])
    assert defs.size_words(rows, "counts") in card_text(tree, data_page.DATA_COUNTS_BUTTON)
    assert defs.size_words(rows, "values") in card_text(tree, data_page.DATA_VALUES_BUTTON)
    assert defs.size_words(m.organisations.height, "organisations") in card_text(
        tree, data_page.DATA_ORGS_BUTTON)
    # Definitions on screen and in their download: what the model says the store holds.
    definitions = defs.metric_definitions(m.held)
    summary = table_of(tree, data_page.DATA_SUMMARY_TABLE)
    assert summary.header == list(defs.SUMMARY_COLUMNS)
    assert summary.rows == [list(r) for r in definitions.select(defs.SUMMARY_COLUMNS).rows()]
    header, rows_out = csv_parts(data_page.definitions_download()["content"])
    assert [list(r.values()) for r in rows_out] == [list(r) for r in definitions.rows()]
    text = text_of(tree)
    for held in definitions["Breakdowns in this data store"]:
        assert held in text
    # Sources and store: the model's organisations and manifest.
    for sentence in defs.merger_sentences(m.organisations):
        assert sentence in text
    store = table_of(tree, data_page.DATA_STORE_TABLE)
    assert [[h, *r] for h, r in zip(store.row_headers, (r[1:] for r in store.rows),
                                     strict=True)] == [
        [field, " ".join(value.replace("`", "").split())]
        for field, value in defs.manifest_fields(m.manifest).items()]
    assert ("Synthetic demonstration data." in text) == m.synthetic
    # The organisations file: the model's organisations under the model's first lines.
    header, orgs = csv_parts(data_page.organisations_download()["content"])
    assert header[:len(expected_header(m, "Organisations"))] == expected_header(
        m, "Organisations")
    assert sorted(r["org_code"] for r in orgs) == sorted(m.organisations["org_code"])
    if metric != models.ALL_METRICS:
        _check_files(data_page, m)


def _check_files(data_page, m: models.Downloads) -> None:
    """The counts and values files of one metric: the model's rows, store and notes."""
    metric = registry.get(m.metric)
    for kind, make, what in (
            ("counts", data_page.counts_csv, f"Counts: {metric.title} ({metric.id})"),
            ("values", data_page.values_csv,
             f"Values with confidence intervals: {metric.title} ({metric.id})")):
        header, rows = csv_parts(make(metric.id))
        assert len(rows) == m.file_rows, kind
        opening = [*expected_header(m, what), f"Source: {metric.source}. Unit: {metric.unit}.",
                   *(f"{period}: {note}" for period, note in m.england_notes.items())]
        assert header[:len(opening)] == [pagekit.header_line(line)[2:] for line in opening]


def test_the_model_is_built_once_per_choice(data_page, dash_app, monkeypatch):
    """Within the app the model of a choice is built once; a link with parameters the page
    does not know reads the same cached model, and another metric builds another."""
    calls = []
    original = queries.held_by_metric

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "held_by_metric", counted)
    with dash_app.server.test_request_context("/data"):
        queries.cache.clear()
        first = data_page.model(data_page.DataView.parse({"metric": "stillbirth"})[0])
        assert len(calls) == 1
        again = data_page.model(data_page.DataView.parse({"metric": "stillbirth",
                                                          "junk": "1"})[0])
        assert len(calls) == 1
        assert pickle.dumps(again) == pickle.dumps(first)
        other = data_page.model(data_page.DataView.parse({"metric": "all"})[0])
        assert len(calls) == 2 and other.file_rows > first.file_rows


def test_a_render_makes_one_model_call(data_page, monkeypatch):
    calls = []
    original = models.downloads

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(models, "downloads", counted)
    data_page.layout(metric="stillbirth")
    assert calls == [("stillbirth",)]


def test_the_page_reads_the_store_only_through_its_model(data_page, local_data):
    for module in (data_page, local_data):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom)}
        assert not imported & {"data", "data.queries", "data.store"}, (module, imported)
