"""Benchmark's pure builders: funnel labels kept clear of each other, the over-dispersion
estimate in words, and the rank table of ICBs and regions."""

from __future__ import annotations

import polars as pl
import pytest

from components import benchmark as builders
from metrics import registry
from metrics.overdispersion import Dispersion

PPH = registry.get("pph_1500")


def _boxes(points, names, places, x_range, y_range):
    (x0, x1), (y0, y1) = x_range, y_range
    sx, sy = builders.PLOT_PX[0] / (x1 - x0), builders.PLOT_PX[1] / (y1 - y0)
    return [builders._label_box((x - x0) * sx, (y - y0) * sy,
                                builders.LABEL_CHAR_PX * len(name), place)
            for (x, y), name, place in zip(points, names, places, strict=True)]


def test_labels_of_close_points_do_not_cover_each_other_or_the_points():
    points = [(5000, 30.0), (5100, 30.2), (5200, 29.9), (5050, 30.1), (5150, 30.0)]
    names = ["Netherbury Teaching Hospitals", "Ashbury Teaching Hospitals",
             "Thornwick General Hospital", "Kestley Teaching Hospitals", "Salholt General"]
    places = builders.label_places(points, names, (0, 15000), (0, 80))
    boxes = _boxes(points, names, places, (0, 15000), (0, 80))
    markers = _boxes(points, ["xx"] * len(points), [(0, 0)] * len(points), (0, 15000),
                     (0, 80))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert builders._overlap(a, b) == 0, (places, a, b)
        assert all(builders._overlap(a, m) == 0 for m in markers), (places, a)


def test_labels_keep_clear_of_the_other_points():
    points, names = [(5000, 30.0)], ["Netherbury Teaching Hospitals"]
    others = [(5000, 32.0), (5000, 28.0)]  # just above and below: the first choices
    places = builders.label_places(points, names, (0, 15000), (0, 80), others=others)
    box = _boxes(points, names, places, (0, 15000), (0, 80))[0]
    marks = _boxes(others, ["xx"] * 2, [(0, 0)] * 2, (0, 15000), (0, 80))
    assert all(builders._overlap(box, m) == 0 for m in marks), places
    assert builders.label_places(points, names, (0, 15000), (0, 80)) == [(0, 22)]


def test_a_label_at_the_edge_stays_inside_the_plot():
    points = [(14900, 40.0), (100, 79.5)]
    names = ["Quarrystead Valley ICB", "Birchdale Valley ICB"]
    places = builders.label_places(points, names, (0, 15000), (0, 80))
    for box in _boxes(points, names, places, (0, 15000), (0, 80)):
        assert box[0] >= 0 and box[2] <= builders.PLOT_PX[0]
        assert box[1] >= 0 and box[3] <= builders.PLOT_PX[1]
    assert places[0][0] < 0 and places[1][1] < 0, "left of the right edge, below the top"


def test_place_labels_names_the_chosen_points_in_annotations():
    import plotly.graph_objects as go
    figure = go.Figure([go.Scatter(x=[1, 2, 3], y=[1, 2, 3], mode="markers", name="Trusts"),
                        go.Scatter(x=[2, 2.05], y=[2, 2.02], mode="markers+text",
                                   text=["Alpha", "Beta"], name="Chosen trusts")])
    builders.place_labels(figure)
    labels = [a for a in figure.layout.annotations if a.name == "unit label"]
    assert [(a.text, a.x, a.y) for a in labels] == [("Alpha", 2, 2), ("Beta", 2.05, 2.02)]
    assert (labels[0].ax, labels[0].ay) != (labels[1].ax, labels[1].ay)
    assert figure.data[1].mode == "markers" and figure.data[0].mode == "markers"


@pytest.mark.parametrize(("fit", "method", "words"), [
    (None, "phi", "Too few trusts have figures"),
    (Dispersion(phi=0.8, tau2=0.0, units=40, trim=0.1), "phi",
     "phi = 0.8: trusts vary no more than chance alone"),
    (Dispersion(phi=3.81, tau2=2e-5, units=119, trim=0.1), "phi",
     "phi = 3.8: trusts vary about 3.8 times more than chance alone; limits widened by √phi, "
     "1.95 times"),
    (Dispersion(phi=3.81, tau2=2e-5, units=119, trim=0.1), "tau2",
     "limits widened to allow for a real spread between trusts of about 4.5 per 1,000"),
    (Dispersion(phi=3.81, tau2=2e-5, units=119, trim=0.1), "standard",
     "choose limits adjusted for over-dispersion"),
])
def test_dispersion_in_words(fit, method, words):
    assert words in builders.dispersion_words(fit, PPH, method=method)


def test_dispersion_words_name_the_units():
    fit = Dispersion(phi=2.0, tau2=1e-5, units=7, trim=0.1)
    assert "regions vary about 2.0 times" in builders.dispersion_words(
        fit, PPH, method="phi", level="region")


def _unit(code: str, name: str, value: float | None, rank: int | None) -> dict:
    return {"org_code": code, "name": name, "region": "London", "icb": None,
            "peer_group": None, "numerator": 100, "denominator": 4000,
            "suppressed": value is None, "status": "ok" if value is not None else "suppressed",
            "value": value, "lower95": value and value - 2, "upper95": value and value + 2,
            "funnel": "High (0.001)" if value else None, "rank_in_peer_group": rank,
            "peers_ranked": 2, "rank_overall": rank, "ranked": 2}


@pytest.mark.parametrize(("level", "header"), [
    ("icb", ["Code", "ICB", "Region", "Value (per 1,000)", "95% CI", "Numerator",
             "Denominator", "Funnel plot", "Rank", "ICBs ranked"]),
    ("region", ["Code", "Region", "Value (per 1,000)", "95% CI", "Numerator", "Denominator",
                "Funnel plot", "Rank", "Regions ranked"]),
])
def test_rank_rows_of_icbs_and_regions(level, header):
    frame = pl.DataFrame([_unit("A", "Alpha", 31.0, 1), _unit("B", "Beta", None, None)])
    rows = builders.rank_rows(frame, PPH, level)
    assert rows.columns == header
    assert rows.row(0, named=True)["Funnel plot"] == "Above the 99.8% limit (worse)"
    assert rows.row(1, named=True)["Rank"] == "*"
    assert rows.row(0, named=True)[header[-1]] == "2"
