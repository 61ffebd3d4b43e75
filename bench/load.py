"""Load-test the dashboard under gunicorn with real Dash callback requests.

Plain script, not a test: ``python bench/load.py [--data-dir STORE] [--clients 20]``. It

1. starts ``gunicorn --workers 2 --threads 4 app:server`` on a free port (cold start: process
   start to the first 200 for ``/`` and for the first page-layout callback);
2. loads every page once in headless Chromium (Playwright, Debian's ``/usr/bin/chromium``)
   and records the JSON bodies of the ``/_dash-update-component`` POSTs the browser makes:
   the pages router (the page layout with its figures, print heading and export links)
   and the page's controls-to-URL callback;
3. times *uncached* callbacks: the first request for page layouts never requested before
   (one trust on Explore, Trends and Scorecard; all trusts on Benchmark, one per metric);
4. times *warm* callbacks: each recorded body repeated by one client after a warm-up, so
   both workers hold the answer in their cache;
5. replays the recorded bodies from N concurrent keep-alive clients for a fixed time, in
   several rounds, and reports requests/s, latency percentiles, errors and response sizes
   (as sent: the clients ask for gzip, as a browser does) for each round and their median;
6. reads each worker's resident memory (``VmRSS`` and peak ``VmHWM`` in /proc).

Latencies are measured by the client over the loopback interface, so they include HTTP and
JSON overhead; the client runs on the same machine and competes for its CPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
CHROMIUM = "/usr/bin/chromium"
CALLBACK = "/_dash-update-component"
PAGES = ("/", "/explore", "/benchmark", "/map", "/trends", "/intersections", "/scorecard",
         "/mortality", "/experience", "/data-quality")
ROUTER_OUTPUT = "_pages_content.children"
TARGETS = {"rps": 300, "p99_ms": 200, "payload_kb": 150, "rss_mb": 400, "cold_s": 3.0,
           "warm_p95_ms": 10}


# -- server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(data_dir: Path, port: int, *, workers: int = 2, threads: int = 4,
                   wsgi: str = "app:server", env: dict | None = None,
                   log: Path | None = None) -> subprocess.Popen:
    """Start gunicorn on ``port`` serving ``wsgi`` from the project root."""
    environment = os.environ | {"EQUALITIES_DATA_DIR": str(data_dir)} | (env or {})
    out = open(log or os.devnull, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(GUNICORN), "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", wsgi],
        cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60,
             body: bytes | None = None) -> float:
    """Seconds until ``url`` answers 200 (POSTing ``body`` if given)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            request = urllib.request.Request(url, data=body, headers={
                "Content-Type": "application/json"} if body else {})
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def warm_workers(base: str, rounds: int = 12) -> None:
    """Make every worker serve ``/`` once before concurrent traffic.

    Dash fills the registry of script bundles it will serve on a worker's first request;
    under gthread two concurrent first requests race and bundle requests fail with 500
    ("is not a registered library", plotly/dash#3971). Sequential new connections reach
    every worker in practice.
    """
    for _ in range(rounds):
        with urllib.request.urlopen(base + "/", timeout=30) as response:
            response.read()


def worker_pids(master: int) -> list[int]:
    """Child processes of the gunicorn master (its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def memory_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def bench_parser(description: str | None) -> argparse.ArgumentParser:
    """The benchmarks' command line: ``--data-dir`` (the store), as every script takes it."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("EQUALITIES_DATA_DIR", ROOT / "data/store")))
    return parser


@contextlib.contextmanager
def served_in_chromium(data_dir: Path) -> Iterator[tuple[str, object]]:
    """Serve the app (gunicorn, workers warmed) and yield ``(base URL, a headless Chromium
    context)`` on it; both are stopped after."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_gunicorn(data_dir, port)
    try:
        wait_for(base + "/", process)
        warm_workers(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield base, browser.new_context(viewport={"width": 1400, "height": 1000})
            browser.close()
    finally:
        stop(process)


# -- recorded callbacks ---------------------------------------------------------------------


def record_callbacks(base: str, paths=PAGES) -> list[tuple[str, str]]:
    """(page path, JSON body) of every callback POST the browser makes loading ``paths``."""
    from playwright.sync_api import sync_playwright

    bodies: list[tuple[str, str]] = []
    current = {"path": ""}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: bodies.append((current["path"], r.post_data))
                if CALLBACK in r.url else None)
        for path in paths:
            current["path"] = path
            page.goto(base + path, wait_until="networkidle", timeout=60_000)
        browser.close()
    return bodies


def kind_of(body: str) -> str:
    output = json.loads(body)["output"]
    if ROUTER_OUTPUT in output:
        return "page layout"
    if output.startswith(("url.search", "page-url.search")):
        return "controls -> URL"
    return output.split(".")[0][:40]


def pages_router_body(path: str, search: str) -> str:
    """The body of the request Dash's pages router makes to draw ``path`` with ``search``."""
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
    })


