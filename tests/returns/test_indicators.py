"""Indicator sets: the TOML file read and checked, every error naming file, line, field
and value."""

from __future__ import annotations

from datetime import date

import pytest

from returns import demo
from returns.indicators import (
    IndicatorSetError,
    from_dict,
    load_indicator_set,
    parse_indicator_set,
)
from tests.returns.conftest import SET_TOML


def test_the_set_is_read(indicator_set):
    assert indicator_set.network_code == "TEST-NET"
    assert indicator_set.due_days == 15
    assert indicator_set.first_month == date(2024, 4, 1)
    assert indicator_set.last_month is None
    assert indicator_set.providers() == ("AAA", "BBB")
    pmh = indicator_set.get("pmh_seen")
    assert (pmh.unit, pmh.multiplier, pmh.breakdowns) == ("%", 100, ("total", "ethnicity"))
    assert pmh.metric_id == "local_pmh_seen"
    assert indicator_set.get("readmitted").multiplier == 1000
    assert [i.id for i in indicator_set.indicators_for("BBB")] == ["pmh_seen"]
    with pytest.raises(KeyError, match="pmh_seen, readmitted"):
        indicator_set.get("nope")


def test_round_trip_through_plain_data(indicator_set):
    assert from_dict(indicator_set.to_dict()) == indicator_set


def test_demo_file_is_valid():
    found = load_indicator_set(demo.INDICATORS_FILE)
    assert found.network_code == "DEMO-NET"
    assert len(found.indicators) == 5
    assert {i.unit for i in found.indicators} == {"%", "per 1,000"}


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "field", "value", "words"), [
    ('polarity = "lower_is_better"', 'polarity = "down"', "polarity", "down",
     "unknown polarity"),
    ('unit = "per 1,000"', 'unit = "per 100"', "unit", "per 100", "unknown unit"),
    ('breakdowns = ["total", "deprivation_quintile"]',
     'breakdowns = ["total", "deprivation_decile"]', "breakdowns", "deprivation_decile",
     "unknown breakdown"),
    ('breakdowns = ["total", "deprivation_quintile"]', 'breakdowns = ["ethnicity"]',
     "breakdowns", "['ethnicity']", "'total' is required"),
    ('id = "readmitted"', 'id = "pmh_seen"', "id", "pmh_seen", "duplicate id"),
    ('id = "readmitted"', 'id = "Readmitted"', "id", "Readmitted", "lower_snake_case"),
    ('id = "readmitted"', 'id = "pph_1500"', "id", "pph_1500", "national metric"),
    ('providers = ["AAA"]', 'providers = ["CCC"]', "providers", "CCC",
     "not one of the network's providers"),
    ('providers = ["AAA"]', 'providers = ["A A"]', "providers", "A A", "organisation code"),
    ('providers = ["AAA"]', 'colour = "blue"', "colour", "blue", "unknown field"),
    ('due_days = 15', 'due_days = -3', "due_days", "-3", "whole number of days"),
    ('first_month = "2024-04"', 'first_month = "April 2024"', "first_month", "April 2024",
     "YYYY-MM"),
])
def test_errors_name_file_line_field_and_value(old, new, field, value, words):
    assert old in SET_TOML
    text = SET_TOML.replace(old, new)
    with pytest.raises(IndicatorSetError) as caught:
        parse_indicator_set(text, name="network.toml")
    error = caught.value
    assert (error.file, error.field) == ("network.toml", field)
    assert error.line == [n for n, line in enumerate(text.splitlines(), 1)
                          if line.strip() == new][-1]
    assert str(error.value) == value
    message = str(error)
    assert message.startswith(f"network.toml:{error.line}: field {field!r}")
    assert words in message


def test_duplicate_id_points_at_the_second_one():
    text = SET_TOML.replace('id = "readmitted"', 'id = "pmh_seen"')
    with pytest.raises(IndicatorSetError) as caught:
        parse_indicator_set(text, name="n.toml")
    assert caught.value.line == [n for n, line in enumerate(text.splitlines(), 1)
                                 if line == 'id = "pmh_seen"'][1]


def test_missing_field_names_the_indicator_table():
    text = SET_TOML.replace('short_title = "Readmitted"\n', "")
    with pytest.raises(IndicatorSetError, match="'short_title'.*missing") as caught:
        parse_indicator_set(text, name="n.toml")
    assert caught.value.line == [n for n, line in enumerate(text.splitlines(), 1)
                                 if line == "[[indicator]]"][1]


def test_toml_syntax_error_gives_the_line():
    text = SET_TOML.replace('unit = "%"', 'unit = "%')
    with pytest.raises(IndicatorSetError, match="not valid TOML") as caught:
        parse_indicator_set(text, name="n.toml")
    assert caught.value.line == _line_of(text, 'unit = "%')


def test_missing_file_and_empty_set(tmp_path):
    with pytest.raises(IndicatorSetError, match="no such file"):
        load_indicator_set(tmp_path / "absent.toml")
    with pytest.raises(IndicatorSetError, match="no \\[\\[indicator\\]\\] tables"):
        parse_indicator_set(SET_TOML.split("[[indicator]]")[0], name="n.toml")
