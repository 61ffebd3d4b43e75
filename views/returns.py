"""The regional returns page's view model: one frozen object per render, built from the
returns service for the signed-in person (or for anyone, with sign-in off).

Not cached: a return can be submitted or reviewed at any moment, what is shown depends on
who asks, and the states depend on the day. Figures pass through disclosure control here
(:func:`controlled`) so the table and anything made from the model show the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from data import queries, store
from metrics import registry
from metrics.categories import DIMENSIONS, TOTAL
from metrics.disclosure import SMALL_MAX
from returns import db, service
from returns.indicators import IndicatorSet
from returns.service import NotAllowed, Person, ReturnVersion, StatusCell

PUBLIC, SUBMITTER, REVIEWER = "public", service.SUBMITTER, service.REVIEWER
# A state only the public grid uses: the month has ended and no version is approved yet
# (whether one is waiting, sent back or not sent is for the network and the provider).
UNPUBLISHED = "unpublished"
GRID_MONTHS = 12
FIGURE_KEYS = ("indicator", "dimension", "group")


@dataclass(frozen=True)
class ReturnsModel:
    """Everything one view of ``/returns`` shows.

    ``role`` is ``public`` (sign-in off, or a user with no role), ``submitter`` or
    ``reviewer``; ``cells`` are the grid's cells this reader may see; ``versions`` the
    chosen return's versions (empty when it may not be opened, ``refused`` saying why);
    ``figures`` the figures of ``shown`` (a version, or the approved one for the public)
    after disclosure control; ``approved`` the approved totals of ``month`` by provider.
    """

    today: date
    user: str | None
    person: Person | None
    indicator_set: IndicatorSet | None
    names: dict[str, str] = field(default_factory=dict)
    cells: tuple[StatusCell, ...] = ()
    providers: tuple[str, ...] = ()
    months: tuple[date, ...] = ()  # the grid's columns
    offered: tuple[date, ...] = ()  # every month a return can be chosen for
    org: str | None = None
    month: date | None = None
    versions: tuple[ReturnVersion, ...] = ()
    shown: ReturnVersion | None = None
    figures: pl.DataFrame = field(default_factory=pl.DataFrame)
    approved: pl.DataFrame = field(default_factory=pl.DataFrame)
    refused: str | None = None
    synthetic: bool = False

    @property
    def role(self) -> str:
        return self.person.role if self.person else PUBLIC

    @property
    def waiting(self) -> tuple[StatusCell, ...]:
        """Returns waiting for review, oldest month first (what a reviewer works through)."""
        return tuple(sorted((c for c in self.cells if c.state == service.SUBMITTED),
                            key=lambda c: (c.month, c.org_code)))

    @property
    def chosen_cell(self) -> StatusCell | None:
        return next((c for c in self.cells if (c.org_code, c.month) == (self.org, self.month)),
                    None)

    def may_open(self, org: str) -> bool:
        """Whether this reader may open ``org``'s unpublished returns."""
        return may_open(self.person, org)


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(first: date, last: date) -> tuple[date, ...]:
    """The 1st of every month from ``first``'s month to ``last``'s, in order."""
    out, current = [], month_start(first)
    while current <= last:
        out.append(current)
        current = next_month(current)
    return tuple(out)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_ended(month: date, today: date) -> bool:
    return today >= next_month(month)


def parse_month(text: str) -> date | None:
    """``"2025-03"`` -> ``date(2025, 3, 1)``; None for anything else."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        return None


def collected_months(indicator_set: IndicatorSet, today: date) -> tuple[date, ...]:
    """The months the network collects up to ``today``'s (to its last month, if it ended)."""
    last = min(today, indicator_set.last_month or today)
    return months_between(indicator_set.first_month, last)


def engine():
    return db.engine()


def indicator_set():
    """The network's current indicator set, or None before one is defined (or before any
    returns database is set up: pages never create one)."""
    return service.current_set(engine()) if db.configured() else None


# -- disclosure control -----------------------------------------------------------------------


