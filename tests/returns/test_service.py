"""The returns service on SQLite and on PostgreSQL: round trip, roles, versions, review,
status, and writes that leave nothing behind when they fail."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
import sqlalchemy as sa

from returns import db, service, validate
from returns.service import NotAllowed, ReturnRejected, ReturnsError
from tests.returns.conftest import GOOD, GOOD_BBB, NOW

APRIL, MAY = date(2024, 4, 1), date(2024, 5, 1)


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (db.returns, db.return_rows)}


def test_round_trip(network, indicator_set):
    assert service.current_set(network) == indicator_set
    first = service.submit(network, "sub_a", "AAA", APRIL, GOOD, filename="april.csv",
                           now=NOW)
    assert (first.org_code, first.month, first.version, first.state) == \
        ("AAA", APRIL, 1, service.SUBMITTED)
    assert (first.submitted_by, first.submitted_at, first.filename) == \
        ("sub_a", NOW, "april.csv")
    assert first.changes == "first version: 10 figures (5 rows)"
    stored = service.rows(network, "rev", first.id)
    assert stored.schema == pl.Schema(service.ROW_COLUMNS)
    assert stored.filter(indicator="pmh_seen", dimension="total").row(0) == \
        ("pmh_seen", "total", "All", 30, 40)
    assert service.approved_rows(network).is_empty()

    done = service.approve(network, "rev", first.id, comment="fine",
                           now=datetime(2024, 5, 12, 9))
    assert (done.state, done.reviewed_by, done.comment) == (service.APPROVED, "rev", "fine")
    approved = service.approved_rows(network)
    assert approved.schema == pl.Schema(service.APPROVED_COLUMNS)
    assert approved.height == 5
    assert approved.filter(indicator="readmitted", dimension="total").row(0, named=True) == {
        "indicator": "readmitted", "org_code": "AAA", "month": APRIL, "dimension": "total",
        "group": "All", "numerator": 12, "denominator": 400, "version": 1,
        "approved_at": datetime(2024, 5, 12, 9)}
    (version,) = service.history(network, "sub_a", "AAA", APRIL)
    assert (version.state, version.reviewed_at, version.superseded) == \
        (service.APPROVED, datetime(2024, 5, 12, 9), False)


def test_times_with_a_zone_are_kept_in_utc(network):
    from datetime import timedelta, timezone

    bst = timezone(timedelta(hours=1))
    made = service.submit(network, "sub_a", "AAA", APRIL, GOOD,
                          now=datetime(2024, 5, 10, 13, tzinfo=bst))
    assert service.history(network, "rev", "AAA", APRIL)[0].submitted_at == \
        datetime(2024, 5, 10, 12)
    assert made.submitted_at == datetime(2024, 5, 10, 12)


def test_versions_supersede_and_say_what_changed(network):
    first = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    service.approve(network, "rev", first.id, now=NOW)
    changed = GOOD.replace("30,40", "31,41").replace("4,8", "5,8") \
        .replace("pmh_seen,ethnicity,White,20,25\n", "") + "pmh_seen,ethnicity,Asian,2,3\n"
    second = service.submit(network, "sub_a", "AAA", APRIL, changed, now=NOW)
    assert second.version == 2
    assert second.changes == (
        "3 figures changed: pmh_seen ethnicity Black numerator, pmh_seen total All "
        "numerator, pmh_seen total All denominator; 1 row added: pmh_seen ethnicity Asian; "
        "1 row removed: pmh_seen ethnicity White")
    assert not any(str(n) in second.changes for n in (4, 5, 30, 31, 40, 41))
    versions = service.history(network, "rev", "AAA", APRIL)
    assert [(v.version, v.state, v.superseded) for v in versions] == [
        (1, service.APPROVED, True), (2, service.SUBMITTED, False)]
    # Version 1 stays published until version 2 is approved.
    assert set(service.approved_rows(network)["version"]) == {1}
    cell = next(c for c in service.status(network, "rev", today=date(2024, 5, 20))
                if c.org_code == "AAA" and c.month == APRIL)
    assert (cell.state, cell.version, cell.approved_version, cell.return_id) == \
        (service.SUBMITTED, 2, 1, second.id)
    service.approve(network, "rev", second.id, now=NOW)
    approved = service.approved_rows(network)
    assert set(approved["version"]) == {2}
    assert approved.filter(dimension="total", indicator="pmh_seen")["numerator"].to_list() == [31]
    same = service.submit(network, "sub_a", "AAA", APRIL, changed, now=NOW)
    assert same.changes == "no figures changed"


def test_review_rules(network):
    first = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    with pytest.raises(ReturnsError, match="comment is empty"):
        service.send_back(network, "rev", first.id, comment="  ")
    back = service.send_back(network, "rev", first.id, comment="Black denominator?", now=NOW)
    assert (back.state, back.comment) == (service.SENT_BACK, "Black denominator?")
    with pytest.raises(ReturnsError, match="already sent back"):
        service.approve(network, "rev", first.id)
    second = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    with pytest.raises(ReturnsError, match="replaced by a later version"):
        service.approve(network, "rev", first.id)
    service.approve(network, "rev", second.id)
    with pytest.raises(ReturnsError, match="already approved"):
        service.approve(network, "rev", second.id)
    with pytest.raises(ReturnsError, match="no return with id 9999"):
        service.approve(network, "rev", 9999)


def test_roles_are_enforced(network):
    mine = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    theirs = service.submit(network, "sub_b", "BBB", APRIL, GOOD_BBB, now=NOW)
    with pytest.raises(NotAllowed, match="submits for BBB, not AAA"):
        service.submit(network, "sub_b", "AAA", APRIL, GOOD, now=NOW)
    with pytest.raises(NotAllowed, match="only a submitter"):
        service.submit(network, "rev", "AAA", APRIL, GOOD, now=NOW)
    with pytest.raises(NotAllowed, match="not a known user"):
        service.submit(network, "stranger", "AAA", APRIL, GOOD, now=NOW)
    # A submitter reads neither the history nor the figures of another's unpublished return.
    with pytest.raises(NotAllowed):
        service.history(network, "sub_a", "BBB", APRIL)
    with pytest.raises(NotAllowed):
        service.rows(network, "sub_a", theirs.id)
    assert service.rows(network, "sub_a", mine.id).height == 5
    for act in (service.approve, service.send_back):
        with pytest.raises(NotAllowed, match="only a reviewer"):
            act(network, "sub_a", mine.id, comment="x")
    for user in ("stranger", "", None):
        with pytest.raises(NotAllowed):
            service.status(network, user, today=date(2024, 6, 1))
        with pytest.raises(NotAllowed):
            service.rows(network, user, mine.id)
    # Once approved, anyone with a role may read it.
    service.approve(network, "rev", theirs.id)
    assert service.rows(network, "sub_a", theirs.id).height == 1
    # A submitter's status shows its own organisation only; a reviewer's, every provider.
    assert {c.org_code for c in service.status(network, "sub_a", today=date(2024, 6, 1))} \
        == {"AAA"}
    assert {c.org_code for c in service.status(network, "rev", today=date(2024, 6, 1))} \
        == {"AAA", "BBB"}
    with pytest.raises(NotAllowed):
        service.define(network, service.current_set(network), who="sub_a")
    assert service.define(network, service.current_set(network), who="rev") == 2


def test_grant(network):
    assert service.person(network, "sub_a") == service.Person("sub_a", "submitter", "AAA")
    assert service.person(network, "nobody") is None
    service.grant(network, "sub_a", service.SUBMITTER, "BBB")
    assert service.person(network, "sub_a").org_code == "BBB"
    with pytest.raises(ReturnsError, match="not one of the network's providers"):
        service.grant(network, "x", service.SUBMITTER, "ZZZ")
    with pytest.raises(ReturnsError, match="give its code"):
        service.grant(network, "x", service.SUBMITTER)
    with pytest.raises(ReturnsError, match="unknown role"):
        service.grant(network, "x", "admin")
    with pytest.raises(ReturnsError, match="give no organisation"):
        service.grant(network, "x", service.REVIEWER, "AAA")


def test_months_that_cannot_be_submitted(network):
    with pytest.raises(ReturnsError, match="has not ended"):
        service.submit(network, "sub_a", "AAA", MAY, GOOD, now=NOW)
    with pytest.raises(ReturnsError, match="before the network's first month"):
        service.submit(network, "sub_a", "AAA", date(2024, 3, 1), GOOD, now=NOW)
    with pytest.raises(ReturnsError, match="1st day"):
        service.submit(network, "sub_a", "AAA", date(2024, 4, 2), GOOD, now=NOW)


def test_status_per_provider_and_month(network):
    april_a = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    service.approve(network, "rev", april_a.id, now=NOW)
    service.submit(network, "sub_b", "BBB", MAY, GOOD_BBB, now=datetime(2024, 6, 3))
    cells = service.status(network, "rev", today=date(2024, 6, 10))
    assert [(c.org_code, c.month.month, c.state, c.due) for c in cells] == [
        ("AAA", 4, "approved", date(2024, 5, 15)),
        ("AAA", 5, "missing", date(2024, 6, 15)),
        ("AAA", 6, "not_due", date(2024, 7, 15)),
        ("BBB", 4, "late", date(2024, 5, 15)),
        ("BBB", 5, "submitted", date(2024, 6, 15)),
        ("BBB", 6, "not_due", date(2024, 7, 15)),
    ]
    waiting = cells[4]
    assert (waiting.version, waiting.submitted_by, waiting.submitted_at) == \
        (1, "sub_b", datetime(2024, 6, 3))
    # Past its due date a month with nothing submitted is late; the day itself is not.
    on_due = service.status(network, "rev", today=date(2024, 6, 15))
    assert on_due[1].state == "missing"
    assert service.status(network, "rev", today=date(2024, 6, 16))[1].state == "late"
    assert service.status(network, "rev", today=date(2024, 3, 31)) == []


def test_rejected_and_failed_submissions_leave_nothing(network, monkeypatch):
    first = service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    before = _counts(network)
    with pytest.raises(ReturnRejected) as caught:
        service.submit(network, "sub_a", "AAA", APRIL, GOOD.replace("30,40", "50,40"),
                       now=NOW)
    assert [(p.line, p.column, p.value) for p in caught.value.problems] == [
        (2, "numerator", "50")]
    assert _counts(network) == before

    # A failure half-way (the database refuses a row after the return itself and the
    # superseding were written) rolls everything back.
    real = validate.parse_return

    def twice(*args, **kwargs):
        parsed = real(*args, **kwargs)
        return validate.ParsedReturn(parsed.org_code, parsed.month,
                                     parsed.rows + parsed.rows[:1])

    monkeypatch.setattr(service, "parse_return", twice)
    with pytest.raises(sa.exc.IntegrityError):
        service.submit(network, "sub_a", "AAA", APRIL, GOOD, now=NOW)
    assert _counts(network) == before
    (only,) = service.history(network, "rev", "AAA", APRIL)
    assert (only.id, only.superseded) == (first.id, False)


def test_template_fills_in_to_a_valid_return(network, indicator_set):
    text = service.template(indicator_set, "AAA", APRIL)
    assert "due by 15 May 2024" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    assert lines[header] == "organisation,month,indicator,dimension,group,numerator,denominator"
    assert len(lines) - header - 1 == (1 + 8) + (1 + 6)
    with pytest.raises(ReturnRejected) as caught:  # the blank template: totals required
        service.submit(network, "sub_a", "AAA", APRIL, text, now=NOW)
    assert {p.value for p in caught.value.problems} == {""}
    assert len(caught.value.problems) == 2
    filled = text.replace("pmh_seen,total,All,,", "pmh_seen,total,All,3,4") \
        .replace("readmitted,total,All,,", "readmitted,total,All,1,90")
    done = service.submit(network, "sub_a", "AAA", APRIL, filled, now=NOW)
    assert service.rows(network, "sub_a", done.id).height == 2
    with pytest.raises(ReturnsError, match="not one of the network's providers"):
        service.template(indicator_set, "ZZZ", APRIL)
