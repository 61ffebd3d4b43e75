"""Ingest checks beyond the cells themselves: MBRRACE-UK's other edition, published rates and
intervals against their counts, comparator groups, unchecked codes and replacing a store."""

from __future__ import annotations

import csv
import shutil

import pytest

from cli import main
from data import store
from data.ingest import build
from data.ingest.errors import IngestError
from tests.data.test_ingest import (
    ETR_ROW,
    GOOD_MSDS,
    MSDS_HEADER,
    REAL,
    _cell,
    _hashes,
    _write,
    needs_real,
)
from tests.data.test_ingest_formats import DATA_HEADER, GOOD_DATA

MBR_FULL = ("ReportYear,OrganisationCode,OrganisationName,CountryName,TotalBirths,"
            "TotalStillbirths,CrudeStillbirthRate,StabilisedStillbirthRate,StabilisedStillbirthCI,"
            "TotalLiveBirths,TotalNeonatalDeaths,CrudeNeonatalDeathRate,"
            "StabilisedNeonatalDeathRate,StabilisedNeonatalDeathCI,ComparatorGroupID,"
            "ComparatorGroupName\n")
# 1,000 x 12 / 4,000 = 3.00; 1,000 x 8 / 3,988 = 2.006.
MBR_ROW = ('2023,5,A Trust,England,4000,12,3.00,3.10,2.50 to 3.80,3988,8,2.01,2.05,'
           '1.20 to 3.10,3,"4,000 or more births"\n')
ORDINARY = "perinatal-mortality-rates-2023-trusthealth-board.csv"
EXCLUDING = "perinatal-mortality-rates-excluding-congenital-anomalies-2023-trusthealth-board.csv"


def _etr(code: str, name: str, icb: str = "QAA") -> str:
    return f'"{code}","{name}","Y56","{icb}","","","","","","","20200101",""' + ',""' * 15 + "\n"


# -- MBRRACE-UK "excluding congenital anomalies" edition -------------------------------------

def test_excluding_anomalies_edition_refused_by_name(tmp_path, existing, capsys):
    path = _write(tmp_path, EXCLUDING, MBR_FULL + MBR_ROW)
    etr = _write(tmp_path, "etr.csv", ETR_ROW)
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([path, etr], existing, replace=True, lenient=True)
    problem = caught.value.problems[0]
    assert (problem.file, problem.value) == (str(path), EXCLUDING)
    assert "excluding congenital anomalies" in problem.message
    assert "include deaths from congenital anomalies" in problem.message
    assert main(["ingest", str(path), str(etr), "--into", str(existing), "--replace"]) == 2
    assert "excluding congenital anomalies" in capsys.readouterr().err
    assert _hashes(existing) == before


def test_two_editions_of_one_year_refused_at_the_line_with_both_counts(tmp_path):
    ordinary = _write(tmp_path, ORDINARY, MBR_FULL + MBR_ROW)
    # The same table without deaths from congenital anomalies, under another name.
    lower = MBR_ROW.replace("4000,12,3.00", "3990,10,2.51").replace("3988,8,2.01",
                                                                     "3980,8,2.01")
    renamed = _write(tmp_path, "download.csv", MBR_FULL + MBR_ROW.replace("A Trust", "B Trust")
                     + lower)
    etr = _write(tmp_path, "etr.csv", ETR_ROW + _etr("RBB", "B TRUST"))
    with pytest.raises(IngestError) as caught:
        build.build_from_files([ordinary, renamed, etr], tmp_path / "s")
    twice = [p for p in caught.value.problems if "also comes from" in p.message]
    assert {(p.file, p.line) for p in twice} == {(str(renamed), 3)}
    still = next(p for p in twice if "12/4,000 there, 10/3,990 here" in p.message)
    assert f"{ORDINARY} line 2" in still.message and "excluding congenital" in still.message
    assert not (tmp_path / "s").exists()


