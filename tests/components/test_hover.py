"""Compact hovers (``figures.hover``): each point's hover reads exactly as its texts say,
while the words every point shares are sent once, in the template."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from components import figures
from tests.components.hovers import hover_texts

TEMPLATE = "<b>{name}</b><br>{value} ({interval})<br>{numerator} of {denominator}<extra></extra>"


def _trace(template: str, points: list[dict], whole: tuple[str, ...] = ("name",)) -> dict:
    args = figures.hover(template, points, whole=whole)
    return json.loads(json.dumps({"x": list(range(len(points))), **args}))


def _expected(template: str, points: list[dict]) -> list[str]:
    return [template.format_map(p).replace("<extra></extra>", "") for p in points]


POINTS = [
    {"name": "Ashbury General", "value": "32.0 per 1,000", "interval": "95% CI 26.6 to 38.1",
     "numerator": "125", "denominator": "3,910"},
    {"name": "Netherbury", "value": "20.9 per 1,000", "interval": "95% CI 15.8 to 27.2",
     "numerator": "55", "denominator": "3,910"},
]


def test_every_point_reads_as_its_texts_and_shared_words_are_sent_once():
    trace = _trace(TEMPLATE, POINTS)
    assert hover_texts(trace) == _expected(TEMPLATE, POINTS)
    assert trace["hovertemplate"] == (
        "<b>%{customdata[0]}</b><br>%{customdata[1]} per 1,000 (95% CI %{customdata[2]})"
        "<br>%{customdata[3]} of %{customdata[4]}<extra></extra>")
    assert trace["customdata"][1] == ["Netherbury", "20.9", "15.8 to 27.2", "55", "3,910"]


def test_a_count_stays_with_each_point_even_when_every_point_shares_it():
    """One-word texts (figures, counts) are never moved into the template, so customdata
    holds every figure a hover shows (what the disclosure checks read)."""
    points = [p | {"numerator": "5"} for p in POINTS]
    trace = _trace(TEMPLATE, points)
    assert [row[3] for row in trace["customdata"]] == ["5", "5"]
    assert [row[4] for row in trace["customdata"]] == ["3,910", "3,910"]
    assert hover_texts(trace) == _expected(TEMPLATE, points)


def test_a_text_shared_by_every_point_goes_whole_into_the_template():
    template = "{name}<br>{who}: {words}{size}<extra></extra>"
    points = [{"name": n, "who": "All women", "words": "Within England's limits (similar)",
               "size": ""} for n in ("A", "B", "C")]
    trace = _trace(template, points)
    assert trace["hovertemplate"] == ("%{customdata[0]}<br>All women: Within England's "
                                      "limits (similar)<extra></extra>")
    assert trace["customdata"] == [["A"], ["B"], ["C"]]
    assert hover_texts(trace) == _expected(template, points)


def test_names_are_sent_whole_so_no_number_of_one_stands_alone():
    points = [p | {"name": f"Synthetic NHS Trust {n}"} for n, p in enumerate(POINTS, 1)]
    trace = _trace(TEMPLATE, points)
    assert [row[0] for row in trace["customdata"]] == ["Synthetic NHS Trust 1",
                                                       "Synthetic NHS Trust 2"]
    assert hover_texts(trace) == _expected(TEMPLATE, points)


def test_texts_plotly_would_read_as_fields_are_sent_whole():
    points = [p | {"interval": "95% CI %{x} to 2"} for p in POINTS]
    trace = _trace(TEMPLATE, points)
    assert trace["hovertemplate"].count("%{") == 5
    assert [row[2] for row in trace["customdata"]] == ["95% CI %{x} to 2"] * 2
    assert hover_texts(trace) == _expected(TEMPLATE, points)


WORDS = st.sampled_from(["95%", "CI", "per", "1,000", "to", "", "Trust", "<br>Above", "(B)",
                         "3,910", "12.5", "%", "{", "}"])
TEXTS = st.lists(WORDS, max_size=5).map(" ".join)


@given(st.lists(st.tuples(TEXTS, TEXTS, TEXTS), min_size=1, max_size=6),
       st.sampled_from([(), ("a",)]))
def test_any_texts_read_exactly_as_given(rows, whole):
    template = "<b>{a}</b>{b}<br>{c} %<extra></extra>"
    points = [{"a": a, "b": b, "c": c} for a, b, c in rows]
    assert hover_texts(_trace(template, points, whole)) == _expected(template, points)
