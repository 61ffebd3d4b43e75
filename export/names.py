"""File names for exported views."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urlsplit

# The view's parameters a file name carries, in this order after the page's name.
NAMED_PARAMETERS = ("metric", "org", "period")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_LONGEST_PART = 40


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._-")[:_LONGEST_PART]


def export_filename(view: str, kind: str, day: datetime.date) -> str:
    """``page-metric-org-period-YYYY-MM-DD.kind`` for the view at ``view`` (path and query),
    leaving out parameters the view does not have; only letters, digits, ``_``, ``.`` and
    ``-`` (safe in a Content-Disposition header and on any file system).

    >>> export_filename("/explore?org=RXX&metric=pph_1500&period=2024-25", "pdf",
    ...                 datetime.date(2026, 12, 7))
    'explore-pph_1500-RXX-2024-25-2026-12-07.pdf'
    >>> export_filename("/board-pack?org=RXX&full=1", "pdf", datetime.date(2026, 12, 7))
    'board-pack-full-RXX-2026-12-07.pdf'
    """
    parts = urlsplit(view)
    query = parse_qs(parts.query)
    page = _safe(parts.path.strip("/").replace("/", "-")) or "overview"
    if query.get("full") == ["1"]:
        page += "-full"  # the full board pack rather than its summary
    values = (_safe(query[name][0]) for name in NAMED_PARAMETERS if name in query)
    return "-".join([page, *filter(None, values), day.isoformat()]) + f".{_safe(kind)}"
