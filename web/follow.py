"""The view follows you: the shared selection carried into the navigation links.

A page's view names an organisation, a metric, a period, a breakdown and a group. Every
navigation link, and the "see also" links of a view, carry that selection to the other pages,
each reading only what it can use: a value another page would refuse (a period it does not
publish, a metric it does not show) is left out of its link rather than shown as a notice.
"""

from __future__ import annotations

import json
import logging

import dash
from dash import Input, Output, clientside_callback

from components import ids, shell, viewstate
from data import queries

SHARED = ("org", "metric", "period", "dim", "group")
# Where a page names a shared value otherwise: Benchmark's trusts side by side.
RENAMED = {"/benchmark": {"org": "trusts"}}
MAX_TRIES = 3  # parses of a target view before its link carries nothing

log = logging.getLogger(__name__)


def nav_links(module: str, search: str, replaced: bool = False) -> dict | None:
    """What the frame learns from the view of ``module`` at its canonical ``search``:
    ``links``, every page's link carrying the view, and ``shown``, the view's own address
    when the page replaced some of its link's values (a period the new metric does not
    publish), so the address bar says what is shown. None for a page without views (the
    links stay as the last view set them)."""
    page = dash.page_registry.get(module, {})
    if "canonical" not in page:
        return None
    return {"links": links(selection(search)),
            "shown": page["path"] + search if replaced else None}


def selection(search: str) -> tuple[tuple[str, str], ...]:
    """The shared part of a page's canonical view (``search``), in a stable order."""
    query = viewstate.query_of(search)
    return tuple((key, query[key]) for key in SHARED if key in query)


def _carried(page: dict, wanted: dict[str, str]) -> str:
    """``page``'s canonical search for as much of ``wanted`` as it accepts."""
    for _ in range(MAX_TRIES):
        try:
            with viewstate.refusals() as refused:
                search = page["canonical"](wanted)
        except Exception:  # noqa: BLE001 - one page's link must never break another page
            log.exception("could not carry the view into %s", page.get("path"))
            return ""
        if not (refused.parameters or refused.notices):
            return search
        dropped = {key for key, _ in refused.parameters}
        wanted = {k: v for k, v in wanted.items() if k not in dropped} if dropped else {}
    return ""


@queries.cached
def links(shared: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Each page's link (path and query) carrying the ``shared`` selection."""
    out = {}
    for page in dash.page_registry.values():
        path = page["path"]
        if "canonical" not in page:
            out[path] = path
            continue
        renamed = RENAMED.get(path, {})
        out[path] = path + _carried(page, {renamed.get(k, k): v for k, v in shared})
    return out


# Where a view points next: its metric over time, among trusts, the trust's scorecard.
NEXT = (("/trends", "This view over time", "metric"),
        ("/benchmark", "Benchmark this", "metric"),
        ("/scorecard", "This trust's scorecard", "org"))


def see_also(path: str, search: str) -> list[tuple[str, str]]:
    """``(label, href)`` for the next steps from the view at ``path`` + ``search`` (a page's
    canonical view): only to other pages that can show the view's metric (or its trust, for
    the scorecard); none from a page without views of its own."""
    pages = {page["path"]: page for page in dash.page_registry.values()}
    shared = selection(search)
    if not shared or "canonical" not in pages.get(path, {}):
        return []
    carried = links(shared)
    out = []
    for target, label, needs in NEXT:
        href = carried.get(target)
        held = dict(shared).get(needs)
        key = RENAMED.get(target, {}).get(needs, needs)
        if target != path and href and held and \
                viewstate.query_of(href.partition("?")[2]).get(key) == held:
            if needs == "org" and queries.org_level(held) != "trust":
                label = f"The scorecard for {queries.org_name(held)}"
            out.append((label, href))
    return out


clientside_callback(
    """function (data) {
        // The address bar shows the view drawn, when the page replaced part of its link.
        if (data && data.shown &&
                data.shown !== window.location.pathname + window.location.search) {
            window.history.replaceState(window.history.state, '', data.shown);
        }
        // A page without a view of its own (About) keeps the links the last view set.
        const eq = window.equalities = window.equalities || {};
        const links = eq.navLinks = (data && data.links) || eq.navLinks || {};
        const here = window.location.pathname;
        const paths = PATHS;
        return paths.map(p => links[p] || p).concat(paths.map(p => p === here));
    }""".replace("PATHS", json.dumps(list(shell.NAV_ORDER))),
    *(Output(shell.nav_id(path), "href") for path in shell.NAV_ORDER),
    *(Output(shell.nav_id(path), "active") for path in shell.NAV_ORDER),
    Input(ids.NAV_LINKS, "data"),
)
