"""Builders for the regional returns page: the status grid, reminders of what is due, the
network's indicator set, a return's versions and figures.

Pure functions: facts in (status cells, versions, frames the view model holds), a Polars
frame or a Dash tree out. Every state is written in words as well as shown in colour, and
every table has a caption and headers for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape

import polars as pl
from dash import html

from components import format as fmt
from components import tables
from components.localdata import badge
from metrics.categories import DIMENSIONS, TOTAL
from metrics.disclosure import SYMBOL_NOT_AVAILABLE, SYMBOL_SUPPRESSED

APPROVED, SUBMITTED, SENT_BACK = "approved", "submitted", "sent_back"
LATE, MISSING, NOT_DUE = "late", "missing", "not_due"
UNPUBLISHED = "unpublished"  # the grid without sign-in: ended, no version approved yet
STATES = (APPROVED, SUBMITTED, SENT_BACK, LATE, MISSING, NOT_DUE)
PUBLIC_STATES = (APPROVED, UNPUBLISHED, NOT_DUE)
# Each state in words (the grid's cells), and what it means (the grid's key).
STATE_WORDS = {
    APPROVED: "Approved",
    SUBMITTED: "Waiting for review",
    SENT_BACK: "Sent back",
    LATE: "Late",
    MISSING: "Due",
    NOT_DUE: "Not due",
    UNPUBLISHED: "Not approved yet",
}
STATE_MEANINGS = {
    APPROVED: "a reviewer approved the latest version; its figures are published",
    SUBMITTED: "submitted and waiting for a reviewer",
    SENT_BACK: "a reviewer sent it back with a comment; a corrected version is needed",
    LATE: "nothing submitted and the due date has passed",
    MISSING: "nothing submitted yet; the due date has not passed",
    NOT_DUE: "the month has not ended",
    UNPUBLISHED: "the month has ended and no version is approved yet",
}
MAX_REMINDERS = 6  # lines per provider; older late months are counted, not listed
STATE_CLASS = "returns-state"
GRID_CLASS = "table table-sm nhs-table returns-grid"
HISTORY_COLUMNS = ("Version", "State", "Submitted by", "Submitted", "File", "What changed",
                   "Reviewed by", "Reviewed", "Comment")
FIGURE_COLUMNS = ("Indicator", "Breakdown", "Group", "Numerator", "Denominator", "Value")
INDICATOR_COLUMNS = ("Flag", "Indicator", "Metric id", "Numerator", "Denominator", "Unit",
                     "Breakdowns", "Providers")
PROBLEM_COLUMNS = ("File", "Line", "Column", "Value", "Problem")
MAX_PROBLEMS_SHOWN = 100


# -- words ----------------------------------------------------------------------------------


def month_words(month: date) -> str:
    """``date(2025, 3, 1)`` -> ``"March 2025"``."""
    return f"{month:%B %Y}"


def month_short(month: date) -> str:
    """``date(2025, 3, 1)`` -> ``"Mar 2025"`` (the grid's column headings)."""
    return f"{month:%b %Y}"


def day_words(day: date | datetime | None) -> str:
    """``date(2025, 4, 20)`` -> ``"20 April 2025"``; a time adds ``at 14:05``."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        return f"{day:%-d %B %Y at %H:%M}"
    return f"{day:%-d %B %Y}"


def days_words(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def org_words(code: str, names: dict[str, str]) -> str:
    """``"Name (CODE)"``, or the code alone when the store does not name it."""
    name = names.get(code)
    return f"{name} ({code})" if name and name != code else code


def cell_words(cell) -> str:
    """A status cell in words: ``"Approved (version 2)"``, ``"Due 20 May 2025"``."""
    words = STATE_WORDS[cell.state]
    if cell.state == MISSING:
        return f"Due {day_words(cell.due)}"
    if cell.version:
        return f"{words} (version {cell.version})"
    return words


def cell_short(cell) -> str:
    """A status cell as the grid writes it: ``"Approved"``, ``"Approved v2"`` (a later
    version), ``"Due 20 May"`` (the full words are its link's label)."""
    if cell.state == MISSING:
        return f"Due {cell.due:%-d %b}"
    words = STATE_WORDS[cell.state]
    return f"{words} v{cell.version}" if cell.version and cell.version > 1 else words


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, state.replace("_", " ").capitalize())


# -- the status grid ------------------------------------------------------------------------


def grid_months(cells: Sequence, limit: int = 12) -> tuple[date, ...]:
    """The months the grid shows: the ``limit`` most recent months the cells cover."""
    months = sorted({c.month for c in cells})
    return tuple(months[-limit:])


def status_grid(cells: Sequence, *, names: dict[str, str], providers: Sequence[str],
                months: Sequence[date], href: Callable[[object], str | None],
                chosen: tuple[str, date] | None = None, table_id: str = "returns-grid",
                caption: str = "") -> html.Div:
    """Providers (rows) by months (columns), each cell the state in words and colour.

    ``href(cell)`` gives the address that opens a cell's return, or None where the reader
    may not open it; ``chosen`` (provider, month) is outlined. Sent as one HTML string
    (:func:`components.tables.markup`) in a scrolling box named for screen readers.
    """
    by_key = {(c.org_code, c.month): c for c in cells}
    head = '<th scope="col">Provider</th>' + "".join(
        f'<th scope="col" class="text-nowrap">{escape(month_short(m))}</th>' for m in months)
    body = []
    for org in providers:
        row = [f'<th scope="row">{tables.plain_cell(org_words(org, names))}</th>']
        for month in months:
            cell = by_key.get((org, month))
            if cell is None:
                row.append(f'<td class="{STATE_CLASS}">{SYMBOL_NOT_AVAILABLE}</td>')
                continue
            words = tables.plain_cell(cell_short(cell))
            link = href(cell)
            # The label starts with the words shown (WCAG 2.5.3), then says whose and when.
            full = cell_words(cell)
            label = escape(f"{cell_short(cell)}: {org_words(org, names)}, "
                           f"{month_words(month)}" + (f", {full}" if full != cell_short(cell)
                                                      else ""), quote=True)
            inner = f'<a href="{escape(link, quote=True)}" aria-label="{label}">{words}</a>' \
                if link else f'<span title="{label}">{words}</span>'
            mark = " returns-chosen" if chosen == (org, month) else ""
            row.append(f'<td class="{STATE_CLASS} {STATE_CLASS}-{cell.state}{mark}" '
                       f'data-state="{cell.state}">{inner}</td>')
        body.append("<tr>" + "".join(row) + "</tr>")
    text = (f'<table class="{GRID_CLASS}" id="{escape(table_id)}"><caption>'
            f"{tables.plain_cell(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")
    return html.Div(tables.markup(text), className="table-scroll returns-grid-box",
                    tabIndex="0", role="region", **{"aria-label": "Returns by provider and "
                                                                  "month"})


def state_key(states: Sequence[str] = STATES) -> html.Div:
    """The key to the grid: each state's words, colour and meaning."""
    return html.Div([
        html.H3("Key", className="h6 mb-1"),
        html.Ul([html.Li([html.Span(STATE_WORDS[s], className=f"{STATE_CLASS} "
                                    f"{STATE_CLASS}-{s} returns-key-chip"),
                          f" {STATE_MEANINGS[s]}."]) for s in states],
                className="list-unstyled returns-key small mb-0"),
    ], className="mb-3")


def counts_sentence(cells: Sequence, months: Sequence[date]) -> str:
    """How many returns are in each state over the grid's months, in words."""
    shown = [c for c in cells if c.month in set(months)]
    counts = {s: sum(1 for c in shown if c.state == s) for s in STATE_WORDS}
    parts = [f"{counts[s]} {STATE_WORDS[s].lower()}" for s in STATE_WORDS if counts[s]]
    return "Returns shown: " + (fmt.join_words(parts) if parts else "none") + "."


# -- reminders ------------------------------------------------------------------------------


def reminder_lines(cells: Sequence, today: date) -> list[str]:
    """What one provider still has to send, oldest first: late returns, sent back ones and
    returns due (empty when nothing is outstanding). Beyond :data:`MAX_REMINDERS` the
    oldest are counted in a first line rather than listed."""
    outstanding = sorted((c for c in cells if c.state in (LATE, SENT_BACK, MISSING)),
                         key=lambda c: c.month)
    older = outstanding[:-MAX_REMINDERS] if len(outstanding) > MAX_REMINDERS else []
    lines = [f"{len(older)} earlier month{'s' if len(older) != 1 else ''} "
             f"({month_words(older[0].month)} to {month_words(older[-1].month)}) "
             "also outstanding."] if older else []
    for cell in outstanding[len(older):]:
        month = month_words(cell.month)
        if cell.state == LATE:
            overdue = (today - cell.due).days
            lines.append(f"{month}: late, was due {day_words(cell.due)} "
                         f"({days_words(overdue)} ago).")
        elif cell.state == SENT_BACK:
            why = f" Reviewer's comment: “{cell.comment}”" if cell.comment else ""
            lines.append(f"{month}: version {cell.version} was sent back; send a corrected "
                         f"version.{why}")
        elif cell.state == MISSING:
            left = (cell.due - today).days
            when = "today" if left == 0 else f"in {days_words(left)}"
            lines.append(f"{month}: due {day_words(cell.due)} ({when}).")
    return lines


def next_due(cells: Sequence, today: date) -> date | None:
    """The next due date after ``today`` of a month not yet ended (None when none is)."""
    upcoming = [c.due for c in cells if c.state == NOT_DUE and c.due >= today]
    return min(upcoming) if upcoming else None


def reminders(cells: Sequence, *, names: dict[str, str], providers: Sequence[str],
              today: date, list_id: str = "returns-reminders") -> html.Div:
    """Per provider: what is due and when, and what is late or sent back."""
    items = []
    for org in providers:
        own = [c for c in cells if c.org_code == org]
        lines = reminder_lines(own, today)
        upcoming = next_due(own, today)
        tail = f" Next return due {day_words(upcoming)}." if upcoming else ""
        if lines:
            items.append(html.Li([html.Strong(org_words(org, names)),
                                  html.Ul([html.Li(line) for line in lines]),
                                  html.Span(tail.strip(), className="small") if tail else None],
                                 className="mb-2"))
        else:
            items.append(html.Li([html.Strong(org_words(org, names)),
                                  f": nothing outstanding.{tail}"], className="mb-2"))
    return html.Ul(items, id=list_id, className="returns-reminders")


# -- the indicator set ----------------------------------------------------------------------


def _breakdown_words(breakdowns: Sequence[str]) -> str:
    return ", ".join("total" if b == TOTAL else DIMENSIONS[b].label.lower()
                     if b in DIMENSIONS else b for b in breakdowns)


def indicator_rows(indicator_set, names: dict[str, str] | None = None) -> pl.DataFrame:
    """One row per local indicator of the set, flagged Local (:data:`INDICATOR_COLUMNS`)."""
    names = names or {}
    everyone = indicator_set.providers()
    rows = [{
        "Flag": "Local",
        "Indicator": i.title,
        "Metric id": f"local_{i.id}",
        "Numerator": i.numerator,
        "Denominator": i.denominator,
        "Unit": i.unit,
        "Breakdowns": _breakdown_words(i.breakdowns),
        "Providers": f"All {len(everyone)} providers" if set(i.providers) == set(everyone)
        else ", ".join(org_words(p, names) for p in i.providers),
    } for i in indicator_set.indicators]
    return pl.DataFrame(rows, schema=dict.fromkeys(INDICATOR_COLUMNS, pl.String))


def set_sentence(indicator_set, providers: int) -> str:
    """What the network collects, from whom and when, in one sentence."""
    count = len(indicator_set.indicators)
    return (f"{indicator_set.network_name} ({indicator_set.network_code}) collects "
            f"{count} local indicator{'s' if count != 1 else ''} each month from "
            f"{providers} provider{'s' if providers != 1 else ''}, from "
            f"{month_words(indicator_set.first_month)}. A month's return is due "
            f"{days_words(indicator_set.due_days)} after the month ends.")


def indicator_summary(indicator_set, *, names: dict[str, str],
                      table_id: str = "returns-indicators") -> html.Div:
    """The network's indicator set: a sentence and the table of its indicators."""
    return html.Div([
        html.P([badge(), " ", set_sentence(indicator_set, len(indicator_set.providers()))]),
        tables.html_table(indicator_rows(indicator_set, names),
                          caption=f"Local indicators of {indicator_set.network_name}",
                          table_id=table_id),
    ])


# -- versions and figures -------------------------------------------------------------------


def history_rows(versions: Sequence) -> pl.DataFrame:
    """Every version of one return, newest first (:data:`HISTORY_COLUMNS`)."""
    rows = [{
        "Version": str(v.version),
        "State": state_words(v.state),
        "Submitted by": v.submitted_by,
        "Submitted": day_words(v.submitted_at),
        "File": v.filename,
        "What changed": v.changes or "",
        "Reviewed by": v.reviewed_by or "",
        "Reviewed": day_words(v.reviewed_at),
        "Comment": v.comment or "",
    } for v in sorted(versions, key=lambda v: v.version, reverse=True)]
    return pl.DataFrame(rows, schema=dict.fromkeys(HISTORY_COLUMNS, pl.String))


def history_table(versions: Sequence, *, caption: str,
                  table_id: str = "returns-history") -> html.Div:
    if not versions:
        return html.P("No version of this return has been submitted.", id=table_id,
                      className="small")
    return html.Div(tables.html_table(history_rows(versions), caption=caption,
                                      table_id=table_id), className="table-responsive")


def _count(value, suppressed: bool) -> str:
    if suppressed:
        return SYMBOL_SUPPRESSED
    return fmt.count_cell(value)


def _value(row: dict, multiplier: int, decimals: int = 1) -> str:
    if row["suppressed"]:
        return SYMBOL_SUPPRESSED
    numerator, denominator = row["numerator"], row["denominator"]
    if fmt.missing(numerator) or fmt.missing(denominator) or not denominator:
        return SYMBOL_NOT_AVAILABLE
    return fmt.number(numerator / denominator * multiplier, decimals)


def _with_unit(value: str, unit: str) -> str:
    return value if value in (SYMBOL_SUPPRESSED, SYMBOL_NOT_AVAILABLE) else value + unit


def figure_rows(figures: pl.DataFrame, indicator_set) -> pl.DataFrame:
    """A version's figures as shown (:data:`FIGURE_COLUMNS`): counts withheld by disclosure
    control (``suppressed``) as ``*``, values with the indicator's unit.

    ``figures`` has ``indicator, dimension, group, numerator, denominator, suppressed`` (the
    view model's, after disclosure control).
    """
    known = {i.id: i for i in indicator_set.indicators}
    rows = []
    for row in figures.iter_rows(named=True):
        indicator = known.get(row["indicator"])
        title = indicator.short_title if indicator else row["indicator"]
        unit = ("%" if indicator.unit == "%" else f" {indicator.unit}") if indicator else ""
        rows.append({
            "Indicator": title,
            "Breakdown": "Total" if row["dimension"] == TOTAL else
            DIMENSIONS[row["dimension"]].label if row["dimension"] in DIMENSIONS
            else row["dimension"],
            "Group": row["group"],
            "Numerator": _count(row["numerator"], row["suppressed"]),
            "Denominator": _count(row["denominator"], row["suppressed"] and
                                  fmt.missing(row["denominator"])),
            "Value": _with_unit(_value(row, indicator.multiplier if indicator else 100),
                                unit),
        })
    return pl.DataFrame(rows, schema=dict.fromkeys(FIGURE_COLUMNS, pl.String))


def figures_table(figures: pl.DataFrame, indicator_set, *, caption: str,
                  table_id: str) -> html.Div:
    """A version's figures, small numbers withheld (the caption carries the key)."""
    if figures.is_empty():
        return html.P("No figures.", id=table_id, className="small")
    # A long return scrolls in a box under its sticky header (named for screen readers).
    return html.Div(tables.html_table(figure_rows(figures, indicator_set), caption=caption,
                                      table_id=table_id), className="table-scroll",
                    tabIndex="0", role="region", **{"aria-label": caption})


# -- problems with an uploaded file ---------------------------------------------------------


def problem_rows(problems: Sequence) -> pl.DataFrame:
    """Every problem: file, line, column, value and what is wrong."""
    return pl.DataFrame([{
        "File": str(p.file), "Line": "" if p.line is None else str(p.line),
        "Column": "" if p.column is None else str(p.column),
        "Value": "" if p.value is None else str(p.value), "Problem": p.message,
    } for p in problems], schema=dict.fromkeys(PROBLEM_COLUMNS, pl.String))


def problems_view(problems: Sequence, *, table_id: str = "returns-problems") -> html.Div:
    """Why an uploaded return was refused: every problem (up to a limit); nothing stored."""
    shown = list(problems[:MAX_PROBLEMS_SHOWN])
    files = ", ".join(sorted({str(p.file) for p in problems})) or "The file"
    more = len(problems) - len(shown)
    count = len(problems)
    return html.Div([
        html.Div([html.Strong(f"{files} was not accepted: "),
                  f"{count} problem{'s' if count != 1 else ''}. Nothing was stored. Fix "
                  f"{'them' if count != 1 else 'it'} and upload the file again."],
                 className="alert alert-danger", role="alert"),
        tables.html_table(problem_rows(shown), caption="Problems in the file (lines counted "
                          "as a text editor counts them, the header's line included)",
                          table_id=table_id),
        html.P(f"… and {more} more.", className="small") if more else None,
    ])


# -- approved figures of a month ------------------------------------------------------------


def _cell_words(row: dict, indicator) -> str:
    """``"72.5% (58 of 80)"``; ``*`` where disclosure control withholds the figure."""
    value = _value(row, indicator.multiplier)
    if value in (SYMBOL_SUPPRESSED, SYMBOL_NOT_AVAILABLE):
        return value
    unit = "%" if indicator.unit == "%" else f" {indicator.unit}"
    return (f"{value}{unit} ({fmt.count_cell(row['numerator'])} of "
            f"{fmt.count_cell(row['denominator'])})")


def approved_rows(totals: pl.DataFrame, indicator_set, *, names: dict[str, str]
                  ) -> pl.DataFrame:
    """One row per provider, one column per indicator: the month's approved totals.

    ``totals`` has ``indicator, org_code, numerator, denominator, suppressed`` (after
    disclosure control); a provider with no approved return that month is left out, an
    indicator it did not return is ``:``.
    """
    by_key = {(r["org_code"], r["indicator"]): r for r in totals.iter_rows(named=True)}
    orgs = list(dict.fromkeys(sorted(totals["org_code"].to_list())))
    columns = {i.id: f"{i.short_title} ({i.unit})" for i in indicator_set.indicators}
    rows = []
    for org in orgs:
        row = {"Provider": org_words(org, names)}
        for indicator in indicator_set.indicators:
            found = by_key.get((org, indicator.id))
            row[columns[indicator.id]] = _cell_words(found, indicator) if found \
                else SYMBOL_NOT_AVAILABLE
        rows.append(row)
    return pl.DataFrame(rows, schema=dict.fromkeys(["Provider", *columns.values()],
                                                   pl.String))


def approved_table(frame: pl.DataFrame, *, month: date, table_id: str) -> html.Div:
    """The month's approved totals by provider, flagged Local."""
    return html.Div([
        html.P([badge(), " Local figures, approved by the network's reviewers: each "
                "provider's total for the month, with numerator and denominator."],
               className="small"),
        html.Div(tables.html_table(frame, caption=f"Approved totals, {month_words(month)}",
                                   table_id=table_id), className="table-responsive"),
    ])
