"""The ``equalities`` command: build, inspect, compute and serve."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Sequence

from data import store

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument: reported in one line, exit code 2."""


def _emit(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    if not rows:
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    print("  ".join(k.ljust(w) for k, w in widths.items()))
    for row in rows:
        print("  ".join(str(row[k]).ljust(w) for k, w in widths.items()))


def cmd_build_demo(args: argparse.Namespace) -> int:
    from data.synthetic.build import build_demo

    build_demo(seed=args.seed, root=args.data_dir)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    s = store.load_store(args.data_dir)
    counts = s.counts
    info = {
        "store": str(s.path),
        "title": s.manifest.get("title"),
        "synthetic": s.synthetic,
        "built_at": s.manifest.get("built_at"),
        "period": s.manifest.get("period"),
        "rows": s.manifest.get("rows"),
        "metrics": counts["metric"].n_unique(),
        "organisations": s.organisations.group_by("org_level").len().sort("org_level").rows(),
        "sources": sorted(counts["source"].unique().cast(str).to_list()),
    }
    if args.format == "json":
        _emit([info], "json")
    else:
        for key, value in info.items():
            print(f"{key:14} {value}")
    return 0


def cmd_list_metrics(args: argparse.Namespace) -> int:
    from metrics.registry import METRICS_LIST

    rows = [
        {"id": m.id, "title": m.title, "source": m.source, "unit": m.unit,
         "polarity": m.polarity, "periods": " ".join(m.period_kinds),
         "levels": " ".join(m.levels)}
        for m in METRICS_LIST
    ]
    _emit(rows, args.format)
    return 0


def cmd_list_orgs(args: argparse.Namespace) -> int:
    orgs = store.load_store(args.data_dir).organisations
    if args.level:
        orgs = orgs.filter(orgs["org_level"] == args.level)
    columns = ["org_code", "name", "org_level", "region", "icb", "peer_group"]
    _emit(orgs.select(columns).to_dicts(), args.format)
    return 0


def cmd_list_periods(args: argparse.Namespace) -> int:
    from metrics import registry

    try:
        registry.get(args.metric)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    counts = store.load_store(args.data_dir).counts
    periods = (
        counts.filter(counts["metric"] == args.metric)
        .select("period_kind", "period_label", "period_start", "period_end")
        .unique()
        .sort("period_kind", "period_start", "period_end")
    )
    _emit(periods.with_columns(periods[c].cast(str) for c in periods.columns).to_dicts(),
          args.format)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app import get_app

    get_app().run(host=args.host, port=args.port, debug=args.debug)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="equalities",
        description="Maternity and neonatal equalities dashboard: data and server commands.",
    )
    parser.add_argument("--data-dir", default=None,
                        help="store folder (default: $EQUALITIES_DATA_DIR or data/store)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-demo", help="simulate the synthetic England demo store")
    p.add_argument("--seed", type=int, default=20251016)
    p.set_defaults(func=cmd_build_demo)

    p = sub.add_parser("info", help="what the store holds")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("list-metrics", help="metrics in the registry")
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_metrics)

    p = sub.add_parser("list-orgs", help="organisations in the store")
    p.add_argument("--level", choices=["england", "region", "icb", "trust"])
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_orgs)

    p = sub.add_parser("list-periods", help="periods available for a metric")
    p.add_argument("--metric", required=True)
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.set_defaults(func=cmd_list_periods)

    p = sub.add_parser("serve", help="serve the dashboard")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--debug", action="store_true", help="Dash dev tools (never in production)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"equalities: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except store.StoreError as error:
        print(f"equalities: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
