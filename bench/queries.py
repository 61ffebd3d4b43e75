"""Time the metrics queries uncached on a store, against a plain Polars filter of the same rows.

Run from the project root (see bench/README.md)::

    python bench/queries.py [--data-dir DIR] [--repeat N] [--metrics a,b] [--org CODE]

Prints the machine, the store load time and memory, then a Markdown table: median, 95th
percentile and minimum of each query over N timed runs (after one warm-up run), the "floor"
(a single ``counts.filter`` of the rows the query reads, the least any query could cost) and
the ratio of the medians. Queries are the cached seam's ``.uncached`` functions, i.e. what a
page pays on a cache miss.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Targets from the issue (milliseconds, and the ratio to the floor).
TARGET_ONE_TRUST_MS = 50.0
TARGET_ALL_TRUSTS_MS = 100.0
TARGET_RATIO = 3.0
DEFAULT_METRICS = ("booked_by_10_weeks", "pph_1500")


def timings(function: Callable[[], object], repeat: int) -> np.ndarray:
    """Milliseconds of ``repeat`` calls after one untimed warm-up call."""
    function()
    out = np.empty(repeat)
    for i in range(repeat):
        start = time.perf_counter()
        function()
        out[i] = (time.perf_counter() - start) * 1000
    return out


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    current = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return current, peak


def machine() -> dict[str, str]:
    """Commit, date and hardware, for the results file."""
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                  check=False).stdout.strip()
        except OSError:
            return "?"

    cpu, ram = "?", "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    import polars as pl

    return {"commit": run("git", "rev-parse", "--short", "HEAD") or "?",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": str(os.cpu_count()), "nproc": run("nproc") or "?", "cpu": cpu, "ram": ram,
            "python": platform.python_version(), "polars": pl.__version__}


def choose_trust(queries, metric_ids: tuple[str, ...], period_of) -> str:
    """The largest trust whose deprivation SII/RII is computable for every metric (so the
    inequality timing includes the simulation rather than an early "not available")."""
    import polars as pl

    trusts = queries.organisations().filter(pl.col("org_level") == "trust").sort(
        "annual_births", descending=True)["org_code"]
    for code in trusts:
        if all(queries.inequality(m, code, period_of(m), "deprivation_decile").get("available")
               for m in metric_ids):
            return code
    return trusts[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="store folder (default $EQUALITIES_DATA_DIR or "
                        "data/store)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                        help="comma-separated metric ids")
    parser.add_argument("--org", help="trust for the one-trust queries (default: the largest "
                        "trust with a computable SII for every metric)")
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["EQUALITIES_DATA_DIR"] = str(Path(args.data_dir).resolve())

    import polars as pl

    from data import queries, store
    from metrics import benchmark as benchmark_mod
    from metrics import registry
    from metrics.categories import DECILE, ETHNICITY, TOTAL

    info = machine()
    rss_start = rss_mb()[0]
    try:
        build = store.current_build()
    except store.StoreError as error:
        print(error, file=sys.stderr)
        return 1
    start = time.perf_counter()
    s = store.load_store()
    first_load_ms = (time.perf_counter() - start) * 1000
    counts = s.counts
    rss_loaded, _ = rss_mb()
    metric_ids = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    metrics = [registry.get(m) for m in metric_ids]

    def period_of(metric_id: str) -> str:
        metric = registry.get(metric_id)
        kind = "financial_year" if "financial_year" in metric.period_kinds \
            else metric.default_period_kind
        return queries.periods(metric_id, kind)[-1]

    org = args.org or choose_trust(queries, metric_ids, period_of)

    def rows(**equal) -> Callable[[], object]:
        """The floor: one filter selecting the rows a query reads, from the same in-memory
        frame the query starts from (the metric's part of the counts table)."""
        metric_ids = equal["metric"] if isinstance(equal["metric"], tuple) else (equal["metric"],)
        source = s.metric_counts(*metric_ids)
        predicates = []
        for column, wanted in equal.items():
            if isinstance(wanted, tuple):
                predicates.append(pl.col(column).is_in(list(wanted)))
            else:
                predicates.append(pl.col(column) == wanted)
        return lambda: source.filter(*predicates)

    cases = []  # (metric, query, scope, function, floor, target)
    for metric in metrics:
        period = period_of(metric.id)
        for dimension, name in ((ETHNICITY, "breakdown by ethnicity"),
                                (DECILE, "breakdown by decile")):
            cases.append((
                metric.id, name, "one trust",
                lambda m=metric.id, d=dimension, p=period: queries.breakdown.uncached(
                    m, org, p, d, "england"),
                rows(metric=metric.id, org_code=(org, "ENG"), period_label=period,
                     dimension=dimension),
                TARGET_ONE_TRUST_MS,
            ))
        cases.append((
            metric.id, "inequality (SII/RII, deciles)", "one trust",
            lambda m=metric.id, p=period: queries.inequality.uncached(m, org, p, DECILE),
            rows(metric=metric.id, org_code=org, period_label=period, dimension=DECILE),
            None,
        ))
        cases.append((
            metric.id, "trend, quarterly, by ethnicity", "one trust",
            lambda m=metric.id: queries.trend.uncached(m, org, "quarter", ETHNICITY),
            rows(metric=metric.id, org_code=org, period_kind="quarter", dimension=ETHNICITY),
            None,
        ))

        def benchmark_and_funnel(m=metric, p=period):
            england = queries.breakdown.uncached(m.id, "ENG", p, TOTAL, "none")
            average = england["value"][0]
            frame = benchmark_mod.benchmark(s.metric_counts(m.id), s.organisations, metric=m,
                                            period_label=p, average=average)
            return frame, benchmark_mod.funnel_curve(frame, metric=m, average=average)

        cases.append((
            metric.id, "benchmark + funnel curve", "all trusts", benchmark_and_funnel,
            rows(metric=metric.id, period_label=period, dimension=TOTAL,
                 org_level=("trust", "england")),
            TARGET_ALL_TRUSTS_MS,
        ))
    annex3 = tuple(m.id for m in registry.ANNEX3_METRICS)
    cases.append((
        "Annex 3 (8)", "scorecard", "one trust",
        lambda: queries.scorecard.uncached(org),
        rows(metric=annex3, org_code=(org, "ENG"), dimension=TOTAL),
        None,
    ))

    results = []
    for metric_id, name, scope, function, floor, target in cases:
        took = timings(function, args.repeat)
        base = timings(floor, args.repeat)
        results.append((metric_id, name, scope, float(np.median(took)),
                        float(np.percentile(took, 95)), float(took.min()),
                        float(np.median(base)), target))
    rss_end, rss_peak = rss_mb()
    # Reading again (a new build being published) holds a second copy briefly: timed last so
    # the peak above is the steady state's.
    load_ms = timings(lambda: store.read_build(build), 3)

    print(f"commit {info['commit']}  date {info['date']}  load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM; "
          f"Python {info['python']}, Polars {info['polars']}")
    print(f"store: {s.build_id}, {counts.height:,} count rows, "
          f"{s.organisations.height} organisations")
    print(f"store load (read + check Parquet): first {first_load_ms:.0f} ms, then median "
          f"{np.median(load_ms):.0f} ms of 3; counts table {counts.estimated_size('mb'):.0f} MB "
          "in memory")
    print(f"resident memory: {rss_start:.0f} MB before load, {rss_loaded:.0f} MB loaded, "
          f"{rss_end:.0f} MB after the queries (peak {rss_peak:.0f} MB)")
    print(f"one-trust queries for {org} ({queries.org_name(org)}); periods: "
          + ", ".join(f"{m.id} {period_of(m.id)}" for m in metrics)
          + f"; {args.repeat} timed runs each after a warm-up")
    print()
    print("| metric | query | scope | median ms | p95 ms | min ms | floor ms | x floor | "
          "target (median) |")
    print("|---|---|---|--:|--:|--:|--:|--:|---|")
    for metric_id, name, scope, median, p95, fastest, base, target in results:
        verdict = ""
        if target is not None:
            verdict = f"<= {target:.0f} ms: {'met' if median <= target else 'MISSED'}"
        print(f"| {metric_id} | {name} | {scope} | {median:.1f} | {p95:.1f} | {fastest:.1f} "
              f"| {base:.2f} | {median / base:.1f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
