"""The network's annual report: a year of approved returns with national context, as PDF
(printed by the export browser, like the board pack) or PowerPoint (``export.slides``).

:func:`annual` gathers one object (:class:`AnnualReport`) from the published store through
the cached seam (``data.queries``) and the returns database (who returned what): the
summary (returns received, approved and late per provider; the indicators), and per
indicator the providers side by side with 95% CIs and the network's value, the year's
months with SPC limits, the gaps by ethnicity and deprivation, and the nearest national
metrics for the same providers. :func:`page_html` lays it out with the dashboard's own
chart builders (``components.figures``); the PDF and the slides draw from that page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

import plotly.io as pio
import polars as pl

from components import figures
from components import format as fmt
from data import queries
from metrics import registry
from metrics.categories import ETHNICITY, QUINTILE, TOTAL

# The national metrics read beside the local ones: access to care and the recording that
# every breakdown by group depends on.
CONTEXT = ("booked_by_10_weeks", "ethnicity_recorded", "deprivation_known")
STATES = ("approved", "submitted", "sent_back", "late", "missing")
YEAR = re.compile(r"^(\d{4})-(\d{2})$")
PLOTLY_JS = "/plotly.min.js"
GAP_CHART_WIDTH = 505  # px: two breakdown charts side by side on an A4 landscape page
GAP_WORDS = {ETHNICITY: "ethnicity", QUINTILE: "deprivation"}


class ReportError(ValueError):
    """A report that cannot be made (bad year, no local indicators)."""


@dataclass(frozen=True)
class IndicatorPart:
    """One indicator's pages."""

    metric: registry.Metric
    period: str  # the period the providers are compared over
    providers: pl.DataFrame  # one row per provider and the network: breakdown columns
    network: dict | None  # the network's total row
    trend: pl.DataFrame  # the network's months with SPC columns
    spc: dict  # the SPC summary of the network's months
    gaps: dict[str, pl.DataFrame]  # dimension -> the network's breakdown


@dataclass(frozen=True)
class AnnualReport:
    """Everything the annual report shows (see :func:`annual`)."""

    year: str
    network_name: str
    region: str | None
    synthetic: bool
    returns: pl.DataFrame  # provider, name, approved, submitted, sent_back, late, missing
    indicators: tuple[IndicatorPart, ...]
    context: pl.DataFrame  # provider, metric, period, value, CI
    notes: tuple[str, ...] = field(default=())


def year_span(year: str) -> tuple[date, date]:
    """First and last day of the financial year ``2025-26``; ReportError otherwise."""
    found = YEAR.match(year or "")
    if not found or (int(found[1]) + 1) % 100 != int(found[2]):
        raise ReportError(f"--year {year!r}: give a financial year such as 2025-26")
    start = int(found[1])
    return date(start, 4, 1), date(start + 1, 3, 31)


def _period(metric_id: str, area: str | None, start: date, end: date) -> str | None:
    """The period the providers are compared over: the year where the network has a
    figure for it (every provider's twelve months approved), else the latest quarter in
    the year it has one for, else the latest such month."""
    held = queries.current().metric_counts(metric_id).filter(
        pl.col("org_code") == area, pl.col("dimension") == TOTAL,
        pl.col("numerator").is_not_null(), pl.col("denominator").is_not_null(),
        pl.col("period_start") >= start, pl.col("period_end") <= end)
    for kind in ("financial_year", "quarter", "month"):
        found = held.filter(pl.col("period_kind") == kind)
        if found.height:
            return str(found.sort("period_end")["period_label"][-1])
    return None


def _side_by_side(metric: registry.Metric, providers: tuple[str, ...], area: str | None,
                  period: str) -> tuple[pl.DataFrame, dict | None]:
    """Each provider's total (as a breakdown row named after it) and the network's row."""
    rows = []
    for order, code in enumerate(providers, start=1):
        frame = queries.breakdown(metric.id, code, period, TOTAL, "none")
        if frame.height:
            rows.append(frame.head(1).with_columns(
                group=pl.lit(queries.org_name(code)), group_order=pl.lit(order, pl.Int16),
                org_code=pl.lit(code)))
    network = None
    if area:
        frame = queries.breakdown(metric.id, area, period, TOTAL, "none")
        network = frame.row(0, named=True) if frame.height else None
    side = pl.concat(rows, how="diagonal_relaxed") if rows else pl.DataFrame()
    if network is not None and side.height:
        side = side.with_columns(comparator_value=pl.lit(network["value"], pl.Float64))
    return side, network


