"""Fuzzed local-data uploads: well over a thousand malformed files, each either read or
refused with a clear message naming its line and column where it has one, and none raising
anything but :class:`IngestError`, through the parser and through the Data page's upload.

Files start from small valid ones and are damaged the ways real files arrive damaged: cut
short, saved in another encoding, replaced by binary junk, given huge fields, formulas,
duplicated or missing headers, words or decimals or huge numbers where counts belong,
negative counts, numerators above their denominators, unclosed quotes, stray separators.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

import polars as pl
import pytest

from data.ingest.errors import IngestError
from data.local import parse

SEED = 20251017
HEADER = list(parse.COLUMNS)
ORGS = ("Example LMNS", "RX1", "Trust – Nörth", "Área Sur", "St. Mary's, Leeds")
METRICS = ("pph_1500", "booked_by_10_weeks", "preterm", "Local referrals seen in 28 days")
GROUPS = {"total": ("All",), "ethnicity": ("White", "Black", "Asian", "Mixed", "Not known"),
          "deprivation_quintile": ("Q1", "Q2", "Q3", "Q4", "Q5")}
FORMULAS = ('=HYPERLINK("http://evil.example/","x")', "=1+2", "+cmd|' /C calc'!A0",
            "-2+3", "@SUM(A1:A9)", "\t=1", "=cmd|' /C calc'!A0")
NOT_COUNTS = ("abc", "2.0", "1e3", "12.5", "NaN", "inf", "٣", "0x1F", "1_000", "½", "--1",
              "1 2", "TRUE", "=1+1", "+5", "9" * 30, "1,2,3")


@dataclass(frozen=True)
class Case:
    kind: str
    raw: bytes
    line: int | None = None  # where the problem is, when it is in one row
    column: str | None = None  # the column that must be named
    fails: bool | None = True  # False: must be read; None: either (a cut at a line end)


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def line_of(cells: list[str]) -> str:
    return ",".join(quoted(c) for c in cells) + "\n"


def valid_rows(rng: random.Random, n: int) -> list[list[str]]:
    """``n`` rows with distinct keys that parse."""
    rows, seen = [], set()
    while len(rows) < n:
        dimension = rng.choice(sorted(GROUPS))
        row = [rng.choice(ORGS), rng.choice(METRICS), rng.choice(("2022-23", "2023", "Q1")),
               rng.choice(GROUPS[dimension]), dimension]
        if tuple(row) in seen:
            continue
        seen.add(tuple(row))
        den = rng.randint(1, 5000)
        rows.append(row + [str(rng.randint(0, den)), str(den), rng.choice(("", "audit"))])
    return rows


def text_of(rows: list[list[str]], header: list[str] = HEADER) -> str:
    return line_of(header) + "".join(line_of(r) for r in rows)


def _cell(rows, rng) -> tuple[int, int]:
    return rng.randrange(len(rows)), rng.randrange(len(HEADER))


def cases() -> list[Case]:
    """The malformed files, deterministic (seeded)."""
    rng = random.Random(SEED)
    out: list[Case] = []
    col = HEADER.index
    for i in range(60):
        heavy = i < 3  # megabyte-sized files: a few are enough
        rows = valid_rows(rng, rng.randint(1, 8))
        raw = text_of(rows).encode()
        # Cut short anywhere: mid-row, mid-cell, mid-character (the names are not ASCII).
        cut = rng.randrange(1, len(raw))
        out.append(Case("truncated", raw[:cut], fails=None))
        # Saved in another encoding: the first non-ASCII byte is named by line and column.
        for encoding in ("cp1252", "latin-1"):
            text = text_of(rows + [["Área Sur", "pph_1500", "1999", "All", "total", "1", "2",
                                    "£"]])
            encoded = text.encode(encoding, errors="replace")
            out.append(Case(f"saved as {encoding}", encoded,
                            line=_first_bad_line(encoded)))
            # A quoted comma before the bad byte: the column is still the right one.
            quoted_comma = text_of([["St. Mary's, Leeds", "pph_1500", "2022-23", "All",
                                     "total", "1", "2", "£ audit"]]).encode(encoding)
            out.append(Case(f"saved as {encoding} after a quoted comma", quoted_comma,
                            line=2, column="source"))
        for encoding in ("utf-16", "utf-16-le", "utf-32"):
            out.append(Case(f"saved as {encoding}", text_of(rows).encode(encoding)))
        # Binary junk, alone and after a good header.
        junk = rng.randbytes(rng.randint(1, 3000))
        out.append(Case("binary junk", junk))
        out.append(Case("junk after the header", line_of(HEADER).encode() + junk))
        out.append(Case("zip bytes", b"PK\x03\x04" + junk))
        out.append(Case("nul byte", raw[:cut] + b"\x00" + raw[cut:],
                        line=raw[:cut].count(b"\n") + 1))
        # A huge field: over the cell limit, over the CSV reader's limit, over the size limit.
        r, c = _cell(rows, rng)
        for size in (parse.MAX_CELL_CHARS + 1, 5_000, 200_000)[:3 if heavy else 2]:
            big = [row[:] for row in rows]
            big[r][c] = rng.choice("x9é,\"") * size
            fails = size < 150_000  # the reader refuses at its own limit, naming the line
            out.append(Case(f"huge field ({size:,})", text_of(big).encode(), line=r + 2,
                            column=HEADER[c] if fails else None))
        if heavy:
            out.append(Case("over the size limit", b"#" * (parse.MAX_BYTES + 1)))
        # Formulas: kept as text in text columns, refused in count columns.
        formula = [row[:] for row in rows]
        formula[r][rng.choice((0, 1, 7))] = rng.choice(FORMULAS).strip()
        out.append(Case("formula in a text cell", text_of(formula).encode(), fails=False))
        name = rng.choice(FORMULAS).strip() + "," + rng.choice(FORMULAS)
        out.append(Case("formula after a comma in a text cell",
                        text_of([[name, *row[1:]] for row in rows[:1]]).encode(), fails=False))
        for name in ("numerator", "denominator"):
            bad = [row[:] for row in rows]
            bad[r][col(name)] = rng.choice(FORMULAS).strip()
            out.append(Case(f"formula as {name}", text_of(bad).encode(), line=r + 2,
                            column=name))
        # Headers: duplicated, missing, unknown, renamed, separated by something else.
        header = HEADER[:]
        header[rng.randrange(len(header))] = rng.choice(HEADER)
        if header != HEADER:
            out.append(Case("duplicated header", text_of(rows, header).encode(), line=1,
                            column=next(h for h in header if header.count(h) > 1)))
        missing = rng.choice(HEADER)
        without = [h for h in HEADER if h != missing]
        out.append(Case("missing column", text_of([[v for h, v in zip(HEADER, row,
                                                                       strict=True)
                                                     if h != missing] for row in rows],
                                                   without).encode(), line=1, column=missing))
        out.append(Case("unknown column", text_of(rows, HEADER[:-1] + ["sauce"]).encode(),
                        line=1, column="sauce"))
        if heavy:
            out.append(Case("header of 100,000 columns", (",".join(
                rng.choice(HEADER) for _ in range(100_000)) + "\n").encode(), line=1))
        out.append(Case("huge column name", text_of(rows, HEADER + ["x" * 100_000]).encode(),
                        line=1))
        for sep in (";", "\t"):
            out.append(Case(f"separated by {sep!r}", text_of(rows).replace(",", sep).encode(),
                            line=1))
        out.append(Case("no header", "".join(line_of(r) for r in rows).encode()))
        out.append(Case("header only", line_of(HEADER).encode()))
        # Wrong types, negative counts, numerators above denominators, zero denominators.
        for name in ("numerator", "denominator"):
            bad = [row[:] for row in rows]
            bad[r][col(name)] = rng.choice(NOT_COUNTS)
            out.append(Case(f"not a count as {name}", text_of(bad).encode(), line=r + 2,
                            column=name))
            bad = [row[:] for row in rows]
            bad[r][col(name)] = f"-{rng.randint(1, 500)}"
            out.append(Case(f"negative {name}", text_of(bad).encode(), line=r + 2,
                            column=name))
        bad = [row[:] for row in rows]
        bad[r][col("numerator")] = str(int(bad[r][col("denominator")]) + rng.randint(1, 99))
        out.append(Case("numerator above denominator", text_of(bad).encode(), line=r + 2,
                        column="numerator"))
        bad = [row[:] for row in rows]
        bad[r][col("denominator")] = "0"
        bad[r][col("numerator")] = "0"
        out.append(Case("zero denominator", text_of(bad).encode(), line=r + 2,
                        column="denominator"))
        for name in ("dimension", "group"):
            bad = [row[:] for row in rows]
            bad[r][col(name)] = rng.choice(("ethnicty", "Q9", "../x", "=1", "deprivation"))
            out.append(Case(f"unknown {name}", text_of(bad).encode(), line=r + 2, column=name))
        bad = [row[:] for row in rows]
        bad[r][col(rng.choice(("organisation", "metric", "period")))] = ""
        out.append(Case("empty required cell", text_of(bad).encode(), line=r + 2))
        out.append(Case("duplicated row", text_of(rows + [rows[r]]).encode(),
                        line=len(rows) + 2))
        # Rows of the wrong length, stray quotes, padding, odd line ends.
        text = text_of(rows)
        lines = text.splitlines(keepends=True)
        n = rng.randrange(1, len(lines))
        short = lines[:n] + [",".join(lines[n].split(",")[:rng.randint(1, 6)]) + "\n"] + \
            lines[n + 1:]
        out.append(Case("short row", "".join(short).encode(), line=n + 1))
        long = lines[:n] + [lines[n].rstrip("\n") + ",extra,cells\n"] + lines[n + 1:]
        out.append(Case("long row", "".join(long).encode(), line=n + 1))
        pad = "," * (200_000 if heavy else 500)
        padded = lines[:n] + [lines[n].rstrip("\n") + pad + "\n"] + lines[n + 1:]
        out.append(Case("row padded with commas", "".join(padded).encode(), fails=False))
        unclosed = lines[:n] + ['"' + lines[n]] + lines[n + 1:]
        out.append(Case("unclosed quote", "".join(unclosed).encode(), line=n + 1))
        out.append(Case("CR line ends", text.replace("\n", "\r").encode(), fails=False))
        out.append(Case("BOM and CRLF", b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
                        fails=False))
        out.append(Case("odd periods", text_of([row[:2] + [p] + row[3:] for row, p in zip(
            rows, ("0000", "9999-00", "0001-02", "1899", "2022-24", "99999", "2100", "٢٠٢٣"),
            strict=False)]).encode(), fails=False))
        # Random single-byte damage anywhere.
        for _ in range(3):
            damaged = bytearray(raw)
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            out.append(Case("one byte changed", bytes(damaged), fails=None))
    # Limits.
    out.append(Case("empty", b""))
    out.append(Case("whitespace", b" \n\r\n\t"))
    out.append(Case("byte-order mark only", b"\xef\xbb\xbf"))
    out.append(Case("comments only", b"# a note\n# another\n"))
    out.append(Case("PDF", b"%PDF-1.7\n" + rng.randbytes(100)))
    out.append(Case("old Excel", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(100)))
    rows = "".join(f"A{i},pph_1500,p,All,total,0,9,\n" for i in range(parse.MAX_ROWS + 1))
    out.append(Case("too many rows", (line_of(HEADER) + rows).encode()))
    many = "".join(f"A{i},pph_1500,2022-23,All,total,x,1,\n" for i in range(500))
    out.append(Case("too many problems", (line_of(HEADER) + many).encode(), line=2,
                    column="numerator"))
    return out


def _first_bad_line(raw: bytes) -> int:
    """The line of the first byte that is not UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return raw[:error.start].count(b"\n") + 1
    raise AssertionError("the text decodes as UTF-8")


