"""``equalities returns ...`` at the command line: exit codes, messages and outputs."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cli import main
from returns import db
from tests.returns.conftest import GOOD, SET_TOML


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A data folder whose returns database is set up with the test set and two people."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "set.toml").write_text(SET_TOML, encoding="utf-8")
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    yield tmp_path
    db.dispose()


def run(folder, *args) -> int:
    return main(["--data-dir", str(folder), "returns", *args])


def test_a_return_from_submission_to_export(folder, capsys):
    assert run(folder, "init", "--set", str(folder / "set.toml"), "--user", "admin") == 0
    out = capsys.readouterr().out
    assert "defined TEST-NET indicator set version 1: 2 indicators, 2 providers" in out
    assert f"sqlite:///{folder}/returns/returns.sqlite" in out
    assert run(folder, "grant", "--user", "rev", "--role", "reviewer") == 0
    assert run(folder, "grant", "--user", "sub", "--role", "submitter", "--org", "AAA") == 0
    assert capsys.readouterr().out == "rev is a reviewer\nsub is a submitter for AAA\n"

    assert run(folder, "submit", "--user", "sub", "--org", "AAA", "--month", "2024-04",
               str(folder / "good.csv")) == 0
    out = capsys.readouterr().out
    assert out.startswith("submitted version 1 of AAA's return for 2024-04 (id 1)")

    assert run(folder, "status", "--today", "2024-05-20", "--format", "csv") == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["org_code"], r["month"], r["state"]) for r in table] == [
        ("AAA", "2024-04-01", "submitted"), ("AAA", "2024-05-01", "not_due"),
        ("BBB", "2024-04-01", "late"), ("BBB", "2024-05-01", "not_due")]
    assert run(folder, "status", "--user", "sub", "--today", "2024-05-20", "--format",
               "json") == 0
    assert {r["org_code"] for r in json.loads(capsys.readouterr().out)} == {"AAA"}

    assert run(folder, "approve", "--user", "rev", "1", "--comment", "thanks") == 0
    assert capsys.readouterr().out == (
        "approved version 1 of AAA's return for 2024-04 (id 1)\n"
        "no store to publish into yet: the approved figures wait in the database\n")
    assert run(folder, "export", "--format", "csv", "--out", str(folder / "out.csv")) == 0
    assert capsys.readouterr().out == f"wrote 5 approved figures to {folder / 'out.csv'}\n"
    exported = list(csv.DictReader((folder / "out.csv").open(encoding="utf-8")))
    assert len(exported) == 5
    assert exported[0] == {"indicator": "pmh_seen", "org_code": "AAA", "month": "2024-04-01",
                           "dimension": "ethnicity", "group": "Black", "numerator": "4",
                           "denominator": "8", "version": "1",
                           "approved_at": exported[0]["approved_at"]}
    assert run(folder, "export", "--format", "json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 5


def test_refusals_and_usage_errors(folder, capsys):
    run(folder, "init", "--set", str(folder / "set.toml"), "--user", "admin")
    run(folder, "grant", "--user", "sub", "--role", "submitter", "--org", "AAA")
    capsys.readouterr()
    bad = folder / "bad.csv"
    bad.write_text(GOOD.replace("30,40", "50,40").replace("White", "Purple"), encoding="utf-8")
    assert run(folder, "submit", "--user", "sub", "--org", "AAA", "--month", "2024-04",
               str(bad)) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("equalities returns: refused: return refused: 2 problem(s)")
    assert err[1] == "  bad.csv:2: column 'numerator' value '50': larger than the denominator 40"
    assert err[2].startswith("  bad.csv:3: column 'group' value 'Purple': not a group")

    assert run(folder, "submit", "--user", "sub", "--org", "BBB", "--month", "2024-04",
               str(folder / "good.csv")) == 1
    assert "submits for AAA, not BBB" in capsys.readouterr().err
    assert run(folder, "submit", "--user", "sub", "--org", "AAA", "--month", "April",
               str(folder / "good.csv")) == 2
    assert capsys.readouterr().err == ("equalities returns: error: --month 'April': write "
                                       "the month as YYYY-MM, e.g. 2024-05\n")
    assert run(folder, "submit", "--user", "sub", "--org", "AAA", "--month", "2024-04",
               str(folder / "absent.csv")) == 2
    assert "cannot read" in capsys.readouterr().err
    assert run(folder, "approve", "--user", "sub", "1") == 1
    assert run(folder, "status", "--user", "nobody") == 1
    assert "not a known user" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        run(folder, "send-back", "--user", "rev", "1")  # --comment is required
    assert caught.value.code == 2

    broken = folder / "broken.toml"
    broken.write_text(SET_TOML.replace('unit = "%"', 'unit = "percent"'), encoding="utf-8")
    assert run(folder, "init", "--set", str(broken)) == 2
    err = capsys.readouterr().err
    assert f"{broken}:" in err and "field 'unit' value 'percent'" in err


def test_template_and_history(folder, capsys):
    run(folder, "init", "--set", str(folder / "set.toml"), "--user", "admin")
    run(folder, "grant", "--user", "sub", "--role", "submitter", "--org", "AAA")
    capsys.readouterr()
    assert run(folder, "template", "--org", "AAA", "--month", "2024-04", "--out",
               str(folder / "t.csv")) == 0
    assert "AAA,2024-04,readmitted,total,All,," in (folder / "t.csv").read_text()
    for _ in range(2):
        run(folder, "submit", "--user", "sub", "--org", "AAA", "--month", "2024-04",
            str(folder / "good.csv"))
    capsys.readouterr()
    assert run(folder, "history", "--user", "sub", "--org", "AAA", "--month", "2024-04",
               "--format", "json") == 0
    versions = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["superseded"], v["changes"]) for v in versions] == [
        (1, True, "first version: 10 figures (5 rows)"), (2, False, "no figures changed")]


def test_init_demo_without_a_store(folder, capsys):
    assert run(folder, "init", "--demo") == 0
    assert "seeded the demo network DEMO-NET: 6 providers, 5 indicators" in \
        capsys.readouterr().out
    assert run(folder, "status", "--today", "2025-04-10", "--format", "json") == 0
    states = [r["state"] for r in json.loads(capsys.readouterr().out)]
    assert states.count("approved") == 67 and states.count("late") == 1
