"""Monthly statistics, workbooks, roll-ups and the project's vendored NHS England files.

Expected figures are worked out here from the raw files with the csv module, gzip, lzma and
openpyxl directly, never with the ingester.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import lzma
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from cli import main
from data import store
from data.ingest import build, detect
from data.ingest.errors import IngestError
from tests.data.test_ingest import ETR_ROW, _hashes, _write

VENDORED = build.VENDORED
RECORDED = {"White", "Mixed", "Asian or Asian British", "Black or Black British",
            "Any other ethnic group"}


def _gz_rows(name: str) -> list[dict]:
    with gzip.open(VENDORED / name, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _workbook_rows(path: Path) -> list[dict]:
    raw = path.read_bytes()
    if raw[:6] == b"\xfd7zXZ\x00":
        raw = lzma.decompress(raw)
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def _cell(s: store.Store, metric: str, org: str, period: str) -> dict:
    frame = s.metric_counts(metric)
    frame = frame.filter((frame["org_code"].cast(str) == org)
                         & (frame["period_label"].cast(str) == period))
    assert frame.height == 1, (metric, org, period, frame)
    return frame.row(0, named=True)


@pytest.fixture(scope="module")
def vendored_store(tmp_path_factory) -> store.Store:
    """build-real as on a clean clone: the vendored files only, no shared folder."""
    root = tmp_path_factory.mktemp("vendored")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("EQUALITIES_REALDATA_DIR", raising=False)
        patch.setattr(build, "default_realdata_dir", lambda: root / "no-shared-folder")
        assert main(["build-real", "--into", str(root)]) == 0
    return store.load_store(root)


@pytest.fixture(scope="module")
def measures_rows() -> list[dict]:
    return _workbook_rows(VENDORED / "msds-apr2025Provisional-exp-measures.xlsx.xz")


# -- the vendored files, always present ------------------------------------------------------

def test_vendored_files_are_small_and_checksummed_in_readme():
    files = build.vendored_files()
    assert len(files) == 8
    assert sum(p.stat().st_size for p in files) < 4_000_000
    readme = (VENDORED / "README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(path.name)}`.*`{digest}`", readme), path.name


def test_clean_clone_build_uses_only_vendored_files(vendored_store):
    names = {i["name"] for i in vendored_store.manifest["inputs"]}
    assert names == {p.name for p in build.vendored_files()}
    assert "stillbirth" not in vendored_store.by_metric  # MBRRACE-UK files are not vendored
    assert all(len(i["sha256"]) == 64 for i in vendored_store.manifest["inputs"])


def test_2019_20_schema_mode_of_birth_matches_raw(vendored_store):
    rows = [r for r in _gz_rows("hosp-epis-stat-mat-msdscsv-2019-20.csv.gz")
            if r["org_code"] == "RAJ" and r["dimension"] == "METHODOFDELIVERY"]
    known = [r for r in rows if not r["measure1"].lower().startswith("missing")]
    cell = _cell(vendored_store, "caesarean_emergency", "RAJ", "2019-20")
    assert cell["numerator"] == next(int(r["value"]) for r in rows
                                     if r["measure1"] == "Emergency caesarean section")
    assert cell["denominator"] == sum(int(r["value"]) for r in known)
    assert cell["period_kind"] == "financial_year"


@pytest.mark.parametrize("year", ["2020-21", "2021-22", "2022-23"])
def test_annual_preterm_matches_raw(vendored_store, year):
    rows = [r for r in _gz_rows(f"hosp-epis-stat-mat-msdscsv-{year}.csv.gz")
            if r["Org_Code"] == "RJ1" and r["Dimension"] == "GestationLengthBirthGroup37"]
    cell = _cell(vendored_store, "preterm", "RJ1", year)
    assert cell["numerator"] == next(int(r["Value"]) for r in rows if r["Measure"] == "<37 weeks")
    assert cell["denominator"] == sum(int(r["Value"]) for r in rows
                                      if not r["Measure"].startswith("Missing"))


def test_2019_20_has_no_ethnicity_or_booking_figures(vendored_store):
    for metric in ("ethnicity_recorded", "booked_by_10_weeks", "preterm"):
        labels = set(vendored_store.metric_counts(metric)["period_label"].cast(str))
        assert "2019-20" not in labels and "2020-21" in labels
    note = next(i for i in vendored_store.manifest["inputs"]
                if i["name"].startswith("hosp-epis-stat-mat-msdscsv-2019-20"))
    assert any("GESTATIONATBOOKING" in n and "70" in n for n in note["notes"])


def test_2023_24_workbook_figures_match_raw_after_repair(vendored_store):
    rows = [r for r in _workbook_rows(VENDORED / "hosp-epis-stat-mat-msdscsv-2023-24.xlsx.xz")
            if r["Org_Code"] == "R0A"]
    deciles = [r for r in rows if r["Dimension"] == "DeprivationDecileAtBooking"
               and (isinstance(r["Measure"], float) or r["Measure"][:2] in ("01", "10"))]
    assert sum(isinstance(r["Measure"], float) for r in deciles) == 8  # Excel's 2.0 .. 9.0
    cell = _cell(vendored_store, "deprivation_known", "R0A", "2023-24")
    assert cell["numerator"] == sum(int(r["Value"]) for r in deciles)
    assert cell["denominator"] == sum(int(r["Value"]) for r in rows
                                      if r["Dimension"] == "DeprivationDecileAtBooking")
    ethnicity = [r for r in rows if r["Dimension"] == "EthnicCategoryMotherGroup"]
    cell = _cell(vendored_store, "ethnicity_recorded", "R0A", "2023-24")
    assert cell["numerator"] == sum(int(r["Value"]) for r in ethnicity
                                    if r["Measure"] in RECORDED)
    notes = next(i["notes"] for i in vendored_store.manifest["inputs"]
                 if i["name"].endswith("2023-24.xlsx.xz"))
    assert any(n.startswith("repaired") and "deciles" in n for n in notes)


@pytest.mark.parametrize("month", ["feb", "mar"])
def test_monthly_exp_data_figures_and_true_month(vendored_store, month):
    rows = [r for r in _workbook_rows(VENDORED / f"msds-{month}2025-exp-data.xlsx.xz")
            if r["Dimension"] == "GestAgeFormalAntenatalBookingGroup"]
    label, start, end = {"feb": ("Feb 2025", date(2025, 2, 1), date(2025, 2, 28)),
                         "mar": ("Mar 2025", date(2025, 3, 1), date(2025, 3, 31))}[month]
    assert isinstance(rows[0]["ReportingPeriodStartDate"], datetime)  # the Excel damage
    for level, code, store_code in (("Provider", "R0A", "R0A"), ("National", "ALL", "ENG"),
                                    ("Local Maternity System", "QOP", "QOP")):
        mine = [r for r in rows if r["Org_Level"] == level and r["Org_Code"] == code]
        cell = _cell(vendored_store, "booked_by_10_weeks", store_code, label)
        assert cell["numerator"] == next(int(r["Final_value"]) for r in mine
                                         if r["Measure"] == "0 to 70 days")
        assert cell["denominator"] == sum(int(r["Final_value"]) for r in mine
                                          if not r["Measure"].startswith("Missing"))
        assert (cell["period_kind"], cell["period_start"], cell["period_end"]) == (
            "month", start, end)
    assert _cell(vendored_store, "booked_by_10_weeks", "QOP", label)["org_level"] == "icb"
    icb = vendored_store.organisations.filter(
        vendored_store.organisations["org_code"] == "QOP").row(0, named=True)
    assert icb["name"] == "NHS Greater Manchester Integrated Care Board"


def test_pph_from_measures_labelled_with_its_three_months(vendored_store, measures_rows):
    def value(code: str, currency: str):
        return next(r["Value"] for r in measures_rows if r["Org_Code"] == code
                    and r["Indicator"] == "CQIMPPH" and r["Currency"] == currency)

    cell = _cell(vendored_store, "pph_1500", "R0A", "2024-25 Q4 (Jan–Mar 2025)")
    assert cell["numerator"] == int(value("R0A", "Numerator"))
    assert cell["denominator"] == int(value("R0A", "Denominator"))
    assert cell["published_value"] == value("R0A", "Rate per Thousand")
    assert (cell["period_kind"], cell["period_start"], cell["period_end"]) == (
        "quarter", date(2025, 1, 1), date(2025, 3, 31))
    withheld = [r["Org_Code"] for r in measures_rows if r["Indicator"] == "CQIMPPH"
                and r["Currency"] == "Rate per Thousand" and r["Value"] == "*"]
    assert withheld
    for code in withheld:
        cell = _cell(vendored_store, "pph_1500", code, "2024-25 Q4 (Jan–Mar 2025)")
        assert cell["suppressed"] and cell["numerator"] is None
    refused = {r["Org_Code"] for r in measures_rows if r["Indicator"] == "CQIMPPH"
               and r["Value"] in ("Low DQ", "DNS")}
    held = set(vendored_store.metric_counts("pph_1500")["org_code"].cast(str))
    assert refused and not refused & held


def test_registry_period_kinds_cover_the_store(vendored_store):
    from data.schema import PERIOD_KINDS
    from metrics import registry

    for metric, part in vendored_store.by_metric.items():
        kinds = set(part["period_kind"].cast(str).unique())
        assert kinds <= set(registry.get(metric).period_kinds), metric
        assert kinds <= set(PERIOD_KINDS)


# -- damaged or wrong monthly files ---------------------------------------------------------

DATA_HEADER = ("ReportingPeriodStartDate,ReportingPeriodEndDate,Dimension,Org_Level,Org_Code,"
               "Org_Name,Measure,Count_Of,Final_value\n")
GOOD_DATA = [
    "01/02/2025,28/02/2025,EthnicCategoryMotherGroup,National,ALL,ALL SUBMITTERS,White,Women,"
    "400\n",
    "01/02/2025,28/02/2025,EthnicCategoryMotherGroup,National,ALL,ALL SUBMITTERS,Not known,"
    "Women,20\n",
    "01/02/2025,28/02/2025,EthnicCategoryMotherGroup,Provider,RAA,A TRUST,White,Women,100\n",
    "01/02/2025,28/02/2025,EthnicCategoryMotherGroup,Provider,RAA,A TRUST,Not known,Women,10\n",
]
MEASURES_HEADER = ("Org_Code,Org_Name,Org_Level,RPStartDate,RPEndDate,IndicatorFamily,"
                   "Indicator,Currency,Value\n")
GOOD_MEASURES = [
    f"RAA,A TRUST,Provider,01/04/2025,30/04/2025,CQIM_Rate,CQIMPPH,{currency},{value}\n"
    for currency, value in (("Numerator", "30"), ("Denominator", "1000"),
                            ("Rate per Thousand", "30.0"), ("Result", "Pass"))
]

DAMAGE = {
    "US date written back as text": (DATA_HEADER, [GOOD_DATA[2].replace(
        "01/02/2025", "02/01/2025", 1)], 2, "ReportingPeriodStartDate", "02/01/2025"),
    "end not a month end": (DATA_HEADER, [GOOD_DATA[2].replace("28/02/2025", "27/02/2025")],
                            2, "ReportingPeriodEndDate", "27/02/2025"),
    "ISO date": (DATA_HEADER, [GOOD_DATA[2].replace("01/02/2025", "2025-02-01")], 2,
                 "ReportingPeriodStartDate", "2025-02-01"),
    "decile 2.0": (DATA_HEADER, [GOOD_DATA[2].replace("EthnicCategoryMotherGroup",
                                                      "DeprivationDecileAtBooking").replace(
        "White", "2.0")], 2, "Measure", "2.0"),
    "unknown level": (DATA_HEADER, [GOOD_DATA[2].replace("Provider", "Hospital")], 2,
                      "Org_Level", "Hospital"),
    "negative count": (DATA_HEADER, [GOOD_DATA[2], GOOD_DATA[3].replace(",10\n", ",-10\n")],
                       3, "Final_value", "-10"),
    "duplicated row": (DATA_HEADER, GOOD_DATA + [GOOD_DATA[1]], 6, "Measure", "Not known"),
    "missing column": (DATA_HEADER.replace(",Final_value", ""), GOOD_DATA, 1, "Final_value",
                       None),
    "numerator > denominator": (MEASURES_HEADER, [GOOD_MEASURES[0].replace(",30\n", ",3000\n"),
                                                  *GOOD_MEASURES[1:]], 2, "Value", "3000"),
    "text where a number belongs": (MEASURES_HEADER, [GOOD_MEASURES[0].replace(
        ",30\n", ",Pass\n"), *GOOD_MEASURES[1:]], 2, "Value", "Pass"),
    "negative rate": (MEASURES_HEADER, [*GOOD_MEASURES[:2], GOOD_MEASURES[2].replace(
        "30.0", "-3.0"), GOOD_MEASURES[3]], 4, "Value", "-3.0"),
    # 30 / 1,000 is 30 per 1,000: 27.9 to 32.1 once both counts are rounded to 5.
    "rate not from its counts": (MEASURES_HEADER, [*GOOD_MEASURES[:2], GOOD_MEASURES[2].replace(
        "30.0", "90.0"), GOOD_MEASURES[3]], 4, "Value", "90.0"),
    "rate just beyond rounding": (MEASURES_HEADER, [*GOOD_MEASURES[:2], GOOD_MEASURES[2]
                                                    .replace("30.0", "32.2"), GOOD_MEASURES[3]],
                                  4, "Value", "32.2"),
    "unknown LMS code": (DATA_HEADER, [GOOD_DATA[2], GOOD_DATA[2].replace(
        "Provider,RAA,A TRUST", "Local Maternity System,QZZ,AN ICB")], 3, "Org_Code", "QZZ"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_monthly_damage_refused_with_place_and_store_untouched(case, tmp_path, existing,
                                                               capsys):
    header, lines, line, column, value = DAMAGE[case]
    bad = _write(tmp_path, "bad.csv", header + "".join(lines))
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([bad, etr], existing)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(bad), line, column, value)
    assert _hashes(existing) == before
    assert main(["ingest", str(bad), str(etr), "--into", str(existing)]) == 2
    assert f"bad.csv:{line}" in capsys.readouterr().err
    assert _hashes(existing) == before


def _workbook(tmp_path: Path, rows: list[list], name: str = "data.xlsx") -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def _data_rows(start, decile) -> list[list]:
    header = DATA_HEADER.strip().split(",")
    return [header,
            [start, "28/02/2025", "DeprivationDecileAtBooking", "Provider", "RAA", "A TRUST",
             "01 - Most deprived", "Women", 40],
            [start, "28/02/2025", "DeprivationDecileAtBooking", "Provider", "RAA", "A TRUST",
             decile, "Women", 60],
            [start, "28/02/2025", "DeprivationDecileAtBooking", "Provider", "RAA", "A TRUST",
             "Missing Value / Value outside reporting parameters", "Women", 25]]


def test_workbook_us_date_and_decile_refused_then_repaired_on_request(tmp_path, existing):
    # Excel read "01/02/2025" month first: 2 January 2025; and "02" became the number 2.
    path = _workbook(tmp_path, _data_rows(datetime(2025, 1, 2), 2.0))
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    assert detect.detect(path).format == detect.MSMS_DATA
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([path, etr], existing)
    found = {(p.line, p.column, p.value) for p in caught.value.problems}
    assert (2, "ReportingPeriodStartDate", "2025-01-02T00:00:00") in found
    assert (3, "Measure", "2.0") in found
    assert any("US-parsed" in p.message and "01/02/2025" in p.message
               for p in caught.value.problems)
    assert _hashes(existing) == before
    report = build.build_from_files([path, etr], existing, repair_excel=True, replace=True)
    notes = next(f["notes"] for f in report.files if f["name"] == path.name)
    assert any("repaired 1 deprivation" in n for n in notes)
    assert any("repaired 3 start dates" in n for n in notes)
    cell = _cell(store.load_store(existing), "deprivation_known", "RAA", "Feb 2025")
    assert (cell["numerator"], cell["denominator"]) == (100, 125)


def test_workbook_date_not_repaired_when_it_does_not_fit_the_end_date(tmp_path, existing):
    path = _workbook(tmp_path, _data_rows(datetime(2025, 1, 3), "02"))  # a March start
    with pytest.raises(IngestError) as caught:
        build.build_from_files([path, _write(tmp_path, "etr2.csv", ETR_ROW)], existing,
                               repair_excel=True, replace=True)
    assert caught.value.problems[0].column == "ReportingPeriodStartDate"


def test_workbook_counts_stored_as_floats_are_whole_numbers(tmp_path):
    header = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value".split(",")
    path = _workbook(tmp_path, [header, ["2022-23", "EthnicCategoryMotherGroup", "Provider",
                                         "RAA", "A TRUST", "White", "Deliveries", 100.0],
                                ["2022-23", "EthnicCategoryMotherGroup", "Provider", "RAA",
                                 "A TRUST", "Not known", "Deliveries", 10.0]])
    report = build.build_from_files([path], tmp_path / "s")
    assert report.files[0]["container"] == "XLSX"
    cell = _cell(store.load_store(tmp_path / "s"), "ethnicity_recorded", "RAA", "2022-23")
    assert (cell["numerator"], cell["denominator"]) == (100, 110)


def test_nmpa_template_refused_with_its_reason(tmp_path):
    text = ("# NMPA 2023 Trust-Level Postpartum Haemorrhage (PPH) Data \u2014 TEMPLATE,,\n"
            "# Coverage: 2021\u201322,,\n"
            "Country,Organisation name,Organisation code,Numerator,Denominator\n")
    raw = text.encode("utf-8") + "England,Guy's\xa0and St Thomas',RJ1,1,2\n".encode("cp1252")
    with pytest.raises(IngestError) as caught:
        detect.detect(_write(tmp_path, "pph.csv", raw))
    assert "TEMPLATE" in caught.value.problems[0].message
    assert "not ingested" in caught.value.problems[0].message


def test_same_figure_from_two_files_refused(tmp_path, existing):
    one = _write(tmp_path, "one.csv", DATA_HEADER + "".join(GOOD_DATA))
    two = _write(tmp_path, "two.csv", DATA_HEADER + "".join(GOOD_DATA))
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([one, two, _write(tmp_path, "etr2.csv", ETR_ROW)], existing)
    assert "also comes from one.csv" in caught.value.problems[0].message
    assert _hashes(existing) == before


def test_lenient_monthly_file_skips_and_reports_bad_rows(tmp_path, capsys):
    lines = GOOD_DATA + [GOOD_DATA[3].replace("Not known", "Mixed").replace(",10\n", ",x\n")]
    bad = _write(tmp_path, "bad.csv", DATA_HEADER + "".join(lines))
    assert main(["ingest", str(bad), "--into", str(tmp_path / "s"), "--lenient"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad row" in out and "bad.csv:6" in out
    # Summed without its bad Mixed row RAA's figure would be wrong: it is left out.
    assert "1 organisation dimension(s) with a bad row left out" in out
    counts = store.load_store(tmp_path / "s").metric_counts("ethnicity_recorded")
    assert "RAA" not in counts["org_code"].cast(str).to_list()


# -- roll-ups with dated lookups ------------------------------------------------------------

def _etr(code: str, icb: str, region: str = "Y56", opened: str = "20000101") -> str:
    return f'"{code}","{code} TRUST","{region}","{icb}","","","","","","","{opened}",""' + \
        ',""' * 15 + "\n"


MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value\n"


def _annual(period: str, values: dict[str, tuple[int, int]]) -> str:
    """An annual file: per trust (White, Not known) counts of ethnicity."""
    lines = [MSDS_HEADER]
    for code, (white, unknown) in values.items():
        for measure, value in (("White", white), ("Not known", unknown)):
            lines.append(f"{period},EthnicCategoryMotherGroup,Provider,{code},{code} TRUST,"
                         f"{measure},Deliveries,{value}\n")
    return "".join(lines)


@pytest.fixture
def rolled(tmp_path) -> store.Store:
    # Edition A (as at 1 Jan 2020): RAA, RBB, RCC in ICB QAA. Edition B (as at 1 Jan 2023,
    # when RDD opened): RBB has moved to ICB QBB.
    old = _write(tmp_path, "etr_a.csv", _etr("RAA", "QAA") + _etr("RBB", "QAA")
                 + _etr("RCC", "QAA", opened="20200101"))
    new = _write(tmp_path, "etr_b.csv", _etr("RAA", "QAA") + _etr("RBB", "QBB")
                 + _etr("RCC", "QAA") + _etr("RDD", "QBB", opened="20230101"))
    files = [old, new,
             _write(tmp_path, "y1.csv", _annual("2021-22", {"RAA": (100, 10), "RBB": (200, 20),
                                                            "RCC": (5, 300)})),
             _write(tmp_path, "y2.csv", _annual("2022-23", {"RAA": (110, 10), "RBB": (210, 30),
                                                            "RCC": (50, 300)}))]
    build.build_from_files(files, tmp_path / "store")
    return store.load_store(tmp_path / "store")


def test_rollups_use_the_lookup_in_force_and_respect_suppression(rolled):
    # 2021-22 (to March 2022): edition A, RAA + RBB + RCC in QAA; RCC's 5 is withheld
    # (1 to 7), so QAA is suppressed, never a sum that treats it as zero.
    cell = _cell(rolled, "ethnicity_recorded", "QAA", "2021-22")
    assert cell["suppressed"] and cell["numerator"] is None and cell["org_level"] == "icb"
    # Its denominator is known: 110 + 220 + 305.
    assert cell["denominator"] == 635
    # 2022-23 (to March 2023): edition B, RBB now in QBB alone.
    cell = _cell(rolled, "ethnicity_recorded", "QBB", "2022-23")
    assert (cell["numerator"], cell["denominator"], cell["suppressed"]) == (210, 240, False)
    cell = _cell(rolled, "ethnicity_recorded", "QAA", "2022-23")
    assert (cell["numerator"], cell["denominator"]) == (110 + 50, 120 + 350)
    region = _cell(rolled, "ethnicity_recorded", "Y56", "2022-23")
    assert (region["numerator"], region["denominator"]) == (370, 710)
    editions = rolled.manifest["ods_editions"]
    assert [(e["file"], e["as_at"]) for e in editions] == [("etr_a.csv", "2020-01-01"),
                                                          ("etr_b.csv", "2023-01-01")]
    assert all(e["used_for_rollups"] for e in editions)
    assert "QBB" in set(rolled.organisations["org_code"])
