"""Real-data ingest: figures match the raw files; damaged input is refused with its place."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from cli import main
from data import store
from data.ingest import build, detect, mbrrace
from data.ingest.errors import IngestError

REAL = build.default_realdata_dir()
MSDS_2223 = REAL / "hosp-epis-stat-mat-msdscsv-2022-23.csv"
MSDS_2021 = REAL / "hosp-epis-stat-mat-msdscsv-2020-21.csv"
ETR = REAL / "ods_etr_2026-07_riyaburman.csv"
MBR_2023 = REAL / "perinatal-mortality-rates-2023-trusthealth-board.csv"

needs_real = pytest.mark.skipif(not REAL.is_dir(),
                                reason=f"real published files not present at {REAL}")
realdata = [pytest.mark.realdata, needs_real]


def _raw(path: Path, **where) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if all(r[k] == v for k, v in where.items())]


def _cell(s: store.Store, metric: str, org: str, period: str) -> dict:
    frame = s.metric_counts(metric).filter(
        (s.metric_counts(metric)["org_code"].cast(str) == org)
        & (s.metric_counts(metric)["period_label"].cast(str) == period))
    assert frame.height == 1, (metric, org, period, frame)
    return frame.row(0, named=True)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()} | {
        "current": str((root / "current").resolve())}


# -- real files ------------------------------------------------------------------------------

@pytest.mark.realdata
@needs_real
def test_formats_detected_from_content():
    assert detect.detect(MSDS_2223).format == detect.MSDS_ANNUAL
    assert detect.detect(MSDS_2021).format == detect.MSDS_ANNUAL  # BOM
    assert detect.detect(ETR).format == detect.ODS_ETR
    assert detect.detect(MBR_2023).format == detect.MBRRACE_TRUST
    assert detect.detect(REAL / "hosp-epis-stat-mat-msdscsv-2019-20.csv").format == \
        detect.MSDS_ANNUAL_2019


@pytest.mark.realdata
def test_trust_ethnicity_recorded_matches_raw(real_store):
    rows = _raw(MSDS_2223, Org_Code="R0A", Dimension="EthnicCategoryMotherGroup")
    recorded = {"White", "Mixed", "Asian or Asian British", "Black or Black British",
                "Any other ethnic group"}
    cell = _cell(real_store, "ethnicity_recorded", "R0A", "2022-23")
    assert cell["numerator"] == sum(int(r["Value"]) for r in rows if r["Measure"] in recorded)
    assert cell["denominator"] == sum(int(r["Value"]) for r in rows)
    assert cell["period_kind"] == "financial_year" and not cell["suppressed"]


@pytest.mark.realdata
def test_england_booked_by_10_weeks_matches_raw(real_store):
    rows = _raw(MSDS_2223, Org_Level="National",
                Dimension="GestAgeFormalAntenatalBookingGroup")
    cell = _cell(real_store, "booked_by_10_weeks", "ENG", "2022-23")
    assert cell["numerator"] == next(int(r["Value"]) for r in rows
                                     if r["Measure"] == "0 to 70 days")
    assert cell["denominator"] == sum(int(r["Value"]) for r in rows
                                      if not r["Measure"].startswith("Missing"))


@pytest.mark.realdata
def test_2020_21_unpadded_deciles_and_old_mode_of_birth_name(real_store):
    rows = _raw(MSDS_2021, Org_Code="R0A", Dimension="DeprivationDecileAtBooking")
    deciles = [r for r in rows if r["Measure"].split(" ")[0].lstrip("0").isdigit()]
    assert len(deciles) == 10
    cell = _cell(real_store, "deprivation_known", "R0A", "2020-21")
    assert cell["numerator"] == sum(int(r["Value"]) for r in deciles)
    modes = _raw(MSDS_2021, Org_Code="R0A", Dimension="MethodOfDelivery")
    cell = _cell(real_store, "caesarean_emergency", "R0A", "2020-21")
    assert cell["numerator"] == next(int(r["Value"]) for r in modes
                                     if r["Measure"] == "Emergency caesarean section")


@pytest.mark.realdata
def test_mbrrace_stillbirths_match_raw_and_suppression(real_store):
    leeds = next(r for r in _raw(MBR_2023)
                 if r["OrganisationName"] == "The Leeds Teaching Hospitals NHS Trust")
    cell = _cell(real_store, "stillbirth", "RR8", "2023")
    assert (cell["numerator"], cell["denominator"]) == (int(leeds["TotalStillbirths"]),
                                                         int(leeds["TotalBirths"]))
    assert cell["period_kind"] == "calendar_year"
    small = [r for r in _raw(MBR_2023, CountryName="England")
             if r["TotalNeonatalDeaths"] == "-1"]
    assert small, "the 2023 file has suppressed neonatal deaths"
    frame = real_store.metric_counts("neonatal_death")
    assert frame.filter(frame["suppressed"])["numerator"].null_count() == \
        frame.filter(frame["suppressed"]).height


@pytest.mark.realdata
def test_mbrrace_2024_matches_raw(real_store):
    row = next(r for r in _raw(REAL / "perinatal-mortality-rates-2024-trusthealth-board.csv")
               if r["OrganisationName"].startswith("Barking, Havering"))
    cell = _cell(real_store, "stillbirth", "RF4", "2024")
    assert (cell["numerator"], cell["denominator"]) == (int(row["TotalStillbirths"]),
                                                         int(row["TotalBirths"]))
    # 7 neonatal deaths: published by MBRRACE-UK, withheld here (1 to 7 below England).
    assert row["TotalNeonatalDeaths"] == "7"
    cell = _cell(real_store, "neonatal_death", "RF4", "2024")
    assert cell["suppressed"] and cell["numerator"] is None
    assert cell["denominator"] == int(row["TotalLiveBirths"])


@pytest.mark.realdata
def test_manifest_lists_inputs_and_unmatched(real_store):
    manifest = real_store.manifest
    assert manifest["synthetic"] is False and not real_store.organisations["synthetic"].any()
    names = {i["name"] for i in manifest["inputs"]}
    assert MSDS_2223.name + ".gz" in names and ETR.name in names  # vendored copy, shared etr
    for item in manifest["inputs"]:
        assert len(item["sha256"]) == 64 and item["rows_read"] >= item["rows_mapped"] > 0
    assert any("Portland" in u for u in manifest["unmatched"])
    # Trusts as published; England, ICBs and regions summed from them (no file publishes
    # those; tests/data/test_ingest_england.py).
    assert manifest["available_dimensions"]["stillbirth"] == {
        "england": ["total"], "icb": ["total"], "region": ["total"], "trust": ["total"]}


@pytest.mark.realdata
def test_queries_on_real_store_give_raw_numbers(real_store, monkeypatch):
    from data import queries

    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(real_store.path.parent.parent))
    frame = queries.breakdown("ethnicity_recorded", "R0A", "2022-23", "total")
    raw = _raw(MSDS_2223, Org_Code="R0A", Dimension="EthnicCategoryMotherGroup")
    assert frame["denominator"][0] == sum(int(r["Value"]) for r in raw)
    assert queries.org_name("RR8") == "The Leeds Teaching Hospitals NHS Trust"


def test_name_map_codes_are_explicit():
    mapping = mbrrace.read_name_map()
    assert mapping["Wrightington, Wigan and Leigh NHS Foundation Trust"] == "RRF"
    assert mbrrace.normalise("The Leeds Teaching Hospitals NHS Trust") == \
        mbrrace.normalise("LEEDS TEACHING HOSPITALS NHS TRUST")


# -- damaged input ---------------------------------------------------------------------------

MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value\n"
GOOD_MSDS = [
    "2022-23,EthnicCategoryMotherGroup,National,National,ALL SUBMITTERS,White,Deliveries,400\n",
    "2022-23,EthnicCategoryMotherGroup,National,National,ALL SUBMITTERS,Not known,Deliveries,20\n",
    "2022-23,EthnicCategoryMotherGroup,Provider,RAA,A TRUST,White,Deliveries,100\n",
    "2022-23,EthnicCategoryMotherGroup,Provider,RAA,A TRUST,Not known,Deliveries,10\n",
]
ETR_ROW = ('"RAA","A TRUST","Y56","QAA","","","","","","","20200101",""'
           + ',""' * 15 + "\n")
MBR_HEADER = ("ReportYear,OrganisationName,CountryName,TotalBirths,TotalStillbirths,"
              "TotalLiveBirths,TotalNeonatalDeaths\n")


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_small_good_files_build(existing):
    s = store.load_store(existing)
    cell = _cell(s, "ethnicity_recorded", "RAA", "2022-23")
    assert (cell["numerator"], cell["denominator"]) == (100, 110)


DAMAGE = {
    "missing column": (MSDS_HEADER.replace(",Value", ""), GOOD_MSDS, 1, "Value", None),
    "text value": (MSDS_HEADER, [GOOD_MSDS[0].replace("400", "abc")], 2, "Value", "abc"),
    "negative": (MSDS_HEADER, [GOOD_MSDS[0], GOOD_MSDS[1].replace(",20\n", ",-20\n")], 3, "Value",
                 "-20"),
    "duplicate": (MSDS_HEADER, GOOD_MSDS + [GOOD_MSDS[3]], 6, "Measure", "Not known"),
    "unknown org": (MSDS_HEADER, [GOOD_MSDS[2].replace("RAA", "ZZZ")], 2, "Org_Code", "ZZZ"),
    "excel decile": (MSDS_HEADER, [GOOD_MSDS[0].replace(
        "EthnicCategoryMotherGroup", "DeprivationDecileAtBooking").replace("White", "2.0")],
        2, "Measure", "2.0"),
    "excel value": (MSDS_HEADER, [GOOD_MSDS[0].replace("400", "400.0")], 2, "Value", "400.0"),
    "numerator > denominator": (MBR_HEADER, ["2023,A Trust,England,100,120,80,0\n"], 2,
                                "TotalStillbirths", "120"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damage_refused_with_place_and_store_untouched(case, tmp_path, existing, capsys):
    header, lines, line, column, value = DAMAGE[case]
    bad = _write(tmp_path, "bad.csv", header + "".join(lines))
    before = _hashes(existing)
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([bad, etr], existing)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == (str(bad), line, column)
    assert problem.value == value
    assert _hashes(existing) == before
    assert main(["ingest", str(bad), str(etr), "--into", str(existing)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and f"bad.csv:{line}" in err
    assert _hashes(existing) == before


def test_latin1_bytes_refused(tmp_path, existing):
    bad = _write(tmp_path, "latin.csv", (MSDS_HEADER + GOOD_MSDS[2].replace(
        "A TRUST", "CAFÉ TRUST")).encode("latin-1"))
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([bad], existing)
    assert caught.value.line == 2 and "UTF-8" in caught.value.problems[0].message
    assert _hashes(existing) == before


def test_lenient_skips_bad_rows_and_reports(tmp_path, capsys):
    lines = GOOD_MSDS + [GOOD_MSDS[2].replace("100", "abc").replace("White", "Mixed")]
    bad = _write(tmp_path, "bad.csv", MSDS_HEADER + "".join(lines))
    root = tmp_path / "lenient"
    assert main(["ingest", str(bad), "--into", str(root), "--lenient"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad row" in out and "bad.csv:6" in out and "abc" in out
    # RAA's ethnicity without its Mixed row would be a wrong figure: it is left out, and
    # England's (all rows good) is kept.
    published = store.load_store(root)
    with pytest.raises(AssertionError):
        _cell(published, "ethnicity_recorded", "RAA", "2022-23")
    cell = _cell(published, "ethnicity_recorded", "ENG", "2022-23")
    assert (cell["numerator"], cell["denominator"]) == (400, 420)
    assert "1 organisation dimension(s) with a bad row left out" in out


def test_error_listing_capped_at_20(tmp_path, capsys):
    lines = [GOOD_MSDS[2].replace("100", f"x{i}").replace("RAA", f"R{i:02d}") for i in range(25)]
    bad = _write(tmp_path, "many.csv", MSDS_HEADER + "".join(lines))
    assert main(["ingest", str(bad), "--into", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("equalities: refused: 25 problem(s)")
    assert err[-1].strip() == "... and 5 more" and len(err) == 22


def test_build_real_missing_folder(tmp_path, capsys):
    assert main(["build-real", "--from", str(tmp_path / "nope"),
                 "--into", str(tmp_path / "s")]) == 2
    assert "no such folder" in capsys.readouterr().err


# -- roll-ups, peer groups, mergers and lookups on the real store ------------------------------

ETR_2025 = REAL / "ods_etr_2025-12_jhau.csv"
GROUPS = REAL / "MBRRACE_groups_2018.csv"


def _icb_of(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[0]: row[3] for row in csv.reader(handle)}


@pytest.mark.realdata
def test_icb_rollups_equal_the_sum_of_their_trusts_in_the_raw_file(real_store):
    icb_of = _icb_of(ETR_2025)
    recorded = {"White", "Mixed", "Asian or Asian British", "Black or Black British",
                "Any other ethnic group"}
    num: dict[str, int] = {}
    den: dict[str, int] = {}
    for row in _raw(MSDS_2223, Org_Level="Provider", Dimension="EthnicCategoryMotherGroup"):
        icb = icb_of[row["Org_Code"]]
        den[icb] = den.get(icb, 0) + int(row["Value"])
        num[icb] = num.get(icb, 0) + int(row["Value"]) * (row["Measure"] in recorded)
    frame = real_store.metric_counts("ethnicity_recorded")
    icbs = frame.filter((frame["org_level"] == "icb")
                        & (frame["period_label"].cast(str) == "2022-23"))
    assert icbs.height == len(den) == 42
    for row in icbs.iter_rows(named=True):
        assert not row["suppressed"]
        assert (row["numerator"], row["denominator"]) == (num[row["org_code"]],
                                                          den[row["org_code"]])


@pytest.mark.realdata
def test_rollups_are_suppressed_where_a_member_trust_is(real_store):
    icb_of = _icb_of(ETR_2025)
    frame = real_store.metric_counts("stillbirth")
    year = frame.filter(frame["period_label"].cast(str) == "2023")
    trusts = year.filter(year["org_level"] == "trust")
    withheld = {icb_of[c] for c, s in zip(trusts["org_code"].cast(str), trusts["suppressed"],
                                          strict=True) if s}
    icbs = year.filter(year["org_level"] == "icb")
    assert icbs.height > 30 and 0 < len(withheld) < icbs.height
    for row in icbs.iter_rows(named=True):
        members = trusts.filter(trusts["org_code"].cast(str).is_in(
            [c for c, i in icb_of.items() if i == row["org_code"]]))
        assert row["suppressed"] == (row["org_code"] in withheld)
        if row["suppressed"]:
            assert row["numerator"] is None
        else:
            assert row["numerator"] == members["numerator"].sum()
            assert row["denominator"] == members["denominator"].sum()


@pytest.mark.realdata
def test_dated_lookups_and_icb_names(real_store):
    editions = real_store.manifest["ods_editions"]
    assert [(e["as_at"], e["used_for_rollups"]) for e in editions] == [
        ("2024-12-31", True), ("2026-06-30", False)]
    orgs = real_store.organisations
    raj = orgs.filter(orgs["org_code"] == "RAJ").row(0, named=True)
    # The 2026 edition moves RAJ to the merged ICB D7T5G; no figure is that recent.
    assert raj["icb_code"] == "QH8"
    assert raj["icb"] == "NHS Mid and South Essex Integrated Care Board"


@pytest.mark.realdata
def test_peer_groups_are_mbrrace_groups_from_the_trust_files_then_the_2018_list(real_store):
    with GROUPS.open(encoding="utf-8", newline="") as handle:
        raw = {r["Org_Code"]: r for r in csv.DictReader(handle)}
    leeds = next(r for r in _raw(REAL / "perinatal-mortality-rates-2024-trusthealth-board.csv")
                 if r["OrganisationName"] == "The Leeds Teaching Hospitals NHS Trust")
    orgs = real_store.organisations
    group = dict(zip(orgs["org_code"], orgs["peer_group"], strict=True))
    assert raw["R1H"]["MBRRACE_Group"] == leeds["ComparatorGroupID"] == "1"
    assert group["R1H"] == group["RR8"] == "MBRRACE-UK group 1: Level 3 NICU and neonatal surgery"
    # Took over Brighton and Sussex in 2021: its 2018 group no longer describes it, the 2024
    # file's does. Group 6 (Unknown) in 2018, placed by the files since.
    assert raw["RYR"]["MBRRACE_Group"] == "3" and group["RYR"].startswith("MBRRACE-UK group 1:")
    assert raw["RAJ"]["MBRRACE_Group"] == "6" and group["RAJ"].startswith("MBRRACE-UK group 3:")
    # Took over North Middlesex in January 2025, after the newest file's year.
    assert group["RAL"] is None
    note = real_store.manifest["peer_groups"]
    assert "2018" in note["source"] and "RAL (2024 trust file)" in note["left_out_merged_since"]
    assert "RVR: 2018 list group 3, 2024 trust file group 4" in note["file_differs_from_list"]
    assert group["RVR"].startswith("MBRRACE-UK group 4:")


@pytest.mark.realdata
def test_mergers_link_closed_trusts_to_successors(real_store):
    from components.definitions import merger_sentences

    orgs = real_store.organisations
    rxh = orgs.filter(orgs["org_code"] == "RXH").row(0, named=True)
    assert (rxh["successor_code"], str(rxh["closed"])) == ("RYR", "2021-03-31")
    pennine = next(m for m in real_store.manifest["mergers"] if m["code"] == "RW6")
    assert pennine["successor_code"] == "RM3" and "North Manchester" in pennine["note"]
    assert any("Brighton and Sussex" in s and "(RYR)" in s for s in merger_sentences(orgs))


@pytest.mark.realdata
@needs_real
def test_vendored_workbooks_hold_the_original_parts():
    import io
    import lzma
    import zipfile

    for packed in sorted(build.VENDORED.glob("*.xlsx.xz")):
        original = zipfile.ZipFile(REAL / packed.name.removesuffix(".xz"))
        copy = zipfile.ZipFile(io.BytesIO(lzma.decompress(packed.read_bytes())))
        assert copy.namelist() == original.namelist()
        for name in original.namelist():
            assert copy.read(name) == original.read(name), (packed.name, name)


@pytest.mark.realdata
@needs_real
def test_nmpa_table_is_refused_with_its_reason():
    with pytest.raises(IngestError) as caught:
        detect.detect(REAL / "nmpa_pph_2023.csv")
    assert "TEMPLATE" in caught.value.problems[0].message


@pytest.mark.realdata
def test_no_breakdown_means_totals_only_on_pages(real_store, monkeypatch):
    from data import queries

    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(real_store.path.parent.parent))
    assert queries.dimensions_at("stillbirth", "trust") == ("total",)
    assert queries.dimensions_at("ethnicity_recorded", "icb") == ("total",)
    assert "month" in queries.period_kinds("booked_by_10_weeks")
