"""The returns service: who may do what, submissions that supersede and never overwrite,
review, status per provider and month, and the approved figures.

Every function takes an engine (``returns.db.engine()``); every write is one transaction,
so a refused or failing call leaves nothing behind. Roles come from the ``people`` table:
a *submitter* submits and reads only its own organisation's returns; a *reviewer* reads
every return and approves or sends back; anyone may read approved figures
(:func:`approved_rows`). A user not in the table is refused (:class:`NotAllowed`).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
import sqlalchemy as sa

from data.local.parse import display_name
from metrics.categories import DIMENSIONS
from returns import db
from returns.errors import NotAllowed, Problem, ReturnRejected, ReturnsError
from returns.indicators import IndicatorSet, IndicatorSetError, from_dict
from returns.validate import COLUMNS, ReturnRow, parse_return

__all__ = [
    "APPROVED", "LATE", "MISSING", "NOT_DUE", "REVIEWER", "ROLES", "SENT_BACK", "STATES",
    "SUBMITTED", "SUBMITTER", "NotAllowed", "Person", "Problem", "ReturnRejected",
    "ReturnVersion", "ReturnsError", "StatusCell", "approve", "approved_rows", "current_set",
    "define", "describe_changes", "due_date", "grant", "history",
    "network_status", "person", "rows", "send_back", "status",
    "submit", "template",
]

SUBMITTER = "submitter"
REVIEWER = "reviewer"
ROLES = (SUBMITTER, REVIEWER)

SUBMITTED = "submitted"  # waiting for review
APPROVED = "approved"
SENT_BACK = "sent_back"
LATE = "late"  # nothing submitted and past its due date
MISSING = "missing"  # nothing submitted, the month has ended, not yet due
NOT_DUE = "not_due"  # the month has not ended
STATES = (APPROVED, SUBMITTED, SENT_BACK, LATE, MISSING, NOT_DUE)

APPROVED_COLUMNS = {
    "indicator": pl.String, "org_code": pl.String, "month": pl.Date, "dimension": pl.String,
    "group": pl.String, "numerator": pl.Int64, "denominator": pl.Int64,
    "version": pl.Int32, "approved_at": pl.Datetime("us"),
}
MAX_USER_CHARS = 200
MAX_COMMENT_CHARS = 2000
MAX_LISTED_CHANGES = 5
ROW_COLUMNS = {"indicator": pl.String, "dimension": pl.String, "group": pl.String,
               "numerator": pl.Int64, "denominator": pl.Int64}


@dataclass(frozen=True)
class Person:
    """A signed-in user's role; ``org_code`` is the submitter's organisation."""

    user: str
    role: str
    org_code: str | None


@dataclass(frozen=True)
class ReturnVersion:
    """One version of a provider's return for a month (times in UTC, without a zone)."""

    id: int
    org_code: str
    month: date
    version: int
    state: str  # submitted, approved or sent_back
    submitted_by: str
    submitted_at: datetime
    filename: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    comment: str
    changes: str  # what changed from the previous version, in words
    superseded: bool = False  # a later version exists
    set_version: int = 1  # the indicator set it was checked against


@dataclass(frozen=True)
class StatusCell:
    """Where one provider's return for one month stands on ``today``."""

    org_code: str
    month: date
    state: str  # one of STATES
    due: date
    version: int | None
    submitted_at: datetime | None
    submitted_by: str | None
    reviewed_by: str | None
    comment: str
    return_id: int | None = None  # the latest version's id (None when nothing submitted)
    reviewed_at: datetime | None = None
    approved_version: int | None = None  # the version published (may be older than latest)


def grant(engine: sa.Engine, user: str, role: str, org_code: str | None = None) -> Person:
    """Give ``user`` a role (replacing any earlier one). A submitter needs ``org_code``, one
    of the current set's providers when a set is defined; a reviewer has none."""
    user = _user(user)
    if role not in ROLES:
        raise ReturnsError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    if role == REVIEWER and org_code:
        raise ReturnsError("a reviewer sees every organisation: give no organisation")
    if role == SUBMITTER and not (org_code or "").strip():
        raise ReturnsError("a submitter submits for one organisation: give its code")
    org = org_code.strip() if org_code else None
    with engine.begin() as conn:
        found = _current(conn)
        if org and found is not None and org not in found[1].providers():
            raise ReturnsError(f"organisation {org!r} is not one of the network's providers: "
                               f"{', '.join(found[1].providers())}")
        values = {"role": role, "org_code": org, "granted_at": _utc(None)}
        done = conn.execute(sa.update(db.people).where(db.people.c.user == user)
                            .values(**values))
        if done.rowcount == 0:
            conn.execute(sa.insert(db.people).values(user=user, **values))
    return Person(user, role, org)