def _returns_table(engine, who: str, start: date, end: date, today: date) -> pl.DataFrame:
    """Per provider: how many of the year's monthly returns are in each state."""
    from returns import service

    cells = [c for c in service.status(engine, who, today=today) if start <= c.month <= end]
    frame = pl.DataFrame({"provider": [c.org_code for c in cells],
                          "state": [c.state for c in cells]},
                         schema={"provider": pl.String, "state": pl.String})
    counts = {s: pl.col("state").eq(s).sum().alias(s) for s in STATES}
    table = frame.group_by("provider").agg(*counts.values()).sort("provider")
    return table.with_columns(
        name=pl.col("provider").map_elements(queries.org_name, return_dtype=pl.String)
    ).select("provider", "name", *STATES)


def _context(providers: tuple[str, ...], year: str) -> pl.DataFrame:
    """The nearest national metrics for the providers: the year itself, else the latest
    financial year the store holds."""
    rows = []
    for metric_id in CONTEXT:
        if metric_id not in registry.METRICS:
            continue
        metric = registry.get(metric_id)
        years = queries.periods(metric_id, "financial_year")
        if not years:
            continue
        period = year if year in years else years[-1]
        england = queries.breakdown(metric_id, "ENG", period, TOTAL, "none")
        for code in providers:
            frame = queries.breakdown(metric_id, code, period, TOTAL, "none")
            if not frame.height:
                continue
            row = frame.row(0, named=True)
            rows.append({
                "Metric": metric.title, "Period": period,
                "Provider": queries.org_name(code),
                "Value (95% CI)": fmt.value(metric, row["value"]) + " ("
                + fmt.interval(metric, row["lower95"], row["upper95"]) + ")",
                "England": fmt.value(metric, england["value"][0]) if england.height else "",
                "Source": metric.source})
    return pl.DataFrame(rows, schema={c: pl.String for c in (
        "Metric", "Period", "Provider", "Value (95% CI)", "England", "Source")})


def annual(engine, year: str, *, who: str, today: date | None = None) -> AnnualReport:
    """The annual report of financial year ``year`` (``2025-26``) of the published store's
    local indicators; ``who`` reads the returns' status (a reviewer)."""
    start, end = year_span(year)
    section = queries.current().manifest.get("local")
    metrics = registry.local()
    if not section or not metrics:
        raise ReportError("the published store holds no local indicators: approve returns "
                          "and publish them first (equalities returns publish)")
    network = section["network"]
    area = network.get("region")
    parts = []
    for entry, metric in zip(section["indicators"], metrics, strict=True):
        providers = tuple(entry.get("providers") or network.get("providers") or ())
        area_code = area or _area_of(providers)
        period = _period(metric.id, area_code, start, end)
        if period is None:
            continue
        side, total = _side_by_side(metric, providers, area_code, period)
        points, spc = (queries.trend(metric.id, area_code, "month", TOTAL) if area_code
                       else (pl.DataFrame(), {}))
        if points.height:
            points = points.filter(pl.col("period_start") >= start, pl.col("period_end") <= end)
        gaps = {d: queries.breakdown(metric.id, area_code, period, d, "none")
                for d in (ETHNICITY, QUINTILE) if d in metric.dimensions_at("region")}
        parts.append(IndicatorPart(metric, period, side, total,
                                   points.with_columns(dimension=pl.lit(TOTAL))
                                   if points.height else points, spc.get("All", {}), gaps))
    if not parts:
        raise ReportError(f"no approved local figures fall in {year}")
    every = tuple(sorted({p for e in section["indicators"]
                          for p in (e.get("providers") or network.get("providers") or ())}))
    return AnnualReport(
        year=year, network_name=network["name"],
        region=queries.org_name(area) if area else None,
        synthetic=queries.current().synthetic,
        returns=_returns_table(engine, who, start, end, today or date.today()),
        indicators=tuple(parts), context=_context(every, year))


def _area_of(providers: tuple[str, ...]) -> str | None:
    orgs = queries.organisations().filter(pl.col("org_code").is_in(list(providers)))
    regions = orgs["region_code"].drop_nulls().unique().to_list()
    return regions[0] if len(regions) == 1 else None


