"""About page: purpose, the data actually loaded, the CLI as it is, accessibility, privacy."""

from __future__ import annotations

import argparse
import dataclasses

import pytest
from dash import html

import cli
from commands import COMMANDS, sentence
from data import queries
from tests.pages.conftest import find, table_of, text_of


@pytest.fixture(scope="module")
def about(page):
    return page("about")


def test_layout_renders_with_no_arguments(about, demo):
    tree = about.layout()
    text = text_of(tree)
    for _anchor, title in about.SECTIONS:
        assert title in text
    assert "Some of the link could not be used" not in text
    for words in ("WCAG 2.2", "axe-core", "keyboard", "table of the same figures",
                  "Okabe–Ito", "Known limitations", "Reporting a problem", "no cookies",
                  "Nothing is fetched from the internet", "heads of midwifery",
                  "ICB and LMNS analysts", "The public"):
        assert words in text, words
    assert demo.manifest["title"] in text


def test_every_cli_command_is_listed(about):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = table_of(about.layout(), about.ABOUT_COMMANDS_TABLE).text
    for name in sub.choices:
        assert f"equalities {name}" in text
    for expected in ("build-demo", "serve", "info", "list-metrics", "list-orgs",
                     "list-periods"):
        assert expected in sub.choices


def test_the_parser_and_the_page_read_one_list(about):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)
    helps = {action.dest: action.help for action in sub._choices_actions}
    frame = about.cli_commands()
    for name, what in frame.select("Command", "What it does").iter_rows():
        name = name.strip("`").removeprefix("equalities ")
        assert what == sentence(name) and helps[name] == COMMANDS[name]
    assert sentence("info") == "What the store holds."


def test_synthetic_store_is_labelled_with_its_stories(about, demo):
    tree = about.layout()
    stories = find(tree, lambda c: getattr(c, "id", None) == about.ABOUT_STORIES)[0]
    items = find(stories, lambda c: isinstance(c, html.Li))
    assert len(items) == len(demo.manifest["stories"])
    text = text_of(stories)
    for code, kinds in demo.manifest["stories"].items():
        assert code in text
        for kind in kinds:
            assert about.STORY_WORDS[kind] in text
    assert "Synthetic demonstration data." in text_of(tree)


def test_unknown_story_is_described_in_words(about):
    items = about.story_items({"stories": {"X1": ["new_kind_of_story"]}}, {"X1": "Trust X"})
    assert "Trust X (X1)" in text_of(items) and "new kind of story" in text_of(items)


def test_real_store_has_no_synthetic_label(about, demo, monkeypatch):
    real = dataclasses.replace(demo, manifest=demo.manifest | {"synthetic": False,
                                                               "title": "Published data"})
    monkeypatch.setattr(queries, "current", lambda: real)
    text = text_of(about.layout())
    assert "Published data" in text
    assert "Synthetic demonstration data" not in text
    assert "Situations planted" not in text


@pytest.mark.parametrize("query", [{"org": "SYN001"}, {"x": "<script>"}])
def test_unknown_parameters_give_a_notice(about, query):
    view, notices = about.AboutView.parse(query)
    assert notices and view.search() == ""
    assert "Some of the link could not be used" in text_of(about.layout(**query))
