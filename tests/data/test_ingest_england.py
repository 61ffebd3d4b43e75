"""England's MBRRACE-UK figures as the sum of the trust file's organisations.

MBRRACE-UK's trust files publish trusts only. England's figure is the sum of the English
organisations whose counts the file publishes (births and deaths over the same ones), labelled
as such, and kept only where the sum gives no count withheld in the store away.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from data import store
from data.ingest import build
from data.ingest.mbrrace import MEASURES
from metrics.disclosure import SMALL_MAX
from tests.data.test_ingest import REAL, _cell, _write

HEADER = ("ReportYear,OrganisationName,CountryName,TotalBirths,TotalStillbirths,"
          "TotalLiveBirths,TotalNeonatalDeaths\n")


def _etr(code: str, name: str, icb: str, region: str) -> str:
    return (f'"{code}","{name}","{region}","{icb}","","","","","","","20200101",""'
            + ',""' * 15 + "\n")


def _build(tmp_path: Path, rows: list[str], etr: str) -> store.Store:
    files = [_write(tmp_path, "perinatal-mortality-rates-2023-trusthealth-board.csv",
                    HEADER + "".join(rows)), _write(tmp_path, "etr.csv", etr)]
    build.build_from_files(files, tmp_path / "store")
    return store.load_store(tmp_path / "store")


def _england_entry(s: store.Store, metric: str) -> dict:
    return next(e for e in s.manifest["rollups"]
                if e["metric"] == metric and e["level"] == "england")


# Three regions: with one, England would be that region, withheld with it.
TRUSTS = (_etr("RAA", "A TRUST", "QAA", "Y56") + _etr("RBB", "B TRUST", "QBB", "Y58")
          + _etr("RCC", "C TRUST", "QCC", "Y59") + _etr("RDD", "D TRUST", "QAA", "Y56")
          + _etr("REE", "E TRUST", "QBB", "Y58"))


def test_england_sums_the_published_trusts_births_and_deaths_alike(tmp_path):
    s = _build(tmp_path, [
        "2023,A Trust,England,4000,12,3988,8\n",
        "2023,B Trust,England,3000,10,2990,9\n",
        "2023,C Trust,England,2000,-1,1990,-1\n",  # withheld by MBRRACE-UK: in no sum
        "2023,D Trust,England,2500,5,2495,4\n",    # 1 to 7: withheld here, in the sum
        "2023,E Trust,England,3500,6,3494,3\n",
        "2023,A Private Hospital,England,900,-1,900,-1\n",  # no ODS code, withheld
        "2023,A Health Board,Wales,5000,20,4980,9\n",        # not England
    ], TRUSTS)
    stillbirth = _cell(s, "stillbirth", "ENG", "2023")
    assert (stillbirth["numerator"], stillbirth["denominator"]) == (12 + 10 + 5 + 6,
                                                                    4000 + 3000 + 2500 + 3500)
    assert stillbirth["org_level"] == "england" and not stillbirth["suppressed"]
    neonatal = _cell(s, "neonatal_death", "ENG", "2023")
    assert (neonatal["numerator"], neonatal["denominator"]) == (8 + 9 + 4 + 3,
                                                                3988 + 2990 + 2495 + 3494)
    # D and E are withheld here (1 to 7): the sum takes them in, two together.
    assert _cell(s, "stillbirth", "RDD", "2023")["numerator"] is None
    entry = _england_entry(s, "stillbirth")
    assert entry["periods"] == ["2023"] and entry["left_out_incomplete"] == []
    (summed,) = entry["sums"]
    assert (summed["organisations"], summed["summed"]) == (6, 4)
    assert summed["withheld"] == ["C Trust", "A Private Hospital"]
    note = summed["note"]
    assert note.startswith("England: sum of the 4 of 6 English organisations in the "
                           "MBRRACE-UK file perinatal-mortality-rates-2023-trusthealth-"
                           "board.csv whose counts it publishes")
    assert "The 2 whose counts MBRRACE-UK withheld for small numbers are left out of both " \
           "stillbirths and total births" in note
    assert "not England's whole figure" in note


def test_england_sum_left_out_where_it_would_give_a_withheld_count_away(tmp_path):
    # England less A's 12 and D's 15 shown would be B's 5, which the store withholds (1 to
    # 7). C and E, withheld by MBRRACE-UK, are in no sum.
    s = _build(tmp_path, [
        "2023,A Trust,England,4000,12,3988,9\n",
        "2023,B Trust,England,3000,5,2995,8\n",
        "2023,C Trust,England,2000,-1,1990,-1\n",
        "2023,D Trust,England,3500,15,3485,10\n",
        "2023,E Trust,England,1500,-1,1496,-1\n",
    ], _etr("RAA", "A TRUST", "QAA", "Y56") + _etr("REE", "E TRUST", "QAA", "Y56")
        + _etr("RBB", "B TRUST", "QBB", "Y58") + _etr("RCC", "C TRUST", "QCC", "Y59")
        + _etr("RDD", "D TRUST", "QCC", "Y59"))
    counts = s.metric_counts("stillbirth")
    assert counts.filter(pl.col("org_level") == "england").is_empty()
    entry = _england_entry(s, "stillbirth")
    assert entry["periods"] == [] and entry["sums"] == []
    assert entry["left_out_incomplete"] == [
        "ENG 2023 (a withheld death count among those summed that the sum would give away)"]
    # Neonatal deaths 9, 8 and 10 are all shown: that sum gives nothing away and is kept.
    assert _cell(s, "neonatal_death", "ENG", "2023")["numerator"] == 27


def test_england_sum_left_out_where_withheld_counts_are_pinned_by_their_total(tmp_path):
    # Two counts withheld here adding up to 2: each would be 1.
    s = _build(tmp_path, [
        "2023,A Trust,England,4000,12,3988,9\n",
        "2023,B Trust,England,3000,1,2999,8\n",
        "2023,D Trust,England,2500,1,2499,10\n",
    ], TRUSTS)
    assert s.metric_counts("stillbirth").filter(pl.col("org_level") == "england").is_empty()
    assert "2 withheld death counts among those summed whose total (2) would give each away" \
        in _england_entry(s, "stillbirth")["left_out_incomplete"][0]


# -- the real files --------------------------------------------------------------------------

def _raw_england(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["CountryName"] == "England"]


YEARS = (2023, 2024)


def _file(year: int) -> Path:
    return REAL / f"perinatal-mortality-rates-{year}-trusthealth-board.csv"


@pytest.mark.realdata
@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("metric", "deaths", "births"), MEASURES)
def test_real_england_is_the_sum_of_the_files_published_trusts(real_store, year, metric,
                                                                deaths, births):
    raw = _raw_england(_file(year))
    published = [r for r in raw if r[deaths] != "-1" and r[births] != "-1"]
    assert 0 < len(published) < len(raw), "the file withholds some organisations' counts"
    cell = _cell(real_store, metric, "ENG", str(year))
    assert cell["numerator"] == sum(int(r[deaths]) for r in published)
    assert cell["denominator"] == sum(int(r[births]) for r in published)
    assert cell["org_level"] == "england" and not cell["suppressed"]
    assert cell["source"] == "MBRRACE-UK" and cell["period_kind"] == "calendar_year"
    entry = next(e for e in real_store.manifest["rollups"]
                 if e["metric"] == metric and e["level"] == "england")
    summed = next(s for s in entry["sums"] if s["period"] == str(year))
    assert (summed["summed"], summed["organisations"]) == (len(published), len(raw))
    assert summed["note"].startswith(f"England: sum of the {len(published)} of {len(raw)} "
                                     "English organisations in the MBRRACE-UK file "
                                     f"{_file(year).name}")
    assert f"The {len(raw) - len(published)} whose counts MBRRACE-UK withheld" in summed["note"]


@pytest.mark.realdata
@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("metric", "deaths", "_births"), MEASURES)
def test_real_england_sum_gives_no_withheld_count_away(real_store, year, metric, deaths,
                                                      _births):
    """England less the trusts shown is the total of the counts summed but withheld here:
    at least two of them, and a total that pins none of them."""
    published = [r for r in _raw_england(_file(year)) if r[deaths] != "-1"]
    counts = real_store.metric_counts(metric).filter(
        (pl.col("period_label") == str(year)) & (pl.col("dimension") == "total"))
    trusts = counts.filter((pl.col("org_level") == "trust") & ~pl.col("suppressed")
                           & pl.col("numerator").is_not_null())
    england = counts.filter(pl.col("org_level") == "england")["numerator"].item()
    hidden = len(published) - trusts.height
    total = england - trusts["numerator"].sum()
    assert hidden >= 2
    assert hidden < total and not (total >= SMALL_MAX * hidden)
