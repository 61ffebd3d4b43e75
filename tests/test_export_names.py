"""Exported files are named after the view: page, metric, organisation, period and date."""

from __future__ import annotations

import datetime

import pytest

from export.names import export_filename

DAY = datetime.date(2026, 12, 7)


@pytest.mark.parametrize(("view", "kind", "name"), [
    ("/explore?org=RXX&metric=pph_1500&period=2024-25&dim=ethnicity", "pdf",
     "explore-pph_1500-RXX-2024-25-2026-12-07.pdf"),
    ("/board-pack?org=SYN071", "pdf", "board-pack-SYN071-2026-12-07.pdf"),
    ("/board-pack?org=SYN071&full=1", "pdf", "board-pack-full-SYN071-2026-12-07.pdf"),
    ("/benchmark?metric=preterm&trusts=SYN010,SYN020", "png",
     "benchmark-preterm-2026-12-07.png"),
    ("/", "png", "overview-2026-12-07.png"),
    ("/trends", "pdf", "trends-2026-12-07.pdf"),
])
def test_names_carry_the_view(view, kind, name):
    assert export_filename(view, kind, DAY) == name


def test_names_are_safe_in_a_header_and_on_disk():
    name = export_filename('/explore?org=R"X;\r\nSet-Cookie: a=b&metric=../../etc&period=' +
                           "9" * 100, "pdf", DAY)
    assert name.startswith("explore-") and name.endswith("-2026-12-07.pdf")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    assert ".." not in name and len(name) < 160
