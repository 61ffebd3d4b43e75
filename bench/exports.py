"""Time board-report exports: one view as PDF and PNG (warm), and a trust's board pack.

Plain script, not a test: ``python bench/exports.py [--repeat N]``. It serves the app in a
background thread on the store in ``$EQUALITIES_DATA_DIR`` (or ``data/store``), draws with
the system Chromium and prints medians. Targets: single view <= 2 s warm, board pack <= 15 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from app import get_app
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
        packs = [timed(lambda o=org: renderer().render(f"{base}/board-pack?org={o}", "pdf"))
                 for org in ("SYN071", "SYN020", "SYN050")]
        print(f"board pack (3 different trusts, uncached queries): median "
              f"{statistics.median(packs):.2f} s, max {max(packs):.2f} s")


if __name__ == "__main__":
    main()
