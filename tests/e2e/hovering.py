"""Hover labels as Plotly draws them in the browser, for the charts' e2e tests."""

from __future__ import annotations

from tests.e2e.helpers import wait_for


def traces(browser, graph_id: str) -> list[dict]:
    """The traces drawn in the graph ``graph_id``: name, points and their hover data."""
    return browser.execute_script(
        "const g = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return g.data.map(t => ({name: t.name, x: t.x, y: t.y, customdata: t.customdata,"
        " hovertemplate: t.hovertemplate, text: t.text}));", graph_id)


HOVER = """
const [id, curve, point] = arguments;
const g = document.getElementById(id).querySelector('.js-plotly-plot');
const on = (g._hoverdata || [])[0];
if (!on || on.curveNumber !== curve || on.pointNumber !== point) {
  window.Plotly.Fx.hover(g, [{curveNumber: curve, pointNumber: point}]);
  return null;  // Plotly throttles hovers: asked again until this point's label is drawn
}
const label = g.querySelector('.hoverlayer .hovertext text.nums');
return label ? Array.from(label.querySelectorAll('tspan.line')).map(t => t.textContent) : null;
"""


def drawn_hover(browser, graph_id: str, curve: int, point: int) -> list[str]:
    """The lines of the hover label Plotly draws over a point (as a pointer resting on it
    would)."""
    found: list = []
    assert wait_for(lambda: found.append(browser.execute_script(HOVER, graph_id, curve, point))
                    or found[-1] is not None, 10), (graph_id, curve, point)
    return found[-1]