# -- the page the export browser prints ------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(frame: pl.DataFrame, caption: str) -> str:
    head = "".join(f"<th scope='col'>{_e(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e('' if v is None else v)}</td>" for v in row)
                   + "</tr>" for row in frame.iter_rows())
    return (f"<table class='table'><caption>{_e(caption)}</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table>")


def _chart(fig) -> str:
    return ("<div class='dash-graph'>" + pio.to_html(
        fig, full_html=False, include_plotlyjs=False,
        config={"staticPlot": True, "responsive": True}) + "</div>")


def _source(report: AnnualReport, metric: registry.Metric) -> str:
    """The source line under a chart (its period is in the title)."""
    return f"Source: {metric.source}.{fmt.synthetic_note(report.synthetic)}"


def _short_source(report: AnnualReport) -> str:
    """The source line under a half-width chart."""
    return f"Source: {registry.LOCAL} provider returns.{fmt.synthetic_note(report.synthetic)}"


def _spc_words(spc: dict) -> str:
    if not spc.get("available"):
        return "Too few months for statistical process control limits."
    meaning = spc.get("meaning") or ""
    return f"SPC (Making Data Count): {spc.get('variation_type', '')}. {meaning}".strip()


def _gap_words(part: IndicatorPart) -> str:
    """Each breakdown's significant gaps to its reference group, in words."""
    said = []
    for dimension, frame in part.gaps.items():
        for row in frame.iter_rows(named=True):
            text = fmt.gap_statement(row, part.metric, dimension)
            if text:
                said.append(text)
    return " ".join(said) or ("No group differs significantly from its reference group "
                              "(White; the least deprived) at the 95% level.")


def _indicator_pages(report: AnnualReport, part: IndicatorPart) -> list[str]:
    m = part.metric
    source = _source(report, m)
    network = fmt.value(m, part.network["value"]) + " (" + fmt.interval(
        m, part.network["lower95"], part.network["upper95"]) + ")" if part.network else \
        "not available"
    pages = [
        f"<section class='page'><h2>{_e(m.title)}</h2>"
        f"<p class='lead'>{_e(m.numerator)} per {_e(m.denominator.lower())}. "
        f"Network value, {_e(part.period)}: <strong>{_e(network)}</strong>."
        + ("" if part.period == report.year else
           f" Compared over {_e(part.period)}: the network's figure for {report.year} needs "
           "every provider's twelve months approved.") + "</p>"
        + (_chart(figures.breakdown_bars(
            part.providers, m, title=f"{m.short_title}: providers, {part.period}",
            source=source, comparator_label="Network (all providers)"))
           if part.providers.height else "<p>No provider has a figure for this period.</p>")
        + "</section>",
        f"<section class='page'><h2>{_e(m.short_title)}: the year month by month</h2>"
        f"<p>{_e(_spc_words(part.spc))} A month is shown once every provider's return for "
        "it is approved, so that the network's figure covers all of them.</p>"
        + _chart(figures.trend(part.trend, m, title=f"{m.short_title}: network, by month, "
                               f"{report.year}", source=_source(report, m),
                               spc_group="All", height=430))
        + "</section>",
    ]
    if part.gaps:
        # Both breakdowns side by side on one printed page, each half its width.
        charts = "".join(_chart(figures.breakdown_bars(
            frame, m, title=f"By {GAP_WORDS[dimension]}, network, {part.period}",
            source=_short_source(report)).update_layout(width=GAP_CHART_WIDTH))
            for dimension, frame in part.gaps.items())
        pages.append(f"<section class='page'><h2>{_e(m.short_title)}: gaps by ethnicity "
                     f"and deprivation</h2><div class='pair'>{charts}</div>"
                     f"<p>{_e(_gap_words(part))}</p></section>")
    return pages


STYLE = """
body { font-family: Arial, sans-serif; color: #212b32; margin: 0; }
main { padding: 0 4mm; }
h1, #report-title { color: #005eb8; font-size: 26px; font-weight: bold; margin: 0 0 6px; }
h2 { color: #005eb8; font-size: 20px; margin: 0 0 6px; }
.lead { font-size: 15px; }
.page { break-before: page; }
.page:first-child { break-before: auto; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; width: 100%; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid #d8dde0; padding: 3px 6px; text-align: left; }
th { background: #f0f4f5; }
.small { font-size: 11px; color: #425563; }
.pair { display: flex; gap: 8px; }
"""


