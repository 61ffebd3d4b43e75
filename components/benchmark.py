"""Builders for Benchmark: the funnel's words and points, the rank table's rows, the chosen
units' table, and the labels and sizes of their charts. Facts in (frames of
``metrics.benchmark`` and ``metrics.breakdown``), text, frames and figure touches out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from components import figures, tables
from components import format as fmt
from metrics import registry
from metrics.benchmark import polarity_word
from metrics.categories import TOTAL
from metrics.overdispersion import Dispersion

# PHE funnel labels as words for people: which limit a trust is beyond and on which side.
FUNNEL_WORDS = {"High (0.001)": ("Above the 99.8% limit", "high"),
                "High (0.025)": ("Above the 95% limit", "high"),
                "Low (0.001)": ("Below the 99.8% limit", "low"),
                "Low (0.025)": ("Below the 95% limit", "low"),
                "Not significant": ("Within the limits", None)}
RATIO_COLUMN = "Ratio to reference (95% CI)"


def funnel_words(label: str | None, status: str, metric: registry.Metric) -> str:
    """A trust's funnel position in words, with the metric's polarity: "Above the 99.8%
    limit (worse)"; suppressed trusts say so."""
    if status == "suppressed":
        return "Suppressed (small numbers)"
    if label is None or label not in FUNNEL_WORDS:
        return "No data"
    words, side = FUNNEL_WORDS[label]
    if side is None or metric.polarity == registry.NO_JUDGEMENT:
        return words
    high, low = polarity_word(metric)
    return f"{words} ({high if side == 'high' else low})"


UNIT_WORDS = {"trust": ("trust", "trusts"), "icb": ("ICB", "ICBs"),
              "region": ("region", "regions")}


def units_word(n: int, level: str = "trust") -> str:
    """"1 trust", "3 trusts", "2 ICBs"."""
    one, many = UNIT_WORDS[level]
    return f"{n} {one if n == 1 else many}"


def trusts_word(n: int) -> str:
    """"1 trust", "3 trusts"."""
    return units_word(n, "trust")


def _is_are(n: int) -> str:
    return "is" if n == 1 else "are"


def funnel_sentence(counts: Mapping[str, int], metric: registry.Metric, *, who: str,
                    period: str, england: float | None, level: str = "trust") -> str:
    """What the funnel shows and how many units (trusts, ICBs, regions) lie beyond its
    limits, in one paragraph (``counts`` as the model's ``funnel_counts``, ``who`` the group
    in words)."""
    plotted = counts["trusts"] - counts["suppressed"] - counts["no data"]
    one = UNIT_WORDS[level][0]

    def units(n: int) -> str:
        return units_word(n, level)

    if plotted == 0:
        return (f"No {one} has a published figure for {who} in {period}: all "
                f"{counts['trusts']} are suppressed because of small numbers or did not "
                "report.")
    high, low = polarity_word(metric)
    judged = metric.polarity != registry.NO_JUDGEMENT
    benchmark = f"England's {fmt.value(metric, england)}" if england is not None else \
        "the average of the trusts shown"
    held_back = f" ({units(counts['suppressed'])} suppressed because of small numbers)" \
        if counts["suppressed"] else ""
    high3, low3 = counts["High (0.001)"], counts["Low (0.001)"]
    return (
        f"The funnel plot compares the figure for {who} in each of "
        f"{units(plotted)}{held_back} with {benchmark}, allowing for each {one}'s size. "
        f"{units(high3)} {_is_are(high3)} above the 99.8% limit and "
        f"{counts['High (0.025)']} more above the 95% limit"
        f"{f' (higher: {high})' if judged else ''}; "
        f"{units(low3)} {_is_are(low3)} below the 99.8% limit and "
        f"{counts['Low (0.025)']} more below the 95% limit"
        f"{f' (lower: {low})' if judged else ''}; "
        f"{counts['Not significant']} {_is_are(counts['Not significant'])} within the limits."
    )


