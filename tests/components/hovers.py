"""What Plotly shows in a point's hover: its trace's template filled from its customdata."""

from __future__ import annotations

import html
import re

FIELD = re.compile(r"%\{customdata\[(\d+)\]\}")


def hover_text(trace, i: int) -> str:
    """Point ``i``'s hover as Plotly draws it from ``hovertemplate`` and ``customdata``
    (``trace`` a Plotly trace or its JSON), without the ``<extra>`` box. Fails on any
    template field other than customdata's."""
    get = trace.get if isinstance(trace, dict) else lambda key: getattr(trace, key)
    data, template = get("customdata"), get("hovertemplate")
    assert FIELD.sub("", template).count("%{") == 0, template
    # One pass, as Plotly's: a text filled in is not read again.
    return FIELD.sub(lambda m: str(data[i][int(m.group(1))]), template).replace(
        "<extra></extra>", "")


def hover_texts(trace) -> list[str]:
    """Every point's hover of ``trace``."""
    x = trace.get("x") if isinstance(trace, dict) else trace.x
    return [hover_text(trace, i) for i in range(len(x))]


def hover_lines(trace, i: int) -> list[str]:
    """Point ``i``'s hover as the lines of text a reader sees (markup and escapes read)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", line))
            for line in hover_text(trace, i).split("<br>")]
