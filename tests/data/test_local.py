"""Local data: the template parses, every kind of damage is refused with file, line, column
and value, small numbers are suppressed, formula-like text is neutralised on output, local
files are kept apart from the national store and read back with damage reported."""

from __future__ import annotations

import base64
import csv
import io
import math
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import cli
from components import localdata, pagekit
from data import queries
from data.ingest.errors import IngestError
from data.local import compare, parse, store
from metrics.categories import DIMENSIONS

ROOT = Path(__file__).resolve().parents[2]
HEADER = "organisation,metric,period,group,dimension,numerator,denominator,source\n"
Z95 = 1.959963984540054


def problems_of(text: str | bytes, name: str = "audit.csv") -> list:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(IngestError) as caught:
        parse.parse(raw, name)
    return caught.value.problems


def parsed(body: str) -> pl.DataFrame:
    return parse.parse((HEADER + body).encode(), "audit.csv").counts


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson score limits in % (METHODS.md 1.1)."""
    root = Z95 * math.sqrt(Z95 ** 2 + 4 * x * (1 - x / n))
    return tuple(100 * (2 * x + Z95 ** 2 + sign * root) / (2 * (n + Z95 ** 2))
                 for sign in (-1, 1))


# -- the template ---------------------------------------------------------------------------


def test_template_parses_into_counts_shaped_rows_flagged_local():
    data = parse.parse(parse.TEMPLATE.read_bytes(), "template.csv")
    frame = data.counts
    assert frame.schema == pl.Schema(parse.LOCAL_SCHEMA)
    assert frame.columns[:15] == ["source", "metric", "org_code", "org_level", "period_label",
                                  "period_kind", "period_start", "period_end", "dimension",
                                  "group", "group_order", "numerator", "denominator",
                                  "published_value", "suppressed"]
    assert frame.height == 3
    assert set(frame["source"]) == {"Local"} and frame["local"].all()
    assert frame["metric"].to_list() == ["booked_by_10_weeks", "booked_by_10_weeks",
                                         "Perinatal mental health referrals seen within 28 days"]
    assert frame["national_metric"].to_list() == [True, True, False]
    assert frame["group"].to_list() == ["Black", "White", "All"]
    assert frame["numerator"].to_list() == [412, 5230, 61]
    assert frame["denominator"].to_list() == [731, 7415, 88]
    assert not frame["suppressed"].any()
    assert set(frame["period_kind"]) == {"financial_year"}
    assert frame["period_start"][0] == date(2022, 4, 1)
    assert frame["period_end"][0] == date(2023, 3, 31)
    assert frame["line"].to_list() == [5, 6, 7]  # after three "#" note lines and the header
    # Its example rows are marked as such, in the file and in what the user is told.
    assert all(s.startswith("EXAMPLE") for s in frame["local_source"])
    assert "template's examples" in data.notes[0]
    assert "EXAMPLES ONLY" in parse.TEMPLATE.read_text(encoding="utf-8")


def test_documentation_names_every_column_value_and_limit():
    text = (ROOT / "content" / "local_data.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    for column in parse.COLUMNS:
        assert f"| `{column}` |" in text, column
    for dimension in DIMENSIONS.values():
        assert f"`{dimension.id}`" in text
    for group in DIMENSIONS["ethnicity"].all_groups:
        assert f"`{group}`" in text
    assert f"{parse.MAX_ROWS:,} rows" in flat
    assert f"**{parse.megabytes(parse.MAX_BYTES)}** with `equalities ingest --local`" in flat
    assert f"**{parse.megabytes(parse.UPLOAD_MAX_BYTES)}** through the upload" in flat
    assert "**An upload is never stored.**" in flat and "stays in your browser tab" in flat
    assert f"**{compare.MAX_COMPARISONS} comparisons**" in flat
    assert f"draws the first {localdata.MAX_CHARTS}" in flat
    assert "**1 to 7**" in flat and "fewer than 8 events" in flat
    assert "never added to the national data" in flat


# -- damage: each gives its own clear problem -------------------------------------------------

GOOD = "RX1,pph_1500,2023-24,Black,ethnicity,40,1200,trust\n"


@pytest.mark.parametrize("body,line,column,value,words", [
    (HEADER.replace(",period", "") + GOOD.replace(",2023-24", ""), 1, "period", None,
     "missing column 'period'"),
    (HEADER.replace("organisation", "org") + GOOD, 1, "org", "org", "unknown column"),
    (HEADER.replace("source", "metric") + GOOD, 1, "metric", "metric", "more than once"),
    (HEADER.replace(",", ";"), 1, None, HEADER.replace(",", ";").strip(), "semicolons"),
    (HEADER + GOOD.replace(",40,", ",50,").replace("1200", "40"), 2, "numerator", "50",
     "larger than the denominator 40"),
    (HEADER + GOOD.replace(",40,", ",-3,"), 2, "numerator", "-3", "negative"),
    (HEADER + GOOD.replace(",40,", ",12.5,"), 2, "numerator", "12.5", "not a whole number"),
    (HEADER + GOOD.replace(",40,", ",40.0,"), 2, "numerator", "40.0", "resaved by Excel"),
    (HEADER + GOOD.replace(",40,", ",,"), 2, "numerator", "", "empty"),
    (HEADER + GOOD.replace("1200", "0").replace(",40,", ",0,"), 2, "denominator", "0", "zero"),
    (HEADER + GOOD.replace("1200", "lots"), 2, "denominator", "lots", "not a whole number"),
    (HEADER + GOOD.replace(",ethnicity,", ",ethnic,"), 2, "dimension", "ethnic",
     "unknown dimension"),
    (HEADER + GOOD.replace("Black", "Blak"), 2, "group", "Blak", "not a group of ethnicity"),
    (HEADER + GOOD.replace("RX1", ""), 2, "organisation", "", "empty"),
    (HEADER + GOOD.replace("2023-24", ""), 2, "period", "", "empty"),
    (HEADER + GOOD + GOOD, 3, None, "RX1, pph_1500, 2023-24, ethnicity, Black",
     "duplicates line 2"),
    (HEADER + GOOD.replace(",trust", ""), 2, None, "7 fields", "has 7 fields"),
    (HEADER + GOOD.replace("trust", "x" * 201), 2, "source", "x" * 40 + "…",
     "longer than 200"),
    ("# a note\n\n" + HEADER + GOOD + GOOD.replace("Black", "Asian").replace(",40,", ",4x,"),
     5, "numerator", "4x", "not a whole number"),
])
def test_damage_is_refused_with_line_column_and_value(body, line, column, value, words):
    problems = problems_of(body)
    first = problems[0]
    assert (first.file, first.line, first.column, first.value) == ("audit.csv", line, column,
                                                                   value)
    assert words in first.message
    assert f"audit.csv:{line}:" in str(first)


@pytest.mark.parametrize("raw,words", [
    (b"", "empty"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 50, "Excel workbook (XLSX)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old-style Excel workbook (XLS)"),
    (HEADER.encode("utf-16"), "UTF-16"),
    (b"%PDF-1.7\n...", "PDF"),
    (HEADER.encode() + b"RX1,pph\x00,2023-24", "binary data"),
    (HEADER.encode(), "no data rows"),
    (b"# only a note\n", "no header row"),
])
def test_wrong_kinds_of_file_are_refused_clearly(raw, words):
    problems = problems_of(raw)
    assert len(problems) == 1 and problems[0].file == "audit.csv"
    assert words in problems[0].message
    if "XLS" in words or "UTF-16" in words:
        assert "CSV UTF-8" in problems[0].message  # says how to fix it


def test_other_encodings_are_refused_at_the_byte():
    raw = (HEADER + "Leicester Royal,pph_1500,2023-24,Black,ethnicity,40,1200,Sant\xe9\n"
           ).encode("latin-1")
    problem = problems_of(raw)[0]
    assert (problem.line, problem.column, problem.value) == (2, "source", "e9")
    assert "not UTF-8" in problem.message and "Windows-1252" in problem.message


def test_a_bad_byte_after_a_lone_carriage_return_is_named():
    """A line ended by a carriage return alone (an old Mac file) before the bad byte."""
    problem = problems_of(b"\r\x01\x80" + (HEADER + GOOD).encode())[0]
    assert (problem.line, problem.value) == (1, "80")
    assert "not UTF-8" in problem.message


def test_a_byte_order_mark_and_crlf_are_fine():
    raw = b"\xef\xbb\xbf" + (HEADER + GOOD).replace("\n", "\r\n").encode()
    frame = parse.parse(raw, "audit.csv").counts
    assert frame["organisation"].to_list() == ["RX1"] and frame["line"].to_list() == [2]


def test_every_problem_is_listed_not_just_the_first():
    body = (GOOD + GOOD.replace("Black", "Blak") + GOOD.replace("Black", "White")
            .replace(",40,", ",x,") + GOOD.replace("Black", "Asian").replace("1200", "30"))
    problems = problems_of(HEADER + body)
    assert [(p.line, p.column, p.value) for p in problems] == [
        (3, "group", "Blak"), (4, "numerator", "x"), (5, "numerator", "40")]


def test_size_limits():
    big = HEADER.encode() + b"#" * parse.MAX_BYTES
    problem = problems_of(big)[0]
    assert "the limit is 2 MB" in problem.message and problem.value == f"{len(big):,} bytes"
    # 50,001 short rows fit in 2 MB: the row limit is the one that refuses them.
    rows = "".join(f"A,x,{i},All,total,8,9,\n" for i in range(parse.MAX_ROWS + 1))
    problem = problems_of(HEADER + rows)[-1]
    assert problem.line == parse.MAX_ROWS + 2
    assert f"more than {parse.MAX_ROWS:,} rows" in problem.message


def test_row_limit_boundary(monkeypatch):
    monkeypatch.setattr(parse, "MAX_ROWS", 3)
    rows = [GOOD.replace("Black", g) for g in ("Black", "White", "Asian", "Mixed")]
    assert parsed("".join(rows[:3])).height == 3
    assert "more than 3 rows" in problems_of(HEADER + "".join(rows))[-1].message


def test_problems_are_capped(monkeypatch):
    monkeypatch.setattr(parse, "MAX_PROBLEMS", 5)
    problems = problems_of(HEADER + GOOD.replace(",40,", ",x,") * 20)
    assert len(problems) == 6 and problems[-1].message == "stopped after 5 problems"


# -- what the rows mean ---------------------------------------------------------------------


def test_names_are_matched_loosely_and_kept_as_one():
    frame = parsed(
        "syn001,PPH_1500,2023-24,q1,Deprivation quintile,40,1200,a\n"
        "SYN001,pph_1500,2023-24,Q5 (least deprived),deprivation_quintile,20,900,a\n"
        "SYN001,pph_1500,2023-24,01,deprivation_decile,20,900,a\n"
        "SYN001,pph_1500,2023-24,Black or Black British,ethnicity,20,900,a\n"
        "SYN001,pph_1500,2023-24,Black x Q1,ethnicity_by_quintile,20,900,a\n"
        "SYN001,pph_1500,2023-24,total,total,90,3000,a\n")
    assert frame["metric"].unique().to_list() == ["pph_1500"]
    assert frame["organisation"].unique().to_list() == ["syn001"]  # first spelling wins
    assert frame["group"].to_list() == ["Q1 (most deprived)", "Q5 (least deprived)",
                                        "1 (most deprived)", "Black", "Black × Q1", "All"]
    assert frame["group_order"].to_list() == [1, 5, 1, 4, 16, 1]  # as the store orders them


def test_local_indicator_close_to_a_metric_id_gets_a_note():
    data = parse.parse((HEADER + GOOD.replace("pph_1500", "pph1500")).encode(), "a.csv")
    assert data.counts["national_metric"].to_list() == [False]
    assert data.notes == ("Line 2: “pph1500” is not a metric id, so it is read as a local "
                          "indicator. Did you mean pph_1500?",)


def test_small_numbers_are_suppressed_as_below_national_level():
    frame = parsed(
        "A,booked_by_10_weeks,2023-24,Black,ethnicity,5,300,s\n"     # small numerator
        "A,booked_by_10_weeks,2023-24,White,ethnicity,6,6,s\n"       # small denominator
        "A,booked_by_10_weeks,2023-24,Asian,ethnicity,0,300,s\n"     # zero is shown
        "A,pph_1500,2023-24,Black,ethnicity,0,500,s\n"               # rare event under 8
        "A,pph_1500,2023-24,White,ethnicity,8,500,s\n"               # rare event of 8
        "A,ou_suspension,2023-24,All,total,3,12,s\n"                 # units, not people
        "A,my indicator,2023-24,All,total,*,40,s\n"                  # withheld at source
        "A,my indicator,2023-24,Black,ethnicity,\"1,250\",\"2,000\",s\n")
    assert frame["suppressed"].to_list() == [True, True, False, True, False, False, True,
                                             False]
    assert frame["numerator"].to_list() == [None, None, 0, 0, 8, 3, None, 1250]
    assert frame["denominator"].to_list() == [300, None, 300, 500, 500, 12, 40, 2000]


# -- comparison with the national figures (demo store) ---------------------------------------


@pytest.fixture(scope="module")
def trust_file(demo_root):
    return (HEADER
            + "syn001,pph_1500,2023-24,White,ethnicity,41,1480,trust extract\n"
            + "SYN001,pph_1500,2023-24,Black,ethnicity,40,1200,trust extract\n"
            + "SYN001,pph_1500,2023-24,Asian,ethnicity,5,950,trust extract\n"
            + "Our LMNS,booked_by_10_weeks,2030-31,All,total,800,1000,x\n"
            + "=HYPERLINK(\"http://e.vil\"),Smoking at booking,2023-24,All,total,120,900,"
            + "\"=cmd|' /C calc'!A0\"\n")


def test_local_values_and_intervals_are_worked_out_as_published(trust_file):
    cells = compare.compare(parsed(trust_file.removeprefix(HEADER))).cells
    black = cells.filter(pl.col("group") == "Black").row(0, named=True)
    # Rate per 1,000 with Byar's limits for 40 events (METHODS.md 1.2).
    x, n = 40, 1200
    lower = x * (1 - 1 / (9 * x) - Z95 / (3 * math.sqrt(x))) ** 3 / n * 1000
    upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + Z95 / (3 * math.sqrt(x + 1))) ** 3 / n * 1000
    assert black["value"] == pytest.approx(1000 * 40 / 1200)
    assert (black["lower95"], black["upper95"]) == (pytest.approx(lower), pytest.approx(upper))
    # Rate ratio to White with the log method: exp(±z sqrt(1/40 + 1/41)).
    ratio = (40 / 1200) / (41 / 1480)
    assert black["ratio"] == pytest.approx(ratio)
    assert black["ratio_lower95"] == pytest.approx(
        ratio * math.exp(-Z95 * math.sqrt(1 / 40 + 1 / 41)))
    # Beside it England's and the trust's own national figures for the same group.
    england = queries.breakdown("pph_1500", "ENG", "2023-24", "ethnicity", "none")
    trust = queries.breakdown("pph_1500", "SYN001", "2023-24", "ethnicity", "none")
    assert black["england_value"] == england.filter(pl.col("group") == "Black")["value"][0]
    assert black["org_value"] == trust.filter(pl.col("group") == "Black")["value"][0]
    assert black["national_org_code"] == "SYN001" and black["note"] == ""
    assert black["vs_england"] in ("better", "similar", "worse")
    asian = cells.filter(pl.col("group") == "Asian").row(0, named=True)
    assert asian["suppressed"] and asian["value"] is None and asian["vs_england"] is None


def test_unmatched_period_organisation_and_local_indicators_say_why(trust_file):
    cells = compare.compare(parsed(trust_file.removeprefix(HEADER))).cells
    future = cells.filter(pl.col("period") == "2030-31").row(0, named=True)
    assert future["england_value"] is None and "no figure for period “2030-31”" in \
        future["note"]
    assert future["value"] == pytest.approx(80.0)
    low, high = wilson(800, 1000)
    assert (future["lower95"], future["upper95"]) == (pytest.approx(low), pytest.approx(high))
    local = cells.filter(~pl.col("national_metric")).row(0, named=True)
    assert local["metric"] == "Smoking at booking" and local["unit"] == "%"
    assert local["value"] == pytest.approx(100 * 120 / 900)
    assert "local indicator" in local["note"]


def test_organisation_names_resolve_to_the_national_store(demo):
    name = demo.organisations.filter(pl.col("org_code") == "SYN002")["name"][0]
    found = compare.resolve_organisation(f"  {name.upper()} ", demo.organisations)
    assert found["org_code"] == "SYN002"
    assert compare.resolve_organisation("Nowhere Trust", demo.organisations) is None


def test_comparisons_are_capped(trust_file):
    local = parsed(trust_file.removeprefix(HEADER))
    result = compare.compare(local, limit=1)
    assert (result.total, result.compared, result.left_out) == (3, 1, 2)
    assert result.cells["comparison"].unique().to_list() == [0]


def test_formula_like_text_is_kept_but_neutralised_in_the_download(trust_file):
    local = parsed(trust_file.removeprefix(HEADER))
    assert '=HYPERLINK("http://e.vil")' in local["organisation"].to_list()
    text = localdata.comparison_csv(compare.compare(local).cells, file="=x.csv",
                                    store_title="t", synthetic=True, left_out=0)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body))))
    hostile = [r for r in rows if "HYPERLINK" in r["Organisation"]][0]
    assert hostile["Organisation"] == "'=HYPERLINK(\"http://e.vil\")"
    assert hostile["Source"] == "'=cmd|' /C calc'!A0"
    assert all(r["Flag"] == "Local" for r in rows) and len(rows) == 5
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(pagekit.FORMULA_PREFIXES) or cell == "-"


# -- uploads: transport and limits ---------------------------------------------------------


def data_url(raw: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def test_upload_names_types_and_sizes():
    assert parse.display_name("C:\\Users\\me\\audit\x07.csv") == "audit.csv"
    assert parse.display_name("../../etc/passwd.csv") == "passwd.csv"
    assert parse.display_name(None) == "upload.csv"
    raw = (HEADER + GOOD).encode()
    assert parse.from_data_url(data_url(raw), "a.csv") == raw
    def refusal(contents, name, **kwargs) -> str:
        with pytest.raises(IngestError) as caught:
            parse.from_data_url(contents, name, **kwargs)
        (problem,) = caught.value.problems
        assert problem.file == name
        return problem.message

    assert "only .csv files" in refusal(data_url(raw), "audit.xlsx")
    assert "limit is 1.4 MB" in refusal(data_url(b"x" * (parse.UPLOAD_MAX_BYTES + 1)), "a.csv",
                                        max_bytes=parse.UPLOAD_MAX_BYTES)
    assert "damaged" in refusal("data:text/csv;base64,@@@", "a.csv")
    assert "did not arrive" in refusal(["not", "a", "string"], "a.csv")


def test_largest_upload_fits_in_the_request_limit():
    import app

    assert parse.MAX_BYTES == app.MAX_REQUEST_BYTES
    encoded = len(data_url(b"x" * parse.UPLOAD_MAX_BYTES))
    assert encoded + 20_000 < app.MAX_REQUEST_BYTES  # room for the rest of the request


# -- equalities ingest --local ------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.fixture
def national(tmp_path) -> Path:
    """A folder laid out like a published store (its bytes are checked, not read)."""
    root = tmp_path / "store"
    build = root / "builds" / "20260101T000000-abcdef"
    build.mkdir(parents=True)
    (build / "counts.parquet").write_bytes(b"national counts")
    (build / "manifest.json").write_text("{}")
    os.symlink(Path("builds") / build.name, root / "current")
    return root


def test_ingest_local_keeps_the_file_apart_and_leaves_the_store(national, capsys):
    before = _snapshot(national)
    path = national.parent / "LMNS audit 2023.csv"
    path.write_bytes(parse.TEMPLATE.read_bytes())
    assert cli.main(["ingest", "--local", str(path), "--into", str(national)]) == 0
    out = capsys.readouterr().out
    kept = national / "local" / "LMNS-audit-2023.parquet"
    assert kept.exists() and f"kept in {kept}" in out
    assert "3 row(s): 2 of registry metrics, 1 of 1 local indicator(s)" in out
    assert "the national store was not changed" in out
    after = _snapshot(national)
    assert {k: v for k, v in after.items() if not k.startswith("local")} == before
    assert [k for k in after if k.startswith("local")] == ["local/LMNS-audit-2023.parquet"]
    frame = store.load("LMNS audit 2023", national)
    assert frame.equals(parse.parse(path.read_bytes(), str(path)).counts)


def test_ingest_local_refuses_bad_files_and_writes_nothing(national, capsys):
    good = national.parent / "audit.csv"
    good.write_text(HEADER + GOOD)
    assert cli.main(["ingest", "--local", str(good), "--into", str(national)]) == 0
    before = _snapshot(national)
    good.write_text(HEADER + GOOD + GOOD.replace(",40,", ",4O,"))  # letter O for zero
    capsys.readouterr()
    assert cli.main(["ingest", "--local", str(good), "--into", str(national)]) == 2
    err = capsys.readouterr().err
    assert "refused: 1 problem(s)" in err and "nothing was written" in err
    assert f"{good}:3: column 'numerator' value '4O': not a whole number" in err
    assert _snapshot(national) == before


def test_a_failed_write_leaves_the_earlier_file(national, monkeypatch):
    data = parse.parse((HEADER + GOOD).encode(), "audit.csv")
    store.save(data, national)
    before = _snapshot(national)

    def broken(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    with pytest.raises(OSError):
        store.save(data, national)
    assert _snapshot(national) == before  # no temporary file left, the old one intact


def test_ingest_local_usage_errors(national, tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + GOOD)
    assert cli.main(["ingest", "--local", str(path), "other.csv"]) == 2
    assert "--local takes one local file" in capsys.readouterr().err
    assert cli.main(["ingest"]) == 2
    assert "--local FILE" in capsys.readouterr().err
    assert cli.main(["ingest", "--local", str(tmp_path / "missing.csv"),
                     "--into", str(national)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert store.safe_name("../../etc/passwd") == "etc-passwd"


def test_kept_files_are_listed_with_their_size_and_time(national):
    assert store.listing(national) == [] and store.names(national) == []
    path = national.parent / "LMNS audit 2023.csv"
    path.write_bytes(parse.TEMPLATE.read_bytes())
    before = datetime.now(UTC) - timedelta(seconds=2)  # file times lag the clock a little
    store.ingest(path, national)
    (national / "local" / ".half-written-1234abcd.tmp").write_bytes(b"half")
    (national / "local" / "odd name.parquet").write_bytes(b"not written by save")
    (kept,) = store.listing(national)
    assert kept.name == "LMNS-audit-2023" and kept.problem is None
    # The template: 3 rows of one organisation, 2 metrics (one a local indicator).
    assert kept.data.rows == 3 and kept.count("organisation") == 1
    assert kept.count("metric") == 2
    assert before <= kept.ingested <= datetime.now(UTC)
    original = parse.parse(path.read_bytes(), str(path))
    assert kept.data.counts.equals(original.counts)
    assert kept.data.notes == original.notes and "template's examples" in kept.data.notes[0]


def test_damaged_kept_files_are_reported_not_raised(national):
    folder = national / "local"
    folder.mkdir()
    (folder / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    pl.DataFrame({"a": [1]}).write_parquet(folder / "foreign.parquet")
    good = parse.parse((HEADER + GOOD).encode(), "audit.csv")
    good.counts.with_columns(metric=pl.lit(None, pl.String)).write_parquet(
        folder / "retyped.parquet")  # right columns, but an empty metric is not local data
    store.save(good, national)
    kept = {k.name: k for k in store.listing(national)}
    assert list(kept) == ["audit", "broken", "foreign", "retyped"]
    assert kept["audit"].problem is None and kept["audit"].data.rows == 1
    assert kept["broken"].data is None and kept["broken"].count("metric") is None
    assert kept["broken"].problem.startswith("broken.parquet cannot be read (")
    assert kept["foreign"].problem == (
        "foreign.parquet is not a local data file (missing column(s) "
        f"{', '.join(parse.LOCAL_SCHEMA)}): ingest its CSV file again with equalities "
        "ingest --local")
    assert kept["retyped"].problem.startswith(
        "retyped.parquet has empty values in column(s) metric: ")
    for name in ("broken", "foreign", "retyped"):
        with pytest.raises(store.DamagedFile, match=f"{name}.parquet"):
            store.read(name, national)
    with pytest.raises(store.DamagedFile, match="no local file nothing is kept"):
        store.load("nothing", national)
