"""The board summary, or any view, as an editable PowerPoint deck (python-pptx).

Charts are pictures of the chart elements as the export browser draws them for print;
tables are PowerPoint tables, so a board secretary can edit them. Each slide carries its
source line, and its notes hold the numbers it shows, from the same view model as the
printed pack.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from pptx import Presentation
from pptx.util import Emu, Inches, Pt

from components import boardsummary as words
from components import format as fmt
from components import publiclink, whatchanged
from components import scorecard as card

WIDE = (Inches(13.333), Inches(7.5))  # 16:9
MARGIN = Inches(0.4)
TITLE_HEIGHT = Inches(0.8)
SOURCE_HEIGHT = Inches(0.4)
# What is pictured: each chart of a view, or each headline block of the board summary.
CHARTS = ".dash-graph"
HEADLINES = ".pack-block .dash-graph"


@dataclass(frozen=True)
class Picture:
    """One chart as the export browser drew it."""

    title: str
    png: bytes


def pictures(url: str, selector: str, **waiting) -> list[Picture]:
    """A PNG of every element ``selector`` picks on the page at ``url`` (drawn as for print,
    at the export's width, by the process's export browser under its queue and origin
    rules), named by its chart's title. ``waiting``: ``abandoned`` and ``progress``, as
    for ``export.render.Renderer.draw``."""
    from export.render import renderer

    def photograph(page) -> list[Picture]:
        # The page-wide watermark would be cut into pieces; each slide's source line says
        # "Synthetic demonstration data" instead.
        page.add_style_tag(content=".watermark { display: none !important; }")
        found = []
        for element in page.query_selector_all(selector):
            title = element.query_selector(".gtitle")
            found.append(Picture(title.text_content() or "" if title else "",
                                 element.screenshot(type="png")))
        return found

    return renderer().draw(url, photograph, **waiting)


def new_deck() -> Presentation:
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE
    return deck


def add_slide(deck: Presentation, title: str, notes: str = "", source: str = ""):
    """A blank slide with its title, its source line at the foot and ``notes``."""
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = title
    slide.shapes.title.left, slide.shapes.title.top = MARGIN, Inches(0.2)
    slide.shapes.title.width, slide.shapes.title.height = deck.slide_width - 2 * MARGIN, \
        TITLE_HEIGHT
    slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(26)
    if source:
        box = slide.shapes.add_textbox(MARGIN, deck.slide_height - SOURCE_HEIGHT - Inches(0.1),
                                       deck.slide_width - 2 * MARGIN, SOURCE_HEIGHT)
        box.text_frame.word_wrap = True
        box.text_frame.text = source
        box.text_frame.paragraphs[0].font.size = Pt(10)
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    return slide


def _body_box(deck: Presentation):
    top = Inches(0.2) + TITLE_HEIGHT + Inches(0.1)
    return MARGIN, top, deck.slide_width - 2 * MARGIN, \
        deck.slide_height - top - SOURCE_HEIGHT - Inches(0.2)


def _bullets(deck: Presentation, slide, lines: Sequence[str], size: int = 18) -> None:
    left, top, width, height = _body_box(deck)
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for number, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)
        paragraph.space_after = Pt(8)


def add_table(deck: Presentation, slide, frame: pl.DataFrame, size: int = 11) -> None:
    """``frame`` as an editable PowerPoint table filling the slide's body."""
    left, top, width, height = _body_box(deck)
    shape = slide.shapes.add_table(frame.height + 1, frame.width, left, top, width,
                                   min(height, Inches(0.45) * (frame.height + 1)))
    table = shape.table
    for column, name in enumerate(frame.columns):
        table.cell(0, column).text = name
    for row, values in enumerate(frame.iter_rows(), start=1):
        for column, value in enumerate(values):
            table.cell(row, column).text = "" if value is None else str(value)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(size)


def add_picture(deck: Presentation, slide, png: bytes) -> None:
    """The picture as large as the body allows, its shape kept, centred."""
    from PIL import Image

    left, top, width, height = _body_box(deck)
    pixels = Image.open(io.BytesIO(png)).size
    scale = min(width / pixels[0], height / pixels[1])
    shown = (Emu(int(pixels[0] * scale)), Emu(int(pixels[1] * scale)))
    slide.shapes.add_picture(io.BytesIO(png), left + (width - shown[0]) // 2, top,
                             *shown)