@pytest.mark.realdata
@needs_real
def test_real_excluding_anomalies_files_refused_alone_and_beside_the_ordinary(tmp_path):
    etr = REAL / "ods_etr_2025-12_jhau.csv"
    for year in (2023, 2024):
        excluding = REAL / EXCLUDING.replace("2023", str(year))
        for given in ([excluding, etr], [REAL / ORDINARY.replace("2023", str(year)),
                                         excluding, etr]):
            with pytest.raises(IngestError) as caught:
                build.build_from_files(given, tmp_path / "s")
            assert [p.file for p in caught.value.problems] == [str(excluding)]
    # Renamed, its content matches the ordinary file's header and organisations; the two
    # meet at each trust, line by line, with their differing counts.
    copy = shutil.copy(REAL / EXCLUDING, tmp_path / "mbrrace.csv")
    with (REAL / EXCLUDING).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        leeds = next(reader.line_num for r in reader
                     if r["OrganisationName"] == "The Leeds Teaching Hospitals NHS Trust")
    with pytest.raises(IngestError) as caught:
        build.build_from_files([REAL / ORDINARY, copy, etr], tmp_path / "s")
    problem = next(p for p in caught.value.problems
                   if p.line == leeds and "RR8 2023" in p.message and "37/8,488" in p.message)
    assert "34/8,461 here" in problem.message and problem.file == str(copy)
    assert not (tmp_path / "s").exists()


# -- MBRRACE-UK rates, intervals and comparator groups ---------------------------------------

MBR_DAMAGE = {
    "interval with a dash": (MBR_ROW.replace("2.50 to 3.80", "2.50 - 3.80"),
                             "StabilisedStillbirthCI", "2.50 - 3.80"),
    "interval upside down": (MBR_ROW.replace("2.50 to 3.80", "3.80 to 2.50"),
                             "StabilisedStillbirthCI", "3.80 to 2.50"),
    "stabilised rate outside its interval": (MBR_ROW.replace("3.10,2.50", "9.10,2.50"),
                                             "StabilisedStillbirthRate", "9.10"),
    "crude rate not from its counts": (MBR_ROW.replace(",3.00,", ",99,"),
                                       "CrudeStillbirthRate", "99"),
    "crude rate off by more than rounding": (MBR_ROW.replace(",2.01,", ",2.02,"),
                                             "CrudeNeonatalDeathRate", "2.02"),
    "rate beside a suppressed count": (MBR_ROW.replace("3988,8,", "3988,-1,"),
                                       "CrudeNeonatalDeathRate", "2.01"),
    "comparator group out of range": (MBR_ROW.replace(',3,"4,000', ',7,"4,000'),
                                      "ComparatorGroupID", "7"),
    "comparator group misnamed": (MBR_ROW.replace('"4,000 or more births"', "Level 3 NICU"),
                                  "ComparatorGroupName", "Level 3 NICU"),
}


@pytest.mark.parametrize("case", MBR_DAMAGE)
def test_mbrrace_rates_intervals_and_groups_checked(case, tmp_path, existing, capsys):
    row, column, value = MBR_DAMAGE[case]
    bad = _write(tmp_path, "bad.csv", MBR_FULL + row)
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([bad, etr], existing, replace=True)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(bad), 2, column, value)
    assert main(["ingest", str(bad), str(etr), "--into", str(existing), "--replace"]) == 2
    assert f"bad.csv:2: column {column!r} value {value!r}" in capsys.readouterr().err
    assert _hashes(existing) == before


def test_good_rates_and_suppressed_rows_pass(tmp_path):
    suppressed = MBR_ROW.replace("A Trust", "B Trust").replace("3988,8,2.01", "3988,-1,-1")
    files = [_write(tmp_path, "mbr.csv", MBR_FULL + MBR_ROW + suppressed),
             _write(tmp_path, "etr.csv", ETR_ROW + _etr("RBB", "B TRUST"))]
    report = build.build_from_files(files, tmp_path / "s")
    assert not report.skipped
    cell = _cell(store.load_store(tmp_path / "s"), "stillbirth", "RAA", "2023")
    assert (cell["numerator"], cell["denominator"]) == (12, 4000)


def test_comparator_groups_from_the_trust_file_where_the_2018_list_gives_none(tmp_path):
    rows = (MBR_ROW  # RAA: group 3 in the file, 6 (Unknown) in the list
            + MBR_ROW.replace("A Trust", "B Trust").replace(',3,"4,000 or more births"',
                                                            ",5,\"Under 2,000 births\""))
    groups = ("MBRRACE_Group,MBRRACE_Group_Description,Country,Org_Code,Org_Name\n"
              "6,Unknown,England,RAA,A TRUST\n4,2000-3999,England,RBB,B TRUST\n"
              "4,2000-3999,England,RCC,C TRUST\n")
    msds = MSDS_HEADER + "".join(GOOD_MSDS) + "".join(
        line.replace("RAA,A TRUST", "RCC,C TRUST") for line in GOOD_MSDS[2:])
    files = [_write(tmp_path, "mbr.csv", MBR_FULL + rows),
             _write(tmp_path, "groups.csv", groups), _write(tmp_path, "msds.csv", msds),
             _write(tmp_path, "etr.csv", ETR_ROW + _etr("RBB", "B TRUST")
                    + _etr("RCC", "C TRUST"))]
    build.build_from_files(files, tmp_path / "s")
    s = store.load_store(tmp_path / "s")
    group = dict(zip(s.organisations["org_code"], s.organisations["peer_group"], strict=True))
    assert group["RAA"] == "MBRRACE-UK group 3: 4,000 or more births a year"
    # The file (MBRRACE-UK's placing for its year) over the 2018 list, which is kept for
    # trusts the file does not name; both in one set of labels, so they are compared together.
    assert group["RBB"] == "MBRRACE-UK group 5: Under 2,000 births a year"
    assert group["RCC"] == "MBRRACE-UK group 4: 2,000 to 3,999 births a year"
    note = s.manifest["peer_groups"]
    assert note["assigned_from"] == {"2023 trust file": 2, "2018 list": 1}
    assert note["file_differs_from_list"] == ["RBB: 2018 list group 4, 2023 trust file group 5"]


