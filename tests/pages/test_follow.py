"""The view follows you: navigation and "see also" links carry what other pages can use."""

from __future__ import annotations

from urllib.parse import parse_qsl

import dash
import pytest

from components import viewstate
from data import queries
from web import follow

VIEW = "?org=SYN020&metric=pph_1500&period=2024-25&dim=ethnicity&vs=england"


@pytest.fixture()
def request_context(dash_app):
    with dash_app.server.test_request_context("/"):
        yield


def _query(href: str) -> dict[str, str]:
    return dict(parse_qsl(href.partition("?")[2]))


def test_each_page_link_carries_what_that_page_accepts(request_context):
    links = follow.links(follow.selection(VIEW))
    assert _query(links["/trends"])["org"] == "SYN020"
    assert _query(links["/trends"])["metric"] == "pph_1500"
    assert _query(links["/benchmark"])["trusts"] == "SYN020"  # Benchmark's name for it
    assert _query(links["/scorecard"]) == {"org": "SYN020"}
    # A value a page would refuse is left out rather than noticed: Mortality publishes
    # neither this metric nor this period, so its link keeps only the trust.
    mortality = _query(links["/mortality"])
    assert mortality["org"] == "SYN020"
    assert mortality["metric"] != "pph_1500" and mortality["period"] != "2024-25"
    assert mortality["period"] in queries.periods(mortality["metric"])


def test_links_never_bring_a_notice(request_context):
    """Every carried link draws its page without a notice about the link."""
    links = follow.links(follow.selection(VIEW))
    for page in dash.page_registry.values():
        if "canonical" not in page:
            continue
        query = _query(links[page["path"]])
        with viewstate.refusals() as refused:
            page["canonical"](query)
        assert not refused.notices and not refused.parameters, (page["path"], query)


def test_see_also_names_only_pages_that_show_the_view(request_context):
    labels = dict(follow.see_also("/explore", VIEW))
    assert set(labels) == {"This view over time", "Benchmark this", "This trust's scorecard"}
    assert _query(labels["This view over time"])["metric"] == "pph_1500"
    england = dict(follow.see_also("/explore", "?org=ENG&metric=pph_1500&dim=ethnicity"))
    assert "This trust's scorecard" not in england  # England is not a trust
    assert _query(england["The scorecard for England"]) == {"org": "ENG"}
    assert "This view over time" not in dict(follow.see_also("/trends", VIEW))  # itself
    assert follow.see_also("/about", VIEW) == []  # a page without views of its own


def test_a_page_that_cannot_read_the_view_leaves_the_other_links(request_context,
                                                                 monkeypatch, caplog):
    """A store where one page has no default (no open trust for the Board pack) gives that
    page its bare link, logged, and every other page its view."""
    board_pack = next(p for p in dash.page_registry.values() if p["path"] == "/board-pack")

    def fails(_query):
        raise IndexError("no trust to choose")

    monkeypatch.setitem(board_pack, "canonical", fails)
    links = follow.links.uncached(follow.selection(VIEW))
    assert links["/board-pack"] == "/board-pack"
    assert _query(links["/scorecard"]) == {"org": "SYN020"}
    assert "could not carry the view into /board-pack" in caplog.text