def saved(deck: Presentation) -> bytes:
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _frame_notes(frame: pl.DataFrame) -> str:
    """A table's rows as lines of ``column: value`` for a slide's notes."""
    return "\n".join("; ".join(f"{k}: {v}" for k, v in row.items())
                     for row in frame.iter_rows(named=True))


def board_deck(model, url: str, **waiting) -> bytes:
    """The board summary (``views.boardpack.BoardSummary``) as a deck: a title slide, the
    key points, the scorecard, the largest gaps, what changed, then a slide per headline
    chart (pictured from the summary page at ``url``)."""
    synthetic = " SYNTHETIC DATA: invented figures for fictional trusts." \
        if model.synthetic else ""
    link = words.pack_link(model.org, model.period)
    deck = new_deck()
    title = add_slide(deck, f"Board summary: {model.org_name}",
                   notes=f"Reproduce this summary: {link}")
    _bullets(deck, title, [f"Maternity and neonatal equalities and performance, "
                           f"{model.period}.", f"Generated {datetime.now():%d %B %Y}."
                           f"{synthetic}", f"Online: {link}"], size=20)
    points = words.key_points(model)
    _bullets(deck, add_slide(deck, "In brief", notes="\n".join(points), source=synthetic),
             points)
    scorecard = words.scorecard_rows(model)
    add_table(deck, add_slide(deck, "Annex 3 scorecard against England",
                        notes=_frame_notes(card.scorecard_rows(model.scorecard)),
                        source="Sources: MSDS, MBRRACE-UK, CQC, Performance dashboard; "
                        f"latest period of each metric.{synthetic}"), scorecard, size=11)
    gaps = words.gap_rows(model.listed_gaps)
    if gaps.height:
        add_table(deck, add_slide(deck, "The largest gaps", notes=_frame_notes(gaps),
                            source="Gaps significant at the 95% level, largest first."
                            f"{synthetic}"), gaps, size=10)
    changes = [change.sentence for change in words.changes(model)]
    _bullets(deck, add_slide(deck, whatchanged.title(model.since),
                          notes="\n".join(changes), source=whatchanged.HOW),
             changes or [whatchanged.NOTHING_CHANGED], size=13)
    drawn = pictures(url, HEADLINES, **waiting) if model.headlines else []
    for gap, picture in zip(model.headlines, drawn, strict=False):
        notes = "\n".join(filter(None, [words.statement(gap), words.people(gap),
                                        _chart_numbers(gap)]))
        add_picture(deck, add_slide(deck, words.heading(gap), notes=notes,
                              source=words.source(gap, model.synthetic)), picture.png)
    return saved(deck)


def _chart_numbers(gap) -> str:
    """The numbers a headline chart draws: each group's value and 95% CI, and England's."""
    metric = gap.metric
    lines = []
    for row in gap.frame.iter_rows(named=True):
        ci = fmt.interval(metric, row["lower95"], row["upper95"])
        shown = "suppressed (small numbers)" if row["suppressed"] else "no data" \
            if fmt.missing(row["value"]) else f"{fmt.value(metric, row['value'])} ({ci})"
        england = "" if fmt.missing(row["comparator_value"]) else \
            f"; England {fmt.value(metric, row['comparator_value'])}"
        lines.append(f"{row['group']}: {shown}{england}")
    return "\n".join(lines)


def view_deck(url: str, **waiting) -> bytes:
    """Any view as a deck: a slide per chart, each titled with the chart's own title."""
    drawn = pictures(url, CHARTS, **waiting)
    path = url[url.index("/", url.index("//") + 2):]
    deck = new_deck()
    _bullets(deck, add_slide(deck, "Maternity and Neonatal Equalities",
                          notes=f"Reproduce this view: {publiclink.printed(path)}"),
             [f"Generated {datetime.now():%d %B %Y}.",
              f"Reproduce this view: {publiclink.printed(path)}"], size=18)
    for number, picture in enumerate(drawn, start=1):
        add_picture(deck, add_slide(deck, picture.title or f"Chart {number}",
                              notes=f"Reproduce this view: {publiclink.printed(path)}"),
                 picture.png)
    return saved(deck)