def router_body(template: str, path: str, search: str) -> str:
    """The pages-router body of ``template`` asking for ``path`` with ``search``."""
    body = json.loads(template)
    for item in body["inputs"]:
        if item["property"] == "pathname":
            item["value"] = path
        elif item["property"] == "search":
            item["value"] = search
    return json.dumps(body)


# -- client ---------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection posting callback bodies."""

    def __init__(self, base: str, encoding: str = "gzip") -> None:
        self.headers = {"Content-Type": "application/json", "Accept-Encoding": encoding}
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def post(self, body: str) -> tuple[int, int, float]:
        """(status, response bytes on the wire, seconds) of one callback request."""
        data = body.encode()
        start = time.perf_counter()
        try:
            self.connection.request("POST", CALLBACK, body=data, headers=self.headers)
            response = self.connection.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            return 0, 0, time.perf_counter() - start
        return status, len(payload), time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest rank, of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def load(base: str, bodies: list[str], clients: int, seconds: float,
         encoding: str = "gzip") -> dict:
    """Replay ``bodies`` from ``clients`` threads for ``seconds``; latency in ms."""
    results: list[list[tuple[int, int, float]]] = [[] for _ in range(clients)]
    stop_at = time.perf_counter() + seconds

    def run(index: int) -> None:
        client = Client(base, encoding)
        order = bodies[:]
        random.Random(index).shuffle(order)
        i = 0
        while time.perf_counter() < stop_at:
            results[index].append(client.post(order[i % len(order)]))
            i += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    rows = [r for per in results for r in per]
    latencies = [r[2] * 1000 for r in rows]
    sizes = [r[1] for r in rows if r[0] == 200]
    return {"requests": len(rows), "rps": len(rows) / elapsed,
            # 204 is a callback that changes nothing (no_update), not a failure.
            "errors": sum(1 for r in rows if r[0] not in (200, 204)),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": max(latencies, default=float("nan")),
            "size_median": statistics.median(sizes) if sizes else 0,
            "size_max": max(sizes, default=0)}


def load_row(label: str, round_name: str, r: dict) -> str:
    """One line of the load table for the result ``r`` of :func:`load`."""
    return (f"| {label} | {round_name} | {r['requests']:.0f} | {r['rps']:.0f} | "
            f"{r['errors']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
            f"{r['max']:.0f} | {r['size_median'] / 1024:.1f} / {r['size_max'] / 1024:.0f} |")


def timed_sequential(base: str, bodies: list[str], repeat: int,
                     encoding: str = "gzip") -> list[tuple[int, int, float]]:
    client = Client(base, encoding)
    return [client.post(body) for body in bodies for _ in range(repeat)]


def uncached_views(template: str, trusts: list[str], metrics: list[str]) -> dict[str, list[str]]:
    """Page-layout bodies for views no one has asked for yet, by kind of query."""
    return {
        "Explore, one trust (breakdowns)": [
            router_body(template, "/explore", f"?org={t}") for t in trusts],
        "Trends, one trust": [router_body(template, "/trends", f"?org={t}") for t in trusts],
        "Scorecard, one trust (8 metrics)": [
            router_body(template, "/scorecard", f"?org={t}") for t in trusts],
        "Benchmark, all trusts + funnel": [
            router_body(template, "/benchmark", f"?metric={m}") for m in metrics],
    }


def describe_machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return (f"commit {commit}  date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
            f"machine: {os.cpu_count()} CPUs ({model}), {memory / 2**20:.1f} GiB RAM; "
            f"Python {platform.python_version()}")


