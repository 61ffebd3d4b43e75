"""An export link downloads in the page and shows the export's stages as the server reports
them, ending with the file's name."""

from __future__ import annotations

import json
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import click, open_page, wait_for, wait_idle

pytestmark = pytest.mark.e2e

SEEN = """
window.__stages = window.__stages || [];
const box = document.querySelector('.export-progress');
const current = box && box.querySelector('.current');
if (current && !window.__stages.includes(current.textContent)) {
  window.__stages.push(current.textContent);
}
return [window.__stages, box ? box.textContent : null];"""


def test_the_board_summary_shows_its_progress_then_its_name(browser, server):
    open_page(browser, f"{server}/scorecard?org=SYN071")
    wait_idle(browser)
    click(browser, browser.find_element(By.ID, "scorecard-board-pack"))
    seen = {}

    def ready() -> bool:
        stages, text = browser.execute_script(SEEN)
        seen["stages"], seen["text"] = stages, text
        return bool(text) and text.startswith("Ready:")

    assert wait_for(ready, timeout=120), seen
    assert "board-pack-SYN071" in seen["text"] and seen["text"].endswith(".pdf downloaded.")
    # At least one stage of the drawing was shown on the way (polled every 0.4 s).
    assert seen["stages"], seen
    assert set(seen["stages"]) <= {"Waiting for the export service", "Opening the view",
                                   "Drawing the charts and tables", "Printing the file"}


def test_progress_is_kept_under_its_token(server):
    view = "/explore?org=SYN020&metric=pph_1500"
    token = "abcdefgh12345678"
    url = f"{server}/export/view.png?url={urllib.request.quote(view, safe='')}&progress={token}"
    with urllib.request.urlopen(url, timeout=120) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{server}/export/progress/{token}", timeout=10) as response:
        assert json.load(response) == {"stage": "done"}
    with urllib.request.urlopen(f"{server}/export/progress/unknown-token-1", timeout=10) as r:
        assert json.load(r) == {"stage": None}
    bad = f"{server}/export/view.png?url={urllib.request.quote(view, safe='')}&progress=x"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=30)
    assert caught.value.code == 400


def test_the_board_summary_as_slides_from_the_web(server, tmp_path):
    """The Scorecard's PowerPoint link gives the summary's own deck: tables as tables, a
    picture per headline chart, drawn by the server's export browser."""
    import io

    from pptx import Presentation

    view = urllib.request.quote("/board-pack?org=SYN071", safe="")
    with urllib.request.urlopen(f"{server}/export/view.pptx?url={view}", timeout=180) as r:
        assert r.headers["Content-Disposition"].endswith('.pptx"')
        deck = Presentation(io.BytesIO(r.read()))
    slides = list(deck.slides)
    titles = [s.shapes.title.text for s in slides if s.shapes.title is not None]
    assert titles[0].startswith("Board summary: ")
    assert "Annex 3 scorecard against England" in titles
    assert any(shape.has_table for s in slides for shape in s.shapes)
    assert any(shape.shape_type == 13 for s in slides for shape in s.shapes)  # a picture
