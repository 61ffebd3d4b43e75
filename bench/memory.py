"""Memory per worker and cold start, under gunicorn, for one store.

Plain script, not a test: ``python bench/memory.py [--data-dir STORE] [--runs 3]``. Each run

1. times a fresh process through its start-up phases (in a new interpreter, one phase after
   another): imports, the store load, ``create_app()``, the first page-layout callback
   (Overview) and a second one (Explore);
2. starts ``gunicorn --workers N app:server`` and times process start to the first 200 for
   ``/`` and to the first page-layout callback answered;
3. asks every worker for the layout of every page (as the pages router does): the default
   view, which the build saves (``data.warm``), and one trust's view, which is computed
   (``--trusts`` trusts, from the store's trusts in code order), and Benchmark and Map for
   every metric (all organisations' figures, computed); then reads each worker's
   memory from ``/proc/PID/smaps_rollup``: RSS (every page the process maps, shared ones
   included), PSS (shared pages divided among the processes sharing them), private (USS:
   what stopping the worker would free) and RSS split into anonymous memory and file pages
   (the mapped store, libraries).

It prints the median of the runs. The store's Arrow files are in the page cache of the
machine, shared by every worker mapping them: they count in each worker's RSS once touched,
and in PSS divided by the workers.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # noqa: E402 - the benchmarks' shared helpers, beside this script
    CALLBACK,
    PAGES,
    ROOT,
    bench_parser,
    describe_machine,
    free_port,
    pages_router_body,
    start_gunicorn,
    stop,
    wait_for,
    worker_pids,
)

# Phases of a worker's start, timed in a fresh interpreter (JSON on its last line).
PHASES = """
import json, sys, time
marks = [("start", time.perf_counter())]
def mark(name): marks.append((name, time.perf_counter()))
import polars, pyarrow; mark("import polars, pyarrow")
import dash, flask, plotly; mark("import dash, flask, plotly")
import app; mark("import app (pages, metrics, scipy)")
from data import store; store.load_store(); mark("store load")
server = app.get_app().server; mark("create_app()")
client = server.test_client()
for path in ("/", "/explore"):
    response = client.post("/_dash-update-component", data=sys.argv[1 + (path != "/")],
                           content_type="application/json")
    assert response.status_code == 200, response.status_code
    mark(f"page-layout callback {path}")
print(json.dumps({name: t - marks[i][1] for i, (name, t) in enumerate(marks[1:])}))
"""
SMAPS_FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous")


def phases(data_dir: Path) -> dict[str, float]:
    """Seconds of each start-up phase in a fresh interpreter."""
    bodies = [pages_router_body(path, "") for path in ("/", "/explore")]
    env = os.environ | {"EQUALITIES_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", PHASES, *bodies], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def smaps(pid: int) -> dict[str, float]:
    """MB of RSS, PSS, private (USS), anonymous and file-backed resident memory of ``pid``."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in SMAPS_FIELDS:
            values[key] = int(rest.split()[0]) / 1024
    return {"rss": values["Rss"], "pss": values["Pss"],
            "private": values["Private_Clean"] + values["Private_Dirty"],
            "anonymous": values["Anonymous"], "file": values["Rss"] - values["Anonymous"]}


def trust_views(data_dir: Path, count: int) -> list[str]:
    """``?org=CODE`` for the first ``count`` trusts of the published store."""
    orgs = pl.read_parquet(data_dir / "current" / "organisations.parquet")
    open_trusts = orgs.filter((pl.col("org_level") == "trust") & pl.col("closed").is_null())
    codes = open_trusts["org_code"].sort().head(count)
    return [f"?org={code}" for code in codes]


ACROSS = ("/benchmark", "/map")  # pages showing every organisation's figure for a metric


def metric_ids() -> list[str]:
    """Every metric of the registry (the project imported from its root)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from metrics import registry

    return list(registry.METRICS)


def served(data_dir: Path, workers: int, rounds: int, trusts: int) -> dict[str, float]:
    """Cold start (s) of a gunicorn server and its workers' memory (MB, median of workers)
    after every page's layout has been asked ``rounds`` times, by default and for each of
    ``trusts`` trusts, and Benchmark and Map for every metric."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_gunicorn(data_dir, port, workers=workers)
    try:
        first_layout = pages_router_body("/", "").encode()
        wait_for(base + CALLBACK, process, body=first_layout, timeout=600)
        out = {"cold start to first page layout (s)": time.perf_counter() - started}
        views = [(path, search) for path in PAGES
                 for search in ("", *trust_views(data_dir, trusts))]
        # Every organisation's figures for each metric: views computed, none saved.
        views += [(path, f"?metric={metric}") for path in ACROSS for metric in metric_ids()]
        for _ in range(rounds):  # new connections: each worker gets some of them
            for path, search in views:
                wait_for(base + CALLBACK, process,
                         body=pages_router_body(path, search).encode())
        per_worker = [smaps(pid) for pid in worker_pids(process.pid)]
        for key in per_worker[0]:
            out[f"worker {key} (MB)"] = statistics.median(w[key] for w in per_worker)
        return out
    finally:
        stop(process)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="loads of every page")
    parser.add_argument("--trusts", type=int, default=2, help="trusts' views of every page")
    args = parser.parse_args()
    print(describe_machine())
    print(f"store: {args.data_dir}; gunicorn --workers {args.workers}; every page by "
          f"default and for {args.trusts} trusts, Benchmark and Map for every metric, "
          f"{args.rounds} times; median of {args.runs} runs")
    results: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for key, value in (phases(args.data_dir) | served(
                args.data_dir, args.workers, args.rounds, args.trusts)).items():
            results.setdefault(key, []).append(value)
    print("\n| measure | median | min | max |\n|---|--:|--:|--:|")
    for key, values in results.items():
        print(f"| {key} | {statistics.median(values):.2f} | {min(values):.2f} | "
              f"{max(values):.2f} |")


if __name__ == "__main__":
    main()