def controlled(figures: pl.DataFrame) -> pl.DataFrame:
    """``figures`` (``indicator, dimension, group, numerator, denominator``) with counts of
    1 to ``SMALL_MAX`` withheld, as the store withholds them below national level.

    A small numerator is withheld with the value (its denominator stays); a small
    denominator withholds the cell. Where one group of a breakdown is withheld the
    next-smallest group's numerator is withheld too, so the total minus the other groups
    does not give it back (and the total's, when no other group can be). Adds
    ``suppressed`` (bool); withheld counts become null.
    """
    if figures.is_empty():
        return figures.with_columns(suppressed=pl.lit(False))
    small = lambda c: pl.col(c).is_between(1, SMALL_MAX)  # noqa: E731
    frame = figures.with_row_index("_row").with_columns(
        _num=small("numerator") | small("denominator"), _den=small("denominator"))
    withheld_num = set(frame.filter(pl.col("_num"))["_row"].to_list())
    for _key, group in frame.filter(pl.col("dimension") != TOTAL).group_by(
            ["indicator", "dimension"], maintain_order=True):
        hidden = [r for r in group["_row"].to_list() if r in withheld_num]
        if len(hidden) != 1:
            continue
        others = group.filter(~pl.col("_row").is_in(hidden) & (pl.col("numerator") > 0)
                              ).sort("numerator", "_row")
        if not others.is_empty():
            withheld_num.add(others["_row"][0])
        else:
            total = frame.filter((pl.col("indicator") == group["indicator"][0])
                                 & (pl.col("dimension") == TOTAL))
            withheld_num.update(total["_row"].to_list())
    flagged = frame.with_columns(suppressed=pl.col("_row").is_in(sorted(withheld_num)))
    return flagged.with_columns(
        numerator=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("numerator")),
        denominator=pl.when(pl.col("_den")).then(None).otherwise(pl.col("denominator")),
    ).drop("_row", "_num", "_den")


def in_order(figures: pl.DataFrame, indicator_set: IndicatorSet) -> pl.DataFrame:
    """Figures in reading order: the set's indicators, the total first, then each
    breakdown's groups in their published order."""
    if figures.is_empty():
        return figures
    indicators = {i.id: n for n, i in enumerate(indicator_set.indicators)}
    dimensions = {d: n for n, d in enumerate(DIMENSIONS)}  # the total first
    groups = {(d, g): n for d, dim in DIMENSIONS.items()
              for n, g in enumerate(dim.all_groups)}
    rank = [(indicators.get(r["indicator"], len(indicators)),
             dimensions.get(r["dimension"], len(dimensions)),
             groups.get((r["dimension"], r["group"]), 0), r["group"])
            for r in figures.iter_rows(named=True)]
    order = sorted(range(len(rank)), key=rank.__getitem__)
    return figures[order]


# -- the grid for anyone ----------------------------------------------------------------------


def public_cells(indicator_set: IndicatorSet, approved: pl.DataFrame, *,
                 today: date) -> tuple[StatusCell, ...]:
    """The grid without sign-in: approved (with the version published), not yet approved
    once the month has ended (:data:`UNPUBLISHED`), or not due; nothing about returns that
    are not published."""
    published = {(r["org_code"], r["month"]): r["version"] for r in
                 approved.select("org_code", "month", "version").unique().iter_rows(named=True)}
    cells = []
    for org in indicator_set.providers():
        for month in collected_months(indicator_set, today):
            version = published.get((org, month))
            due = service.due_date(indicator_set, month)
            state = service.APPROVED if version else \
                UNPUBLISHED if month_ended(month, today) else service.NOT_DUE
            cells.append(StatusCell(org, month, state, due, version, None, None, None, "",
                                    approved_version=version))
    return tuple(cells)


# -- choosing a return --------------------------------------------------------------------------


def default_choice(cells: tuple[StatusCell, ...], person: Person | None
                   ) -> tuple[str | None, date | None]:
    """What a reader sees first: a reviewer the oldest return waiting; a submitter its
    oldest return needing action (sent back, late or due), else its latest ended month."""
    if person is None:
        return None, None
    if person.role == REVIEWER:
        waiting = sorted((c for c in cells if c.state == service.SUBMITTED),
                         key=lambda c: (c.month, c.org_code))
        return (waiting[0].org_code, waiting[0].month) if waiting else (None, None)
    own = [c for c in cells if c.org_code == person.org_code]
    action = [c for c in own if c.state in (service.SENT_BACK, service.LATE, service.MISSING)]
    ended = [c for c in own if c.state != service.NOT_DUE]
    pick = min(action, key=lambda c: c.month) if action else \
        max(ended, key=lambda c: c.month) if ended else None
    return person.org_code, pick.month if pick else None


