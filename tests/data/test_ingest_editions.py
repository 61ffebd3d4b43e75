"""Every edition of the annual MSDS file, as the store holds it, against the raw file.

The expected figures are worked out here from the raw published rows with the test's own
reading of each category (patterns written for this test, not the ingester's label list),
so a label the ingester misreads (``Elective caesarean`` in 2023-24 once became a rate of
0.0%) shows up as a difference. Uses the project's own copies of the files (``data/real``),
so it runs without the shared folder.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from data import store
from data.ingest import build
from data.ingest.errors import IngestError

FILES = sorted(build.VENDORED.glob("hosp-epis-stat-mat-msdscsv-*"))
TRUSTS_PER_EDITION = 3

_MISSING = re.compile(r"^missing\s*value", re.IGNORECASE)
_DECILE = re.compile(r"^(0?[1-9]|10)(\.0)?( - .*)?$")
_RECORDED = {"white", "mixed", "asian or asian british", "black or black british",
             "any other ethnic group"}
# metric -> (dimension pattern, numerator test, denominator test), from DATA.md's definitions.
METRICS = {
    "spontaneous_vaginal": (r"method.*delivery|deliverymethod", lambda m: m == "spontaneous",
                            lambda m: not _MISSING.match(m)),
    "instrumental": (r"method.*delivery|deliverymethod", lambda m: m == "instrumental",
                     lambda m: not _MISSING.match(m)),
    "caesarean_planned": (r"method.*delivery|deliverymethod",
                          lambda m: m.startswith("elective caesarean"),
                          lambda m: not _MISSING.match(m)),
    "caesarean_emergency": (r"method.*delivery|deliverymethod",
                            lambda m: m.startswith("emergency caesarean"),
                            lambda m: not _MISSING.match(m)),
    "booked_by_10_weeks": (r"^GestAgeFormalAntenatalBookingGroup$",
                           lambda m: m == "0 to 70 days", lambda m: not _MISSING.match(m)),
    "preterm": (r"^GestationLengthBirthGroup37$", lambda m: m == "<37 weeks",
                lambda m: not _MISSING.match(m)),
    "ethnicity_recorded": (r"^EthnicCategoryMotherGroup$", lambda m: m in _RECORDED,
                           lambda m: True),
    "deprivation_known": (r"^DeprivationDecileAtBooking$", lambda m: bool(_DECILE.match(m)),
                          lambda m: True),
}


def _raw_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as dicts with lower-case keys (2019-20 names its columns so)."""
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if path.suffix == ".gz" else lzma.decompress(raw)
    if ".xlsx" in path.name:
        sheet = openpyxl.load_workbook(io.BytesIO(raw), read_only=True).worksheets[0]
        table = [["" if v is None else str(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    else:
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = [h.strip().lower().replace("measure1", "measure") for h in table[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=True)) for row in table[1:]
            if any(c.strip() for c in row)]


def _expected(rows: list[dict[str, str]]) -> tuple[str, dict]:
    """(period, {(metric, org): (numerator, denominator) or None when withheld})."""
    cells: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        national = row["org_level"].lower() in ("national", "all submitters")
        org = "ENG" if national else row["org_code"]
        if row["org_level"].lower() in ("provider", "national", "all submitters"):
            cells[(row["dimension"], org)].append((row["measure"].lower(), row["value"]))
    out = {}
    for metric, (pattern, in_num, in_den) in METRICS.items():
        for (dimension, org), measures in cells.items():
            if not re.search(pattern, dimension, re.IGNORECASE):
                continue
            num = [v for m, v in measures if in_num(m)]
            den = [v for m, v in measures if in_den(m)]
            if "*" in num + den:
                out[(metric, org)] = None
            else:
                out[(metric, org)] = (sum(int(float(v)) for v in num),
                                      sum(int(float(v)) for v in den))
    return rows[0]["period"], out


@pytest.fixture(scope="module")
def annual_store(tmp_path_factory) -> store.Store:
    """A store of the annual files alone, built as ``build-real`` builds (Excel damage
    repaired)."""
    if not FILES:
        pytest.skip("no vendored annual files")
    root = tmp_path_factory.mktemp("annual")
    build.build_from_files(FILES, root, repair_excel=True)
    return store.load_store(root)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.split("-")[-1].split(".")[0])
def test_every_metric_matches_the_raw_file(annual_store, path):
    period, expected = _expected(_raw_rows(path))
    published = {}
    for metric in METRICS:
        frame = annual_store.metric_counts(metric)
        for r in frame.filter((frame["period_label"].cast(str) == period)
                              & (frame["dimension"].cast(str) == "total")).iter_rows(named=True):
            published[(metric, str(r["org_code"]))] = (r["numerator"], r["denominator"])
    mapped = {m for m, _org in expected}
    assert mapped, f"{path.name}: no metric found in the raw file"
    for metric in sorted(mapped):
        assert (metric, "ENG") in published, f"{period} {metric}: no England figure"
        assert published[(metric, "ENG")] == expected[(metric, "ENG")], (period, metric)
        assert published[(metric, "ENG")][0] > 0, (period, metric, "a zero numerator")
        # Trusts whose counts are all published and not withheld as 1 to 7 (the store's
        # own rule below England), whatever secondary suppression then withheld.
        trusts = sorted(org for (m, org), v in expected.items()
                        if m == metric and org != "ENG" and v is not None and min(v) > 7
                        and published.get((metric, org), (None,))[0] is not None)
        assert len(trusts) >= TRUSTS_PER_EDITION, (period, metric, trusts)
        for org in trusts[:: max(1, len(trusts) // TRUSTS_PER_EDITION)][:TRUSTS_PER_EDITION]:
            assert published[(metric, org)] == expected[(metric, org)], (period, metric, org)


def test_mode_of_birth_in_every_edition(annual_store):
    """Both spellings of the caesarean groups are read: every edition has a planned and an
    emergency caesarean rate for England between 10% and 40%."""
    for metric in ("caesarean_planned", "caesarean_emergency"):
        frame = annual_store.metric_counts(metric)
        england = frame.filter((frame["org_code"].cast(str) == "ENG")
                               & (frame["dimension"].cast(str) == "total"))
        rates = {str(p): n / d for p, n, d in england.select(
            "period_label", "numerator", "denominator").iter_rows()}
        assert set(rates) == {"2019-20", "2020-21", "2021-22", "2022-23", "2023-24"}, rates
        assert all(0.10 < r < 0.40 for r in rates.values()), (metric, rates)


MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value\n"
MODE = [("Spontaneous", 500), ("Instrumental", 100), ("Planned caesarean", 150),
        ("Emergency caesarean section", 200), ("Other", 5)]


def _mode_file(tmp_path: Path) -> Path:
    lines = [MSDS_HEADER]
    for org_level, code in (("National", "National"), ("Provider", "RAA")):
        for measure, value in MODE:
            lines.append(f"2024-25,DeliveryMethodBabyGroup,{org_level},{code},X,{measure},"
                         f"Babies,{value}\n")
        lines.append(f"2024-25,EthnicCategoryMotherGroup,{org_level},{code},X,White,"
                     "Deliveries,900\n")
    path = tmp_path / "new-edition.csv"
    path.write_text("".join(lines))
    return path


def test_an_unknown_label_is_refused_where_it_is(tmp_path):
    path = _mode_file(tmp_path)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([path], tmp_path / "store")
    problems = caught.value.problems
    assert [(p.line, p.column, p.value) for p in problems] == [
        (4, "Measure", "Planned caesarean"), (10, "Measure", "Planned caesarean")]
    assert "DeliveryMethodBabyGroup" in problems[0].message
    assert "'Elective caesarean'" in problems[0].message  # the labels it does know
    assert not (tmp_path / "store").exists()


def test_lenient_leaves_the_dimension_out_and_says_so(tmp_path):
    report = build.build_from_files([_mode_file(tmp_path)], tmp_path / "store", lenient=True)
    published = store.load_store(tmp_path / "store")
    assert {p.value for p in report.skipped} == {"Planned caesarean"}
    notes = [n for f in report.files for n in f["notes"]]
    assert any(n.startswith("spontaneous_vaginal, instrumental, caesarean_planned, "
                            "caesarean_emergency left out: DeliveryMethodBabyGroup")
               for n in notes), notes
    for metric in ("spontaneous_vaginal", "caesarean_planned", "caesarean_emergency"):
        assert published.metric_counts(metric).is_empty(), metric
    # The dimension with no unknown label is kept.
    assert published.metric_counts("ethnicity_recorded").height == 2