def person(engine: sa.Engine, user: str) -> Person | None:
    """``user``'s role, or None when unknown."""
    with engine.connect() as conn:
        return _person(conn, user)


def define(engine: sa.Engine, indicator_set: IndicatorSet, *, who: str) -> int:
    """Store ``indicator_set`` as a new version and return its version number. Once any
    reviewer exists, only a reviewer may define a set."""
    who = _user(who)
    with engine.begin() as conn:
        reviewers = conn.execute(sa.select(sa.func.count()).select_from(db.people)
                                 .where(db.people.c.role == REVIEWER)).scalar_one()
        if reviewers:
            _require(conn, who, REVIEWER, "define the network's indicators")
        latest = conn.execute(sa.select(sa.func.max(db.indicator_sets.c.version))
                              ).scalar_one() or 0
        conn.execute(sa.insert(db.indicator_sets).values(
            version=latest + 1, network_code=indicator_set.network_code,
            definition=json.dumps(indicator_set.to_dict(), sort_keys=True),
            created_by=who, created_at=_utc(None)))
    return latest + 1


def current_set(engine: sa.Engine) -> IndicatorSet | None:
    """The newest indicator set, or None before any is defined."""
    with engine.connect() as conn:
        found = _current(conn)
    return found[1] if found else None


def template(indicator_set: IndicatorSet, org_code: str, month: date) -> str:
    """A return's CSV to fill in: one row per indicator, breakdown and group the provider
    submits, numerator and denominator empty. Total rows are required; breakdown rows left
    with both counts empty are read as not given."""
    indicators = indicator_set.indicators_for(org_code)
    if not indicators:
        raise ReturnsError(f"{org_code!r} is not one of the network's providers: "
                           f"{', '.join(indicator_set.providers())}")
    month = _month(month)
    out = io.StringIO()
    note = [
        f"Monthly return to {indicator_set.network_name}: {org_code}, {month:%B %Y}, "
        f"due by {due_date(indicator_set, month):%d %B %Y}.",
        "One row per indicator, breakdown and group: whole numbers. Every total row is "
        "required; leave both counts empty for a group you do not count.",
    ]
    note += [f"{i.id}: {i.title}. Numerator: {i.numerator}. Denominator: {i.denominator}."
             for i in indicators]
    for text in note:
        out.write("# " + text.replace('"', "'").replace("\n", " ") + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for indicator in indicators:
        for dimension in indicator.breakdowns:
            for group in DIMENSIONS[dimension].all_groups:
                writer.writerow([org_code, f"{month:%Y-%m}", indicator.id, dimension, group,
                                 "", ""])
    return out.getvalue()


def due_date(indicator_set: IndicatorSet, month: date) -> date:
    """The day ``month``'s return is due: ``due_days`` after the month's last day."""
    return _month_end(month) + timedelta(days=indicator_set.due_days)


def submit(engine: sa.Engine, who: str, org_code: str, month: date, csv_text: str | bytes, *,
           filename: str = "return.csv", now: datetime | None = None) -> ReturnVersion:
    """Check and store a return as the next version for ``org_code`` and ``month``; earlier
    versions are kept and marked superseded. Raises :class:`ReturnRejected` listing every
    problem, :class:`NotAllowed` unless ``who`` submits for ``org_code``."""
    when = _utc(now)
    month = _month(month)
    filename = display_name(filename, "return.csv")
    with engine.begin() as conn:
        submitter = _require(conn, who, SUBMITTER, f"submit a return for {org_code}")
        if submitter.org_code != org_code:
            raise NotAllowed(f"{submitter.user} submits for {submitter.org_code}, not "
                             f"{org_code}")
        set_version, indicator_set = _require_set(conn)
        if month < indicator_set.first_month:
            raise ReturnsError(f"{month:%Y-%m} is before the network's first month "
                               f"({indicator_set.first_month:%Y-%m})")
        if indicator_set.last_month and month > indicator_set.last_month:
            raise ReturnsError(f"{month:%Y-%m} is after the network's last month "
                               f"({indicator_set.last_month:%Y-%m})")
        if _month_end(month) >= when.date():
            raise ReturnsError(f"{month:%Y-%m} has not ended yet: submit its return after "
                               f"{_month_end(month):%d %B %Y}")
        parsed = parse_return(csv_text, indicator_set=indicator_set, org_code=org_code,
                              month=month, file=filename)
        versions = _versions(conn, org_code, month, lock=True)
        previous = _row_map(_rows(conn, versions[-1].id)) if versions else None
        changes = describe_changes(previous, {_cell(r): (r.numerator, r.denominator)
                                              for r in parsed.rows})
        if versions:
            conn.execute(sa.update(db.returns).where(
                db.returns.c.org_code == org_code, db.returns.c.month == month,
                ~db.returns.c.superseded).values(superseded=True))
        values = dict(org_code=org_code, month=month, version=len(versions) + 1,
                      state=SUBMITTED, set_version=set_version, filename=filename,
                      submitted_by=submitter.user, submitted_at=when, reviewed_by=None,
                      reviewed_at=None, comment="", changes=changes, superseded=False)
        try:
            new_id = conn.execute(sa.insert(db.returns).values(**values)
                                  .returning(db.returns.c.id)).scalar_one()
        except sa.exc.IntegrityError:
            raise ReturnsError(f"another return for {org_code} {month:%Y-%m} was submitted "
                               "at the same moment; look at its history and try again"
                               ) from None
        conn.execute(sa.insert(db.return_rows), [
            dict(return_id=new_id, indicator=r.indicator, dimension=r.dimension,
                 group=r.group, numerator=r.numerator, denominator=r.denominator)
            for r in parsed.rows])
    return ReturnVersion(id=new_id, **_public(values))


def approve(engine: sa.Engine, who: str, return_id: int, *, comment: str = "",
            now: datetime | None = None) -> ReturnVersion:
    """Approve the latest version of a return waiting for review (reviewers only)."""
    return _review(engine, who, return_id, APPROVED, comment, now)


def send_back(engine: sa.Engine, who: str, return_id: int, *, comment: str,
              now: datetime | None = None) -> ReturnVersion:
    """Send a return waiting for review back to its provider with a comment saying why
    (reviewers only)."""
    if not (comment or "").strip():
        raise ReturnsError("say why the return is sent back: the comment is empty")
    return _review(engine, who, return_id, SENT_BACK, comment, now)


def status(engine: sa.Engine, who: str, *, today: date) -> list[StatusCell]:
    """One cell per provider and month from the set's first month to ``today``'s month
    (or its last month, if earlier), sorted by provider then month; a submitter sees only
    its own organisation."""
    with engine.connect() as conn:
        reader = _require(conn, who, None, "see the returns' status")
        only = reader.org_code if reader.role == SUBMITTER else None
        return _status(conn, today, only)


def network_status(engine: sa.Engine, *, today: date) -> list[StatusCell]:
    """Every provider's cells, as :func:`status` gives a reviewer, with no user: for the
    command line, run by whoever holds the database. Pages use :func:`status`."""
    with engine.connect() as conn:
        return _status(conn, today, None)


def history(engine: sa.Engine, who: str, org_code: str, month: date) -> list[ReturnVersion]:
    """Every version of ``org_code``'s return for ``month``, oldest first."""
    with engine.connect() as conn:
        reader = _require(conn, who, None, "read returns")
        if reader.role == SUBMITTER and reader.org_code != org_code:
            raise NotAllowed(f"{reader.user} reads only {reader.org_code}'s returns, not "
                             f"{org_code}'s")
        return _versions(conn, org_code, _month(month))


def rows(engine: sa.Engine, who: str, return_id: int) -> pl.DataFrame:
    """One version's figures (:data:`ROW_COLUMNS`). A submitter reads its own
    organisation's versions, and approved versions of others."""
    with engine.connect() as conn:
        reader = _require(conn, who, None, "read returns")
        version = _one(conn, return_id)
        if (reader.role == SUBMITTER and reader.org_code != version.org_code
                and version.state != APPROVED):
            raise NotAllowed(f"{reader.user} reads only {reader.org_code}'s returns, and "
                             "approved ones")
        found = _rows(conn, return_id)
    return pl.DataFrame([r._asdict() for r in found], schema=ROW_COLUMNS, orient="row")


def approved_rows(engine: sa.Engine) -> pl.DataFrame:
    """The latest approved version of each provider's return for each month, one row per
    figure (:data:`APPROVED_COLUMNS`), sorted by indicator, organisation, month, dimension
    and group; only indicators of the current set. Readable by anyone."""
    r, rr = db.returns, db.return_rows
    latest = (sa.select(r.c.org_code, r.c.month, sa.func.max(r.c.version).label("version"))
              .where(r.c.state == APPROVED).group_by(r.c.org_code, r.c.month).subquery())
    query = (
        sa.select(rr.c.indicator, r.c.org_code, r.c.month, rr.c.dimension, rr.c.group,
                  rr.c.numerator, rr.c.denominator, r.c.version,
                  r.c.reviewed_at.label("approved_at"))
        .select_from(rr.join(r, rr.c.return_id == r.c.id).join(
            latest, sa.and_(latest.c.org_code == r.c.org_code, latest.c.month == r.c.month,
                            latest.c.version == r.c.version)))
        .where(r.c.state == APPROVED)
    )
    with engine.connect() as conn:
        found = _current(conn)
        if found is None:
            return pl.DataFrame(schema=APPROVED_COLUMNS)
        query = query.where(rr.c.indicator.in_([i.id for i in found[1].indicators]))
        records = [tuple(row) for row in conn.execute(query)]
    frame = pl.DataFrame(records, schema=APPROVED_COLUMNS, orient="row")
    return frame.sort("indicator", "org_code", "month", "dimension", "group")


def describe_changes(previous: dict[tuple[str, str, str], tuple[int, int]] | None,
                     new: dict[tuple[str, str, str], tuple[int, int]]) -> str:
    """What changed from the previous version, in words: "first version: 42 figures", or
    "3 figures changed: pmh_referral_28d total All numerator, ...", rows added and removed,
    or "no figures changed". Names the figures, never their counts: the text is shown
    where small numbers are withheld."""
    if previous is None:
        return f"first version: {2 * len(new)} figures ({len(new)} rows)"
    changed = []
    for cell in sorted(set(previous) & set(new)):
        for name, before, after in zip(("numerator", "denominator"), previous[cell],
                                       new[cell], strict=True):
            if before != after:
                changed.append(f"{' '.join(cell)} {name}")
    parts = []
    if changed:
        parts.append(f"{_plural(len(changed), 'figure')} changed: {_listed(changed)}")
    added = sorted(set(new) - set(previous))
    if added:
        parts.append(f"{_plural(len(added), 'row')} added: "
                     f"{_listed([' '.join(c) for c in added])}")
    removed = sorted(set(previous) - set(new))
    if removed:
        parts.append(f"{_plural(len(removed), 'row')} removed: "
                     f"{_listed([' '.join(c) for c in removed])}")
    return "; ".join(parts) if parts else "no figures changed"


# -- inside ------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED_CHANGES])
    rest = len(items) - MAX_LISTED_CHANGES
    return shown + (f" and {rest} more" if rest > 0 else "")


def _user(user: object) -> str:
    text = user.strip() if isinstance(user, str) else ""
    if not text or len(text) > MAX_USER_CHARS or not text.isprintable():
        raise NotAllowed(f"not a user name: {str(user)[:40]!r}")
    return text


def _utc(now: datetime | None) -> datetime:
    """``now`` (default: this moment) in UTC without a zone, as the tables keep times."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _month(month: date) -> date:
    if isinstance(month, datetime) or not isinstance(month, date):
        raise ReturnsError(f"a month is a date (the 1st), not {month!r}")
    if month.day != 1:
        raise ReturnsError(f"a month is given as its 1st day, not {month.isoformat()}")
    return month


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _months(indicator_set: IndicatorSet, today: date) -> list[date]:
    """The months collected up to ``today``'s month (and not after the last month)."""
    last = min(today, _month_end(indicator_set.last_month or today))
    months, month = [], indicator_set.first_month
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _person(conn: sa.Connection, user: str) -> Person | None:
    if not isinstance(user, str):
        return None
    found = conn.execute(sa.select(db.people).where(db.people.c.user == user.strip())
                         ).mappings().first()
    return Person(found["user"], found["role"], found["org_code"]) if found else None


def _require(conn: sa.Connection, who: str, role: str | None, doing: str) -> Person:
    found = _person(conn, who)
    if found is None:
        raise NotAllowed(f"{str(who)[:40]!r} is not a known user: ask a reviewer to grant "
                         f"you a role to {doing}")
    if role is not None and found.role != role:
        raise NotAllowed(f"{found.user} is a {found.role}: only a {role} may {doing}")
    return found


def _current(conn: sa.Connection) -> tuple[int, IndicatorSet] | None:
    found = conn.execute(sa.select(db.indicator_sets.c.version,
                                   db.indicator_sets.c.definition)
                         .order_by(db.indicator_sets.c.version.desc()).limit(1)).first()
    if found is None:
        return None
    try:
        return found.version, from_dict(json.loads(found.definition),
                                        name=f"indicator set version {found.version}")
    except (ValueError, IndicatorSetError) as error:
        raise ReturnsError(f"the stored indicator set is damaged: {error}") from None


def _require_set(conn: sa.Connection) -> tuple[int, IndicatorSet]:
    found = _current(conn)
    if found is None:
        raise ReturnsError("no indicator set is defined yet: run `equalities returns init`")
    return found


def _version(row) -> ReturnVersion:
    return ReturnVersion(
        id=row["id"], org_code=row["org_code"], month=row["month"], version=row["version"],
        state=row["state"], submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"], filename=row["filename"],
        reviewed_by=row["reviewed_by"], reviewed_at=row["reviewed_at"],
        comment=row["comment"] or "", changes=row["changes"] or "",
        superseded=bool(row["superseded"]), set_version=row["set_version"])


def _public(values: dict) -> dict:
    return {k: v for k, v in values.items() if k in ReturnVersion.__dataclass_fields__}


def _versions(conn: sa.Connection, org_code: str, month: date, *, lock: bool = False
              ) -> list[ReturnVersion]:
    query = (sa.select(db.returns).where(db.returns.c.org_code == org_code,
                                         db.returns.c.month == month)
             .order_by(db.returns.c.version))
    if lock:
        query = query.with_for_update()
    return [_version(r) for r in conn.execute(query).mappings()]


def _one(conn: sa.Connection, return_id: int, *, lock: bool = False) -> ReturnVersion:
    if isinstance(return_id, bool) or not isinstance(return_id, int):
        raise ReturnsError(f"a return id is a whole number, not {return_id!r}")
    query = sa.select(db.returns).where(db.returns.c.id == return_id)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).mappings().first()
    if found is None:
        raise ReturnsError(f"no return with id {return_id}")
    return _version(found)