CASES = cases()


def check(case: Case, read, raw: object = None) -> None:
    """``read(raw)`` (the case's file unless given) is data or a clear refusal for
    ``case``, never another exception."""
    try:
        data = read(case.raw if raw is None else raw)
    except IngestError as error:
        problems = error.problems
        assert case.fails is not False, (case.kind, [str(p) for p in problems[:3]])
        assert problems, case.kind
        assert all(isinstance(p.message, str) and len(p.message) > 10 for p in problems)
        assert all(len(str(p)) < 2_000 for p in problems), case.kind  # nothing echoed whole
        assert error.summary() and error.listing()
        if case.line is not None:
            assert any(p.line == case.line for p in problems), \
                (case.kind, [str(p) for p in problems[:3]])
        if case.column is not None:
            assert any(p.column == case.column and p.line == case.line for p in problems), \
                (case.kind, [str(p) for p in problems[:3]])
        return
    assert case.fails is not True, (case.kind, "was accepted")
    assert data.counts.schema == pl.Schema(parse.LOCAL_SCHEMA)
    assert data.rows > 0


def test_there_are_over_a_thousand_cases_of_every_kind():
    kinds = {c.kind.split(" (")[0] for c in CASES}
    assert len(CASES) > 1_000 and len(kinds) > 40, (len(CASES), len(kinds))


