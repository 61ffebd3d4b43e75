"""A view is drawn the same way every time: nothing a reader sees (a legend's order, a menu's
order, the period chosen) follows the arbitrary order in which rows arrive."""

from __future__ import annotations

from datetime import date

import polars as pl

from components import figures
from metrics import cells, registry

KINDS = ("special_cause_neutral_low", "special_cause_concern", "common_cause",
         "special_cause_improvement")


def _spc_points(order: list[int]) -> pl.DataFrame:
    rows = [{"group": "All", "period": f"Q{i}", "value": 10.0 + i, "lower95": 9.0,
             "upper95": 12.0 + i, "mean": 11.0, "upl": 13.0, "lpl": 9.0,
             "point_type": KINDS[i % len(KINDS)], "special_cause_rule": "Above UCL"}
            for i in range(8)]
    return pl.DataFrame([rows[i] for i in order])


def test_the_special_cause_legend_is_in_one_order():
    metric = registry.get("pph_1500")
    names = []
    for order in (list(range(8)), list(reversed(range(8))), [3, 1, 4, 0, 5, 2, 7, 6]):
        fig = figures.trend(_spc_points(order), metric, title="t", source="s",
                            spc_group="All")
        names.append([t.name for t in fig.data if t.name.startswith("Special cause")])
    assert names[0] == names[1] == names[2] == [
        "Special cause: improvement", "Special cause: concern",
        "Special cause: neutral low"]


def test_tied_periods_come_in_one_order():
    """A financial year and the rolling year ending with it share their start and end."""
    rows = [("financial_year", "2024-25"), ("rolling_12_months", "12 months to Mar 2025"),
            ("financial_year", "2023-24")]
    frames = []
    for order in ((0, 1, 2), (1, 0, 2), (2, 1, 0)):
        frame = pl.DataFrame([{
            "metric": "pph_1500", "period_kind": rows[i][0], "period_label": rows[i][1],
            "period_start": date(2024 if "2025" in rows[i][1] else 2023, 4, 1),
            "period_end": date(2025 if "2025" in rows[i][1] else 2024, 3, 31)}
            for i in order])
        frames.append(cells.periods(frame, metric="pph_1500")["period_label"].to_list())
    assert frames[0] == frames[1] == frames[2] == [
        "2023-24", "2024-25", "12 months to Mar 2025"]
