"""Board reports a board secretary accepts as they come: every exported page is looked at
(poppler draws it, PIL measures its ink), charts and tables are measured in Chromium's print
layout, and the slide deck is read back with python-pptx."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
PUBLIC = "https://equalities.example.nhs.uk"
ORG, ORG_NAME, PERIOD = "SYN071", "Coldhurst and Cinderhurst NHS Trust", "2024-25"
VIEWS = {
    "explore": "/explore?org=SYN020&metric=pph_1500&dim=ethnicity",
    "trends": "/trends?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter",
    "scorecard": "/scorecard?org=SYN071",
}
# A sheet with less than this share of dark pixels (the page number and a line or two;
# the light watermark is not counted) is nearly blank.
NEARLY_BLANK = 0.01
DARK = 200  # grey level below which a pixel is ink
# A4 landscape inside the export's margins (10 mm, and 14 mm at the foot for the page
# number), in CSS pixels at 96 per inch.
SHEET_HEIGHT_PX = (210 - 10 - 14) / 25.4 * 96


@pytest.fixture(scope="module")
def exports(demo_root, tmp_path_factory) -> Path:
    """The summary and full packs (PDF), the summary as slides and three views as PDF, made
    by the command line with a public address set."""
    import cli

    folder = tmp_path_factory.mktemp("exports")
    before = os.environ.get("EQUALITIES_PUBLIC_URL")
    os.environ["EQUALITIES_PUBLIC_URL"] = PUBLIC
    try:
        def run(*args: str) -> None:
            assert cli.main(["--data-dir", str(demo_root), "export", *args]) == 0, args

        pack = ("board-pack", "--org", ORG, "--period", PERIOD)
        run(*pack, "--out", str(folder / "summary.pdf"))
        run(*pack, "--full", "--out", str(folder / "full.pdf"))
        # Another trust: sections of other lengths fall differently on the sheets.
        run("board-pack", "--org", "SYN020", "--full", "--out", str(folder / "full-SYN020.pdf"))
        run(*pack, "--out", str(folder / "summary.pptx"))
        for name, url in VIEWS.items():
            run("view", "--url", url, "--out", str(folder / f"{name}.pdf"))
        run("view", "--url", VIEWS["explore"], "--out", str(folder / "explore.pptx"))
    finally:
        if before is None:
            os.environ.pop("EQUALITIES_PUBLIC_URL", None)
        else:
            os.environ["EQUALITIES_PUBLIC_URL"] = before
    return folder


def ink(pdf: Path, folder: Path) -> list[float]:
    """The share of dark pixels on each page, drawn at 60 dpi."""
    from PIL import Image

    assert shutil.which("pdftoppm"), "poppler-utils is needed: `make test` installs it"
    pages = folder / f"{pdf.stem}-pages"
    pages.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(pages / "p")], check=True)
    shares = []
    for png in sorted(pages.glob("p-*.png")):
        grey = Image.open(png).convert("L")
        shares.append(sum(grey.histogram()[:DARK]) / (grey.width * grey.height))
    return shares


def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("name", ["summary", "full", "full-SYN020", *VIEWS])
def test_no_sheet_but_the_last_is_nearly_blank(exports, tmp_path, name):
    shares = ink(exports / f"{name}.pdf", tmp_path)
    assert shares, name
    blank = [number for number, share in enumerate(shares[:-1], start=1)
             if share < NEARLY_BLANK]
    assert not blank, f"{name}: nearly blank pages {blank} of {len(shares)} ({shares})"


def test_the_summary_is_two_to_six_pages_and_the_full_pack_more(exports, tmp_path):
    summary, full = (len(ink(exports / f"{n}.pdf", tmp_path)) for n in ("summary", "full"))
    assert 2 <= summary <= 6
    assert full > summary


@pytest.mark.parametrize("name", ["summary", "full"])
def test_packs_say_whose_when_synthetic_and_where_online(exports, name):
    said = text(exports / f"{name}.pdf")
    for expected in (ORG_NAME, PERIOD, "SYNTHETIC DATA", "Page 1 of",
                     f"Reproduce this view: {PUBLIC}/board-pack?org={ORG}&period={PERIOD}"):
        assert expected in said, expected
    assert "0.025)" not in said and "0.001)" not in said  # funnel jargon
    assert "EQUALITIES_PUBLIC_URL" not in said


def test_the_summary_holds_the_scorecard_gaps_and_changes(exports):
    said = " ".join(text(exports / "summary.pdf").split())
    for heading in ("Board summary: ", "Annex 3 scorecard against England",
                    "The largest gaps", "What changed since", "The headlines in charts"):
        assert heading in said, heading
    assert f"{PUBLIC}/board-pack?org={ORG}&period={PERIOD}&full=1" in said


def test_views_state_an_absolute_link(exports):
    for name, url in VIEWS.items():
        said = " ".join(text(exports / f"{name}.pdf").split())
        assert f"Reproduce this view: {PUBLIC}{url.split('?')[0]}?" in said, name


def test_the_slides_open_with_a_picture_per_headline(exports):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    deck = Presentation(str(exports / "summary.pptx"))
    slides = list(deck.slides)
    titles = [slide.shapes.title.text for slide in slides]
    assert titles[0] == f"Board summary: {ORG_NAME}"
    assert titles[1:4] == ["In brief", "Annex 3 scorecard against England", "The largest gaps"]
    assert titles[4].startswith("What changed since")
    headlines = slides[5:]
    assert 1 <= len(headlines) <= 4
    for slide in headlines:
        kinds = [shape.shape_type for shape in slide.shapes]
        assert kinds.count(MSO_SHAPE_TYPE.PICTURE) == 1, slide.shapes.title.text
        shapes_text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert "Source: " in shapes_text and "Synthetic demonstration data" in shapes_text
        notes = slide.notes_slide.notes_text_frame.text
        assert "(95% CI" in notes and "England" in notes
    # The tables are PowerPoint tables, to be edited.
    scorecard = next(s for s in slides[2].shapes if s.has_table).table
    assert scorecard.cell(0, 0).text == "Metric" and len(scorecard.rows) == 9
    assert f"{PUBLIC}/board-pack?org={ORG}" in slides[0].notes_slide.notes_text_frame.text


def test_a_view_as_slides_has_a_picture_per_chart(exports):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    deck = Presentation(str(exports / "explore.pptx"))
    slides = list(deck.slides)
    assert len(slides) >= 2
    pictures = [s for slide in slides[1:] for s in slide.shapes
                if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == len(slides) - 1
    assert slides[1].shapes.title.text.startswith("Postpartum haemorrhage")


# -- measured in Chromium's print layout ------------------------------------------------

MEASURE = """() => {
  const graphs = Array.from(document.querySelectorAll('main .dash-graph')).map(g => ({
    height: g.getBoundingClientRect().height,
    avoid: getComputedStyle(g).breakInside}));
  const width = document.querySelector('main').clientWidth;
  const tables = Array.from(document.querySelectorAll('main table')).map(t => ({
    right: t.getBoundingClientRect().right - document.querySelector('main')
      .getBoundingClientRect().left, scroll: t.scrollWidth, width: t.clientWidth}));
  const headings = Array.from(document.querySelectorAll('main h2, main h3')).map(
    h => getComputedStyle(h).breakAfter);
  return {graphs, tables, width, headings};
}"""


@pytest.fixture(scope="module")
def print_layout(server):
    """What each view measures in print layout, at the export's width."""
    from playwright.sync_api import sync_playwright

    from export.render import BROWSER_ARGS, CHARTS_DRAWN, CHROMIUM, VIEWPORT

    urls = {**VIEWS, "summary": f"/board-pack?org={ORG}",
            "full": f"/board-pack?org={ORG}&full=1"}
    measured = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        page = browser.new_page(viewport=VIEWPORT)
        page.emulate_media(media="print")
        for name, url in urls.items():
            page.goto(server + url, wait_until="networkidle", timeout=60_000)
            page.wait_for_function(CHARTS_DRAWN, timeout=60_000, polling=100)
            measured[name] = page.evaluate(MEASURE)
        browser.close()
    return measured


@pytest.mark.parametrize("name", ["summary", "full", *VIEWS])
def test_every_chart_fits_a_sheet_and_is_never_split(print_layout, name):
    graphs = print_layout[name]["graphs"]
    assert graphs, name
    for graph in graphs:
        # A chart no taller than a sheet, kept whole, cannot be cut at a sheet's edge.
        assert graph["avoid"] == "avoid", name
        assert 0 < graph["height"] <= SHEET_HEIGHT_PX, (name, graph)


@pytest.mark.parametrize("name", ["summary", "full", *VIEWS])
def test_tables_fit_the_page_width_and_headings_keep_with_what_follows(print_layout, name):
    measured = print_layout[name]
    for table in measured["tables"]:
        assert table["scroll"] <= table["width"] + 1, (name, table)
        assert table["right"] <= measured["width"] + 1, (name, table)
    assert all(after == "avoid" for after in measured["headings"]), name