def published(indicator_set: IndicatorSet, month: date | None,
              org: str | None = None) -> pl.DataFrame:
    """The figures of ``month`` as the store publishes them (the same numbers, withheld the
    same way, as every other page shows): ``indicator, org_code, dimension, group,
    numerator, denominator, suppressed``, trusts only, optionally one ``org``."""
    columns = ("indicator", "org_code", *FIGURE_KEYS[1:], "numerator", "denominator",
               "suppressed")
    if month is None:
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    try:
        counts = queries.month_counts(tuple(i.metric_id for i in indicator_set.indicators),
                                      month.isoformat())
    except store.StoreError:
        counts = pl.DataFrame(schema={"metric": pl.String, "org_level": pl.String,
                                      "org_code": pl.String, "dimension": pl.String,
                                      "group": pl.String, "numerator": pl.Int64,
                                      "denominator": pl.Int64, "suppressed": pl.Boolean})
    rows = counts.filter((pl.col("org_level") == "trust")
                         & (pl.col("org_code") == org if org else pl.lit(True)))
    return rows.with_columns(
        indicator=pl.col("metric").str.strip_prefix(registry.LOCAL_PREFIX)
    ).select(columns)


def approved_totals(indicator_set: IndicatorSet, month: date | None) -> pl.DataFrame:
    """The published totals of ``month``: one row per provider and indicator."""
    totals = published(indicator_set, month).filter(pl.col("dimension") == TOTAL)
    return totals if not totals.is_empty() else pl.DataFrame()


def _names() -> tuple[dict[str, str], bool]:
    try:
        current = queries.current()
    except store.StoreError:
        return {}, False
    orgs = current.organisations
    return (dict(zip(orgs["org_code"], orgs["name"], strict=True)),
            bool(current.manifest.get("synthetic")))


def returns_model(user: str | None, org: str | None, month: date | None, *,
                  today: date) -> ReturnsModel:
    """The page for ``user`` (None with sign-in off) choosing ``org`` and ``month`` (None
    for the reader's default) on ``today``."""
    names, synthetic = _names()
    if not db.configured():
        return ReturnsModel(today, user, None, None, names, synthetic=synthetic)
    target = engine()
    chosen_set = service.current_set(target)
    person = service.person(target, user) if user else None
    if chosen_set is None:
        return ReturnsModel(today, user, person, None, names, synthetic=synthetic)
    approved = service.approved_rows(target)
    cells = tuple(service.status(target, user, today=today)) if person else \
        public_cells(chosen_set, approved, today=today)
    providers = tuple(dict.fromkeys(c.org_code for c in cells))
    if person is None and (org, month) == (None, None):
        latest = approved["month"].max() if not approved.is_empty() else None
        month = latest
    if (org, month) == (None, None):
        org, month = default_choice(cells, person)
    elif person is not None and month is None:
        month = default_choice(cells, person)[1] if person.role == SUBMITTER else None
    if person is not None and person.role == SUBMITTER and org is None:
        org = person.org_code
    base = dict(today=today, user=user, person=person, indicator_set=chosen_set, names=names,
                cells=cells, providers=providers,
                months=tuple(sorted({c.month for c in cells}))[-GRID_MONTHS:],
                offered=collected_months(chosen_set, today), org=org, month=month,
                approved=approved_totals(chosen_set, month), synthetic=synthetic)
    if org is None or month is None:
        return ReturnsModel(**base)
    shown_public = in_order(published(chosen_set, month, org).drop("org_code"), chosen_set)
    if not may_open(person, org):
        refused = None if person is None else (
            "You can open only your own organisation's returns; other providers' figures "
            "are shown once approved.")
        return ReturnsModel(**base, figures=shown_public, refused=refused)
    try:
        versions = tuple(service.history(target, user, org, month))
    except NotAllowed as error:
        return ReturnsModel(**base, figures=shown_public, refused=str(error))
    shown = versions[-1] if versions else None
    figures = controlled(in_order(service.rows(target, user, shown.id), chosen_set)) \
        if shown else pl.DataFrame()
    return ReturnsModel(**base, versions=versions, shown=shown, figures=figures)


def may_open(person: Person | None, org: str) -> bool:
    """Whether ``person`` may open ``org``'s unpublished returns."""
    return person is not None and (person.role == REVIEWER or person.org_code == org)
