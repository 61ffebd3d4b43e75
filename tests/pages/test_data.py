"""Data and definitions page: definitions cover the registry and the schema, downloads are
the published data with disclosure control, symbols and formula neutralisation."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
from dash import dcc, html, no_update

from components import definitions as defs
from components import pagekit
from data import queries
from data.local import parse as local_parse
from data.local import store as local_store
from data.schema import TABLES
from metrics import registry
from metrics.breakdown import COMPLETENESS_THRESHOLD
from metrics.disclosure import RARE_EVENT_MIN, SMALL_MAX
from metrics.inequality import SII_REPS
from metrics.spc import SCREEN
from metrics.trend import MIN_SPC_POINTS
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of
from tests.pages.viewurl import written_search

ROOT = Path(__file__).resolve().parents[2]
SMALL = {str(n) for n in range(1, SMALL_MAX + 1)}


@pytest.fixture(scope="module")
def data_page(page):
    return page("downloads")


@pytest.fixture(scope="module")
def local_data(page):
    """The page's local data part (shared page code, like ``pages._source``)."""
    return page("_local_data")


def rows_of(text: str) -> list[dict]:
    """Rows of a downloaded CSV, without its ``#`` header lines."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def ids_in(tree) -> set[str]:
    return {c.id for c in find(tree, lambda c: isinstance(getattr(c, "id", None), str))}


# -- layout ---------------------------------------------------------------------------------


def test_layout_renders_with_no_arguments(data_page, local_data):
    tree = data_page.layout()
    text = text_of(tree)
    assert "Data and definitions" in text
    assert "Some of the link could not be used" not in text
    for anchor, title in data_page.SECTIONS:
        assert title in text
        assert anchor in ids_in(tree)
    assert "Synthetic demonstration data" in text  # the demo store is synthetic
    buttons = {data_page.DATA_COUNTS_BUTTON, data_page.DATA_VALUES_BUTTON,
               data_page.DATA_ORGS_BUTTON, data_page.DATA_DEFINITIONS_BUTTON,
               data_page.DATA_COLUMNS_BUTTON, local_data.DATA_LOCAL_TEMPLATE_BUTTON}
    assert buttons <= ids_in(tree)
    # Files are made on click: no download holds data in the layout.
    downloads = find(tree, lambda c: isinstance(c, dcc.Download))
    assert len(downloads) == 6 and all(getattr(d, "data", None) is None for d in downloads)


def test_definitions_include_every_registry_metric(data_page):
    tree = data_page.layout()
    summary_text = table_of(tree, data_page.DATA_SUMMARY_TABLE).text
    details = {c.id for c in find(tree, lambda c: isinstance(c, html.Details))}
    for metric in registry.METRICS_LIST:
        assert metric.id in summary_text and metric.title in summary_text
        assert f"metric-{metric.id}" in details
        detail = find(tree, lambda c, m=metric: getattr(c, "id", None) == f"metric-{m.id}")[0]
        words = text_of(detail)
        for expected in (metric.numerator, metric.denominator, metric.definition,
                         defs.POLARITY_WORDS[metric.polarity], defs.CI_WORDS[metric.statistic],
                         *metric.caveats):
            assert expected in words, (metric.id, expected)


def test_definitions_include_every_schema_column(data_page):
    tree = data_page.layout()
    tables = {"counts": data_page.DATA_COUNTS_COLUMNS_TABLE,
              "organisations": data_page.DATA_ORGS_COLUMNS_TABLE}
    for table, table_id in tables.items():
        cells = [row[0] for row in table_of(tree, table_id).rows]
        assert cells == [c.name for c in TABLES[table]]  # every column, in order
    squeezed = "".join(text_of(tree).split())
    for column in (c for columns in TABLES.values() for c in columns):
        assert "".join(column.doc.replace("`", "").split()) in squeezed, column.name


@pytest.mark.parametrize("query", [{"metric": "nope"}, {"metric": "<script>"}])
def test_invalid_metric_falls_back_with_a_notice(data_page, query):
    view, notices = data_page.DataView.parse(query)
    assert view.metric == data_page.DEFAULT_METRIC and notices
    assert "Some of the link could not be used" in text_of(data_page.layout(**query))


def test_metric_choice_states_rows_and_size(data_page):
    rows = queries.download_rows()
    text = text_of(data_page.layout(metric="stillbirth"))
    assert f"{rows['stillbirth']:,} rows" in text
    everything = text_of(data_page.layout(metric="all"))
    assert f"{sum(rows.values()):,} rows" in everything
    assert data_page.ZIP_NOTE in everything


def test_view_round_trips_and_url_callback(data_page):
    view, notices = data_page.DataView.parse({"metric": "all"})
    assert notices == [] and view.search() == "?metric=all"
    followed = data_page.FOLLOWED
    assert written_search(followed, {"metric": "stillbirth"}, "?metric=pph_1500") == \
        "?metric=stillbirth"
    assert written_search(followed, {"metric": "pph_1500"}, "?metric=pph_1500") is no_update


# -- definitions as frames ------------------------------------------------------------------


def test_metric_definitions_cover_every_field():
    frame = defs.metric_definitions(queries.held_by_metric())
    assert frame["Id"].to_list() == list(registry.METRICS)
    assert frame.columns == list(defs.METRIC_COLUMNS)
    assert frame.null_count().sum_horizontal()[0] == 0
    assert all(length > 0 for length in frame.select(pl.all().str.len_chars().min()).row(0))
    stillbirth = frame.filter(pl.col("Id") == "stillbirth").row(0, named=True)
    publishes = "Breakdowns the source can publish"
    assert stillbirth[publishes].startswith("England: total, ethnicity")
    assert "Trust: total" in stillbirth[publishes]
    assert frame.filter(pl.col("Id") == "pph_1500")[publishes][0].startswith(
        "Every level: total, ethnicity")
    # What the demo store holds, from the store: stillbirth by group for England only.
    held = stillbirth["Breakdowns in this data store"]
    assert held.startswith("England: total, ethnicity") and "Trust: total" in held
    assert f"fewer than {RARE_EVENT_MIN}" in frame.filter(pl.col("Id") == "preterm")[
        "Caveats"][0]


def test_every_registry_constant_has_words():
    for metric in registry.METRICS_LIST:
        assert metric.polarity in defs.POLARITY_WORDS
        assert metric.statistic in defs.CI_WORDS
        assert metric.disclosure in defs.DISCLOSURE_WORDS


def test_column_definitions_cover_every_column():
    frame = defs.column_definitions()
    expected = [(t, c.name) for t, columns in TABLES.items() for c in columns]
    assert list(zip(frame["Table"], frame["Column"], strict=True)) == expected
    nullable = {(t, c.name): c.nullable for t, columns in TABLES.items() for c in columns}
    for row in frame.iter_rows(named=True):
        assert row["Can be empty"] == ("Yes" if nullable[(row["Table"], row["Column"])]
                                       else "No")
        assert row["Description"]
    assert frame.filter(pl.col("Column") == "numerator")["Type"][0] == "whole number (Int64)"


def test_definition_downloads_hold_every_metric_and_column(data_page):
    metrics = rows_of(data_page.definitions_download()["content"])
    assert [r["Id"] for r in metrics] == list(registry.METRICS)
    columns = rows_of(data_page.columns_download()["content"])
    names = {(r["Table"], r["Column"]) for r in columns}
    for table, cols in TABLES.items():
        assert {(table, c.name) for c in cols} <= names
    assert {("values", c) for c in defs.VALUE_COLUMNS} <= names


# -- downloads ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pph_counts(data_page):
    return data_page.download("counts", "?metric=pph_1500")


def test_counts_download_is_the_published_table(pph_counts, demo):
    assert pph_counts["filename"] == "equalities-counts-pph_1500.csv"
    assert pph_counts["type"] == "text/csv"
    text = pph_counts["content"]
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("SYNTHETIC" in line for line in header)
    assert any(line.startswith("# Symbols: * suppressed") for line in header)
    rows = rows_of(text)
    assert list(rows[0]) == [c.name for c in TABLES["counts"]]
    stored = demo.counts.filter(pl.col("metric") == "pph_1500")
    assert len(rows) == stored.height == queries.download_rows()["pph_1500"]
    withheld = stored.filter(pl.col("numerator").is_null() & pl.col("suppressed")).height
    assert sum(r["numerator"] == "*" for r in rows) == withheld > 0
    zeros = stored.filter(pl.col("numerator") == 0).height
    assert sum(r["numerator"] == "-" for r in rows) == zeros
    assert all(r[k] != "" for r in rows for k in ("numerator", "denominator",
                                                  "published_value"))
    for row in rows:
        if row["suppressed"] == "true":
            assert row["published_value"] == "*"
            assert row["numerator"] in ("*", "-") or int(row["numerator"]) >= RARE_EVENT_MIN


@pytest.mark.parametrize("metric_id", ["booked_by_10_weeks", "stillbirth", "iol_delay"])
def test_no_count_of_one_to_seven_people_below_england(data_page, metric_id):
    rows = rows_of(data_page.counts_csv(metric_id))
    trust_rows = [r for r in rows if r["org_level"] == "trust"]
    assert trust_rows
    for row in (r for r in rows if r["org_level"] != "england"):
        assert row["numerator"] not in SMALL and row["denominator"] not in SMALL, row


def test_units_not_people_are_published_as_counted(data_page):
    # Suspensions count units: small counts are real figures, not suppressed.
    rows = rows_of(data_page.counts_csv("ou_suspension"))
    assert any(r["numerator"] in SMALL for r in rows if r["org_level"] == "trust")
    assert all(r["published_value"] == "z" for r in rows)


def test_values_download_matches_the_dashboards_figures(data_page):
    result = data_page.download("values", "?metric=pph_1500")
    assert result["filename"] == "equalities-values-pph_1500.csv"
    rows = rows_of(result["content"])
    metric = registry.get("pph_1500")
    period = queries.periods("pph_1500", "financial_year")[-1]
    shown = queries.breakdown("pph_1500", "ENG", period, "ethnicity", "none")
    decimals = metric.decimals + defs.EXTRA_DECIMALS
    for group in shown.iter_rows(named=True):
        row = next(r for r in rows if r["org_code"] == "ENG" and r["period_label"] == period
                   and r["dimension"] == "ethnicity" and r["group"] == group["group"])
        for column in ("value", "lower95", "upper95", "lower998", "upper998"):
            assert float(row[column]) == pytest.approx(round(group[column], decimals)), column
    for row in rows:
        if row["suppressed"] == "true":
            assert {row[c] for c in defs.VALUE_COLUMNS} == {"*"}
        elif row["value"] not in ("z", "-"):
            assert float(row["lower998"]) <= float(row["lower95"]) <= float(row["value"]) \
                <= float(row["upper95"]) <= float(row["upper998"])
    assert all(r["unit"] == metric.unit for r in rows)
    assert all(r["numerator"] not in SMALL for r in rows if r["org_level"] == "trust")


def test_zero_denominator_is_not_applicable():
    metric = registry.get("preterm")
    frame = pl.DataFrame({
        "metric": ["preterm"] * 3, "org_code": ["A", "B", "C"], "org_level": ["trust"] * 3,
        "period_label": ["p"] * 3, "period_kind": ["quarter"] * 3,
        "period_start": [None] * 3, "period_end": [None] * 3, "dimension": ["total"] * 3,
        "group": ["All"] * 3, "numerator": [0, None, 0], "denominator": [0, 15, 40],
        "suppressed": [False, True, True],
        **{c: [None, None, None] for c in defs.VALUE_COLUMNS},
    }, schema_overrides={c: pl.Float64 for c in defs.VALUE_COLUMNS})
    out = defs.published_values(frame, metric)
    assert out["value"].to_list() == ["z", "*", "*"]
    assert out["numerator"].to_list() == ["-", "*", "-"]
    assert out["denominator"].to_list() == ["-", "15", "40"]


def test_all_metrics_is_a_zip_of_one_file_per_metric(data_page):
    result = data_page.download("counts", "?metric=all")
    assert result["filename"] == "equalities-counts-all-metrics.zip" and result["base64"]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(result["content"])))
    assert archive.namelist() == [f"equalities-counts-{m}.csv" for m in registry.METRICS]
    stillbirth = archive.read("equalities-counts-stillbirth.csv").decode()
    assert stillbirth == data_page.counts_csv("stillbirth")


def test_organisations_download(data_page, demo):
    result = data_page.organisations_download()
    rows = rows_of(result["content"])
    assert list(rows[0]) == [c.name for c in TABLES["organisations"]]
    assert [r["org_code"] for r in rows][0] == "ENG"
    assert sorted(r["org_code"] for r in rows) == sorted(demo.organisations["org_code"])
    closed = [r for r in rows if r["closed"]]
    assert closed and all(r["successor_code"] for r in closed)


# -- formula injection ----------------------------------------------------------------------


def _hostile_counts() -> pl.DataFrame:
    n = 4
    return pl.DataFrame({
        "source": ["MSDS"] * n, "metric": ["pph_1500"] * n,
        "org_code": ['=HYPERLINK("http://evil")', "+SUM(A1)", "@cmd", "SYN001"],
        "org_level": ["trust"] * n, "period_label": ["-2+3", "2023-24", "2023-24", "\tx"],
        "period_kind": ["quarter"] * n, "period_start": [None] * n, "period_end": [None] * n,
        "dimension": ["total"] * n, "group": ["All", "=1+1", "All", "All"],
        "group_order": [0] * n, "numerator": [0, None, 10, 20],
        "denominator": [100, 200, None, 300], "published_value": [None, None, 5.0, 66.6],
        "suppressed": [False, True, True, False],
    }, schema={c.name: c.dtype for c in TABLES["counts"]})


def cell_by_cell_csv(frame: pl.DataFrame, preamble: list[str]) -> str:
    """The CSV writer's text worked out the slow, obvious way: every cell neutralised on
    its own (the writer neutralises each distinct value once)."""
    safe = frame.with_columns(
        pl.col(c).cast(pl.String).map_elements(pagekit.neutralise, return_dtype=pl.String)
        for c in frame.columns)
    lines = "".join(pagekit.header_line(line) + "\n"
                    for line in pagekit.csv_header(frame, preamble))
    return lines + safe.write_csv()


def test_formula_injection_is_neutralised():
    published = defs.published_counts(_hostile_counts())
    text = pagekit.csv_text(published, ["=cmd|' /C calc'!A0"])
    assert text == cell_by_cell_csv(published, ["=cmd|' /C calc'!A0"])
    rows = rows_of(text)
    assert text.splitlines()[0] == "# '=cmd|' /C calc'!A0"
    assert [r["org_code"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'+SUM(A1)",
                                              "'@cmd", "SYN001"]
    assert rows[0]["period_label"] == "'-2+3" and rows[1]["group"] == "'=1+1"
    assert rows[3]["period_label"] == "'\tx"
    # The zero symbol "-" stays as it is.
    assert rows[0]["numerator"] == "-" and rows[1]["numerator"] == "*"
    assert rows[2]["denominator"] == "*" and rows[2]["published_value"] == "*"
    for row in rows:
        for value in row.values():
            assert not value.startswith(pagekit.FORMULA_PREFIXES) or value == "-"


def test_fast_csv_equals_pagekit_csv_on_real_data(data_page):
    frame = defs.published_counts(queries.download_counts("stillbirth"))
    assert pagekit.csv_text(frame, ["x"]) == cell_by_cell_csv(frame, ["x"])


# -- sizes, sources, store ------------------------------------------------------------------


@pytest.mark.parametrize("kind,make", [("counts", "counts_csv"), ("values", "values_csv")])
def test_stated_sizes_are_close_to_real_sizes(data_page, kind, make):
    rows = queries.download_rows()["booked_by_10_weeks"]
    real = len(getattr(data_page, make)("booked_by_10_weeks").encode()) / 1_000_000
    assert defs.estimated_megabytes(rows, kind) == pytest.approx(real, rel=0.3)


def test_sources_and_mergers_section(data_page, demo):
    text = text_of(data_page.layout())
    for source, note in registry.SOURCE_NOTES.items():
        assert source in text and note in text
    closed = demo.organisations.filter(pl.col("closed").is_not_null()).row(0, named=True)
    successor = demo.organisations.filter(pl.col("org_code") == closed["successor_code"])
    sentence = (f"{closed['name']} ({closed['org_code']}) closed on "
                f"{closed['closed']:%-d %B %Y}; its services are now part of "
                f"{successor['name'][0]} ({closed['successor_code']}).")
    assert sentence in text
    for _title, caveat in defs.metric_limitations():
        assert caveat in text


def test_no_mergers_says_so():
    orgs = pl.DataFrame({"org_code": ["A"], "name": ["A trust"], "closed": [None],
                         "successor_code": [None]}, schema_overrides={"closed": pl.Date,
                                                                       "successor_code": pl.String})
    assert defs.merger_sentences(orgs) == []


def test_store_section_shows_the_manifest(data_page, demo):
    tree = data_page.layout()
    text = table_of(tree, data_page.DATA_STORE_TABLE).text
    manifest = demo.manifest
    assert manifest["title"] in text
    assert f"seed {manifest['generator']['seed']}" in text
    assert manifest["period"]["start"] in text and manifest["period"]["end"] in text
    assert manifest["build_id"] in text
    assert manifest["inputs"][0]["file"] in text
    assert defs.when_words("2026-11-22T00:13:31+00:00") == "22 November 2026 at 00:13 UTC"
    assert defs.when_words("yesterday") == "yesterday"


# -- methods text stays in step with the code -----------------------------------------------


def test_methods_text_matches_the_code():
    text = (ROOT / "content" / "methods.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    for threshold in COMPLETENESS_THRESHOLD.values():
        assert f"**{threshold:.0f}%**" in flat
    assert f"**1 to {SMALL_MAX}**" in flat
    assert f"fewer than {RARE_EVENT_MIN} events" in flat
    assert f"{SII_REPS:,} times" in flat
    assert f"at least {MIN_SPC_POINTS} points" in flat
    assert str(SCREEN) in flat
    for name in ("PHEindicatormethods R package (version 2.1.0)", "Fingertips",
                 "NHSRplotthedots** package (version 0.2.2)", "Appendix A", "Wilson",
                 "Byar's", "Newcombe", "Katz", "funnel", "slope index of inequality"):
        assert name in flat, name


# -- your local data ------------------------------------------------------------------------

LOCAL_HEADER = "organisation,metric,period,group,dimension,numerator,denominator,source\n"
Z95 = 1.959963984540054


def data_url(raw: bytes | str) -> str:
    raw = raw.encode() if isinstance(raw, str) else raw
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def wilson_text(x: int, n: int) -> str:
    root = Z95 * (Z95 ** 2 + 4 * x * (1 - x / n)) ** 0.5
    low, high = (100 * (2 * x + Z95 ** 2 + s * root) / (2 * (n + Z95 ** 2)) for s in (-1, 1))
    return f"{low:.1f} to {high:.1f}"


def test_local_section_offers_the_template_and_a_limited_csv_upload(data_page, local_data):
    tree = data_page.layout()
    assert ("local", "Your local data") in data_page.SECTIONS
    upload = by_id(tree, local_data.DATA_LOCAL_UPLOAD)
    assert isinstance(upload, dcc.Upload) and upload.accept == ".csv"
    assert upload.max_size == local_parse.UPLOAD_MAX_BYTES and upload.multiple is False
    # Nothing about an upload is held by the page: no store but the navigation's links.
    assert not find(tree, lambda c: isinstance(c, dcc.Store) and c.id != "nav-links")
    text = " ".join(text_of(tree).split())
    assert "never added to the national data" in text and "up to 1.4 MB" in text
    assert "An upload is never stored." in text
    assert "No local files are kept on this server." in text
    template = local_data.template_download()
    assert template["content"] == local_parse.TEMPLATE.read_text(encoding="utf-8")
    assert template["filename"].endswith(".csv")


def test_uploading_the_template_shows_local_figures_beside_england(local_data):
    view = local_data.on_upload(data_url(local_parse.TEMPLATE.read_bytes()), "template.csv")
    badges = find(view, lambda c: getattr(c, "className", None) == "badge local-badge")
    assert len(badges) == 3 and {text_of(b) for b in badges} == {"Local"}
    # One comparison (booked by 10 weeks by ethnicity) with its chart and table.
    (graph,) = find(view, lambda c: isinstance(c, dcc.Graph))
    assert graph.id == {"type": local_data.DATA_LOCAL_GRAPH, "index": 0}
    traces = {t.name: t for t in graph.figure.data}
    assert set(traces) == {"Local: Example LMNS", "England (national)"}
    assert traces["Local: Example LMNS"].marker.symbol == "diamond"
    assert list(traces["Local: Example LMNS"].y) == ["White", "Black"]
    (table,) = [t for t in tables_of(view) if t.id is None]
    header = table.header
    assert header[:5] == ["Group", "Local numerator", "Local denominator", "Local value",
                          "Local 95% CI"]
    england = queries.breakdown("booked_by_10_weeks", "ENG", "2022-23", "ethnicity", "none")
    eng = {r["group"]: r for r in england.iter_rows(named=True)}
    rows = table.rows
    assert rows[0][:5] == ["White", "5,230", "7,415", f"{100 * 5230 / 7415:.1f}",
                           wilson_text(5230, 7415)]
    assert rows[1][:5] == ["Black", "412", "731", f"{100 * 412 / 731:.1f}",
                           wilson_text(412, 731)]
    assert rows[1][6] == (f"{eng['Black']['value']:.1f} ({eng['Black']['lower95']:.1f} to "
                          f"{eng['Black']['upper95']:.1f})")
    assert rows[0][5] == "reference" and rows[1][5].startswith(
        f"{(412 / 731) / (5230 / 7415):.2f} (")
    # The local indicator is listed with its own rate and CI.
    indicators = table_of(view, local_data.DATA_LOCAL_INDICATORS).rows
    assert indicators == [["Example LMNS", "Perinatal mental health referrals seen within 28 "
                           "days", "2022-23", "All women and babies", "All", "61", "88",
                           f"{100 * 61 / 88:.1f}", wilson_text(61, 88), "z",
                           "EXAMPLE ROW (invented): replace with your source"]]
    summary = text_of(view)
    assert "never added to the national data" in summary and "keeps no copy" in summary


def test_a_bad_upload_lists_its_problems(local_data):
    body = (LOCAL_HEADER + "RX1,pph_1500,2023-24,Black,ethnicity,40,1200,s\n"
            "RX1,pph_1500,2023-24,White,ethnicity,50,40,s\n"
            "RX1,pph_1500,2023-24,Purple,ethnicity,5,40,s\n")
    view = local_data.on_upload(data_url(body), "audit.csv")
    assert table_of(view, "data-local-problems").rows == [
        ["audit.csv", "3", "numerator", "50", "larger than the denominator 40"],
        ["audit.csv", "4", "group", "Purple", "not a group of ethnicity; use one of: White, "
         "Mixed, Asian, Black, Other, Not stated, Not known, Missing"]]
    assert "2 problem(s). Nothing was kept." in text_of(view)
    assert not find(view, lambda c: getattr(c, "id", None) ==
                    local_data.DATA_LOCAL_DOWNLOAD_BUTTON)
    view = local_data.on_upload(data_url(b"PK\x03\x04..."), "audit.xlsx")
    assert "only .csv files can be used" in text_of(view)
    assert local_data.on_upload(None, None) is no_update


HOSTILE = (LOCAL_HEADER + "SYN001,pph_1500,2023-24,Black,ethnicity,40,1200,trust\n"
           '"=HYPERLINK(""http://e.vil"")",Smoking at booking,2023-24,All,total,9,90,'
           "@SUM(1)\n")


def test_local_download_is_worked_out_again_from_the_file_alone(local_data):
    # No upload callback has run: the download has only what the browser sends with the
    # click, as when another server process (or a restarted one) answers it.
    result, notice = local_data.on_local_download(1, data_url(HOSTILE), "my audit.csv")
    assert notice == "" and result["filename"] == "equalities-local-my audit.csv"
    rows = rows_of(result["content"])
    assert [r["Flag"] for r in rows] == ["Local", "Local"]
    assert rows[0]["Organisation"] == "SYN001"
    assert rows[0]["Local value"] == "33.3"  # per 1,000: 1000 * 40 / 1200
    assert rows[1]["Organisation"] == "\'=HYPERLINK(\"http://e.vil\")"
    assert rows[1]["Source"] == "\'@SUM(1)"
    assert "SYNTHETIC" in result["content"]
    assert "Local data from your file my audit.csv" in result["content"]


def test_local_download_without_a_usable_file_says_so(local_data):
    assert local_data.on_local_download(1, None, None) == (no_update, local_data.NO_UPLOAD)
    result, notice = local_data.on_local_download(1, "data:text/csv;base64,@@@", "a.csv")
    assert result is no_update
    assert notice == "a.csv could not be used: the upload arrived damaged; please try " \
        "again. Upload it again."
    bad = LOCAL_HEADER + "RX1,pph_1500,2023-24,White,ethnicity,50,40,s\n"
    result, notice = local_data.on_local_download(1, data_url(bad), "bad.csv")
    assert result is no_update
    assert notice == "bad.csv could not be used: larger than the denominator 40. Upload it again."


# -- local files kept on this server -------------------------------------------------------


@pytest.fixture
def kept(demo_root):
    """The template and one damaged file kept in the session store's local folder (removed
    afterwards, so other tests see no kept files)."""
    path = demo_root.parent / "North LMNS audit.csv"
    path.write_bytes(local_parse.TEMPLATE.read_bytes())
    saved = local_store.ingest(path, demo_root)
    damaged = saved.path.with_name("damaged.parquet")
    damaged.write_bytes(b"PAR1 cut short")
    yield saved.path.stem
    saved.path.unlink()
    damaged.unlink()
    saved.path.parent.rmdir()
    path.unlink()


def test_kept_files_are_listed_and_one_is_chosen_from_the_url(data_page, local_data, kept):
    assert kept == "North-LMNS-audit"
    tree = data_page.layout()
    rows = table_of(tree, local_data.DATA_KEPT_TABLE).rows
    assert [r[:5] for r in rows] == [["Local", "North-LMNS-audit", "3", "1", "2"],
                                     ["Local", "damaged", ":", ":", ":"]]
    assert rows[0][6] == "Ready" and rows[1][6].startswith(
        "Cannot be shown: damaged.parquet cannot be read (")
    assert rows[0][5].endswith("UTC") and " at " in rows[0][5]
    choice = by_id(tree, local_data.DATA_KEPT_FILE)
    assert [o["value"] for o in choice.options] == ["North-LMNS-audit", "damaged"]
    assert choice.value is None
    assert by_id(tree, local_data.DATA_KEPT_RESULT).children is None

    tree = data_page.layout(local=kept, metric="pph_1500")
    assert "Some of the link could not be used" not in text_of(tree)
    assert by_id(tree, local_data.DATA_KEPT_FILE).value == kept
    view = by_id(tree, local_data.DATA_KEPT_RESULT)
    # The same comparison as the upload of the same file: the same figures, flagged Local.
    upload = local_data.upload(data_url(local_parse.TEMPLATE.read_bytes()), "template.csv")
    table = lambda v: next(t for t in tables_of(v) if t.id is None)  # noqa: E731
    assert table(view).rows == table(upload).rows
    assert table_of(view, local_data.DATA_KEPT_INDICATORS).rows == table_of(
        upload, local_data.DATA_LOCAL_INDICATORS).rows
    (graph,) = find(view, lambda c: isinstance(c, dcc.Graph))
    assert graph.id == {"type": local_data.DATA_KEPT_GRAPH, "index": 0}
    assert "Local: Example LMNS" in {t.name for t in graph.figure.data}
    badges = find(view, lambda c: getattr(c, "className", None) == "badge local-badge")
    assert len(badges) == 3
    text = text_of(view)
    assert "Read 3 row(s) from North-LMNS-audit" in text
    assert "3 row(s) are the template's examples" in text  # kept with the file
    assert "Kept on this server (ingested " in text and "never added to the national data" in text
    # The URL holds the choice; the metric control keeps it.
    search = f"?metric=pph_1500&local={kept}"
    assert written_search(data_page.FOLLOWED, {"metric": "booked_by_10_weeks"}, search) == \
        f"?metric=booked_by_10_weeks&local={kept}"
    kept_url = data_page.KEPT_FOLLOWED
    assert written_search(kept_url, {"local": None}, search) == "?metric=pph_1500"
    assert written_search(kept_url, {"local": kept}, search) is no_update
    assert written_search(kept_url, {"local": "damaged"}, "?metric=pph_1500") == \
        "?metric=pph_1500&local=damaged"
    # Its comparison downloads, worked out from the kept file.
    result, notice = local_data.on_kept_download(1, search)
    assert notice == "" and result["filename"] == f"equalities-local-{kept}.csv"
    assert [r["Flag"] for r in rows_of(result["content"])] == ["Local"] * 3


def test_a_damaged_or_unknown_kept_file_gives_a_clear_notice(data_page, local_data, kept):
    tree = data_page.layout(local="damaged")
    alert = by_id(tree, local_data.DATA_KEPT_RESULT).children
    assert alert.role == "alert" and "damaged cannot be shown: damaged.parquet cannot be " \
        "read (" in " ".join(text_of(alert).split())
    assert not find(alert, lambda c: isinstance(c, dcc.Graph))
    result, notice = local_data.on_kept_download(1, "?local=damaged")
    assert result is no_update and notice.startswith("damaged.parquet cannot be read (")

    tree = data_page.layout(local="../../etc/passwd")
    notice = text_of(by_id(tree, "page-notice"))
    assert "Unknown local file “../../etc/passwd”: no file of that name is kept" in notice
    assert by_id(tree, local_data.DATA_KEPT_FILE).value is None
    assert by_id(tree, local_data.DATA_KEPT_RESULT).children is None
    assert local_data.on_kept_download(1, "?local=nothing")[0] is no_update


def test_definition_cells_keep_the_spaces_around_code_and_escape_markup():
    from components.definitions import rich_cell

    assert rich_cell("Metric id (e.g. `pph_1500`).  <b>x</b>") == (
        "Metric id (e.g. <code>pph_1500</code>). &lt;b&gt;x&lt;/b&gt;")
    assert rich_cell("`ENG` for England") == "<code>ENG</code> for England"
