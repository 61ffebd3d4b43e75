"""What changed: gaps that opened or closed, SPC signals at the latest point, and ranking."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from metrics import changes, trend
from metrics.breakdown import breakdown
from metrics.categories import ETHNICITY, QUINTILE, TOTAL
from metrics.registry import METRICS
from metrics.spc import spc

PPH = METRICS["pph_1500"]  # lower is better
SVD = METRICS["spontaneous_vaginal"]  # no right level


def gaps(period: str, rows: dict[str, tuple | None], dimension: str = ETHNICITY):
    """Breakdown-shaped frame: group -> (ratio, lower, upper) or None (no CI)."""
    data = []
    for group, ci in rows.items():
        ratio, lower, upper = ci or (None, None, None)
        significant = None if lower is None else (lower > 1 or upper < 1)
        data.append({"dimension": dimension, "group": group, "period": period,
                     "ratio": ratio, "ratio_lower95": lower, "ratio_upper95": upper,
                     "gap_significant": significant})
    return pl.DataFrame(data, schema={"dimension": pl.String, "group": pl.String,
                                      "period": pl.String, "ratio": pl.Float64,
                                      "ratio_lower95": pl.Float64, "ratio_upper95": pl.Float64,
                                      "gap_significant": pl.Boolean})


PREVIOUS = gaps("12 months to Mar 2024", {
    "White": None, "Mixed": (1.2, 0.8, 1.7), "Asian": (1.1, 0.9, 1.3),
    "Black": (1.5, 1.2, 1.9), "Other": (1.3, 1.1, 1.5), "Not known": (1.4, 1.1, 1.8),
})
LATEST = gaps("12 months to Mar 2025", {
    "White": None,
    "Mixed": None,  # suppressed now: says nothing
    "Asian": (1.4, 1.2, 1.6),  # became significant: opened
    "Black": (1.1, 0.9, 1.35),  # no longer significant: closed
    "Other": (1.2, 1.05, 1.4),  # significant both times: no change
    "Not known": (1.0, 0.8, 1.2),  # unknown category: left out
})


def test_gaps_that_opened_and_closed():
    found = changes.gap_changes(metric=PPH, latest=LATEST, previous=PREVIOUS,
                                period_kind="rolling_12_months")
    rows = {r["group"]: r for r in found.iter_rows(named=True)}
    assert set(rows) == {"Asian", "Black"}
    asian, black = rows["Asian"], rows["Black"]
    assert asian["kind"] == "gap_opened" and black["kind"] == "gap_closed"
    # Above 1 for a lower-is-better outcome: worse (latest side for opened, previous for
    # closed).
    assert asian["direction"] == "worse" and black["direction"] == "worse"
    assert asian["size"] == pytest.approx(abs(math.log(1.4) - math.log(1.1)))  # 0.241
    assert black["size"] == pytest.approx(abs(math.log(1.1) - math.log(1.5)))  # 0.310
    assert (asian["period"], asian["previous_period"]) == ("12 months to Mar 2025",
                                                           "12 months to Mar 2024")
    assert asian["previous_ratio"] == 1.1 and asian["period_kind"] == "rolling_12_months"
    assert set(found.columns) == set(changes.CHANGE_COLUMNS)


def test_gap_direction_without_a_right_level():
    latest = gaps("p2", {"White": None, "Black": (0.8, 0.7, 0.9)})
    previous = gaps("p1", {"White": None, "Black": (0.95, 0.85, 1.05)})
    found = changes.gap_changes(metric=SVD, latest=latest, previous=previous)
    assert found["direction"].to_list() == ["lower"]


def test_gap_changes_refuse_mismatched_frames():
    with pytest.raises(ValueError, match="same dimension"):
        changes.gap_changes(metric=PPH, latest=LATEST,
                            previous=gaps("p", {"Q2": (1.2, 1.1, 1.3)}, QUINTILE))
    with pytest.raises(ValueError, match="lacks breakdown columns"):
        changes.gap_changes(metric=PPH, latest=LATEST.drop("ratio"), previous=PREVIOUS)


def points(rows: list[tuple]) -> pl.DataFrame:
    """Trend-shaped points: (group, quarter index, value, mean, upl, rule, point type)."""
    return pl.DataFrame(
        [{"group": g, "period": f"Q{q}", "period_start": date(2020 + q // 4, 3 * (q % 4) + 1, 1),
          "value": v, "mean": m, "lpl": None if m is None else 2 * m - u, "upl": u,
          "special_cause_rule": r, "point_type": t} for g, q, v, m, u, r, t in rows],
        schema_overrides={"value": pl.Float64, "mean": pl.Float64, "lpl": pl.Float64,
                          "upl": pl.Float64})


def test_signals_at_the_latest_point_only():
    frame = points([
        ("White", 11, 30.0, 30.0, 36.0, "Common Cause", "common_cause"),
        ("White", 12, 40.0, 30.0, 36.0, "Above UCL", "special_cause_concern"),
        ("Asian", 11, 20.0, 30.0, 36.0, "Below LCL", "special_cause_improvement"),  # earlier
        ("Asian", 12, 29.0, 30.0, 36.0, "Common Cause", "common_cause"),
        ("Black", 12, None, None, None, None, None),  # suppressed: no point
        ("Other", 12, 31.0, 30.0, 30.0, "Above UCL", "special_cause_concern"),  # no width
        ("Not known", 12, 50.0, 30.0, 36.0, "Above UCL", "special_cause_concern"),
    ])
    found = changes.spc_signals(metric=PPH, points=frame, dimension=ETHNICITY,
                                period_kind="quarter")
    assert found["group"].to_list() == ["White"]
    white = found.row(0, named=True)
    # sigma = (upl - mean) / 3 = 2; the point is (40 - 30) / 2 = 5 sigma from the mean.
    assert white["size"] == pytest.approx(5.0)
    assert (white["kind"], white["rule"], white["direction"], white["period"]) == (
        "spc_signal", "Above UCL", "worse", "Q12")


def chart_points(values: list[float]) -> pl.DataFrame:
    """Trend-shaped points from a real XmR chart of ``values`` (one quarter each)."""
    chart = spc(values, improvement="decrease").points
    return chart.select("value", "mean", "lpl", "upl", "special_cause_rule",
                        "point_type").with_columns(
        group=pl.lit("All"), period=pl.Series([f"Q{i}" for i in range(len(values))]),
        period_start=pl.Series([date(2020 + i // 4, 3 * (i % 4) + 1, 1)
                                for i in range(len(values))]))


def test_signal_from_a_real_chart():
    steady = [30.0, 31, 29, 30, 32, 28, 30, 31, 29, 30, 31, 29, 30]
    found = changes.spc_signals(metric=PPH, points=chart_points(steady + [45]),
                                dimension=TOTAL)
    assert found.height == 1
    assert (found["rule"][0], found["direction"][0]) == ("Above UCL", "worse")
    assert changes.spc_signals(metric=PPH, points=chart_points(steady),
                               dimension=TOTAL).is_empty()


def change(kind, metric, size, direction="worse", rule=None, group="Black"):
    return pl.DataFrame([{"kind": kind, "metric": metric, "dimension": ETHNICITY,
                          "group": group, "direction": direction, "rule": rule,
                          "size": size}], schema_overrides=changes.SCHEMA).select(
        [pl.col(c) if c in ("kind", "metric", "dimension", "group", "direction", "rule",
                            "size") else pl.lit(None, changes.SCHEMA[c]).alias(c)
         for c in changes.CHANGE_COLUMNS])


def test_ranking():
    parts = [
        change("spc_signal", "booked_by_10_weeks", 9.0, "better", "Above UCL", "All"),
        change("spc_signal", "pph_1500", 2.0, "worse", "7 Points Above CL", "All"),
        change("spc_signal", "pph_1500", 1.0, "worse", "Above UCL", "Asian"),
        change("spc_signal", "caesarean_planned", 20.0, "higher", "Above UCL", "All"),
        change("gap_opened", "preterm", 0.1),
        change("gap_closed", "preterm", 0.4, group="Asian"),
        change("gap_opened", "preterm", 0.3, group="Mixed"),
        change("gap_opened", "instrumental", 0.9, "higher"),
        change("gap_closed", "stillbirth", 0.2),
    ]
    ranked = changes.rank_changes(parts)
    got = list(zip(ranked["metric"], ranked["group"], strict=True))
    # Full order: gaps (judged by size: preterm Asian 0.4, preterm Mixed 0.3, stillbirth
    # 0.2, preterm Black 0.1; then instrumental, not judged), then signals (judged:
    # outside the limits first - booked 9.0, pph Asian 1.0 - then pph's shift; then the
    # neutral caesarean). First pass, one per metric and at most 3 gaps: preterm Asian,
    # stillbirth, instrumental, booked, pph Asian. The list is then full.
    assert got == [("preterm", "Asian"), ("stillbirth", "Black"), ("instrumental", "Black"),
                   ("booked_by_10_weeks", "All"), ("pph_1500", "Asian")]
    assert ranked["rank"].to_list() == [1, 2, 3, 4, 5]
    # With room for more, a metric may take a second place, never a third.
    wide = changes.rank_changes(parts, limit=9)
    assert wide["metric"].to_list().count("preterm") == 2
    assert wide["metric"].to_list().count("pph_1500") == 2
    assert wide.height == 8


def test_ranking_edges():
    assert changes.rank_changes([]).is_empty()
    assert "rank" in changes.rank_changes([changes.empty()]).columns
    with pytest.raises(ValueError, match="at least 1"):
        changes.rank_changes([], limit=0)
    assert trend.spc_period_kind(("rolling_12_months", "quarter")) == "quarter"
    assert trend.spc_period_kind(("rolling_3_years",)) is None


def test_the_planted_pph_story_is_a_closing_gap(demo, stories):
    # The story trust's Black-White PPH gap closes after its intervention (October 2022):
    # comparing the 12 months to June 2023 with a year earlier finds it closed.
    org = stories["pph_gap_closes"]
    frames = [breakdown(demo.counts, metric=PPH, org_code=org, period_label=label,
                        dimension=ETHNICITY)
              for label in ("12 months to Jun 2023", "12 months to Jun 2022")]
    found = changes.gap_changes(metric=PPH, latest=frames[0], previous=frames[1])
    black = found.filter(pl.col("group") == "Black").row(0, named=True)
    assert black["kind"] == "gap_closed" and black["direction"] == "worse"
    assert black["previous_ratio"] > 2 > black["ratio"]