# -- organisation codes ----------------------------------------------------------------------

def test_codes_not_checked_without_ods_are_named_in_a_warning(tmp_path, capsys):
    path = _write(tmp_path, "msds.csv", MSDS_HEADER + "".join(
        line.replace("RAA", "ZZZ") for line in GOOD_MSDS))
    assert main(["ingest", str(path), "--into", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "warning: organisation codes not checked against ODS" in err
    assert "1 organisation(s) were taken on trust" in err
    assert store.load_store(tmp_path / "s").manifest["warnings"]
    etr = _write(tmp_path, "etr.csv", ETR_ROW)
    assert main(["ingest", _write(tmp_path, "ok.csv", MSDS_HEADER + "".join(GOOD_MSDS)).as_posix(),
                 str(etr), "--into", str(tmp_path / "t")]) == 0
    assert "not checked against ODS" not in capsys.readouterr().err


def test_local_maternity_system_codes_checked_against_etr_icbs(tmp_path, existing):
    lms = GOOD_DATA[2].replace("Provider,RAA,A TRUST", "Local Maternity System,QAA,AN ICB")
    good = _write(tmp_path, "good.csv", DATA_HEADER + "".join(GOOD_DATA) + lms
                  + GOOD_DATA[3].replace("Provider,RAA,A TRUST", "Local Maternity System,QAA,"
                                         "AN ICB"))
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    build.build_from_files([good, etr], tmp_path / "s")
    cell = _cell(store.load_store(tmp_path / "s"), "ethnicity_recorded", "QAA", "Feb 2025")
    assert (cell["numerator"], cell["denominator"]) == (100, 110)
    bad = _write(tmp_path, "bad.csv", DATA_HEADER + "".join(GOOD_DATA) + lms.replace(
        "QAA", "QZZ"))
    before = _hashes(existing)
    with pytest.raises(IngestError) as caught:
        build.build_from_files([bad, etr], existing, replace=True)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(bad), 6, "Org_Code", "QZZ")
    assert "ICB code" in problem.message
    assert _hashes(existing) == before


# -- an existing store -----------------------------------------------------------------------

def test_ingest_into_an_existing_store_refused_unless_replace(tmp_path, existing, capsys):
    new = _write(tmp_path, "new.csv", MSDS_HEADER + "".join(
        line.replace("2022-23", "2021-22") for line in GOOD_MSDS))
    etr = _write(tmp_path, "etr2.csv", ETR_ROW)
    before = _hashes(existing)
    assert main(["ingest", str(new), str(etr), "--into", str(existing)]) == 2
    err = capsys.readouterr().err
    assert "already holds a store built from 2 file(s): etr.csv, good.csv" in err
    assert "--replace" in err and _hashes(existing) == before
    with pytest.raises(IngestError):
        build.build_from_files([new, etr], existing)
    assert _hashes(existing) == before
    # Bad files are still reported first, at their place.
    bad = _write(tmp_path, "bad.csv", MSDS_HEADER + GOOD_MSDS[0].replace("400", "abc"))
    assert main(["ingest", str(bad), "--into", str(existing)]) == 2
    assert "bad.csv:2" in capsys.readouterr().err
    assert main(["ingest", str(new), str(etr), "--into", str(existing), "--replace"]) == 0
    s = store.load_store(existing)
    assert set(s.counts["period_label"].cast(str)) == {"2021-22"}  # only the files named
    assert [i["name"] for i in s.manifest["inputs"]] == ["etr2.csv", "new.csv"]


def test_ingest_help_explains_replace(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--replace" in text and "refused unless --replace" in text
