"""The network's annual report: its view model, and the PDF and slides the export draws."""

from __future__ import annotations

import io
import subprocess

import pytest

from returns import demo, report, service
from tests.returns.published import published  # noqa: F401  (fixture)

YEAR = "2024-25"  # the demo network's year


@pytest.fixture(scope="module")
def annual(published):  # noqa: F811
    return report.annual(published.engine, YEAR, who=demo.REVIEWER, today=demo.DEMO_TODAY)


def test_the_model_holds_every_indicator_and_provider(annual, published):  # noqa: F811
    indicator_set = service.current_set(published.engine)
    assert [p.metric.id for p in annual.indicators] == [
        i.metric_id for i in indicator_set.indicators]
    assert annual.returns["provider"].to_list() == list(indicator_set.providers())
    # Twelve months a provider, each in one state.
    states = annual.returns.select(report.STATES).sum_horizontal()
    assert states.to_list() == [12] * len(indicator_set.providers())
    assert annual.returns["late"].sum() >= 1 and annual.returns["sent_back"].sum() >= 1
    for part in annual.indicators:
        assert part.network is not None and part.network["value"] is not None
        assert part.providers.height == len(indicator_set.get(part.metric.id[6:]).providers)
        assert part.trend.height >= 9
    assert set(annual.context["Metric"]) >= {"Booked for antenatal care by 10 weeks"}


def test_a_bad_year_names_the_value():
    with pytest.raises(report.ReportError, match="2025-27"):
        report.year_span("2025-27")


def test_the_pdf_has_a_page_per_part(annual, tmp_path):
    pdf = tmp_path / "annual.pdf"
    pdf.write_bytes(report.render(annual, "pdf"))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")
    text = "\n".join(pages)
    gaps = sum(1 for p in annual.indicators if p.gaps)
    assert len([p for p in pages if p.strip()]) == 1 + 2 * len(annual.indicators) + gaps + 1
    assert "Demo Maternity and Neonatal Network: annual report 2024-25" in pages[0]
    assert "Monthly returns for 2024-25, by provider" in pages[0]
    for part in annual.indicators:
        assert part.metric.title in text
    assert "Network (all providers)" in text
    assert "Local: provider returns, approved by Demo Maternity and Neonatal Network" in text
    assert "National context for the same providers" in pages[-2]
    assert "Synthetic demonstration data" in text


def test_the_slides_hold_the_tables_and_charts(annual):
    from pptx import Presentation

    deck = Presentation(io.BytesIO(report.render(annual, "pptx")))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[0] == "Demo Maternity and Neonatal Network: annual report 2024-25"
    assert titles[-1] == "National context for the same providers"
    pictures = sum(1 for s in deck.slides for shape in s.shapes if shape.shape_type == 13)
    charts = sum(2 + len(p.gaps) for p in annual.indicators)
    assert pictures == charts


def test_the_full_board_pack_holds_local_indicators_from_the_store_named(
        published, demo_root, tmp_path, monkeypatch):  # noqa: F811
    """``--data-dir`` chooses the store an export draws, whatever the environment names:
    the published copy's local indicators appear in the full pack, flagged Local."""
    from cli import main

    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(demo_root))  # national figures only
    provider = service.current_set(published.engine).providers()[0]
    out = tmp_path / "pack.pdf"
    assert main(["--data-dir", str(published.root), "export", "board-pack", "--org", provider,
                 "--full", "--out", str(out)]) == 0
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Perinatal mental health referrals seen within 28 days (Local)" in text
