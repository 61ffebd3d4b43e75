"""Fuzzed ingest: well over a thousand malformed inputs, each refused with its place, the
command exiting non-zero, and the published store left byte for byte as it was.

Small valid files are built here in every format the detector knows (annual MSDS CSV, ODS
etr.csv, MBRRACE-UK trust CSV, and the same MSDS table as an XLSX workbook and as gzip),
then damaged in the ways real files arrive damaged: cut short, saved in another encoding,
replaced by binary junk, given a huge field, a formula, a duplicated header, Excel's
conversions (``2.0``, US dates), NUL bytes, or nothing at all.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from cli import main
from components import pagekit
from data import store
from data.ingest import build, detect
from data.ingest.errors import IngestError

ETR = {"RAA": ("A TRUST", "Y56", "QAA"), "RBB": ("B TRUST", "Y58", "QBB")}
MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value"
MBR_HEADER = ("ReportYear,OrganisationName,CountryName,TotalBirths,TotalStillbirths,"
              "TotalLiveBirths,TotalNeonatalDeaths")
FORMULAS = ('=HYPERLINK("http://example.invalid/x","click")', "=1+2", "+cmd|' /C calc'!A0",
            "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1")


def etr_text(names: dict[str, str] | None = None) -> str:
    lines = []
    for code, (name, region, icb) in ETR.items():
        fields = [code, (names or {}).get(code, name), region, icb] + [""] * 6 + \
            ["20200101", ""] + [""] * 15
        lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields))
    return "\n".join(lines) + "\n"


def msds_text(names: dict[str, str] | None = None) -> str:
    lines = [MSDS_HEADER]
    groups = {"EthnicCategoryMotherGroup": {"White": 300, "Mixed": 20, "Not known": 15},
              "DeprivationDecileAtBooking": {"01 - Most deprived": 40, "10 - Least deprived": 60,
                                             "Missing value / Value outside reporting "
                                             "parameters": 5},
              "TotalDeliveries": {"": 335}}
    for level, code, name in (("National", "National", "ALL SUBMITTERS"),
                              *(("Provider", c, (names or {}).get(c, n))
                                for c, (n, _r, _i) in ETR.items())):
        for dimension, measures in groups.items():
            for measure, value in measures.items():
                lines.append(f"2022-23,{dimension},{level},{code},{_quoted(name)},{measure},"
                             f"Deliveries,{value * (3 if level == 'National' else 1)}")
    return "\n".join(lines) + "\n"


def mbrrace_text() -> str:
    return "\n".join([MBR_HEADER, "2023,A Trust,England,3000,9,2991,4",
                      "2023,B Trust,England,2500,8,2492,6"]) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def msds_workbook() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in msds_text().splitlines():
        cells = line.split(",")
        sheet.append(cells[:-1] + [int(cells[-1]) if cells[-1].isdigit() else cells[-1]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TEMPLATES = {  # name -> (bytes, the files that must come with it to make a store)
    "msds.csv": lambda: msds_text().encode(),
    "etr.csv": lambda: etr_text().encode(),
    "mbrrace.csv": lambda: mbrrace_text().encode(),
    "msds.xlsx": msds_workbook,
    "msds.csv.gz": lambda: gzip.compress(msds_text().encode(), mtime=0),
}


@dataclass(frozen=True)
class Case:
    kind: str
    template: str  # the valid file this one replaces
    content: bytes
    line: int | None = None  # where the problem is, when it is in one row
    column: bool = False  # whether a column must be named


def _data_lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(keepends=True), start=1))


def _replace_field(line: str, index: int, value: str) -> str:
    fields = line.rstrip("\n").split(",")
    fields[index] = value
    return ",".join(fields) + "\n"


def cases() -> list[Case]:
    """The malformed inputs, deterministic (seeded)."""
    rng = random.Random(20251016)
    out: list[Case] = []
    texts = {"msds.csv": msds_text(), "etr.csv": etr_text(), "mbrrace.csv": mbrrace_text()}
    header_rows = {"msds.csv": 1, "etr.csv": 0, "mbrrace.csv": 1}
    numeric = {"msds.csv": [7], "etr.csv": [10], "mbrrace.csv": [0, 3, 4, 5, 6]}
    for name, text in texts.items():
        lines = _data_lines(text)
        body = [(n, line) for n, line in lines if n > header_rows[name]]
        # Cut short in the middle of a row: the row has too few fields.
        for n, line in body:
            commas = [i for i, ch in enumerate(line) if ch == ","][:-1]
            offset = sum(len(x) for _n, x in lines[:n - 1])
            for i in commas:
                out.append(Case("truncated", name, text[:offset + i + 1].encode(), n))
        # A field too many or too few.
        for n, line in body:
            out.append(Case("extra field", name, text.replace(line, line.rstrip("\n")
                                                              + ",x\n").encode(), n))
            out.append(Case("missing field", name, text.replace(
                line, line.rstrip("\n").rsplit(",", 1)[0] + "\n").encode(), n))
        # Numbers that are not numbers: formulas, Excel's decimals, text, huge, NUL, signs.
        for n, line in body:
            for index in numeric[name]:
                original = line.rstrip("\n").split(",")[index].strip('"')
                # (a blank is a missing date in etr.csv, allowed; elsewhere a missing count)
                blank = [] if name == "etr.csv" else ["", " "]
                bad_values = [*FORMULAS, f"{original}.0", "1.5", "12abc", *blank, "NaN",
                              "1e3", "--5", "٣", "9" * 300_000 if index == numeric[name][0]
                              else "x" * 200_000]
                if name == "etr.csv":
                    bad_values += ["1/1/2020", "2020-01-01", "43831", "20201301"]
                for value in bad_values:
                    damaged = _replace_field(line, index, _quoted(value))
                    if damaged == line:
                        continue
                    huge = len(value) > 100_000
                    out.append(Case("bad number", name, text.replace(line, damaged).encode(), n,
                                    column=not huge and name != "etr.csv"
                                    and value.strip() not in ("",)))
        # NUL bytes anywhere in a row.
        for n, line in body:
            for _ in range(3):
                i = rng.randrange(len(line) - 1)
                out.append(Case("NUL", name, text.replace(line, line[:i] + "\x00" + line[i:])
                                .encode(), n))
        # Other encodings: UTF-16/32 (with their BOMs), Latin-1 and cp1252 with accents.
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            out.append(Case(f"encoding {encoding}", name, text.encode(encoding)))
        for n, line in body:
            for encoding, char in (("latin-1", "é"), ("cp1252", "£"), ("cp1252", "’")):
                words = line.replace("TRUST", f"TRUST {char}").replace("Trust", f"Trust {char}")
                if words != line:
                    out.append(Case(f"encoding {encoding}", name,
                                    text.replace(line, words).encode(encoding), n))
        # Headers: each column twice; only the header; nothing; blank lines; a BOM only.
        if header_rows[name]:
            header = lines[0][1].rstrip("\n").split(",")
            for column in header:
                twice = ",".join(header + [column]) + "\n"
                out.append(Case("duplicated header", name,
                                (twice + "".join(x for _n, x in lines[1:])).encode(), 1))
            out.append(Case("only header", name, lines[0][1].encode()))
        for empty in (b"", b"\n", b"\n\n\n", b"\xef\xbb\xbf", b"   \n", b",,,,\n", b'"'):
            out.append(Case("empty", name, empty))
    # Binary junk of many sizes, some starting like a workbook or a compressed file.
    for size in list(range(1, 60)) + [rng.randrange(60, 100_000) for _ in range(60)]:
        junk = bytes(rng.randrange(256) for _ in range(size))
        for prefix in (b"", b"PK\x03\x04", b"\x1f\x8b", b"\xfd7zXZ\x00"):
            out.append(Case("binary junk", "msds.csv", prefix + junk))
    # Damaged containers: the workbook and the gzip cut short at many places.
    for template in ("msds.xlsx", "msds.csv.gz"):
        whole = TEMPLATES[template]()
        for cut in sorted({rng.randrange(1, len(whole) - 1) for _ in range(60)}):
            out.append(Case("cut container", template, whole[:cut]))
    # A workbook that Excel damaged: deciles stored as numbers, counts with decimals.
    out.append(Case("excel damage", "msds.xlsx", _damaged_workbook()))
    return out


def _damaged_workbook() -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(msds_workbook()))
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        if row[5].value == "01 - Most deprived":
            row[5].value = 1.0  # '01' read by Excel as the number 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _hashes(root: Path) -> dict[str, str]:
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*")) if p.is_file()}
    return files | {"current": str((root / "current").resolve())}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """A store built from the valid files, and the valid files themselves."""
    folder = tmp_path_factory.mktemp("valid")
    files = {}
    for name, make in TEMPLATES.items():
        files[name] = folder / name
        files[name].write_bytes(make())
    root = tmp_path_factory.mktemp("previous-store")
    build.build_from_files([files["etr.csv"], files["msds.csv"], files["mbrrace.csv"]], root)
    return root, files


def test_valid_templates_are_read(workspace):
    root, files = workspace
    assert {detect.detect(p).format for p in files.values()} == {
        detect.MSDS_ANNUAL, detect.ODS_ETR, detect.MBRRACE_TRUST}
    cells = store.load_store(root).counts
    assert {"ethnicity_recorded", "stillbirth"} <= set(cells["metric"].cast(pl.String))
    # The workbook and the gzip hold the same table as the CSV.
    assert detect.detect(files["msds.xlsx"]).rows[1:] == detect.detect(files["msds.csv"]).rows[1:]


def test_malformed_inputs_are_refused_with_their_place(workspace, tmp_path, capsys):
    root, files = workspace
    before = _hashes(root)
    all_cases = cases()
    assert len(all_cases) >= 1000
    companions = [files["etr.csv"], files["msds.csv"], files["mbrrace.csv"]]
    for number, case in enumerate(all_cases):
        path = tmp_path / f"case-{number}-{Path(case.template).name}"
        path.write_bytes(case.content)
        others = [p for p in companions if p.name != case.template]
        inputs = [path, *others] if case.template != "etr.csv" else [path, files["msds.csv"]]
        with pytest.raises(IngestError) as caught:
            build.build_from_files(inputs, root)
        problems = caught.value.problems
        assert problems, case.kind
        assert all(p.message for p in problems)
        mine = [p for p in problems if p.file == str(path)]
        assert mine, (case.kind, [str(p) for p in problems[:3]])
        if case.line is not None:
            assert any(p.line == case.line for p in mine), (case.kind, [str(p) for p in mine])
        if case.column:
            assert any(p.column for p in mine if p.line == case.line), (case.kind, mine)
        if number % 25 == 0:  # the command itself, for a sample: refused, non-zero exit
            try:
                code = main(["ingest", *map(str, inputs), "--into", str(root)])
            except SystemExit as exit_:
                code = exit_.code
            assert code not in (0, None), case.kind
            assert "refused" in capsys.readouterr().err
        path.unlink()
    assert _hashes(root) == before


def test_formula_names_are_neutralised_in_every_export(tmp_path, capsys):
    """Names are free text and are kept; every CSV the dashboard writes shows them as text."""
    names = {"RAA": FORMULAS[0], "RBB": FORMULAS[2]}
    etr = tmp_path / "etr.csv"
    etr.write_text(etr_text(names), encoding="utf-8")
    msds = tmp_path / "msds.csv"
    msds.write_text(msds_text(names), encoding="utf-8")
    root = tmp_path / "store"
    build.build_from_files([etr, msds], root)
    orgs = store.load_store(root).organisations
    assert any(n.startswith(("=", "+")) for n in orgs["name"].to_list())
    csv_text = pagekit.csv_text(orgs.select("org_code", "name"))
    for formula in names.values():
        assert formula not in csv_text.replace("'" + formula, "")
    for command in (["list-orgs", "--format", "csv"],
                    ["compute", "--metric", "ethnicity_recorded", "--measure", "benchmark",
                     "--period", "2022-23", "--format", "csv"]):
        capsys.readouterr()
        assert main(["--data-dir", str(root), *command]) == 0
        out = capsys.readouterr().out
        cells = [c for line in out.splitlines() for c in _split(line)]
        assert not [c for c in cells if c.startswith(("=", "+", "@"))], command
        assert any(c.startswith("'=") or c.startswith("'+") for c in cells), command


def _split(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]), [])


def test_neutralise():
    for formula in FORMULAS:
        assert pagekit.neutralise(formula) == "'" + formula
    assert pagekit.neutralise("-") == "-"  # the zero symbol stays
    assert pagekit.neutralise("A Trust") == "A Trust"
