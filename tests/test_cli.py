"""The ``equalities`` command, run in-process on the demo store."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest

import cli
from data import queries
from metrics import gap_trend, registry, stats
from metrics.categories import DIMENSIONS

REQUIRED = ("metric,org_code,period,dimension,group,numerator,denominator,suppressed,value,"
            "lower95,upper95,lower998,upper998,ratio,ratio_lower95,ratio_upper95,difference,"
            "difference_lower95,difference_upper95,vs_england").split(",")
NUMERIC = ("numerator", "denominator", "value", "lower95", "upper95", "lower998", "upper998",
           "ratio", "ratio_lower95", "ratio_upper95", "difference", "difference_lower95",
           "difference_upper95", "england_value")


@pytest.fixture
def run(demo_root, monkeypatch, capsys):
    """``run(*argv) -> (exit code, stdout, stderr)`` against the demo store."""
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(demo_root))

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture(scope="module")
def story(demo) -> dict[str, str]:
    return {s: code for code, stories in demo.manifest["stories"].items() for s in stories}


def _csv(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _json(text: str) -> list[dict]:
    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    data = json.loads(text, parse_constant=reject)
    assert isinstance(data, list)
    return data


def _latest(metric_id: str, kind: str = "financial_year") -> str:
    return queries.periods(metric_id, kind)[-1]


# -- compute: breakdown ----------------------------------------------------------------------


def test_breakdown_csv_columns_and_values(run, story):
    code, out, err = run("compute", "--metric", "pph_1500", "--org", story["pph_gap_closes"],
                         "--period", "2021-22", "--dimension", "ethnicity")
    assert code == 0, err
    columns, rows = _csv(out)
    assert columns[:len(REQUIRED)] == REQUIRED
    assert [r["group"] for r in rows] == list(DIMENSIONS["ethnicity"].all_groups)
    frame = queries.breakdown("pph_1500", story["pph_gap_closes"], "2021-22", "ethnicity")
    for row, expected in zip(rows, frame.iter_rows(named=True), strict=True):
        assert row["suppressed"] in ("true", "false")
        if expected["value"] is not None:
            # value in the metric's display unit (per 1,000) with its CI
            assert float(row["value"]) == pytest.approx(expected["value"])
            assert float(row["lower95"]) == pytest.approx(expected["lower95"])
            assert row["vs_england"] == expected["vs_comparator"]
            assert row["unit"] == "per 1,000"
    white = next(r for r in rows if r["group"] == "White")
    assert float(white["ratio"]) == 1.0


def test_suppressed_rows_have_empty_figures(run, story):
    code, out, _ = run("compute", "--metric", "pph_1500", "--org", story["very_small_unit"],
                       "--period", _latest("pph_1500"), "--dimension", "all")
    assert code == 0
    _, rows = _csv(out)
    suppressed = [r for r in rows if r["suppressed"] == "true"]
    assert suppressed, "the very small unit has suppressed PPH cells"
    for row in suppressed:
        assert row["status"] == "suppressed"
        assert all(row[c] == "" for c in NUMERIC), row
        assert row["vs_england"] == ""
    for row in rows:
        if row["numerator"]:
            number = int(row["numerator"])
            assert number % 5 == 0 and not 1 <= number <= 7


def test_breakdown_of_a_share_is_a_percentage(run, story):
    code, out, _ = run("compute", "--metric", "booked_by_10_weeks", "--org",
                       story["pph_outlier"], "--period", _latest("booked_by_10_weeks"),
                       "--format", "json")
    assert code == 0
    (row,) = _json(out)
    assert row["dimension"] == "total" and row["unit"] == "%"
    assert row["value"] == pytest.approx(100 * row["numerator"] / row["denominator"])
    assert 0 < row["lower95"] < row["value"] < row["upper95"] < 100


def test_dimension_alias_and_all(run, story):
    org = story["pph_outlier"]
    args = ("compute", "--metric", "preterm", "--org", org, "--period", _latest("preterm"))
    _, decile, _ = run(*args, "--dimension", "deprivation_decile")
    _, alias, _ = run(*args, "--dimension", "deprivation")
    assert decile == alias and decile.count("\n") == 1 + 11
    code, out, _ = run(*args, "--dimension", "all", "--format", "json")
    assert code == 0
    records = _json(out)
    dims = list(dict.fromkeys(r["dimension"] for r in records))
    assert dims == list(registry.get("preterm").dimensions_at("trust"))
    assert len(records) == sum(len(DIMENSIONS[d].all_groups) for d in dims)


def test_json_matches_csv_and_has_no_nan(run):
    args = ("compute", "--metric", "stillbirth", "--org", "ENG", "--period", "2023",
            "--dimension", "ethnicity")
    _, out_csv, _ = run(*args)
    code, out_json, _ = run(*args, "--format", "json")
    assert code == 0
    _, rows = _csv(out_csv)
    records = _json(out_json)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert set(REQUIRED) <= set(record)
        for column in ("numerator", "value", "upper998"):
            assert (row[column] == "") == (record[column] is None)
            if record[column] is not None:
                assert float(row[column]) == pytest.approx(record[column])
        # England is its own comparator: nothing to compare with
        assert record["vs_england"] is None


# -- compute: the other measures -------------------------------------------------------------


def test_inequality(run):
    code, out, err = run("compute", "--metric", "booked_by_10_weeks", "--org", "ENG",
                         "--period", _latest("booked_by_10_weeks"), "--dimension", "all",
                         "--measure", "inequality", "--format", "json")
    assert code == 0, err
    records = _json(out)
    assert [r["dimension"] for r in records] == ["deprivation_decile", "deprivation_quintile"]
    for record in records:
        assert record["available"] is True
        assert record["sii_lower95"] <= record["sii"] <= record["sii_upper95"]
        assert record["rii_lower95"] <= record["rii"] <= record["rii_upper95"]
        assert record["sii_lower95"] > 0  # booking by 10 weeks is lower in deprived areas
    code, out, _ = run("compute", "--metric", "pph_1500", "--org", "ENG", "--period", "2021-22",
                       "--dimension", "deprivation_quintile", "--measure", "inequality")
    columns, rows = _csv(out)
    assert {"sii", "sii_lower95", "sii_upper95", "rii", "rii_lower95", "rii_upper95"} <= \
        set(columns)
    assert rows[0]["available"] == "true"


def test_inequality_needs_deprivation(run):
    code, out, err = run("compute", "--metric", "pph_1500", "--org", "ENG", "--period",
                         "2021-22", "--dimension", "ethnicity", "--measure", "inequality")
    assert code == cli.EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and "deprivation_decile" in err


def test_inequality_not_available_says_why(run, story):
    code, out, _ = run("compute", "--metric", "pph_1500", "--org", story["very_small_unit"],
                       "--period", "2021-22", "--dimension", "deprivation_decile",
                       "--measure", "inequality", "--format", "json")
    assert code == 0
    (record,) = _json(out)
    assert record["available"] is False and record["sii"] is None and record["reason"]


def test_trend_defaults_to_quarters_with_spc(run, story):
    code, out, err = run("compute", "--metric", "pph_1500", "--org", story["pph_outlier"],
                         "--dimension", "total", "--measure", "trend")
    assert code == 0, err
    columns, rows = _csv(out)
    assert {"period", "value", "lower95", "upper95", "mean", "lpl", "upl",
            "special_cause_rule", "point_type"} <= set(columns)
    assert len(rows) == len(queries.periods("pph_1500", "quarter")) >= 12
    assert {r["period_kind"] for r in rows} == {"quarter"}
    assert all(r["mean"] and r["lpl"] and r["upl"] for r in rows)
    assert float(rows[0]["lpl"]) <= float(rows[0]["mean"]) <= float(rows[0]["upl"])


def test_trend_period_kind(run, story):
    code, out, _ = run("compute", "--metric", "pph_1500", "--org", story["pph_outlier"],
                       "--measure", "trend", "--period-kind", "financial_year", "--format",
                       "json")
    assert code == 0
    records = _json(out)
    assert [r["period"] for r in records] == queries.periods("pph_1500", "financial_year")
    assert all(r["mean"] is None for r in records)  # 5 years: too few points for SPC
    # MBRRACE publishes calendar years only: that is the default for stillbirths
    code, out, _ = run("compute", "--metric", "stillbirth", "--org", "ENG", "--measure", "trend")
    assert code == 0
    assert {r["period_kind"] for r in _csv(out)[1]} == {"calendar_year"}
    code, _, err = run("compute", "--metric", "stillbirth", "--org", "ENG", "--measure",
                       "trend", "--period-kind", "quarter")
    assert code == cli.EXIT_USAGE and "calendar_year" in err


def test_benchmark_lists_every_trust(run, demo, story):
    outlier = story["pph_outlier"]
    code, out, err = run("compute", "--metric", "pph_1500", "--org", outlier, "--period",
                         _latest("pph_1500"), "--measure", "benchmark")
    assert code == 0, err
    _, rows = _csv(out)
    trusts = demo.organisations.filter(pl.col("org_level") == "trust")
    assert 0.9 * trusts.height <= len(rows) <= trusts.height
    assert [r["org_code"] for r in rows if r["highlight"] == "true"] == [outlier]
    labels = {r["funnel"] for r in rows if r["funnel"]}
    assert labels <= set(stats.SIGNIFICANCE_LABELS)
    mine = next(r for r in rows if r["org_code"] == outlier)
    assert mine["funnel"] == "High (0.001)"
    for row in rows:
        if row["suppressed"] == "true":
            assert row["value"] == "" and row["funnel"] == ""
    # the organisation is optional for a benchmark
    code, out, _ = run("compute", "--metric", "pph_1500", "--period", _latest("pph_1500"),
                       "--measure", "benchmark", "--dimension", "ethnicity", "--format", "json")
    assert code == 0
    records = _json(out)
    assert {r["group"] for r in records} == set(DIMENSIONS["ethnicity"].groups)
    assert not any(r["highlight"] for r in records)


def test_benchmark_with_overdispersion_adds_adjusted_labels(run, story):
    argv = ("compute", "--metric", "pph_1500", "--period", _latest("pph_1500"), "--measure",
            "benchmark")
    code, out, _ = run(*argv)
    assert code == 0
    plain_columns, plain = _csv(out)
    assert "funnel_adjusted" not in plain_columns  # the default output is unchanged
    code, out, err = run(*argv, "--overdispersion", "tau2")
    assert code == 0, err
    columns, rows = _csv(out)
    assert columns == [*plain_columns, *cli.OVERDISPERSION_OUTPUT]
    assert [r["funnel"] for r in rows] == [r["funnel"] for r in plain]  # PHE labels kept
    assert {r["overdispersion"] for r in rows} == {"tau2"}
    assert len({(r["phi"], r["tau2"]) for r in rows}) == 1 and float(rows[0]["phi"]) > 1
    outside = [label for label in stats.SIGNIFICANCE_LABELS if label != "Not significant"]
    adjusted = sum(r["funnel_adjusted"] in outside for r in rows)
    assert 0 < adjusted < sum(r["funnel"] in outside for r in rows)
    mine = next(r for r in rows if r["org_code"] == story["pph_outlier"])
    assert mine["funnel_adjusted"] == "High (0.001)"
    for row in rows:
        if row["suppressed"] == "true":
            assert row["funnel_adjusted"] == ""
    code, _, err = run("compute", "--metric", "pph_1500", "--org", "ENG", "--measure",
                       "trend", "--overdispersion", "phi")
    assert code == cli.EXIT_USAGE and "--measure benchmark" in err


def test_gap_trend_series_and_test(run, story):
    code, out, err = run("compute", "--measure", "gap-trend", "--metric", "pph_1500", "--org",
                         "ENG", "--dim", "deprivation_quintile", "--format", "json")
    assert code == 0, err
    records = _json(out)
    assert set(records[0]) == set(cli.GAP_TREND_OUTPUT)
    quarters = queries.periods("pph_1500", "quarter")
    groups = {r["group"] for r in records}
    assert groups == {gap_trend.INDEX_GROUP, *DIMENSIONS["deprivation_quintile"].groups[:-1]}
    assert len(records) == len(groups) * len(quarters)
    assert {r["period_kind"] for r in records} == {"quarter"}
    assert all(r["trend_verdict"] in gap_trend.VERDICTS for r in records)
    # the gaps are the breakdown's, period by period
    period = quarters[-1]
    frame = queries.breakdown("pph_1500", "ENG", period, "deprivation_quintile", "none")
    q1 = next(r for r in records if r["group"] == "Q1 (most deprived)" and r["period"] == period)
    expected = frame.filter(pl.col("group") == "Q1 (most deprived)").row(0, named=True)
    for column in ("ratio", "ratio_lower95", "ratio_upper95", "difference"):
        assert q1[column] == pytest.approx(expected[column], rel=1e-9)
    index = next(r for r in records if r["group"] == gap_trend.INDEX_GROUP
                 and r["period"] == period)
    assert index["ratio"] == pytest.approx(queries.inequality(
        "pph_1500", "ENG", period, "deprivation_quintile")["rii"], rel=1e-9)
    # one test per group, repeated on each of its rows
    for group in groups:
        assert len({(r["trend_slope"], r["trend_verdict"]) for r in records
                    if r["group"] == group}) == 1

    # yearly, for the trust whose Black-White gap was planted to close
    code, out, err = run("compute", "--measure", "gap-trend", "--metric", "pph_1500", "--org",
                         story["pph_gap_closes"], "--dimension", "ethnicity", "--period-kind",
                         "financial_year")
    assert code == 0, err
    columns, rows = _csv(out)
    assert columns == list(cli.GAP_TREND_OUTPUT)
    black = [r for r in rows if r["group"] == "Black"]
    assert [r["period"] for r in black] == queries.periods("pph_1500", "financial_year")
    assert float(black[0]["trend_slope"]) < 0
    assert {r["group"] for r in rows} == set(DIMENSIONS["ethnicity"].groups) - {"White"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), ["reference group", "ethnicity", "deprivation_quintile"]),
        (("--dimension", "ethnicity", "--period-kind", "rolling_12_months"),
         ["do not overlap", "quarter"]),
    ],
)
def test_gap_trend_needs_a_reference_group_and_separate_periods(run, extra, expected):
    code, out, err = run("compute", "--measure", "gap-trend", "--metric", "pph_1500", "--org",
                         "ENG", *extra)
    assert code == cli.EXIT_USAGE and out == ""
    assert err.startswith("equalities: error: ") and err.count("\n") == 1, err
    for word in expected:
        assert word in err


# -- compute: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"--metric": "pph"}, ["pph_1500", "stillbirth"]),
        ({"--org": "NOPE1"}, ["NOPE1", "equalities list-orgs"]),
        ({"--period": "2099-00"}, ["2021-22", "2024-25", "12 months to Mar 2025"]),
        ({"--dimension": "sex"}, ["ethnicity", "deprivation_decile", "all"]),
        ({"--dimension": "ethnicity", "--metric": "stillbirth", "--period": "2023"},
         ["total", "all"]),
        ({"--metric": "maternal_death"}, ["not published", "england"]),
    ],
)
def test_bad_compute_arguments_exit_2_with_choices(run, story, change, expected):
    argv = {"--metric": "pph_1500", "--org": story["pph_outlier"], "--period": "2021-22",
            "--dimension": "total"} | change
    code, out, err = run("compute", *[x for item in argv.items() for x in item])
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err.startswith("equalities: error: ") and err.count("\n") == 1, err
    for word in expected:
        assert word in err


def test_missing_org_or_period(run):
    code, _, err = run("compute", "--metric", "pph_1500", "--period", "2021-22")
    assert code == cli.EXIT_USAGE and "list-orgs" in err
    code, _, err = run("compute", "--metric", "pph_1500", "--org", "ENG")
    assert code == cli.EXIT_USAGE and "list-periods" in err


def test_bad_option_value_exits_non_zero(run):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["compute", "--metric", "pph_1500", "--org", "ENG", "--period", "2021-22",
                  "--measure", "median"])
    assert exit_info.value.code != 0
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code != 0


def test_data_dir_option_is_used_and_environment_restored(demo_root, monkeypatch, capsys,
                                                          tmp_path):
    import os

    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(tmp_path / "empty"))
    code = cli.main(["--data-dir", str(demo_root), "compute", "--metric", "pph_1500", "--org",
                     "ENG", "--period", "2021-22"])
    assert code == 0
    assert capsys.readouterr().out.startswith(",".join(REQUIRED))
    assert os.environ["EQUALITIES_DATA_DIR"] == str(tmp_path / "empty")
    assert cli.main(["compute", "--metric", "pph_1500", "--org", "ENG", "--period",
                     "2021-22"]) == 1  # no store there: a clear error, not a traceback
    assert "build-demo" in capsys.readouterr().err


def test_formula_injection_is_neutralised(capsys):
    assert cli._safe_text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert cli._safe_text("+1") == "'+1" and cli._safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert cli._safe_text("12 months to Mar 2025") == "12 months to Mar 2025"
    cli._write_records([{"name": "=1+1", "value": -2.5, "flag": True, "gap": float("nan")}],
                       ["name", "value", "flag", "gap"], "csv")
    assert capsys.readouterr().out.splitlines()[1] == "'=1+1,-2.5,true,"
    cli._write_records([{"name": "=1+1", "gap": float("nan")}], ["name", "gap"], "json")
    assert _json(capsys.readouterr().out) == [{"name": "=1+1", "gap": None}]


# -- the other commands ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_info(run, fmt):
    code, out, _ = run("info", "--format", fmt)
    assert code == 0
    record = _json(out)[0] if fmt == "json" else _csv(out)[1][0]
    assert str(record["synthetic"]).lower() == "true"
    assert int(record["metrics"]) == len(registry.METRICS_LIST)


def test_info_text(run):
    code, out, _ = run("info")
    assert code == 0 and "synthetic" in out and "organisations" in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_list_metrics(run, fmt):
    code, out, _ = run("list-metrics", "--format", fmt)
    assert code == 0
    records = _json(out) if fmt == "json" else _csv(out)[1]
    assert [r["id"] for r in records] == [m.id for m in registry.METRICS_LIST]
    assert {r["unit"] for r in records} >= {"%", "per 1,000"}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_list_orgs(run, demo, fmt):
    code, out, _ = run("list-orgs", "--level", "trust", "--format", fmt)
    assert code == 0
    records = _json(out) if fmt == "json" else _csv(out)[1]
    trusts = demo.organisations.filter(pl.col("org_level") == "trust")
    assert sorted(r["org_code"] for r in records) == sorted(trusts["org_code"].to_list())
    assert {r["org_level"] for r in records} == {"trust"}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_list_periods(run, fmt):
    code, out, _ = run("list-periods", "--metric", "pph_1500", "--format", fmt)
    assert code == 0
    records = _json(out) if fmt == "json" else _csv(out)[1]
    labels = {r["period_label"] for r in records}
    for kind in registry.get("pph_1500").period_kinds:
        assert set(queries.periods("pph_1500", kind)) <= labels
    code, _, err = run("list-periods", "--metric", "nope")
    assert code == cli.EXIT_USAGE and "pph_1500" in err


def test_production_serving_refuses_debug(capsys):
    assert cli.main(["serve", "--prod", "--debug"]) == 2
    assert "--debug" in capsys.readouterr().err


class _Exec(Exception):
    """Raised instead of replacing the test process with gunicorn."""


def test_production_serving_runs_gunicorn_with_its_bounds(demo_root, monkeypatch, capsys):
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(demo_root))
    monkeypatch.setenv("EQUALITIES_INTERNAL_TOKEN", "fixed")  # serve sets it when absent

    def execv(path: str, argv: list[str]):
        raise _Exec(argv)

    monkeypatch.setattr(cli.os, "execv", execv)
    for host, warned in (("127.0.0.1", False), ("0.0.0.0", True)):
        with pytest.raises(_Exec) as caught:
            cli.main(["serve", "--prod", "--host", host, "--port", "8123"])
        argv = caught.value.args[0]
        assert argv[1:] == [*cli.GUNICORN_SETTINGS, "--workers", "2", "--threads", "4",
                            "--bind", f"{host}:8123", "app:server"]
        assert ("docs/nginx.conf" in capsys.readouterr().err) is warned
    settings = dict(zip(cli.GUNICORN_SETTINGS[::2], cli.GUNICORN_SETTINGS[1::2], strict=True))
    assert settings["--worker-class"] == "gthread" and int(settings["--keep-alive"]) <= 5
    assert int(settings["--limit-request-line"]) <= 8190


def test_hash_password_reads_one_bounded_line(monkeypatch, capsys):
    """Standard input is read no further than a password can be (it may be /dev/zero)."""
    endless = io.StringIO("x" * (cli.MAX_PASSWORD_CHARS * 100))
    monkeypatch.setattr("sys.stdin", endless)
    assert cli.main(["hash-password"]) == cli.EXIT_USAGE
    assert "longer than 1,024 characters" in capsys.readouterr().err
    assert endless.tell() <= cli.MAX_PASSWORD_CHARS + 2
