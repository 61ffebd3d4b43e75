"""A view's selections in words, from its URL: the heading of an exported page."""

from __future__ import annotations

from urllib.parse import quote

from components import viewstate
from components.controls import COMPARATORS
from data.schema import PERIOD_KINDS
from metrics import registry
from metrics.categories import DIMENSIONS

PAGE_TITLES = {
    "/": "Overview", "/explore": "Explore", "/benchmark": "Benchmark", "/trends": "Trends",
    "/scorecard": "Scorecard", "/mortality": "Mortality", "/experience": "Experience",
    "/data-quality": "Data quality", "/board-pack": "Board pack", "/map": "Map",
    "/intersections": "Intersections", "/data": "Data and definitions",
    "/about": "About and accessibility", "/returns": "Regional returns",
}


def _metric(metric_id: str) -> str:
    known = registry.metrics()
    return known[metric_id].title if metric_id in known else metric_id


# Parameter -> (label, words for its value given the organisation names).
WORDS = {
    "org": ("Organisation", lambda code, names: names.get(code, code) if code else "England"),
    "metric": ("Metric", lambda m, _names: _metric(m)),
    "period": ("Period", lambda p, _names: str(p)),
    "kind": ("Periods", lambda k, _names: PERIOD_KINDS.get(k, k)),
    "dim": ("Breakdown", lambda d, _names: DIMENSIONS[d].label if d in DIMENSIONS else d),
    "group": ("Group", lambda g, _names: str(g)),
    "vs": ("Compared with", lambda c, _names: COMPARATORS.get(c, c)),
    "trusts": ("Trusts", lambda codes, names: "; ".join(names.get(c, c)
                                                        for c in codes.split(",") if c)),
    "region": ("Region", lambda code, names: names.get(code, code)),
    "peer": ("Peer group", lambda p, _names: str(p)),
    "points": ("Trust points show", lambda p, _names: {"group": "the chosen group"}[p]),
    "proj": ("Projection", lambda p, _names: {"1": "shown", "0": "not shown"}[p]),
    "full": ("Contents", lambda f, _names: {"1": "every metric (the full pack)"}[f]),
}


def describe(path: str, search: str, names: dict[str, str]
             ) -> tuple[str, list[tuple[str, str]]]:
    """(page title, [(label, value in words)]) for the view at ``path`` + ``search``.

    Only known parameters are described, and organisation codes are named from ``names``
    (code -> name, the store's), so nothing from a tampered URL is echoed verbatim.
    """
    query = viewstate.query_of(search)
    lines = []
    for key, (label, words) in WORDS.items():
        if query.get(key):
            try:
                lines.append((label, words(query[key], names)))
            except (KeyError, ValueError):
                continue
    if "org" not in query and path in ("/", "/explore", "/trends", "/mortality", "/experience",
                                       "/intersections"):
        lines.insert(0, ("Organisation", "England"))
    return PAGE_TITLES.get(path, "Maternity and Neonatal Equalities"), lines


def export_href(path: str, search: str, kind: str) -> str:
    """Link that downloads the view at ``path`` + ``search`` as ``kind`` (pdf, png, pptx)."""
    return f"/export/view.{kind}?url={quote((path or '/') + (search or ''), safe='')}"
