"""Soak the dashboard: many concurrent clients for minutes against gunicorn, watching errors
and memory.

Plain script, not a test (it runs for minutes): ``python bench/soak.py [--data-dir STORE]
[--clients 50] [--minutes 5] [--workers 2] [--threads 4]``. It

1. starts ``gunicorn app:server`` on a free port and warms each worker;
2. runs N client threads, each with its own keep-alive connection, for the given time. Each
   client walks a mix of what browsers ask for: page loads (``/``), the layout, page-layout
   callbacks for every page with a varied view (organisation, metric, period, breakdown;
   some views are new, so the caches keep filling; each comes with its print heading and
   export links), CSV downloads, assets and ``/healthz``;
3. every 10 s samples the resident memory (``VmRSS``) of the master and each worker;
4. reports requests, requests/s, errors (any status other than 200/204, or a failed
   connection) with examples, latency percentiles, and memory over time: the first and last
   minute's mean and the growth between them ("flat" when under 10% after the first minute's
   warm-up).

Exit status 1 when any request failed or memory is not flat, so it can gate a release by
hand (a run shorter than two minutes cannot judge memory and is judged on errors alone).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (  # noqa: E402 - a script beside load.py, not a package
    CALLBACK,
    describe_machine,
    free_port,
    memory_mb,
    percentile,
    start_gunicorn,
    stop,
    wait_for,
    warm_workers,
    worker_pids,
)

PAGES = ("/", "/explore", "/benchmark", "/trends", "/scorecard", "/mortality", "/experience",
         "/data-quality", "/map", "/intersections", "/data", "/about")
METRICS = ("pph_1500", "preterm", "booked_by_10_weeks", "caesarean_emergency", "stillbirth",
           "ethnicity_recorded")
DIMENSIONS = ("ethnicity", "deprivation_quintile", "deprivation_decile", "total")
FLAT = 0.10  # growth of memory from the second minute to the last that still counts as flat


def router(path: str, search: str) -> bytes:
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"]}).encode()


def download(search: str) -> bytes:
    return json.dumps({
        "output": "explore-download.data",
        "outputs": {"id": "explore-download", "property": "data"},
        "inputs": [{"id": "explore-download-button", "property": "n_clicks", "value": 1}],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["explore-download-button.n_clicks"]}).encode()


def requests_for(rng: random.Random, orgs: list[str]) -> tuple[str, str, bytes | None]:
    """One request of the browser mix, chosen at random."""
    org = rng.choice(orgs)
    search = f"?org={org}&metric={rng.choice(METRICS)}&dim={rng.choice(DIMENSIONS)}"
    roll = rng.random()
    if roll < 0.6:
        return "POST", CALLBACK, router(rng.choice(PAGES), search)
    if roll < 0.7:
        return "POST", CALLBACK, download(search)
    if roll < 0.8:
        return "GET", "/", None
    if roll < 0.9:
        return "GET", rng.choice(("/_dash-layout", "/_dash-dependencies")), None
    return "GET", rng.choice(("/assets/style.css", "/vendor/bootstrap.min.css",
                              "/healthz")), None


def organisations(data_dir: Path | None) -> list[str]:
    import os

    from data import store

    if data_dir:
        os.environ["EQUALITIES_DATA_DIR"] = str(data_dir)
    orgs = store.load_store().organisations
    return ["ENG", *orgs.filter(orgs["org_level"] != "england")["org_code"].to_list()]


def soak(port: int, clients: int, seconds: float, orgs: list[str], master: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    counts = {"requests": 0}
    memory: list[tuple[float, float, list[float]]] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < stop_at:
            method, path, body = requests_for(rng, orgs)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body,
                                   headers={"Content-Type": "application/json",
                                            "Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
                ok = response.status in (200, 204)
                problem = None if ok else f"{method} {path} -> {response.status}"
            except (OSError, http.client.HTTPException) as error:
                problem = f"{method} {path} -> {error!r}"
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                counts["requests"] += 1
                latencies.append(time.perf_counter() - started)
                if problem:
                    errors.append(problem)

    def sample() -> None:
        started = time.perf_counter()
        while time.perf_counter() < stop_at + 1:
            workers = worker_pids(master)
            rss = [memory_mb(pid)[0] for pid in [master, *workers]]
            memory.append((time.perf_counter() - started, sum(rss), rss))
            time.sleep(10)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.join(timeout=15)
    return {"requests": counts["requests"], "latencies": latencies, "errors": errors,
            "memory": memory}


def report(result: dict, seconds: float, clients: int) -> bool:
    lat = sorted(result["latencies"])
    print(f"clients {clients}, {seconds / 60:.1f} min: {result['requests']:,} requests "
          f"({result['requests'] / seconds:.1f}/s), {len(result['errors'])} errors")
    if lat:
        print("latency ms: p50 {:.0f}, p95 {:.0f}, p99 {:.0f}, max {:.0f}".format(
            *(1000 * percentile(lat, q) for q in (50, 95, 99)), 1000 * lat[-1]))
    for error in result["errors"][:10]:
        print(f"  error: {error}")
    print("memory (RSS MB, master + workers) over time:")
    for t, total, parts in result["memory"]:
        print(f"  {t:6.0f} s  {total:7.1f}  ({', '.join(f'{p:.0f}' for p in parts)})")
    flat = True
    window = memory_window(result["memory"])
    if window is None:
        print("memory: under two minutes of samples, so growth is not judged")
    else:
        first, last = window
        growth = (last - first) / first
        flat = abs(growth) < FLAT
        print(f"second-minute mean {first:.0f} MB, last-minute mean {last:.0f} MB: "
              f"{growth:+.1%} ({'flat' if flat else 'NOT flat'})")
    return not result["errors"] and flat


def memory_window(samples: list[tuple[float, float, list[float]]]
                  ) -> tuple[float, float] | None:
    """Mean total memory (MB) over the second minute (warm) and over the last, from samples
    taken every 10 s; None for fewer than two minutes of samples."""
    if len(samples) < 12:
        return None
    return (statistics.mean(s[1] for s in samples[6:12]),
            statistics.mean(s[1] for s in samples[-6:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    orgs = organisations(args.data_dir)
    from data import settings

    data_dir = args.data_dir or settings.data_dir()
    port = free_port()
    log = Path(tempfile.gettempdir()) / "equalities-soak-gunicorn.log"
    process = start_gunicorn(data_dir, port, workers=args.workers, threads=args.threads,
                             log=log)
    try:
        base = f"http://127.0.0.1:{port}"
        cold = wait_for(base + "/", process, timeout=120)
        warm_workers(base)
        print(describe_machine())
        print(f"gunicorn --workers {args.workers} --threads {args.threads}: first answer "
              f"after {cold:.1f} s; store {data_dir}")
        seconds = args.minutes * 60
        ok = report(soak(port, args.clients, seconds, orgs, process.pid), seconds,
                    args.clients)
    finally:
        stop(process)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
