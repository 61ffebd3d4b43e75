"""A return's CSV: every problem named with file, line, column and value; damaged files
either validate or are refused, never half-written."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returns import db, service
from returns.errors import ReturnRejected
from returns.validate import parse_return
from tests.returns.conftest import GOOD, NOW

APRIL = date(2024, 4, 1)
HEADER = "indicator,dimension,group,numerator,denominator\n"
TOTALS = "pmh_seen,total,All,30,40\nreadmitted,total,All,12,400\n"


def check(text, indicator_set, **where):
    where = {"org_code": "AAA", "month": APRIL} | where
    return parse_return(text, indicator_set=indicator_set, file="aaa.csv", **where)


def problems(text, indicator_set, **where) -> list[tuple]:
    with pytest.raises(ReturnRejected) as caught:
        check(text, indicator_set, **where)
    assert all(p.file == "aaa.csv" for p in caught.value.problems)
    return [(p.line, p.column, p.value) for p in caught.value.problems]


def test_a_good_return(indicator_set):
    parsed = check(GOOD, indicator_set)
    assert (parsed.org_code, parsed.month) == ("AAA", APRIL)
    assert [(r.indicator, r.dimension, r.group, r.numerator, r.denominator, r.line)
            for r in parsed.rows][:3] == [
        ("pmh_seen", "total", "All", 30, 40, 2),
        ("pmh_seen", "ethnicity", "White", 20, 25, 3),
        ("pmh_seen", "ethnicity", "Black", 4, 8, 4),
    ]
    assert parsed.rows[-1].group == "Q1 (most deprived)"


def test_organisation_and_month_from_the_file(indicator_set):
    text = "organisation,month," + HEADER + "".join(
        f"AAA,2024-04,{row}\n" for row in TOTALS.splitlines())
    parsed = parse_return(text, indicator_set=indicator_set, file="aaa.csv")
    assert (parsed.org_code, parsed.month, len(parsed.rows)) == ("AAA", APRIL, 2)


def test_organisation_and_month_must_agree(indicator_set):
    text = "organisation,month," + HEADER + "AAA,2024-04,pmh_seen,total,All,30,40\n" \
        "BBB,2024-05,readmitted,total,All,12,400\n"
    assert problems(text, indicator_set) == [(3, "organisation", "BBB"), (3, "month", "2024-05")]


@pytest.mark.parametrize(("row", "column", "value", "words"), [
    ("pmh_seenn,total,All,1,2", "indicator", "pmh_seenn", "did you mean pmh_seen"),
    ("pmh_seen,deprivation_quintile,Q1,1,2", "dimension", "deprivation_quintile",
     "not a breakdown of pmh_seen"),
    ("pmh_seen,ethnicity,Purple,1,2", "group", "Purple", "not a group of ethnicity"),
    ("pmh_seen,ethnicity,Black,1.5,2", "numerator", "1.5", "not a whole number"),
    ("pmh_seen,ethnicity,Black,2.0,3", "numerator", "2.0", "a decimal"),
    ("pmh_seen,ethnicity,Black,-1,2", "numerator", "-1", "negative"),
    ("pmh_seen,ethnicity,Black,three,4", "numerator", "three", "not a whole number"),
    ("pmh_seen,ethnicity,Black,5,4", "numerator", "5", "larger than the denominator 4"),
    ("pmh_seen,ethnicity,Black,,4", "numerator", "", "empty"),
    ("pmh_seen,ethnicity,Black,*,4", "numerator", "*", "withheld"),
    ("pmh_seen,ethnicity,Black,=SUM(A1:A3),4", "numerator", "=SUM(A1:A3)", "formula"),
    ("@cmd,ethnicity,Black,1,4", "indicator", "@cmd", "formula"),
    ("pmh_seen,ethnicity,White,1,2", None, "pmh_seen, ethnicity, White", "duplicates line 4"),
    ("pmh_seen,ethnicity,Black,1,2,3", None, "6 fields", "header has 5"),
])
def test_each_problem_is_named(indicator_set, row, column, value, words):
    text = HEADER + TOTALS + "pmh_seen,ethnicity,White,1,2\n" + row + "\n"
    with pytest.raises(ReturnRejected) as caught:
        check(text, indicator_set)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == \
        ("aaa.csv", 5, column, value)
    assert words in problem.message
    assert str(problem).startswith("aaa.csv:5:")


def test_indicator_not_submitted_by_the_provider(indicator_set):
    text = HEADER + "pmh_seen,total,All,1,2\nreadmitted,total,All,1,2\n"
    assert problems(text, indicator_set, org_code="BBB") == [(3, "indicator", "readmitted")]


def test_missing_total_rows(indicator_set):
    text = HEADER + "pmh_seen,ethnicity,White,1,2\nreadmitted,total,All,,\n"
    assert problems(text, indicator_set) == [(None, "indicator", "pmh_seen"),
                                             (3, "numerator", "")]


def test_groups_cannot_exceed_the_total(indicator_set):
    text = HEADER + TOTALS + "pmh_seen,ethnicity,White,20,30\npmh_seen,ethnicity,Black,5,20\n"
    assert problems(text, indicator_set) == [(4, "denominator", "50")]


def test_every_problem_is_listed(indicator_set):
    text = HEADER + "pmh_seen,total,All,9,4\nnope,total,All,1,1\nreadmitted,total,All,x,9\n"
    assert problems(text, indicator_set) == [(2, "numerator", "9"), (3, "indicator", "nope"),
                                             (4, "numerator", "x")]


@pytest.mark.parametrize(("raw", "line", "column", "value", "words"), [
    (b"\xef\xbb\xbf" + GOOD.encode(), None, None, None, None),  # a BOM is fine
    (GOOD.replace("White", "Wh\xefte").encode("latin-1"), 3, "group", "ef", "not UTF-8"),
    (b"\xff\xfe" + GOOD.encode("utf-16-le"), None, None, None, "UTF-16"),
    (b"PK\x03\x04rest", None, None, None, "Excel workbook"),
    (b"", None, None, None, "empty"),
    (GOOD.replace(",", ";").encode(), 1, None, GOOD.replace(",", ";").split("\n")[0],
     "semicolons"),
    ((HEADER.replace("group", "grp") + TOTALS).encode(), 1, "grp", "grp", "unknown column"),
])
def test_file_level_problems(indicator_set, raw, line, column, value, words):
    if words is None:
        assert len(check(raw, indicator_set).rows) == 5
        return
    with pytest.raises(ReturnRejected) as caught:
        check(raw, indicator_set)
    problem = caught.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (line, column, value)
    assert words in problem.message


# -- fuzz: random damage never escapes as another exception, never half-writes ---------

_cells = st.one_of(
    st.sampled_from(["", "All", "White", "Q1", "total", "ethnicity", "pmh_seen",
                     "readmitted", "-1", "0", "5", "1e3", "=1+1", "*", "\"", "\n", "1,000",
                     "\ufeff", "NaN", "99999999999999999999"]),
    st.text(max_size=12),
)


@st.composite
def damaged(draw) -> bytes:
    lines = GOOD.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        how = draw(st.sampled_from(["cell", "drop", "copy", "swap", "junk"]))
        at = draw(st.integers(0, len(lines) - 1))
        if how == "cell" and lines:
            cells = lines[at].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_cells)
            lines[at] = ",".join(cells)
        elif how == "drop" and len(lines) > 1:
            del lines[at]
        elif how == "copy":
            lines.insert(at, lines[draw(st.integers(0, len(lines) - 1))])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            lines.insert(at, draw(st.text(max_size=30)))
    text = "\n".join(lines) + "\n"
    raw = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.binary(max_size=4)) + raw[cut:]
    return raw


def _count(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(db.returns)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(db.return_rows))
                .scalar_one())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged())
def test_damaged_returns_validate_or_are_refused(sqlite_engine, indicator_set, raw):
    if service.current_set(sqlite_engine) is None:
        service.define(sqlite_engine, indicator_set, who="admin")
        service.grant(sqlite_engine, "sub_a", service.SUBMITTER, "AAA")
    before = _count(sqlite_engine)
    try:
        version = service.submit(sqlite_engine, "sub_a", "AAA", APRIL, raw, now=NOW)
    except ReturnRejected as error:
        assert error.problems
        assert all(p.file == "return.csv" and p.message for p in error.problems)
        assert _count(sqlite_engine) == before
        return
    stored = service.rows(sqlite_engine, "sub_a", version.id)
    assert _count(sqlite_engine) == (before[0] + 1, before[1] + stored.height)
    assert (stored["numerator"] <= stored["denominator"]).all()
    assert {"pmh_seen", "readmitted"} <= set(
        stored.filter(dimension="total")["indicator"].to_list())


def test_row_problems_and_missing_totals_are_listed_together(indicator_set):
    """One pass names every problem: a wrong total row counts as present (its own problem
    says what is wrong), and an indicator with no total row at all is named too."""
    text = HEADER + "pmh_seen,total,All,45,40\n"
    assert problems(text, indicator_set) == [(2, "numerator", "45"),
                                             (None, "indicator", "readmitted")]