def summary(label: str, values_ms: list[float]) -> str:
    return (f"| {label} | {len(values_ms)} | {statistics.median(values_ms):.1f} | "
            f"{percentile(values_ms, 95):.1f} | {percentile(values_ms, 99):.1f} | "
            f"{max(values_ms):.1f} |")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=20, help="warm runs per recorded body")
    parser.add_argument("--trusts", type=int, default=8, help="trusts for the uncached views")
    parser.add_argument("--wsgi", default="app:server", help="gunicorn application")
    parser.add_argument("--log", type=Path, default=None, help="gunicorn log file")
    parser.add_argument("--rounds", type=int, default=3,
                        help="load rounds per mix (the table gives each and their median)")
    parser.add_argument("--encoding", choices=("gzip", "identity"), default="gzip",
                        help="Accept-Encoding of the clients (a browser asks for gzip)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import polars as pl

    from data import store
    from metrics import registry

    organisations = store.load_store(args.data_dir).organisations
    trusts = organisations.filter(pl.col("org_level") == "trust")["org_code"].to_list()
    step = max(1, len(trusts) // args.trusts)
    chosen = trusts[::step][: args.trusts]

    print(describe_machine())
    print(f"store: {args.data_dir} ({len(trusts)} trusts); gunicorn --workers {args.workers} "
          f"--threads {args.threads} {args.wsgi}; {args.clients} clients for {args.seconds:.0f} s; "
          f"Accept-Encoding {args.encoding} (response sizes as sent)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_gunicorn(args.data_dir, port, workers=args.workers, threads=args.threads,
                             wsgi=args.wsgi, log=args.log)
    try:
        cold_index = wait_for(base + "/", process)
        warm_workers(base)
        bodies = record_callbacks(base)
        layout_template = next(b for _, b in bodies if kind_of(b) == "page layout")
        # Cold start to the first page-layout callback: a second, fresh server.
        print(f"\ncold start: first 200 for / after {cold_index:.2f} s "
              f"(process start, imports, app and store load in the worker)")
        for pid in worker_pids(process.pid):
            rss, peak = memory_mb(pid)
            print(f"worker {pid} after start-up and one load of each page: "
                  f"RSS {rss:.0f} MB, peak {peak:.0f} MB")

        print("\n## Uncached: first request of page layouts never requested before (ms)\n")
        print("| view | n | median | p95 | p99 | max | response KB median / max |")
        print("|---|--:|--:|--:|--:|--:|---|")
        metrics = list(registry.METRICS)
        for label, views in uncached_views(layout_template, chosen, metrics).items():
            runs = timed_sequential(base, views, 1, args.encoding)
            ok = [r for r in runs if r[0] == 200]
            sizes = [r[1] / 1024 for r in ok]
            line = summary(label, [r[2] * 1000 for r in runs])
            print(f"{line} {statistics.median(sizes):.0f} / {max(sizes):.0f} |"
                  + (f" ({len(runs) - len(ok)} errors)" if len(ok) < len(runs) else ""))

        print("\n## Warm: recorded callbacks repeated by one client (ms)\n")
        print("| callback | n | median | p95 | p99 | max | response KB median / max |")
        print("|---|--:|--:|--:|--:|--:|---|")
        kinds: dict[str, list[str]] = {}
        for _, body in bodies:
            kinds.setdefault(kind_of(body), []).append(body)
        everything: list[float] = []
        for label, group in kinds.items():
            timed_sequential(base, group, 4, args.encoding)  # reach both workers' caches
            runs = timed_sequential(base, group, args.repeat, args.encoding)
            times = [r[2] * 1000 for r in runs]
            everything += times
            sizes = [r[1] / 1024 for r in runs if r[0] == 200]
            # A callback that changes nothing answers 204 with no body.
            size_text = (f"{statistics.median(sizes):.0f} / {max(sizes):.0f}" if sizes
                         else "no body (204)")
            print(f"{summary(label, times)} {size_text} |")
        print(summary("all recorded callbacks", everything) + " |")
        largest = max(((timed_sequential(base, [b], 1, "identity")[0][1], path)
                       for path, b in bodies))
        print(f"\nlargest response: {largest[0] / 1024:.0f} KB uncompressed "
              f"({largest[1]} page layout)")

        print(f"\n## Load: {args.clients} concurrent keep-alive clients, "
              f"{args.seconds:.0f} s a round, {args.rounds} rounds\n")
        print("| mix | round | requests | req/s | errors | p50 ms | p95 ms | p99 ms | max ms | "
              "KB median / max |")
        print("|---|---|--:|--:|--:|--:|--:|--:|--:|---|")
        mixes = {"all recorded callbacks (page loads)": [b for _, b in bodies]}
        if len(kinds) > 1:  # the pages router's answers apart from any other callback
            mixes["page layouts only"] = kinds["page layout"]
        for label, mix in mixes.items():
            rounds = []
            for number in range(1, args.rounds + 1):
                rounds.append(load(base, mix, args.clients, args.seconds, args.encoding))
                print(load_row(label, str(number), rounds[-1]))
            middle = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
            print(load_row(label, f"median of {args.rounds}", middle))
        print()
        for pid in worker_pids(process.pid):
            rss, peak = memory_mb(pid)
            print(f"worker {pid} after the load: RSS {rss:.0f} MB, peak {peak:.0f} MB")
    finally:
        stop(process)

    # A fresh server: how long until the first page-layout callback answers.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_gunicorn(args.data_dir, port, workers=args.workers, threads=args.threads,
                             wsgi=args.wsgi)
    try:
        wait_for(base + CALLBACK, process, body=router_body(layout_template, "/", "").encode())
        print(f"cold start (second server): first page-layout callback answered after "
              f"{time.perf_counter() - started:.2f} s")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