def short_name(name: str) -> str:
    """A trust's name without the "NHS (Foundation) Trust" tail, for labels on a chart."""
    for tail in (" NHS Foundation Trust", " NHS Trust"):
        if name.endswith(tail):
            return name.removesuffix(tail)
    return name


def funnel_points(frame: pl.DataFrame, metric: registry.Metric) -> pl.DataFrame:
    """The trusts as the funnel plots them: short names escaped (names are data, drawn as
    written) and the funnel label in words."""
    return figures.plain_columns(frame.with_columns(
        funnel=pl.Series([funnel_words(label, status, metric) for label, status in
                          zip(frame["funnel"], frame["status"], strict=True)], dtype=pl.String),
        name=pl.col("name").map_elements(short_name, return_dtype=pl.String),
    ), "name")


LABEL_CHAR_PX, LABEL_HEIGHT_PX, LABEL_STEP_PX = 7.5, 18, 22
PLOT_PX = (1100, 330)  # the funnel's plotting area, about, at the page's width


def label_offsets(width: float) -> list[tuple[float, float]]:
    """Where a label ``width`` pixels wide may sit, as (right, up) pixels from its point's
    centre to the label's: above and below, then to either side, further out each round;
    most preferred first."""
    side = width / 2 + 14
    return [offset for k in (1, 2, 3, 4) for offset in (
        (0, LABEL_STEP_PX * k), (0, -LABEL_STEP_PX * k), (side, LABEL_STEP_PX * (k - 1)),
        (-side, LABEL_STEP_PX * (k - 1)), (side, -LABEL_STEP_PX * k),
        (-side, -LABEL_STEP_PX * k))]


def _label_box(x: float, y: float, width: float, offset: tuple[float, float]
               ) -> tuple[float, ...]:
    """The box (left, bottom, right, top, in pixels) a label of ``width`` takes centred at
    ``offset`` from the point (x, y)."""
    cx, cy = x + offset[0], y + offset[1]
    return cx - width / 2, cy - LABEL_HEIGHT_PX / 2, cx + width / 2, cy + LABEL_HEIGHT_PX / 2


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * \
        max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def label_places(points: Sequence[tuple[float, float]], names: Sequence[str],
                 x_range: tuple[float, float], y_range: tuple[float, float],
                 plot_px: tuple[int, int] = PLOT_PX,
                 others: Sequence[tuple[float, float]] = ()) -> list[tuple[float, float]]:
    """An offset (right, up, in pixels) per labelled point such that no label covers
    another label, a point (labelled, or one of ``others``), or runs off the plotting
    area, where that can be done (else the least overlap).

    Points are placed from the highest down; each takes the first of :func:`label_offsets`
    whose box (from the name's length) is inside the area and clear of those placed."""
    (x0, x1), (y0, y1) = x_range, y_range
    sx = plot_px[0] / ((x1 - x0) or 1)
    sy = plot_px[1] / ((y1 - y0) or 1)
    pixels = [((x - x0) * sx, (y - y0) * sy) for x, y in points]
    taken = [(px - 7, py - 7, px + 7, py + 7) for px, py in  # the markers
             pixels + [((x - x0) * sx, (y - y0) * sy) for x, y in others]]
    places: list[tuple[float, float]] = [(0.0, 0.0)] * len(points)
    for i in sorted(range(len(points)), key=lambda i: -points[i][1]):
        width = LABEL_CHAR_PX * len(names[i])

        def cost(offset: tuple[float, float], i=i, width=width) -> float:
            box = _label_box(*pixels[i], width, offset)
            outside = max(0.0, -box[0]) + max(0.0, box[2] - plot_px[0]) + \
                max(0.0, -box[1]) + max(0.0, box[3] - plot_px[1])
            return outside * LABEL_HEIGHT_PX + sum(_overlap(box, other) for other in taken)

        places[i] = min(label_offsets(width), key=cost)  # the first of the cheapest
        taken.append(_label_box(*pixels[i], width, places[i]))
    return places


