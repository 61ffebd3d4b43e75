"""Time board-report exports: one view as PDF and PNG (warm), and a trust's board pack.

Plain script, not a test: ``python bench/exports.py [--repeat N]``. It serves the app in a
background thread on the store in ``$EQUALITIES_DATA_DIR`` (or ``data/store``), draws with
the system Chromium and prints medians. Targets: single view <= 2 s warm, board summary
<= 5 s, full board pack <= 15 s; of a burst of exports asked for at once, those past the
short queue are refused as busy at once.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

VIEWS = (
    "/explore?org=SYN020&metric=pph_1500&dim=ethnicity",
    "/benchmark?metric=pph_1500&trusts=SYN010,SYN020",
    "/trends?org=ENG&metric=pph_1500&dim=ethnicity&kind=quarter",
    "/scorecard?org=SYN071",
)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def burst(render, url: str, at_once: int) -> tuple[list[float], list[float]]:
    """Seconds taken by the exports drawn and by those refused as busy, ``at_once`` asked
    for together."""
    from export.render import ExportBusy

    drawn, refused = [], []

    def one() -> None:
        start = time.perf_counter()
        try:
            render(url, "pdf")
            drawn.append(time.perf_counter() - start)
        except ExportBusy:
            refused.append(time.perf_counter() - start)

    threads = [threading.Thread(target=one) for _ in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return drawn, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--at-once", type=int, default=10, help="exports in the burst")
    args = parser.parse_args()

    from app import get_app
    from export.commands import export_board_pack
    from export.render import renderer
    from export.server import running_app

    with running_app(get_app().server) as base:
        cold = timed(lambda: renderer().render(base + VIEWS[0], "pdf"))
        print(f"first export (browser start, cold queries): {cold:.2f} s")
        print("| view | format | median s | max s |")
        print("|---|---|--:|--:|")
        for view in VIEWS:
            for kind in ("pdf", "png"):
                runs = [timed(lambda v=view, k=kind: renderer().render(base + v, k))
                        for _ in range(args.repeat)]
                print(f"| {view} | {kind} | {statistics.median(runs):.2f} | {max(runs):.2f} |")
        for label, full in (("board summary", ""), ("full board pack", "&full=1")):
            packs = [timed(lambda o=org, f=full: renderer().render(
                f"{base}/board-pack?org={o}{f}", "pdf")) for org in ("SYN071", "SYN020", "SYN050")]
            print(f"{label} (3 different trusts, uncached queries): median "
                  f"{statistics.median(packs):.2f} s, max {max(packs):.2f} s")
        drawn, refused = burst(renderer().render, base + VIEWS[0], args.at_once)
        print(f"{args.at_once} at once: {len(drawn)} drawn (max {max(drawn):.2f} s), "
              f"{len(refused)} refused as busy (max {max(refused, default=0):.3f} s)")
    slides = timed(lambda: export_board_pack("SYN030", None, Path(tempfile.mkdtemp()) /
                                             "summary.pptx", get_app()))
    print(f"board summary as slides (command line, one trust): {slides:.2f} s")


if __name__ == "__main__":
    main()