def _rows(conn: sa.Connection, return_id: int) -> list:
    rr = db.return_rows
    query = (sa.select(rr.c.indicator, rr.c.dimension, rr.c.group, rr.c.numerator,
                       rr.c.denominator).where(rr.c.return_id == return_id)
             .order_by(rr.c.indicator, rr.c.dimension, rr.c.group))
    return list(conn.execute(query))


def _cell(row: ReturnRow) -> tuple[str, str, str]:
    return row.indicator, row.dimension, row.group


def _row_map(found: Iterable) -> dict[tuple[str, str, str], tuple[int, int]]:
    return {(r.indicator, r.dimension, r.group): (r.numerator, r.denominator) for r in found}


def _review(engine: sa.Engine, who: str, return_id: int, state: str, comment: str,
            now: datetime | None) -> ReturnVersion:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ReturnsError(f"the comment is longer than {MAX_COMMENT_CHARS} characters")
    doing = "approve returns" if state == APPROVED else "send returns back"
    when = _utc(now)
    with engine.begin() as conn:
        reviewer = _require(conn, who, REVIEWER, doing)
        version = _one(conn, return_id, lock=True)
        what = f"version {version.version} of {version.org_code}'s {version.month:%Y-%m} return"
        if version.superseded:
            raise ReturnsError(f"{what} was replaced by a later version: review that one")
        if version.state != SUBMITTED:
            raise ReturnsError(f"{what} is already {version.state.replace('_', ' ')}")
        conn.execute(sa.update(db.returns).where(db.returns.c.id == return_id).values(
            state=state, reviewed_by=reviewer.user, reviewed_at=when, comment=comment))
    return ReturnVersion(**{**version.__dict__, "state": state, "reviewed_by": reviewer.user,
                            "reviewed_at": when, "comment": comment})


