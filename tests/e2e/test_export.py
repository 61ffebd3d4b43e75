"""Board-report export: views as PDF and PNG, the trust board pack, and the export button."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.helpers import click, open_page, table_rows, wait_for

pytestmark = pytest.mark.e2e
VIEW = "/explore?org=SYN020&metric=pph_1500&dim=ethnicity&period=2024-25"


def _fetch(server: str, path: str, kind: str) -> bytes:
    url = f"{server}/export/view.{kind}?url={quote(path, safe='')}"
    with urllib.request.urlopen(url, timeout=120) as response:
        assert response.status == 200
        return response.read()


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    assert shutil.which("pdftotext"), "poppler-utils is needed: `make test` installs it"
    pdf = tmp_path / "export.pdf"
    pdf.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _pages(content: bytes, tmp_path: Path) -> int:
    pdf = tmp_path / "pages.pdf"
    pdf.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(next(line.split()[-1] for line in info.stdout.splitlines()
                    if line.startswith("Pages:")))


def test_view_pdf_states_the_view_and_is_watermarked(server, tmp_path):
    content = _fetch(server, VIEW, "pdf")
    assert content.startswith(b"%PDF")
    text = _pdf_text(content, tmp_path)
    for expected in ("Ashbury Teaching Hospitals NHS Foundation Trust",
                     "Postpartum haemorrhage of 1,500 ml or more", "2024-25", "Ethnicity",
                     "Compared with: England", "SYNTHETIC DATA", "Reproduce this view",
                     "Page 1 of"):
        assert expected in text, expected
    assert _pages(content, tmp_path) >= 1


def test_exported_numbers_equal_the_screen(browser, server, tmp_path):
    open_page(browser, server + VIEW)
    rows = table_rows(browser, "explore-table")
    text = _pdf_text(_fetch(server, VIEW, "pdf"), tmp_path)
    printed = text.split()
    numbers = [token for row in rows for cell in row[1:] for token in cell.split()
               if token[:1].isdigit()]
    assert len(numbers) >= 8
    for token in numbers:
        # Every figure of the on-screen table is printed (cells wrap, so not in row order).
        assert token in printed, token


def test_view_png_is_a_real_picture(server):
    from PIL import Image, ImageStat

    from export.render import VIEWPORT

    content = _fetch(server, "/trends?org=ENG&metric=pph_1500&dim=ethnicity", "png")
    image = Image.open(io.BytesIO(content))
    # Drawn at the A4 width the PDF prints at, the whole page long.
    assert image.width == VIEWPORT["width"] and image.height > 1000
    variance = ImageStat.Stat(image.convert("L")).var[0]
    assert variance > 500, "the picture is close to blank"


def test_the_download_is_named_after_the_view(server):
    import datetime

    url = f"{server}/export/view.png?url={quote(VIEW, safe='')}"
    with urllib.request.urlopen(url, timeout=120) as response:
        disposition = response.headers["Content-Disposition"]
    day = datetime.date.today().isoformat()
    assert disposition == f'attachment; filename="explore-pph_1500-SYN020-2024-25-{day}.png"'


def test_export_refuses_other_sites(server):
    for bad in ("http://example.com/", "//example.com/explore", "/../etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            _fetch(server, bad, "pdf")
        assert caught.value.code == 400


def test_export_button_downloads_the_view(browser, server):
    open_page(browser, server + "/explore?org=SYN030&metric=preterm")
    folder = Path(browser.download_dir)
    for old in folder.glob("explore*.pdf"):
        old.unlink()
    click(browser, "export-pdf")
    assert wait_for(lambda: any(folder.glob("explore*.pdf")), timeout=60)
    pdf = next(folder.glob("explore*.pdf"))
    assert wait_for(lambda: pdf.read_bytes().startswith(b"%PDF") and
                    pdf.read_bytes().rstrip().endswith(b"%%EOF"), timeout=30)


def test_board_pack_from_the_command_line(demo_root, tmp_path, demo):
    import cli

    out = tmp_path / "pack.pdf"
    started = time.perf_counter()
    assert cli.main(["--data-dir", str(demo_root), "export", "board-pack", "--org", "SYN071",
                     "--period", "2024-25", "--full", "--out", str(out)]) == 0
    assert time.perf_counter() - started < 120
    content = out.read_bytes()
    from metrics.registry import OUTCOME_METRICS

    trust_metrics = [m for m in OUTCOME_METRICS if "trust" in m.levels]
    sections = len(trust_metrics) + 1
    assert _pages(content, tmp_path) >= sections + 1  # contents page, then a page or more each
    text = _pdf_text(content, tmp_path)
    assert "Board pack: " in text and "Contents" in text and "SYNTHETIC DATA" in text
    for metric in trust_metrics:
        assert metric.title in text, metric.id
    assert "Page 2 of" in text


def test_board_pack_rejects_bad_arguments(demo_root, tmp_path, capsys):
    import cli

    assert cli.main(["--data-dir", str(demo_root), "export", "board-pack", "--org", "NOPE",
                     "--out", str(tmp_path / "x.pdf")]) == 2
    assert "unknown trust" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(demo_root), "export", "view", "--url", "/explore",
                     "--out", str(tmp_path / "x.docx")]) == 2
    assert not (tmp_path / "x.pdf").exists()


def test_scorecard_offers_the_board_pack(browser, server):
    open_page(browser, server + "/scorecard?org=SYN071")
    link = browser.find_element(By.ID, "scorecard-board-pack").get_attribute("href")
    assert "/export/view.pdf" in link and "board-pack" in link and "SYN071" in link
    full = browser.find_element(By.ID, "scorecard-full-pack").get_attribute("href")
    assert "board-pack" in full and "full%3D1" in full and "full" not in link