def _axis_range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1
    return low - pad, high + pad


def place_labels(figure) -> None:
    """Name the chosen units of ``figure`` (the trace drawn with text) in labels that
    :func:`label_places` keeps clear of each other and of the edges, each tied to its
    point by a short line; labels are annotations, never cut off by the axes."""
    xs = [x for t in figure.data if t.x is not None for x in t.x if x is not None]
    ys = [y for t in figure.data if t.y is not None for y in t.y if y is not None]
    others = [(x, y) for t in figure.data if t.mode == "markers"
              for x, y in zip(t.x, t.y, strict=True)]
    for trace in figure.data:
        if trace.text is None or trace.mode != "markers+text" or not trace.y:
            continue
        trace.mode = "markers"
        points = list(zip(trace.x, trace.y, strict=True))
        for (x, y), name, (right, up) in zip(points, trace.text, label_places(
                points, list(trace.text), _axis_range(xs), _axis_range(ys), others=others),
                strict=True):
            figure.add_annotation(x=x, y=y, text=name, ax=right, ay=-up, showarrow=True,
                                  arrowhead=0, arrowwidth=1, arrowcolor="#425563",
                                  standoff=6, bgcolor="rgba(255,255,255,0.8)",
                                  font=dict(size=13), name="unit label")


def _count(n, suppressed: bool) -> str:
    if fmt.missing(n):
        return "*" if suppressed else ":"
    return "-" if n == 0 else f"{int(n):,}"


def rank_column(level: str) -> str:
    """The rank table's rank column: within the peer group for trusts, else among all."""
    return "Rank in peer group" if level == "trust" else "Rank"


def rank_rows(frame: pl.DataFrame, metric: registry.Metric, level: str = "trust"
              ) -> pl.DataFrame:
    """The rank table as shown and downloaded, as text, one row per unit of ``frame`` in
    its order: the metric's decimals and thousands commas; suppressed cells hold ``*``,
    unavailable ``:`` and zero counts ``-``. Trusts are ranked within their peer group,
    ICBs and regions among all of them."""
    many = UNIT_WORDS[level][1]
    places = {"trust": ("Region", "ICB", "Peer group"), "icb": ("Region",), "region": ()}
    columns = {"Region": "region", "ICB": "icb", "Peer group": "peer_group"}
    by_peers = level == "trust"
    rows = []
    for row in frame.iter_rows(named=True):
        hidden = row["status"] == "suppressed"
        shown = not hidden and not fmt.missing(row["value"])
        symbol = "*" if hidden else ":"
        rank = row["rank_in_peer_group"] if by_peers else row["rank_overall"]
        rows.append({
            "Code": row["org_code"],
            unit_column(level): row["name"],
            **{place: row[columns[place]] or ":" for place in places[level]},
            f"Value ({metric.unit})": fmt.number(row["value"], metric.decimals) if shown
            else symbol,
            "95% CI": fmt.interval(metric, row["lower95"], row["upper95"]).removeprefix(
                "95% CI ") if shown else symbol,
            "Numerator": _count(row["numerator"], row["suppressed"]),
            "Denominator": _count(row["denominator"], row["suppressed"]),
            "Funnel plot": funnel_words(row["funnel"], row["status"], metric),
            rank_column(level): f"{rank:,}" if shown else symbol,
            ("Trusts ranked in peer group" if by_peers else f"{many[0].upper()}{many[1:]} "
             "ranked"): f"{row['peers_ranked'] if by_peers else row['ranked']:,}",
        })
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows \
        else pl.DataFrame()


def dispersion_words(fit: Dispersion | None, metric: registry.Metric, *, method: str,
                     level: str = "trust") -> str:
    """The over-dispersion estimate in words, and what it did to the limits: "phi = 3.8:
    trusts vary about 3.8 times more than chance alone; limits widened ..." (``method`` is
    "standard", "phi" or "tau2")."""
    many = UNIT_WORDS[level][1]
    source = f" Estimated from all {fit.units} {many} with a figure." if fit else ""
    return _dispersion_said(fit, metric, method, many) + source


