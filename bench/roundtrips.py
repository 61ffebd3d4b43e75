"""Server requests a control change costs, measured in headless Chromium.

Plain script, not a test: ``python bench/roundtrips.py [--data-dir STORE]``. It serves the app
(gunicorn, 2 workers), opens Explore, Trends and Benchmark, waits until every chart is drawn,
then changes one control (picks another metric from the menu) and counts the
``/_dash-update-component`` POSTs the browser makes until the new view's charts are drawn,
and how many of them had to wait for an earlier one (sequential rounds).
"""

from __future__ import annotations

import json
import os
import time

from load import CALLBACK, bench_parser, served_in_chromium

from export.render import CHARTS_DRAWN

# page -> (control whose menu is changed, the option picked)
PICKED = "Mode of birth: Instrumental birth (forceps or ventouse)"
CHANGES = {"/explore": ("explore-metric", PICKED), "/trends": ("trends-metric", PICKED),
           "/benchmark": ("benchmark-metric", PICKED)}


def _describe(body: str) -> str:
    """A callback request in a few words: its outputs and the inputs that changed."""
    sent = json.loads(body)
    return f"{sent['output'][:40]} <- {', '.join(sent.get('changedPropIds') or ())}"


def count_change(context, url: str, control: str, text: str) -> tuple[int, int, float]:
    """(requests, sequential rounds, seconds) for one control change on ``url``."""
    page = context.new_page()
    try:
        page.goto(url, timeout=60_000)
        page.wait_for_selector("main h1", timeout=60_000)
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000, polling="raf")
        page.wait_for_timeout(500)
        sent: list[tuple[float, float]] = []  # (request start, response end)
        started: dict = {}
        outputs: list[str] = []
        page.on("request", lambda r: (started.__setitem__(r, time.perf_counter()),
                                      outputs.append(_describe(r.post_data)))
                if CALLBACK in r.url else None)
        page.on("requestfinished", lambda r: sent.append((started[r], time.perf_counter()))
                if r in started else None)
        begin = time.perf_counter()
        page.click(f"#{control}")
        page.wait_for_timeout(200)
        page.get_by_role("option", name=text).first.click()
        page.wait_for_timeout(300)
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000, polling="raf")
        page.wait_for_load_state("networkidle")
        elapsed = time.perf_counter() - begin
    finally:
        page.close()
    if os.environ.get("ROUNDTRIPS_VERBOSE"):
        print(url, outputs)
    rounds, last_end = 0, 0.0
    for start, end in sorted(sent):
        if start >= last_end:  # waited for every earlier answer: a new round
            rounds += 1
        last_end = max(last_end, end)
    return len(sent), rounds, elapsed


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with served_in_chromium(args.data_dir) as (base, context):
        print("| page | requests per control change | sequential rounds | seconds |")
        print("|---|--:|--:|--:|")
        for path, (control, text) in CHANGES.items():
            runs = [count_change(context, base + path, control, text)
                    for _ in range(args.repeat)]
            requests, rounds, seconds = runs[-1]  # the last: every cache warm
            print(f"| {path} | {requests} | {rounds} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
