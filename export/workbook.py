"""The board summary's tables as an Excel workbook (openpyxl): the scorecard, every
significant gap and what changed, as the printed summary and the slides state them."""

from __future__ import annotations

import io

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from components import boardsummary as words
from components import publiclink, whatchanged
from components import scorecard as card

COLUMN_WIDTH = 28  # characters; long cells wrap
NOTE_STYLE = Font(italic=True, color="425563")


def _sheet(book: Workbook, title: str, frame: pl.DataFrame, notes: list[str]) -> None:
    """``frame`` under a bold header row, then ``notes`` (source, caveats) below it."""
    sheet = book.create_sheet(title)
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.iter_rows():
        sheet.append(["" if value is None else value for value in row])
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = COLUMN_WIDTH
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.append([])
    for note in notes:
        sheet.append([note])
        sheet.cell(sheet.max_row, 1).font = NOTE_STYLE
    sheet.freeze_panes = "A2"


def board_workbook(model) -> bytes:
    """The summary (``views.boardpack.BoardSummary``) as a workbook of three sheets."""
    synthetic = ["SYNTHETIC DATA: invented figures for fictional trusts."] \
        if model.synthetic else []
    about = [f"{model.org_name}, {model.period}.",
             f"Online: {words.pack_link(model.org, model.period)}", *synthetic]
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Scorecard", card.scorecard_rows(model.scorecard),
           [*card.england_notes(model.scorecard), "Sources: MSDS, MBRRACE-UK, CQC, "
            "Performance dashboard; latest period of each metric.", *about])
    _sheet(book, "Largest gaps", words.gap_rows(model.gaps),
           ["Significant at the 95% level, largest first.", *about])
    changes = pl.DataFrame({"What changed": [c.sentence for c in words.changes(model)],
                            "Where to see it": [publiclink.address(c.href)
                                                for c in words.changes(model)]},
                           schema={"What changed": pl.String, "Where to see it": pl.String})
    _sheet(book, "What changed", changes, [whatchanged.HOW, *about])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
