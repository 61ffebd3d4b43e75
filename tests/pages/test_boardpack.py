"""Board pack: each metric section says how large its gaps are in numbers of people."""

from __future__ import annotations

import pytest

from tests.pages.conftest import text_of


@pytest.fixture(scope="module")
def boardpack(page):
    return page("boardpack")


def test_breakdowns_state_the_gap_in_numbers(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN010"})
    metric = boardpack.registry.get("booked_by_10_weeks")
    period = boardpack.period_for(metric, view.period)
    text = text_of(boardpack.breakdown_block(view, metric, period, "deprivation_quintile"))
    # Every quintile of this trust has figures in 2024-25, so the total is worked out.
    assert "more women (95% CI" in text
    assert ("would have been booked by 10 weeks if every group had had the same rate as "
            "women in the least deprived quintile (Q5)" in text)
    # Mode of birth has no right level, so no excess is stated for it.
    births = boardpack.registry.get("spontaneous_vaginal")
    assert boardpack.excess_line(view, births, period, "ethnicity") is None


def test_suppressed_groups_give_a_reason_not_a_number(boardpack, stories):
    view, _ = boardpack.BoardPackView.parse({"org": stories["pph_gap_closes"]})
    metric = boardpack.registry.get("pph_1500")
    line = boardpack.excess_line(view, metric, boardpack.period_for(metric, view.period),
                                 "deprivation_quintile")
    assert "not worked out" in text_of(line) and "suppressed" in text_of(line)