def test_malformed_files_are_refused_clearly():
    for case in CASES:
        check(case, lambda raw: parse.parse(raw, "fuzz.csv"))


def test_formulas_are_kept_as_written():
    rows = [["=1+2", "@SUM(A1)", "2022-23", "All", "total", "3", "10", "+cmd"]]
    data = parse.parse(text_of(rows).encode(), "fuzz.csv")
    assert data.counts.row(0, named=True)["organisation"] == "=1+2"
    assert data.counts["metric"].to_list() == ["@SUM(A1)"]


def test_out_of_range_years_are_local_labels():
    rows = [["A", "pph_1500", p, "All", "total", "3", "10", ""] for p in ("0000", "9999-00")]
    counts = parse.parse(text_of(rows).encode(), "fuzz.csv").counts
    assert counts["period_kind"].to_list() == [parse.LOCAL_PERIOD] * 2
    assert counts["period_start"].null_count() == 2


@pytest.fixture(scope="module")
def data_page(page):
    return page("_local_data")


def test_the_upload_path_refuses_clearly(data_page):
    """The Data page's own upload: the file as the browser sends it (base64 in a data URL),
    for a sample of the cases, then damaged URLs and names; the view never fails."""
    def url(raw: bytes) -> str:
        return "data:text/csv;base64," + base64.b64encode(raw).decode()

    for case in CASES[::7]:
        if len(case.raw) > parse.UPLOAD_MAX_BYTES:  # refused for its size, before reading
            case = Case(case.kind, case.raw)
        check(case, lambda contents: data_page._uploaded(contents, "fuzz.csv"), url(case.raw))
        data_page.upload(url(case.raw), "fuzz.csv")
    for contents, name in [(None, "a.csv"), (123, "a.csv"), ("data:,", "a.csv"),
                           ("data:text/csv;base64,!!!", "a.csv"),
                           ("data:text/csv;base64," + "A" * 3_000_000, "a.csv"),
                           (url(b"x"), "a.xlsx"), (url(b"x"), None), (url(b"x"), "../../x"),
                           (url(b"x"), "a\x00\n.csv"), (url(b"x"), ["a.csv"])]:
        with pytest.raises(IngestError) as caught:
            data_page._uploaded(contents, name)
        assert caught.value.problems[0].message
        data_page.upload(contents, name)
        assert data_page.local_download(contents, name)[1]
