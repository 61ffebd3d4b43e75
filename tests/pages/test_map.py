"""Map page: region outlines, the gap colours, suppressed regions, trust positions, the
BNG conversion and the size of what is sent to the browser."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math

import numpy as np
import plotly.io.json as plotly_json
import polars as pl
import pytest
from dash import dcc

from components import figures, maps, tables
from components import format as fmt
from data import geo, queries
from data.geo import bng, shapes
from metrics import registry
from tests.components.hovers import hover_texts
from tests.pages.conftest import by_id, find, table_of, text_of
from views import map as map_facts

# The seven NHS England regions as ONS codes them (NHSER21CD), by name.
ONS_REGIONS = {"London": "E40000003", "South East": "E40000005", "South West": "E40000006",
               "East of England": "E40000007", "Midlands": "E40000008",
               "North East and Yorkshire": "E40000009", "North West": "E40000010"}
# Neonatal deaths of Black babies by region, 2024: small enough to be suppressed in some
# regions of the demo store.
SUPPRESSED_VIEW = {"metric": "neonatal_death", "period": "2024", "dim": "ethnicity",
                   "group": "Black"}


@pytest.fixture(scope="module")
def map_page(page):
    return page("map")


def _figure(tree):
    graphs = find(tree, lambda c: isinstance(c, dcc.Graph))
    assert len(graphs) == 1
    return graphs[0].figure


def _region_traces(figure):
    return {t.name: t for t in figure.data if t.hoveron == "fills"}


# -- the page --------------------------------------------------------------------------------


def test_layout_renders_with_no_arguments(map_page):
    tree = map_page.layout()
    text = text_of(tree)
    assert "Map" in text and "Some of the link could not be used" not in text
    figure = _figure(tree)
    assert figure.data
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.xaxis.visible is False
    summary = by_id(tree, map_page.MAP_SUMMARY).children
    assert "Compared with White women, Black women had" in summary


@pytest.mark.parametrize("query, message", [
    ({"metric": "maternal_death"}, "Unknown metric"),  # published for England only
    ({"metric": "drop table"}, "Unknown metric"),
    ({"dim": "deprivation_decile"}, "Unknown breakdown"),
    ({"group": "White"}, "Unknown group"),  # the reference group is not compared with itself
    ({"dim": "deprivation_quintile", "group": "Black"}, "Unknown group"),
    ({"period": "1999"}, "Unknown period"),
    ({"points": "<script>"}, "Unknown choice for the trust points"),
])
def test_bad_query_falls_back_with_a_notice(map_page, query, message):
    _, notices = map_page.MapView.parse(query)
    assert any(message in n for n in notices), notices
    tree = map_page.layout(**query)
    assert "Some of the link could not be used" in text_of(tree)
    assert _figure(tree).data


def test_view_round_trips_through_the_url(map_page):
    from components import viewstate

    view, notices = map_page.MapView.parse({"metric": "booked_by_10_weeks",
                                            "dim": "deprivation_quintile", "group": "Q2",
                                            "points": "group"})
    assert notices == []
    assert map_page.MapView.parse(viewstate.query_of(view.search()))[0] == view
    assert "points" not in map_page.MapView.parse({})[0].search()


def test_every_region_is_drawn_and_tabled(map_page):
    store_regions = queries.organisations().filter(pl.col("org_level") == "region")["name"]
    assert sorted(store_regions) == sorted(ONS_REGIONS)
    for name in store_regions:
        assert geo.region_for(name).code == ONS_REGIONS[name]
    # The MSDS spelling of region names maps too.
    assert geo.region_for("NORTH EAST AND YORKSHIRE COMMISSIONING REGION").code == "E40000009"
    assert geo.region_for("Wales") is None
    tree = map_page.layout()
    traces = _region_traces(_figure(tree))
    assert set(traces) == set(ONS_REGIONS)
    rows = table_of(tree, map_page.MAP_REGION_TABLE).records()
    assert sorted(r["Region"] for r in rows) == sorted(ONS_REGIONS)
    # Largest ratio first; each ratio is the group's value over White women's.
    ratios = [float(r["Ratio (95% CI)"].split(" ")[0]) for r in rows]
    assert ratios == sorted(ratios, reverse=True)
    for row in rows:
        expected = float(row["Black (per 1,000)"]) / float(row["White (per 1,000)"])
        assert abs(float(row["Ratio (95% CI)"].split(" ")[0]) - expected) < 0.01


def test_region_colours_follow_the_ratio(map_page):
    view, _ = map_page.MapView.parse({})
    rows = maps.region_rows(view, map_facts.facts(view))
    figure = _figure(map_page.layout())
    traces = _region_traces(figure)
    extent = maps.ratio_extent(rows["ratio"].to_list())
    for row in rows.iter_rows(named=True):
        assert traces[row["region"]].fillcolor == maps.ratio_colour(row["ratio"], extent)
        # Orange above 1 (group higher), purple below.
        red, _, blue = (int(v) for v in traces[row["region"]].fillcolor[4:-1].split(","))
        assert (red > blue) == (row["ratio"] > 1)
        outline = traces[row["region"]].line.color
        assert (outline == maps.SIGNIFICANT_OUTLINE) == row["gap_significant"]


def test_colour_scale_is_centred_on_no_gap():
    # PuOr's end and middle colours, from their hex codes.
    assert maps.ratio_colour(1.0, 2.0) == "rgb(247, 247, 247)"
    assert maps.ratio_colour(2.0, 2.0) == "rgb(179, 88, 6)"
    assert maps.ratio_colour(0.5, 2.0) == "rgb(84, 39, 136)"
    assert maps.ratio_colour(8.0, 2.0) == "rgb(179, 88, 6)"  # clipped at the end
    # ln(1/0.6) = 0.51 is beyond ln 1.5 = 0.41, within ln 2 = 0.69.
    assert maps.ratio_extent([1.3, 0.6]) == 2.0
    assert maps.ratio_extent([1.1]) == 1.25
    assert maps.ratio_extent([]) == 1.25


def test_suppressed_regions_are_shown_as_suppressed(map_page):
    # Which regions hold a suppressed cell for Black babies, straight from the store.
    suppressed = set()
    for code, name in queries.organisations().filter(
            pl.col("org_level") == "region").select("org_code", "name").iter_rows():
        frame = queries.breakdown("neonatal_death", code, "2024", "ethnicity", "none")
        if frame.filter(pl.col("group") == "Black")["status"][0] == "suppressed":
            suppressed.add(name)
    assert suppressed and len(suppressed) < 7, "the demo store should hold both kinds"
    tree = map_page.layout(**SUPPRESSED_VIEW)
    rows = {r["Region"]: r for r in table_of(tree, map_page.MAP_REGION_TABLE).records()}
    traces = _region_traces(_figure(tree))
    labels = {a.text.split("<br>")[0].strip("<b>/"): a.text
              for a in _figure(tree).layout.annotations}
    for name in ONS_REGIONS:
        if name in suppressed:
            assert rows[name]["Black (per 1,000)"] == "*"
            assert rows[name]["Ratio (95% CI)"] == "*"
            assert rows[name]["Gap"] == "Suppressed (small numbers)"
            assert traces[name].fillcolor == maps.UNAVAILABLE_FILL
            assert traces[name].fillpattern.shape == "/"
            assert "suppressed" in labels[name] and "*" not in labels[name].split("<br>")[1]
            assert "Suppressed (small numbers)" in traces[name].text
        else:
            assert rows[name]["Black (per 1,000)"] not in ("*", ":")
            assert traces[name].fillpattern.shape is None
    assert "had no figure to compare" in by_id(tree, map_page.MAP_SUMMARY).children
    legend = [t.name for t in _figure(tree).data if t.showlegend is not False]
    assert "Suppressed or not available (hatched)" in legend


def test_reference_group_suppressed_hides_the_ratio_not_the_value(map_page):
    view, _ = map_page.MapView.parse({"metric": "neonatal_death", "period": "2024",
                                      "dim": "deprivation_quintile"})
    rows = maps.region_rows(view, map_facts.facts(view))
    hidden = rows.filter(pl.col("status") == "reference suppressed")
    assert hidden.height, "Q5 neonatal deaths are suppressed in some demo regions"
    assert hidden["ratio"].is_null().all() and hidden["difference"].is_null().all()
    assert hidden["value"].is_not_null().all()
    table = maps.region_table(rows, view, registry.get("neonatal_death"))
    for row in table.filter(pl.col("Region").is_in(hidden["region"].to_list())).iter_rows(
            named=True):
        assert row["Q5 (least deprived) (per 1,000)"] == "*"
        assert row["Ratio (95% CI)"] == "*"
        assert row["Gap"] == "Not available: the reference group is suppressed"


def test_demo_trusts_sit_inside_their_own_region(map_page):
    view, _ = map_page.MapView.parse({})
    trusts = maps.trust_rows(view, map_facts.facts(view))
    placed = trusts.filter(pl.col("x").is_not_null())
    assert placed.height == trusts.height > 100
    for row in placed.iter_rows(named=True):
        region = geo.region_for(row["region"])
        assert shapes.contains(region.rings, row["x"], row["y"]), row["org_code"]
        assert row["position"] == geo.ILLUSTRATIVE
    # What the figure draws is exactly these points, to the metre.
    drawn = [(x, y) for t in _trust_traces(_figure(map_page.layout()))
             for x, y in zip(t.x, t.y, strict=True)]
    assert all(isinstance(v, int) for point in drawn for v in point)
    metres = placed.select(pl.col("x", "y").round().cast(pl.Int64))
    assert sorted(drawn) == sorted(metres.iter_rows())


def _trust_traces(figure) -> list:
    return [t for t in figure.data if t.mode == "markers" and t.hovertemplate]


def test_illustrative_positions_are_stable():
    first = geo.illustrative_position.__wrapped__("SYN001", "London")
    assert first == geo.illustrative_position.__wrapped__("SYN001", "London")
    assert first != geo.illustrative_position.__wrapped__("SYN002", "London")
    region = geo.region_for("London")
    assert shapes.edge_distances(region.rings, [first[0]], [first[1]])[0] >= \
        geo.margin_for(region) - 1e-6
    assert geo.illustrative_position("SYN001", "Atlantis") is None


def test_real_trusts_take_positions_from_the_locations_file(tmp_path, monkeypatch):
    path = tmp_path / "locations.csv"
    # The ONS label point of the North West, which ONS publishes in both systems.
    nw = geo.regions()["North West"]
    path.write_text("org_code,org_name,postcode,date,latitude,longitude\n"
                    f"R0A,A TRUST,M13 9WL,20171001,{nw.latlon[0]},{nw.latlon[1]}\n"
                    "RBAD,NO POSITION,,,,\n", encoding="utf-8")
    monkeypatch.setenv(geo.LOCATIONS_ENV, str(path))
    positions = geo.trust_positions([("R0A", "North West"), ("RBAD", "London"),
                                     ("RXX", "London"), ("SYN001", "London")])
    assert set(positions) == {"R0A", "SYN001"}
    x, y, source = positions["R0A"]
    assert source == geo.FROM_FILE
    assert abs(x - nw.label[0]) < 10 and abs(y - nw.label[1]) < 10
    assert positions["SYN001"][2] == geo.ILLUSTRATIVE


def test_trust_comparison_words_and_shapes(map_page):
    pph = registry.get("pph_1500")  # lower is better
    booked = registry.get("booked_by_10_weeks")  # higher is better
    assert maps.trust_comparison("High (0.001)", "ok", pph) == (
        "worse", "above", "Above England's 99.8% limit (worse)")
    assert maps.trust_comparison("Low (0.025)", "ok", booked) == (
        "worse", "below", "Below England's 95% limit (worse)")
    assert maps.trust_comparison("High (0.025)", "ok", booked)[:2] == ("better", "above")
    assert maps.trust_comparison(None, "suppressed", pph)[:2] == ("not compared", "none")
    assert maps.TRUST_SYMBOLS["above"] == "triangle-up"
    assert maps.TRUST_SYMBOLS["below"] == "triangle-down"


def _expected_hover(row: dict, who: str, metric) -> str:
    """A trust's hover as the Map has always written it: name, region, value and CI (or
    why there is none), the comparison, births; a line without a text left out."""
    shown = row["value"] is not None
    figure = (f"{who}: {fmt.value(metric, row['value'])} "
              f"({fmt.interval(metric, row['lower95'], row['upper95'])})" if shown
              else f"{who}: {row['words'].lower()}")
    lines = [f"<b>{figures.plain(row['name'])}</b>", figures.plain(row["region"]), figure,
             row["words"] if shown else "",
             f"{metric.denominator}: {fmt.count(row['size'])}" if row["size"] is not None
             else ""]
    return "<br>".join(line for line in lines if line)


@pytest.mark.parametrize("query", [{}, {"points": "group"}])
def test_every_trust_hover_reads_as_written_and_withholds_suppressed_figures(map_page, query):
    view, _ = map_page.MapView.parse(query)
    metric = registry.get(view.metric)
    who = maps.capital(fmt.subject(view.trust_group, view.trust_dimension, metric))
    trusts = maps.trust_rows(view, map_facts.facts(view)).filter(
        pl.col("x").is_not_null()).with_columns(pl.col("x", "y").round().cast(pl.Int64))
    hovers = [(x, y, h) for t in _trust_traces(_figure(map_page.layout(**query)))
              for x, y, h in zip(t.x, t.y, hover_texts(t), strict=True)]
    assert sorted(hovers) == sorted((r["x"], r["y"], _expected_hover(r, who, metric))
                                    for r in trusts.iter_rows(named=True))
    withheld = trusts.filter(pl.col("status") == "suppressed")
    assert withheld.height or not query, "the group's points hold suppressed trusts"
    for row in withheld.iter_rows(named=True):
        hover = next(h for x, y, h in hovers if (x, y) == (row["x"], row["y"]))
        assert f"{who}: suppressed (small numbers)" in hover and "95% CI" not in hover
    # The words every trust shares are sent once, not with each trust.
    for trace in _trust_traces(_figure(map_page.layout(**query))):
        assert "per 1,000" not in str(trace.customdata)
        assert f"{metric.denominator}:" not in str(trace.customdata)


def test_group_points_fall_back_to_totals_where_unpublished(map_page):
    view, _ = map_page.MapView.parse({**SUPPRESSED_VIEW, "points": "group"})
    assert view.trust_dimension == "total" and view.trust_group == "All"
    text = text_of(map_page.layout(**SUPPRESSED_VIEW, points="group"))
    assert "does not publish this breakdown for trusts" in text
    msds, _ = map_page.MapView.parse({"points": "group"})
    assert msds.trust_dimension == "ethnicity" and msds.trust_group == "Black"


def test_downloads_match_the_tables(map_page):
    from components import viewstate

    tree = map_page.layout(**SUPPRESSED_VIEW)
    search = viewstate.search(SUPPRESSED_VIEW)
    shown = table_of(tree, map_page.MAP_REGION_TABLE).records()
    payload = map_page.region_csv(search)
    text = payload["content"]
    assert "Contains OS data © Crown copyright and database right 2022" in text
    rows = list(csv.DictReader(io.StringIO("\n".join(
        line for line in text.splitlines() if not line.startswith("#")))))
    assert rows == shown
    trusts = map_page.trust_csv(search)
    body = [line for line in trusts["content"].splitlines() if not line.startswith("#")]
    table = table_of(tree, map_page.MAP_TRUST_TABLE)
    assert "sortable" in table.class_name.split()
    assert table.header[:3] == ["Code", "Trust", "Region"]
    downloaded = list(csv.reader(io.StringIO("\n".join(body))))
    assert downloaded == [table.header, *table.rows], "the download holds the table's text"
    # Symbols as such, counts with thousands separators (as the CSV writes them).
    assert "*" in {r["Value (per 1,000)"] for r in table.records()}
    assert any("," in r["Denominator"] for r in table.records())


def test_a_long_trust_table_shows_a_page_of_rows_and_the_download_every_one(map_page,
                                                                            monkeypatch):
    tree = map_page.layout()
    every = table_of(tree, map_page.MAP_TRUST_TABLE).rows
    assert 50 < len(every) <= tables.PAGE_ROWS_MAX and "not shown here" not in text_of(tree)
    assert f"Show every trust as a table ({len(every)} rows)" in text_of(tree)
    monkeypatch.setattr(tables, "PAGE_ROWS_MAX", 50)  # as a store of many trusts
    tree = map_page.layout()
    shown = table_of(tree, map_page.MAP_TRUST_TABLE).rows
    # Trusts outside England's limits first, then the others; each in the table's order.
    differ = [r for r in every if r[6].startswith(("Above England's", "Below England's"))]
    assert 0 < len(differ) < 50
    assert shown == (differ + [r for r in every if r not in differ])[:50]
    text = text_of(tree)
    assert f"Show the trusts as a table (50 of {len(every)} rows) and download every one" \
        in text
    assert (f"Showing 50 of {len(every)} trusts: the {len(differ)} that differ from England "
            f"first, then the others by region and name. The download holds all "
            f"{len(every)} ({len(every) - 50} not shown here).") in text
    content = map_page.trust_csv(map_page.MapView.parse({})[0].search())["content"]
    body = [line for line in content.splitlines() if not line.startswith("#")]
    assert list(csv.reader(io.StringIO("\n".join(body))))[1:] == every


def test_payload_is_small(map_page):
    for query in ({}, {"metric": "booked_by_10_weeks", "dim": "deprivation_quintile",
                       "points": "group"}):
        tree = map_page.layout(**query)
        # Each trust's marker carries its own figures only (about 53 KB for 119 trusts).
        assert len(plotly_json.to_json_plotly(_figure(tree))) < 60_000
        # The trust table is one HTML string, whose <, > and / JSON escapes as six characters
        # each (about 55 KB raw); the response is gzipped (app.py), so what travels is small.
        payload = plotly_json.to_json_plotly(tree).encode()
        assert len(payload) < 140_000 and len(gzip.compress(payload)) < 30_000


# -- boundaries and coordinates ------------------------------------------------------------


def test_shipped_boundaries_are_small_and_well_formed():
    raw = geo.BOUNDARIES.read_bytes()
    assert len(raw) < 60_000
    collection = json.loads(raw)
    assert collection["crs"]["properties"]["name"] == "EPSG:27700"
    assert {f["properties"]["NHSER21NM"]: f["properties"]["NHSER21CD"]
            for f in collection["features"]} == ONS_REGIONS
    for feature in collection["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            ring = np.asarray(polygon[0])
            assert (ring[0] == ring[-1]).all() and len(ring) >= 4
            assert (ring % 100 == 0).all()  # rounded to 100 m
    # England's extent in BNG metres: Land's End to Berwick, the Wash to the Solway.
    xs = np.concatenate([r[:, 0] for g in geo.regions().values() for r in g.rings])
    ys = np.concatenate([r[:, 1] for g in geo.regions().values() for r in g.rings])
    assert 80_000 < xs.min() < 140_000 and 650_000 < xs.max() < 660_000
    assert 0 < ys.min() < 20_000 and 640_000 < ys.max() < 660_000
    # Greater London covers about 1,570 km2; simplification keeps its area close.
    assert abs(geo.regions()["London"].area / 1e6 - 1572) < 40


def test_osgb36_projection_matches_the_ordnance_survey_worked_example():
    # OS "A guide to coordinate systems in Great Britain", Annex C: 52°39'27.2531"N,
    # 1°43'4.5177"E (OSGB36) is E 651409.903, N 313177.270.
    lat = 52 + 39 / 60 + 27.2531 / 3600
    lon = 1 + 43 / 60 + 4.5177 / 3600
    e, n = bng.osgb36_to_grid(lat, lon)
    assert abs(e - 651_409.903) < 0.001 and abs(n - 313_177.270) < 0.001


def test_wgs84_to_grid_matches_ons_published_pairs():
    # ONS publishes each region's label point both as WGS84 LAT/LONG and as BNG_E/BNG_N
    # (whole metres); the Helmert approximation is good to about 5 m.
    for region in geo.regions().values():
        e, n = bng.wgs84_to_grid(*region.latlon)
        assert math.hypot(e - region.label[0], n - region.label[1]) < 5, region.name
    # London's label point: 51.49227142 N, 0.30866 W is E 517515, N 178392.
    e, n = bng.wgs84_to_grid(51.49227142, -0.30866)
    assert abs(e - 517_515) < 5 and abs(n - 178_392) < 5
    with pytest.raises(ValueError, match="out of range"):
        bng.wgs84_to_grid(95.0, 0.0)


def test_douglas_peucker_by_hand():
    line = np.array([(0, 0), (1, 0.4), (2, 0), (3, 0)], dtype=float)
    # The farthest point is (1, 0.4), 0.4 from the chord: under 0.5 it goes.
    assert shapes.douglas_peucker(line, 0.5).tolist() == [[0, 0], [3, 0]]
    # Over 0.3 it stays; then (2, 0) is 0.4 / sqrt(4.16) = 0.196 from (1, 0.4)-(3, 0).
    assert shapes.douglas_peucker(line, 0.3).tolist() == [[0, 0], [1, 0.4], [3, 0]]
    with pytest.raises(ValueError, match="tolerance"):
        shapes.douglas_peucker(line, -1)


def test_point_in_polygon_on_a_concave_shape():
    # A "U": the notch between x = 1 and 2 above y = 1 is outside.
    u = np.array([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3), (0, 0)],
                 dtype=float)
    assert shapes.contains([u], 0.5, 2.5) and shapes.contains([u], 2.5, 2.5)
    assert shapes.contains([u], 1.5, 0.5)
    assert not shapes.contains([u], 1.5, 2.0) and not shapes.contains([u], 4, 1)
    assert shapes.ring_area(u) == 7.0
    assert shapes.edge_distances([u], [1.5], [0.5])[0] == pytest.approx(0.5)


def test_a_store_without_regional_breakdowns_says_so(map_page, monkeypatch):
    monkeypatch.setattr(map_page, "map_metrics", lambda: [])
    text = text_of(map_page.layout())
    assert "no gap between groups to map" in text