def _dispersion_said(fit: Dispersion | None, metric: registry.Metric, method: str,
                     many: str) -> str:
    if fit is None:
        return (f"Too few {many} have figures to estimate how much more they vary than "
                "chance alone; the standard limits are drawn.")
    phi = f"phi = {fit.phi:.1f}"
    if not fit.over_dispersed:
        return (f"{phi}: {many} vary no more than chance alone would make them, so the "
                "limits need no widening.")
    said = f"{phi}: {many} vary about {fit.phi:.1f} times more than chance alone"
    if method == "phi":
        return (f"{said}; limits widened by √phi, {fit.phi ** 0.5:.2f} times as far from "
                "England's value.")
    if method == "tau2":
        spread = fmt.value(metric, fit.tau2 ** 0.5 * metric.multiplier)
        return (f"{said}; limits widened to allow for a real spread between {many} of about "
                f"{spread} (tau, the square root of tau² = {fit.tau2:.3g}).")
    return (f"{said}, so more fall outside these standard limits than chance would put "
            "there; choose limits adjusted for over-dispersion to allow for it.")


RANK_TABLE_MAX = tables.PAGE_ROWS_MAX


def shown_rank_rows(rows: pl.DataFrame, chosen: Sequence[str],
                    limit: int = RANK_TABLE_MAX) -> tuple[pl.DataFrame, str]:
    """The rank table's rows for the page, and a sentence saying what was left out.

    Up to ``limit`` rows show whole. A longer table (a store of many trusts) shows the
    ``limit / 2`` first and last ranked trusts and the chosen ones, in rank order, so that
    the page stays small; the CSV download holds every row."""
    if rows.height <= limit:
        return rows, ""
    half = limit // 2
    rank = next(c for c in rows.columns if c.startswith("Rank"))
    ranked = pl.col(rank).str.contains(r"^\d")
    place = pl.int_range(pl.len()).over(ranked)  # position among the ranked (or unranked)
    is_chosen = pl.col("Code").is_in(list(chosen))
    keep = rows.filter((ranked & ((place < half) | (place >= ranked.sum() - half)))
                       | is_chosen)
    chosen_too = " and the chosen ones" if rows.select(is_chosen.any()).item() else ""
    note = (f"Showing the {half} first and {half} last ranked rows{chosen_too}: "
            f"{keep.height:,} of {rows.height:,}. The download holds all {rows.height:,} "
            f"({rows.height - keep.height:,} not shown here).")
    return keep, note


def unit_column(level: str) -> str:
    """The heading of the column naming each unit: "Trust", "ICB", "Region"."""
    one = UNIT_WORDS[level][0]
    return one[0].upper() + one[1:]


def multiples_rows(frames: Sequence[tuple[str, pl.DataFrame]], metric: registry.Metric,
                   dimension: str, level: str = "trust") -> pl.DataFrame:
    """The side-by-side panels as a table: one row per unit and group, as on screen
    (``frames`` is (name, breakdown) per unit)."""
    parts = [tables.breakdown_rows(frame, metric, None).select(
        pl.lit(name).alias(unit_column(level)), pl.all()) for name, frame in frames
        if not frame.is_empty()]
    if not parts:
        return pl.DataFrame()
    rows = pl.concat(parts)
    # The total has no reference group, so no ratio to one.
    return rows.drop(RATIO_COLUMN, strict=False) if dimension == TOTAL else rows


def fit_panel_height(figure, panels: int, groups: int) -> None:
    """Size each row of panels to its number of bars (one bar for the total needs no 300
    pixels), keeping room for the titles and the source note."""
    rows = max(1, -(-panels // 4))
    figure.update_layout(height=140 + rows * max(150, 40 + 30 * groups))