def _status(conn: sa.Connection, today: date, only: str | None) -> list[StatusCell]:
    found = _current(conn)
    if found is None:
        return []
    indicator_set = found[1]
    providers = tuple(p for p in indicator_set.providers() if only is None or p == only)
    query = sa.select(db.returns).where(db.returns.c.org_code.in_(providers))
    by_cell: dict[tuple[str, date], list[ReturnVersion]] = {}
    for version in sorted((_version(r) for r in conn.execute(query).mappings()),
                          key=lambda v: v.version):
        by_cell.setdefault((version.org_code, version.month), []).append(version)
    return [_status_cell(org, month, by_cell.get((org, month), []),
                         due_date(indicator_set, month), today)
            for org in providers for month in _months(indicator_set, today)]


def _status_cell(org: str, month: date, versions: list[ReturnVersion], due: date,
                 today: date) -> StatusCell:
    approved = [v.version for v in versions if v.state == APPROVED]
    if versions:
        latest = versions[-1]
        return StatusCell(org, month, latest.state, due, latest.version, latest.submitted_at,
                          latest.submitted_by, latest.reviewed_by, latest.comment,
                          latest.id, latest.reviewed_at, max(approved) if approved else None)
    if today <= _month_end(month):
        state = NOT_DUE
    elif today <= due:
        state = MISSING
    else:
        state = LATE
    return StatusCell(org, month, state, due, None, None, None, None, "")
