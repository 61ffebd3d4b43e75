"""Helpers for page views held in the URL query string (parse leniently, never raise)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from dash import Input, Output, State, clientside_callback

from components import ids


@dataclass
class Refusals:
    """What drawing a page could not use from its link: ``(parameter, value)`` pairs refused
    by the parsers here, and the notices shown about the link."""

    parameters: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


# Per request (each thread or task has its own context), so concurrent pages never mix.
_REFUSALS: ContextVar[Refusals | None] = ContextVar("refusals", default=None)


@contextlib.contextmanager
def refusals() -> Iterator[Refusals]:
    """Collect the link's refused parameters and notices while the block draws a page."""
    found = Refusals()
    token = _REFUSALS.set(found)
    try:
        yield found
    finally:
        _REFUSALS.reset(token)


def refused(key: str, value: object) -> None:
    """Note that ``key=value`` from the link was not used (outside ``refusals``: no-op)."""
    found = _REFUSALS.get()
    if found is not None:
        found.parameters.append((key, str(value)))


def noticed(messages: Sequence[str]) -> None:
    """Note that a page showed ``messages`` about its link (outside ``refusals``: no-op)."""
    found = _REFUSALS.get()
    if found is not None:
        found.notices.extend(messages)


def _short(value: object) -> str:
    """A value that is not text, cut short for a notice or the log."""
    return repr(value)[:60] if not isinstance(value, list | dict) else type(value).__name__


def choose(query: dict, key: str, choices: Sequence[str], default: str,
           notices: list[str], label: str) -> str:
    """``query[key]`` if it is one of ``choices``; otherwise ``default`` and a notice (also
    for a value that is not text, such as a list from a tampered request)."""
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str):
        notices.append(f"Unknown {label}; showing {default} instead.")
        refused(key, _short(raw))
        return default
    if raw in choices:
        return raw
    notices.append(f"Unknown {label} “{raw[:60]}”; showing {default} instead.")
    refused(key, raw)
    return default


def choose_many(query: dict, key: str, choices: Sequence[str], notices: list[str],
                label: str, limit: int) -> tuple[str, ...]:
    """Comma-separated values of ``query[key]`` (or a list of them, from a control) that
    are valid, at most ``limit``; anything not text is unknown."""
    raw = query.get(key)
    if not raw:
        return ()
    parts = raw.split(",") if isinstance(raw, str) else \
        raw if isinstance(raw, list | tuple) else [raw]
    values = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    valid = tuple(dict.fromkeys(v for v in values if v in choices))
    unknown = [v for v in values if v not in choices] + \
        [_short(p) for p in parts if not isinstance(p, str)]
    if unknown:
        notices.append(f"Ignored unknown {label}: {', '.join(u[:20] for u in unknown[:5])}.")
        refused(key, ",".join(unknown))
    if len(valid) > limit:
        notices.append(f"Showing the first {limit} {label}s only.")
        refused(key, ",".join(valid[limit:]))
    return valid[:limit]


def search(params: dict[str, str | Sequence[str] | None]) -> str:
    """``?a=1&b=x,y`` from ``params`` (empty values dropped), in a stable order."""
    flat = {k: ",".join(v) if isinstance(v, (list, tuple)) else v
            for k, v in params.items() if v not in (None, "", (), [])}
    return "?" + urlencode(flat) if flat else ""


def query_of(search: str | None) -> dict[str, str]:
    """The query string ``?a=1&b=2`` as a dict (last value wins); anything but text (a
    tampered request) is no query."""
    if not isinstance(search, str):
        return {}
    return dict(parse_qsl(search.lstrip("?"), keep_blank_values=False))


@dataclass(frozen=True)
class FollowedControls:
    """Which controls a page writes into its URL, by URL parameter (see
    :func:`follow_controls`)."""

    controls: dict[str, str]  # URL parameter -> id of the control holding its value
    empty: dict[str, str]  # URL parameter -> value written for an empty list
    keep: bool  # whether the link's other parameters stay

    def script(self) -> str:
        """The browser-side callback: the controls' values and the current search in, the
        new search (or no update) out, by ``window.equalities.viewSearch``."""
        return ("function(...values) { const current = values.pop(); return "
                f"window.equalities.viewSearch({json.dumps(list(self.controls))}, values, "
                f"{json.dumps(self.empty)}, {json.dumps(self.keep)}, current); }}")


def follow_controls(controls: dict[str, str], empty: dict[str, str] | None = None,
                    keep: bool = False) -> FollowedControls:
    """Write the page's controls into its URL in the browser (``assets/viewurl.js``).

    ``controls`` maps each URL parameter to the id of the control whose ``value`` it holds;
    a list value is joined with commas, and an empty list is dropped or, for a key in
    ``empty``, written as the value given there (a switch turned off). With ``keep`` the
    link's other parameters stay (a page with several controls callbacks). No request is made
    for the URL itself: the new URL brings the new view, one request to the server. The
    page's parser still reads the link, so a value the view cannot use is noticed there.
    """
    followed = FollowedControls(dict(controls), dict(empty or {}), keep)
    clientside_callback(
        followed.script(),
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        *(Input(control, "value") for control in controls.values()),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    return followed
