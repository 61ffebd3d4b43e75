"""Excess events over the reference group's rate: hand-computed cases, suppression, and
invariants; and how the numbers are put into words."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import format as fmt
from metrics import excess
from metrics.breakdown import breakdown
from metrics.categories import DIMENSIONS, ETHNICITY, QUINTILE, TOTAL
from metrics.registry import METRICS

PPH = METRICS["pph_1500"]  # rate per 1,000, lower is better
BOOKED = METRICS["booked_by_10_weeks"]  # share, higher is better
SVD = METRICS["spontaneous_vaginal"]  # share, no right level
Z = 1.959963984540054


def frame(rows: dict[str, tuple[float | None, float | None, str]],
          dimension: str = ETHNICITY) -> pl.DataFrame:
    """A breakdown-shaped frame: group -> (events, denominator, status)."""
    dim = DIMENSIONS[dimension]
    return pl.DataFrame(
        {"dimension": [dimension] * len(rows), "group": list(rows),
         "group_order": [dim.order(g) for g in rows],
         "is_reference": [g == dim.reference for g in rows],
         "events": [r[0] for r in rows.values()],
         "denominator": [r[1] for r in rows.values()],
         "status": [r[2] for r in rows.values()]},
        schema={"dimension": pl.String, "group": pl.String, "group_order": pl.Int16,
                "is_reference": pl.Boolean, "events": pl.Float64, "denominator": pl.Int64,
                "status": pl.String},
    )


RATES = {
    "White": (100, 10_000, "ok"),  # r_ref = 0.01
    "Mixed": (10, 1_000, "ok"),
    "Asian": (20, 4_000, "ok"),
    "Black": (60, 3_000, "ok"),
    "Other": (15, 2_000, "ok"),
    "Not known": (5, 500, "ok"),
}


def by_group(result: pl.DataFrame) -> dict[str, dict]:
    return {row["group"]: row for row in result.iter_rows(named=True)}


def test_rates_by_hand():
    rows = by_group(excess.excess_events(frame(RATES), metric=PPH))
    # Black: expected 3,000 x 100/10,000 = 30, excess 60 - 30 = 30.
    # Var = O_i + D_i^2 O_ref / D_ref^2 = 60 + 3,000^2 x 100 / 10,000^2 = 60 + 9 = 69.
    black = rows["Black"]
    assert black["expected"] == pytest.approx(30)
    assert black["excess"] == pytest.approx(30)
    assert black["excess_lower95"] == pytest.approx(30 - Z * math.sqrt(69))  # 13.72
    assert black["excess_upper95"] == pytest.approx(30 + Z * math.sqrt(69))  # 46.28
    assert black["significant"] is True
    # Asian does better: expected 40, excess 20 - 40 = -20; Var = 20 + 16 = 36, SE 6.
    asian = rows["Asian"]
    assert asian["excess"] == pytest.approx(-20)
    assert (asian["excess_lower95"], asian["excess_upper95"]) == pytest.approx(
        (-20 - 6 * Z, -20 + 6 * Z))  # -31.76 to -8.24: reported, not hidden
    # Mixed exactly at the reference rate: excess 0, Var = 10 + 1 = 11.
    assert rows["Mixed"]["excess"] == pytest.approx(0)
    assert rows["Mixed"]["excess_upper95"] == pytest.approx(Z * math.sqrt(11))
    assert rows["Mixed"]["significant"] is False
    # The reference row: 0 by definition, with no width.
    white = rows["White"]
    assert (white["status"], white["excess"], white["excess_lower95"],
            white["excess_upper95"]) == ("reference", 0.0, 0.0, 0.0)
    assert rows["Not known"]["known"] is False and rows["White"]["known"] is True


def test_total_by_hand():
    total = excess.total_excess(frame(RATES), metric=PPH)
    # Known non-reference groups only (Not known left out): O_S = 10 + 20 + 60 + 15 = 105,
    # D_S = 1,000 + 4,000 + 3,000 + 2,000 = 10,000; expected 10,000 x 0.01 = 100; excess 5
    # (= 0 - 20 + 30 - 5, the sum of the groups' excesses).
    # Var = O_S + D_S^2 O_ref / D_ref^2 = 105 + 100 = 205.
    assert total["available"] is True
    assert total["groups"] == ("Mixed", "Asian", "Black", "Other")
    assert total["observed"] == 105 and total["expected"] == pytest.approx(100)
    assert total["excess"] == pytest.approx(5)
    assert (total["excess_lower95"], total["excess_upper95"]) == pytest.approx(
        (5 - Z * math.sqrt(205), 5 + Z * math.sqrt(205)))  # -23.06 to 33.06
    assert total["significant"] is False


def test_shares_use_newcombe_times_the_group_size():
    rows = by_group(excess.excess_events(
        frame({"White": (700, 1000, "ok"), "Black": (300, 500, "ok")}), metric=BOOKED))
    # Expected 500 x 0.7 = 350 booked; excess 300 - 350 = -50 (50 more women would have
    # been booked at the White rate). CI = 500 x Newcombe hybrid score interval of
    # 0.6 - 0.7, from the Wilson limits l1, u1 = 0.55645, 0.64202 (300/500) and
    # l2, u2 = 0.67088, 0.72759 (700/1000):
    # L = -0.1 - sqrt((0.6 - l1)^2 + (u2 - 0.7)^2) = -0.151552 -> -75.78
    # U = -0.1 + sqrt((u1 - 0.6)^2 + (0.7 - l2)^2) = -0.048873 -> -24.44
    black = rows["Black"]
    assert black["expected"] == pytest.approx(350)
    assert black["excess"] == pytest.approx(-50)
    assert black["excess_lower95"] == pytest.approx(-75.776, abs=1e-3)
    assert black["excess_upper95"] == pytest.approx(-24.437, abs=1e-3)


def test_suppressed_group_has_no_excess_and_blocks_the_total():
    rows = dict(RATES) | {"Mixed": (None, None, "suppressed")}
    result = by_group(excess.excess_events(frame(rows), metric=PPH))
    assert result["Mixed"]["status"] == "suppressed"
    assert result["Mixed"]["excess"] is None and result["Mixed"]["expected"] is None
    assert result["Black"]["excess"] == pytest.approx(30)  # other groups are unaffected
    total = excess.total_excess(frame(rows), metric=PPH)
    assert total["available"] is False and "Mixed" in total["reason"]
    # An unknown group's suppression does not block the total (it is not part of it).
    rows = dict(RATES) | {"Not known": (None, None, "suppressed")}
    assert excess.total_excess(frame(rows), metric=PPH)["excess"] == pytest.approx(5)


def test_suppressed_reference_gives_nothing():
    rows = dict(RATES) | {"White": (None, None, "suppressed")}
    result = excess.excess(frame(rows), metric=PPH)
    assert result["available"] is False and "suppressed" in result["reason"]
    groups = result["groups"]
    assert set(groups["status"]) == {"suppressed"}
    assert groups["excess"].null_count() == groups.height
    assert groups["expected"].null_count() == groups.height
    assert result["total"]["available"] is False


def test_reference_quintile_and_no_data():
    rows = {"Q1 (most deprived)": (50, 2000, "ok"), "Q2": (None, None, "no data"),
            "Q5 (least deprived)": (20, 2000, "ok")}
    result = by_group(excess.excess_events(frame(rows, QUINTILE), metric=PPH))
    # Q1: expected 2,000 x 20/2,000 = 20; excess 30.
    assert result["Q1 (most deprived)"]["excess"] == pytest.approx(30)
    assert result["Q2"]["status"] == "no data" and result["Q2"]["excess"] is None
    assert result["Q5 (least deprived)"]["status"] == "reference"
    assert not excess.total_excess(frame(rows, QUINTILE), metric=PPH)["available"]


def test_no_excess_without_a_right_direction_or_groups():
    result = excess.excess(frame(RATES), metric=SVD)
    assert result["available"] is False and "no better or worse" in result["reason"]
    assert set(result["groups"]["status"]) == {"not applicable"}
    total = frame({"All": (100, 1000, "ok")}, TOTAL)
    assert excess.excess(total, metric=PPH)["available"] is False


def test_bad_frames_are_refused():
    with pytest.raises(ValueError, match="lacks columns"):
        excess.excess_events(frame(RATES).drop("events"), metric=PPH)
    mixed = pl.concat([frame(RATES), frame({"Q2": (1, 10, "ok")}, QUINTILE)])
    with pytest.raises(ValueError, match="one known dimension"):
        excess.total_excess(mixed, metric=PPH)


def test_from_a_real_breakdown():
    # Booked by 10 weeks for one trust: White 800 of 1,000, Black 150 of 250, Asian
    # withheld (a count of 1 to 7).
    groups = {"White": (800, 1000, False), "Black": (150, 250, False),
              "Asian": (None, 40, True)}
    counts = pl.DataFrame({
        "metric": "booked_by_10_weeks", "org_code": "T1", "org_level": "trust",
        "period_label": "2024-25", "period_kind": "financial_year",
        "period_start": date(2024, 4, 1), "period_end": date(2025, 3, 31),
        "dimension": ETHNICITY, "group": list(groups),
        "group_order": [DIMENSIONS[ETHNICITY].order(g) for g in groups],
        "numerator": [v[0] for v in groups.values()],
        "denominator": [v[1] for v in groups.values()],
        "published_value": None, "suppressed": [v[2] for v in groups.values()],
    }, schema_overrides={"group_order": pl.Int16, "numerator": pl.Int64,
                         "published_value": pl.Float64})
    shown = breakdown(counts, metric=BOOKED, org_code="T1", period_label="2024-25",
                      dimension=ETHNICITY)
    rows = by_group(excess.excess_events(shown, metric=BOOKED))
    # Black: expected 250 x 0.8 = 200, excess 150 - 200 = -50.
    assert rows["Black"]["excess"] == pytest.approx(-50)
    assert rows["Asian"]["status"] == "suppressed"
    assert rows["Mixed"]["status"] == "no data"  # absent from the data
    assert not excess.total_excess(shown, metric=BOOKED)["available"]


counts = st.integers(min_value=0, max_value=5_000)
sizes = st.integers(min_value=1, max_value=50_000)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(counts, sizes), min_size=5, max_size=5),
       metric=st.sampled_from([PPH, BOOKED]))
def test_reference_is_zero_and_every_interval_holds_its_point(data, metric):
    if metric is BOOKED:
        data = [(min(x, n), n) for x, n in data]
    rows = {g: (float(x), n, "ok") for g, (x, n) in zip(DIMENSIONS[ETHNICITY].groups, data,
                                                      strict=True)}
    result = excess.excess_events(frame(rows), metric=metric)
    white = result.filter(pl.col("is_reference")).row(0, named=True)
    assert white["excess"] == 0 and white["excess_lower95"] == white["excess_upper95"] == 0
    for row in result.iter_rows(named=True):
        assert row["excess_lower95"] - 1e-9 <= row["excess"] <= row["excess_upper95"] + 1e-9
    total = excess.total_excess(frame(rows), metric=metric)
    assert total["excess"] == pytest.approx(result["excess"].sum(), abs=1e-6)
    assert total["excess_lower95"] - 1e-9 <= total["excess"] <= total["excess_upper95"] + 1e-9


# -- in words (components/format.py) -------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (0.4, "0"), (7.6, "8"), (19.4, "19"), (42.4, "40"), (42.6, "45"), (997.4, "995"),
    (1237, "1,240"), (12_651, "12,700"), (-23.2, "\u221225"),
])
def test_people_numbers_are_rounded_for_reading(value, expected):
    assert fmt.people_number(value) == expected


def test_sentences_follow_the_metric():
    rows = by_group(excess.excess_events(frame(RATES), metric=PPH))
    assert fmt.excess_group_sentence(rows["Black"], PPH, ETHNICITY) == (
        "About 30 more Black women (95% CI 14 more to 45 more) had a postpartum "
        "haemorrhage of 1,500 ml or more than if they had had the same rate as White women.")
    assert fmt.excess_cell(rows["Black"]) == "30 (14 to 45)"
    # A group doing better is said the other way round, not hidden: as in the table.
    assert fmt.excess_short(rows["Asian"], PPH, ETHNICITY) == \
        "Asian women: about 20 fewer (95% CI 30 fewer to 8 fewer) than at the rate of White women"
    assert fmt.excess_cell(rows["Asian"]) == "\u221220 (\u221230 to \u22128)"
    assert fmt.excess_group_sentence(rows["White"], PPH, ETHNICITY) is None
    total = excess.total_excess(frame(RATES), metric=PPH)
    assert fmt.excess_total_sentence(total, PPH, ETHNICITY, "2024-25") == (
        # -23.06 and 33.06 round to the nearest 5 (20 or more): 25 and 35.
        "In 2024-25, about 5 more women (95% CI 25 fewer to 35 more) had a postpartum "
        "haemorrhage of 1,500 ml or more than if every ethnic group had had the same rate as "
        "White women.")
    booked = by_group(excess.excess_events(
        frame({"White": (700, 1000, "ok"), "Black": (300, 500, "ok")}), metric=BOOKED))
    assert fmt.excess_group_sentence(booked["Black"], BOOKED, ETHNICITY).startswith(
        "About 50 fewer Black women (95% CI 75 fewer to 25 fewer) were booked by 10 weeks "
        "than if")
    assert fmt.excess_cell(booked["Black"]) == "\u221250 (\u221275 to \u221225)"
    assert fmt.excess_cell({"status": "suppressed", "excess": None}) == "*"
    assert fmt.excess_cell(booked["White"]) == "0"


def test_the_issue_example_reads_the_way_the_table_does():
    # Tracker issue 16: the table said "-4 (-16 to 8)", the words "about 4 more (95% CI 8
    # fewer to 16 more)".
    row = {"status": "ok", "excess": -4.2, "excess_lower95": -16.3, "excess_upper95": 7.9}
    assert fmt.excess_cell(row) == "\u22124 (\u221216 to 8)"
    assert fmt.excess_words(-4.2, -16.3, 7.9) == ("about 4 fewer", "95% CI 16 fewer to 8 more")
    assert fmt.excess_words(0.3, -5.2, 6.1) == ("about the same number",
                                                "95% CI 5 fewer to 6 more")


def _signed(words: str) -> int:
    """"4 fewer" -> -4, "16 more" -> 16, "0" -> 0."""
    number, _, side = words.partition(" ")
    value = int(number.replace(",", ""))
    return -value if side == "fewer" else value


def _cell_numbers(cell: str) -> tuple[int, int, int]:
    values = cell.replace("\u2212", "-").replace(",", "").replace("(", "").replace(")", "")
    excess_, lower, _to, upper = values.split()
    return int(excess_), int(lower), int(upper)


@settings(max_examples=400, deadline=None)
@given(st.floats(-5_000, 5_000), st.floats(0, 3_000), st.floats(0, 3_000))
def test_words_and_cell_say_the_same_numbers_the_same_way_round(excess_, below, above):
    lower, upper = excess_ - below, excess_ + above
    row = {"status": "ok", "excess": excess_, "excess_lower95": lower,
           "excess_upper95": upper}
    amount, ci = fmt.excess_words(excess_, lower, upper)
    cell = _cell_numbers(fmt.excess_cell(row))
    said = 0 if amount == "about the same number" else _signed(amount.removeprefix("about "))
    low_words, high_words = ci.removeprefix("95% CI ").split(" to ")
    assert (said, _signed(low_words), _signed(high_words)) == cell
    sentence = fmt.excess_sentence(PPH, excess_, lower, upper, who="women",
                                   condition="if they had had the same rate as White women")
    assert f"{amount[0].upper()}{amount[1:]}" in sentence and f"({ci})" in sentence


def test_every_judged_metric_can_be_said_of_people():
    from metrics.registry import METRICS_LIST, NO_JUDGEMENT, NOT_PEOPLE

    # Who the denominator counts decides the subject word.
    subject_of = {"Women": "women", "Respondents": "women", "Maternities": "women",
                  "Inductions": "women", "Babies": "babies", "Total": "babies",
                  "Live": "babies"}
    for metric in METRICS_LIST:
        if metric.polarity == NO_JUDGEMENT or metric.disclosure == NOT_PEOPLE:
            continue
        assert metric.subject == subject_of[metric.denominator.split()[0]], metric.id
        verb = metric.counterfactual_phrase.split()[0]
        assert verb in ("had", "been", "died", "said", "considered", "received"), metric.id
    assert METRICS["stillbirth"].counterfactual_phrase == "been stillborn"
    assert PPH.counterfactual_phrase == PPH.phrase
