"""Board pack: each metric section says how large its gaps are in numbers of people; what
changed since a year earlier; the trust's region on the map; the contents name every section."""

from __future__ import annotations

import polars as pl
import pytest
from dash import dcc

from components import maps
from components.viewstate import query_of
from data import geo, queries
from metrics import registry
from tests.pages.conftest import by_id, find, text_of
from views import map as map_facts


@pytest.fixture(scope="module")
def boardpack(page):
    return page("boardpack")


def test_breakdowns_state_the_gap_in_numbers(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN010"})
    metric = boardpack.registry.get("booked_by_10_weeks")
    period = boardpack.period_for(metric, view.period)
    text = text_of(boardpack.breakdown_block(view, metric, period, "deprivation_quintile"))
    # Every quintile of this trust has figures in 2024-25, so the total is worked out.
    # Fewer booked than at the least deprived quintile's rate: a negative excess, "fewer".
    assert "fewer women (95% CI" in text
    assert ("were booked by 10 weeks than if every group had had the same rate as "
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


def test_trend_says_when_each_ethnic_gap_would_close(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN010"})
    metric = boardpack.registry.get("booked_by_10_weeks")
    kind = "quarter"
    block = boardpack.gap_closing_block(view, metric, kind)
    _, _, gaps = queries.projection(metric.id, view.org, kind, "ethnicity")
    items = [text_of(li) for li in _items(block)]
    # One sentence per group, each the Trends page's answer for the same projection.
    assert len(items) == len(gaps) > 0
    for (group, gap), said in zip(gaps.items(), items, strict=True):
        answer, detail = boardpack.gapwords.gap_sentence(group, gap, "ethnicity", metric)
        assert " ".join(said.split()) == f"{answer} {detail}"
        assert said.split(" compared")[0].lower().startswith(group.lower()[:4])


# -- what changed --------------------------------------------------------------------------


def _items(section):
    return find(section, lambda c: type(c).__name__ == "Li")


def test_what_changed_says_what_the_overview_says(boardpack, page, stories):
    org = stories["pph_gap_closes"]
    view, _ = boardpack.BoardPackView.parse({"org": org})
    section = boardpack.changes_section(2, view)
    text = text_of(section)
    assert "2. What changed since the 12 months to Mar 2024" in text
    # The trust's PPH total is a special-cause improvement (as the Overview says), and each
    # change prints the path and query of the view that shows it.
    assert "PPH ≥1,500 ml, all women: special-cause improvement" in text
    overview = by_id(page("overview").layout(org=org), "overview-changes")
    items, card_items = _items(section), _items(overview)
    assert 1 <= len(items) == len(card_items) <= 5
    for item, card_item in zip(items, card_items, strict=True):
        assert item.children[0] == card_item.children[0]  # the same sentence
        printed = item.children[2].children
        page_name, _, href = printed.partition(": ")
        path, _, search = href.partition("?")
        assert path == {"Explore": "/explore", "Trends": "/trends"}[page_name]
        view_class = {"/explore": page("explore").ExploreView,
                      "/trends": page("trends").TrendsView}[path]
        parsed, notices = view_class.parse(query_of(search))
        assert notices == [] and parsed.org == org, href  # it opens exactly that view


def test_nothing_changed_is_said_in_one_sentence(boardpack, monkeypatch):
    monkeypatch.setattr(queries, "changes", lambda org: {"since": "12 months to Mar 2024",
                                                         "changes": pl.DataFrame()})
    view, _ = boardpack.BoardPackView.parse({"org": "SYN010"})
    section = boardpack.changes_section(2, view)
    assert not _items(section)
    assert ("No gap to the reference group opened or closed, and no chart shows "
            "special-cause variation at its latest point.") in text_of(section)


# -- the map -------------------------------------------------------------------------------

# Rank of a region's ratio among seven, in words.
PLACES = {1: "the highest", 2: "the 2nd highest", 3: "the 3rd highest", 4: "the 4th highest",
          5: "the 3rd lowest", 6: "the 2nd lowest", 7: "the lowest"}


def test_map_rings_the_trust_and_places_its_region(boardpack):
    org = "SYN010"
    view, _ = boardpack.BoardPackView.parse({"org": org})
    section = boardpack.map_section(21, view)
    text = text_of(section)
    assert "21. The trust's region on the map" in text
    # PPH is the pack's first metric with ethnic breakdowns for regions: Black against
    # White women, 2024-25, each region's ratio worked out from its two groups' values.
    region = queries.org_name(queries.organisations().filter(
        pl.col("org_code") == org)["region_code"][0])
    ratios = {}
    for code, name in queries.organisations().filter(
            pl.col("org_level") == "region").select("org_code", "name").iter_rows():
        frame = queries.breakdown("pph_1500", code, "2024-25", "ethnicity", "none")
        value = dict(zip(frame["group"], frame["value"], strict=True))
        ratios[name] = value["Black"] / value["White"]
    assert len(ratios) == 7
    rank = sorted(ratios.values(), reverse=True).index(ratios[region]) + 1
    assert (f"The trust is in {region}, where Black women had {ratios[region]:.2f} times the "
            "rate of White women") in text
    assert f"{PLACES[rank]} ratio of the 7 regions." in text
    assert "it is ringed on the map" in text
    # The ring sits on the trust's own (illustrative) position, and names it.
    figure = find(section, lambda c: isinstance(c, dcc.Graph))[0].figure
    assert figure.layout.title.text.startswith("Postpartum haemorrhage of 1,500 ml or more: "
                                               "Black compared with White")
    ring = [t for t in figure.data if t.name == "This trust (ringed)"]
    assert len(ring) == 1
    x, y = geo.illustrative_position(org, region)
    assert (ring[0].x[0], ring[0].y[0]) == pytest.approx((x, y))
    assert ring[0].marker.size > maps.MAX_MARKER_PX
    name = queries.org_name(org)
    labels = [a for a in figure.layout.annotations if a.x == ring[0].x[0]]
    assert len(labels) == 1
    assert labels[0].text.replace("<br>", " ").strip("</b>") == name
    # The table under it lists every region.
    assert all(r in text for r in ratios)


def test_a_suppressed_region_is_said_to_have_no_ratio(boardpack):
    # Neonatal deaths of Black babies in 2024 are suppressed in some demo regions.
    selection = maps.MapSelection("neonatal_death", "2024", "ethnicity", "Black")
    regions = maps.region_rows(selection, map_facts.facts(selection))
    hidden = regions.filter(pl.col("status") == "suppressed")["region"]
    assert hidden.len()
    line = boardpack.region_line(hidden[0], regions, selection,
                                 registry.get("neonatal_death"))
    assert line == (f"The trust is in {hidden[0]}, which has no ratio of babies of Black "
                    "women to babies of White women: suppressed (small numbers).")


def test_contents_name_the_new_sections(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN010", "full": "1"})
    tree = boardpack.layout(org="SYN010", full="1")
    contents = find(tree, lambda c: getattr(c, "className", None) == "pack-contents")[0]
    links = [(a.children, a.href) for a in find(contents, lambda c: type(c).__name__ == "A")]
    targets = [href for _, href in links]
    assert targets[:2] == ["#section-scorecard", "#section-changes"]
    assert targets[-2:] == ["#section-intersections", "#section-map"]
    assert dict(links)["What changed since the 12 months to Mar 2024"] == "#section-changes"
    assert dict(links)["The trust's region on the map"] == "#section-map"
    # Every entry leads to a section heading, numbered as the contents are.
    headings = find(tree, lambda c: type(c).__name__ == "H2"
                    and str(getattr(c, "id", "")).startswith("section-"))
    assert [f"#{h.id}" for h in headings] == targets
    for number, heading in enumerate(headings, start=1):
        assert heading.children.startswith(f"{number}. "), heading.children
        assert "page-break" in heading.className


# -- the board summary (the default pack) ------------------------------------------------


@pytest.fixture(scope="module")
def summary(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN071"})
    return boardpack.summary_model.summary(view.org, view.period)


def test_the_summary_is_the_default_and_full_1_gives_every_metric(boardpack):
    assert boardpack.BoardPackView.parse({"org": "SYN071"})[0].full is False
    view, notices = boardpack.BoardPackView.parse({"org": "SYN071", "full": "1"})
    assert view.full and not notices and "full=1" in view.search()
    summary = boardpack.layout(org="SYN071")
    full = boardpack.layout(org="SYN071", full="1")
    assert find(summary, lambda c: "board-summary" in str(getattr(c, "className", "")))
    assert not find(summary, lambda c: "board-full" in str(getattr(c, "className", "")))
    assert find(full, lambda c: "board-full" in str(getattr(c, "className", "")))
    assert "Board summary: Coldhurst and Cinderhurst NHS Trust" in text_of(summary)
    # A bad value falls back to the summary, with a notice.
    view, notices = boardpack.BoardPackView.parse({"org": "SYN071", "full": "yes"})
    assert not view.full and notices


def test_summary_gaps_are_significant_worse_and_largest_first(summary):
    from metrics.categories import DIMENSIONS

    assert summary.gaps, "the demo trust has significant gaps"
    times = [gap.times_worse for gap in summary.gaps]
    assert times == sorted(times, reverse=True) and min(times) > 1
    for gap in summary.gaps:
        row = gap.frame.filter(pl.col("group") == gap.group).row(0, named=True)
        assert row["gap_significant"] and row["group"] != DIMENSIONS[gap.dimension].reference
        lower = gap.metric.polarity == registry.LOWER_IS_BETTER
        assert gap.times_worse == pytest.approx(row["ratio"] if lower else 1 / row["ratio"])
        # Worse for the group: its CI of the ratio lies wholly on the worse side of 1.
        assert (row["ratio_lower95"] > 1) if lower else (row["ratio_upper95"] < 1)
    headlines = summary.headlines
    assert 1 <= len(headlines) <= 4
    assert len({g.metric.id for g in headlines}) == len(headlines)
    assert headlines[0] is summary.gaps[0]


def test_summary_gap_table_says_the_ci_and_the_people(summary):
    from components import boardsummary as words

    rows = words.gap_rows(summary.listed_gaps)
    assert rows.height == min(len(summary.gaps), 6)
    for gap, row in zip(summary.listed_gaps, rows.iter_rows(named=True), strict=True):
        said = row["Gap to the reference group (95% CI)"]
        assert f"{gap.row['ratio']:.2f} times (95% CI {gap.row['ratio_lower95']:.2f} to " \
               f"{gap.row['ratio_upper95']:.2f})" in said
        people = row["In numbers of women or babies (95% CI)"]
        assert people == "Not worked out" or "(95% CI" in people


def test_summary_names_the_scorecard_changes_and_full_pack(boardpack, summary, monkeypatch):
    monkeypatch.setenv("EQUALITIES_PUBLIC_URL", "https://equalities.example.nhs.uk/")
    tree = boardpack.layout(org="SYN071")
    text = text_of(tree)
    for heading in ("1. Annex 3 scorecard against England", "2. The largest gaps",
                    f"3. {boardpack.whatchanged.title(summary.since)}"):
        assert heading in text
    assert f"Annex 3 scorecard: {boardpack.card.summary(summary.scorecard)}" in text
    # Links on paper are whole addresses.
    assert "https://equalities.example.nhs.uk/board-pack?org=SYN071&period=2024-25&full=1" \
        in text
    assert "Explore: https://equalities.example.nhs.uk/explore?org=SYN071" in text
    assert "EQUALITIES_PUBLIC_URL" not in text


def test_printed_links_say_when_no_address_is_set(monkeypatch):
    from components import publiclink

    monkeypatch.delenv("EQUALITIES_PUBLIC_URL", raising=False)
    assert publiclink.absolute("/explore?org=ENG") is None
    assert publiclink.printed("/explore?org=ENG") == \
        f"/explore?org=ENG {publiclink.NO_ADDRESS}"
    monkeypatch.setenv("EQUALITIES_PUBLIC_URL", " https://x.nhs.uk/ ")
    assert publiclink.printed("/explore?org=ENG") == "https://x.nhs.uk/explore?org=ENG"


def test_funnel_positions_are_said_in_plain_words(boardpack):
    view, _ = boardpack.BoardPackView.parse({"org": "SYN071", "full": "1"})
    metric = registry.get("pph_1500")
    text = text_of(boardpack.benchmark_block(view, metric, boardpack.period_for(
        metric, view.period)))
    assert "0.025" not in text and "0.001" not in text
    assert "on the funnel plot against England, " in text
    assert any(words in text for words in boardpack.words.FUNNEL_WORDS.values())


def _figures(tree):
    return [g.figure for g in find(tree, lambda c: isinstance(c, dcc.Graph))]


@pytest.mark.parametrize("full", ["0", "1"])
def test_every_chart_fits_a_sheet_with_room_for_title_and_legend(boardpack, full):
    figures = _figures(boardpack.layout(org="SYN071", full=full))
    assert figures
    for figure in figures:
        height = figure.layout.height
        assert height is not None and height <= boardpack.PAGE_HEIGHT_PX, \
            figure.layout.title.text
    # Half-width charts keep their legend rows and title above the plot, not on each other.
    sized = [f for f in figures if f.layout.legend.yanchor == "bottom" and f.layout.title.yref
             == "container"]
    assert sized
    for figure in sized:
        rows = boardpack.legend_lines(figure, boardpack.HALF_WIDTH_PX)
        assert figure.layout.margin.t >= boardpack.LINE_PX * (1 + rows) + 12


def test_legend_rows_grow_with_entries(boardpack):
    import plotly.graph_objects as go

    figure = go.Figure([go.Scatter(name=f"A long legend entry {i}") for i in range(8)])
    assert boardpack.legend_lines(figure, 1000) < boardpack.legend_lines(figure, 400)
    assert boardpack.legend_lines(go.Figure(), 400) == 0


def test_the_workbook_holds_the_summary_tables(summary):
    import io

    from openpyxl import load_workbook

    from components import boardsummary as words
    from export.workbook import board_workbook

    book = load_workbook(io.BytesIO(board_workbook(summary)))
    assert book.sheetnames == ["Scorecard", "Largest gaps", "What changed"]
    gaps = words.gap_rows(summary.gaps)
    sheet = book["Largest gaps"]
    assert [c.value for c in sheet[1]] == list(gaps.columns)
    read = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2,
                                                                   max_row=gaps.height + 1)]
    assert read == list(gaps.iter_rows())
    scorecard = book["Scorecard"]
    assert scorecard.cell(1, 1).value == "Metric"
    assert scorecard.max_row >= summary.scorecard.height + 1
    assert any("SYNTHETIC DATA" in str(c.value) for c in scorecard["A"])