def page_html(report: AnnualReport) -> str:
    """The report as one HTML page (A4 landscape pages, charts drawn by Plotly)."""
    returns = report.returns.rename({"provider": "Code", "name": "Provider", "approved":
                                     "Approved", "submitted": "Awaiting review", "sent_back":
                                     "Sent back", "late": "Late", "missing": "Still due"})
    listed = pl.DataFrame({
        "Indicator": [p.metric.title for p in report.indicators],
        "Unit": [p.metric.unit for p in report.indicators],
        "Compared over": [p.period for p in report.indicators],
        "Network value": [fmt.value(p.metric, p.network["value"]) if p.network else
                          "not available" for p in report.indicators]})
    where = f" ({report.region})" if report.region else ""
    title = f"{report.network_name}: annual report {report.year}"
    summary = (
        f"<section class='page'><div id='report-title' data-title='{_e(title)}'>"
        f"{_e(title)}</div><p class='lead'>Local indicators from the monthly returns of "
        f"the network's providers{_e(where)}, approved by the network's reviewers, with "
        "national figures for the same providers beside them. Flagged <strong>Local"
        "</strong>: local figures are not official statistics. Counts of 1 to 7 are "
        "withheld (*), and others where they would give a withheld count away.</p>"
        + _table(returns, f"Monthly returns for {report.year}, by provider")
        + _table(listed, "The indicators") + (
            "<p class='small'>Synthetic demonstration data: the network, its providers and "
            "every figure are invented.</p>" if report.synthetic else "") + "</section>")
    pages = [summary] + [p for part in report.indicators
                         for p in _indicator_pages(report, part)]
    if report.context.height:
        pages.append("<section class='page'><h2>National context for the same providers</h2>"
                     + _table(report.context, "Nearest national metrics (NHS England "
                              "statistics) for the network's providers") + "</section>")
    # The heading is put in last: the export browser prints once a page's heading and
    # charts are there, which for a long page would be before the end had been read.
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
            f"{_e(title)}</title><style>{STYLE}</style><script src='{PLOTLY_JS}'></script>"
            "</head><body><main>" + "".join(pages) + "</main><script>(function () {"
            "var old = document.getElementById('report-title');"
            "var h = document.createElement('h1'); h.textContent = old.dataset.title;"
            "old.replaceWith(h); })();</script></body></html>")


def _serving(text: str):
    """A WSGI app answering with the page ``text``, and Plotly's script at
    :data:`PLOTLY_JS` (from the installed plotly package: nothing is fetched)."""
    from plotly.offline import get_plotlyjs

    files = {PLOTLY_JS: (get_plotlyjs().encode("utf-8"), "text/javascript; charset=utf-8")}
    page = (text.encode("utf-8"), "text/html; charset=utf-8")

    def app(environ, start_response):
        body, kind = files.get(environ.get("PATH_INFO", ""), page)
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    return app


def render(report: AnnualReport, kind: str) -> bytes:
    """The report as ``pdf`` or ``pptx`` bytes (the export browser draws the page)."""
    from export.render import renderer
    from export.server import running_app

    with running_app(_serving(page_html(report))) as base:
        if kind == "pdf":
            return renderer().render(base + "/", "pdf")
        return _deck(report, base + "/")


def _deck(report: AnnualReport, url: str) -> bytes:
    """A slide per summary table and per chart (pictured as printed), with source lines."""
    from export import slides

    pictures = slides.pictures(url, slides.CHARTS)
    deck = slides.new_deck()
    slide = slides.add_slide(deck, f"{report.network_name}: annual report {report.year}",
                          source="Local: provider returns, approved by "
                          f"{report.network_name}")
    slides.add_table(deck, slide, report.returns.drop("provider"))
    sources = [(p.metric, p.period) for p in report.indicators for _ in range(
        2 + (1 if p.gaps else 0) * len(p.gaps))]
    for picture, (metric, period) in zip(pictures, sources, strict=False):
        slide = slides.add_slide(deck, picture.title or metric.title,
                              source=f"{_source(report, metric)} {period}.")
        slides.add_picture(deck, slide, picture.png)
    if report.context.height:
        slide = slides.add_slide(deck, "National context for the same providers",
                              source="NHS England statistics (MSDS)")
        slides.add_table(deck, slide, report.context.drop("Source"), size=9)
    return slides.saved(deck)
