"""``equalities ingest --local FILE``: validate a local CSV and keep it beside the store."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from data.ingest.errors import IngestError
from data.local import store

EXIT_REFUSED = 2


def report_lines(saved: store.Saved) -> list[str]:
    """What was kept, in words."""
    counts = saved.data.counts
    national = int(counts["national_metric"].sum())
    suppressed = int(counts["suppressed"].sum())
    indicators = counts.filter(~pl.col("national_metric"))["metric"].n_unique()
    lines = [
        f"{Path(saved.data.file).name}: local data (kept apart from the national store); "
        f"{counts.height:,} row(s): {national:,} of registry metrics, "
        f"{counts.height - national:,} of {indicators:,} local indicator(s); "
        f"{suppressed:,} suppressed (small numbers)",
        f"kept in {saved.path}" + (" (replacing the earlier file of that name)"
                                   if saved.replaced else ""),
    ]
    lines += [f"  note: {note}" for note in saved.data.notes]
    lines.append("the national store was not changed")
    return lines


def ingest_command(path: str, into: str | None) -> int:
    """Run the command: 0 when kept, :data:`EXIT_REFUSED` with the problems listed when not."""
    try:
        saved = store.ingest(path, into)
    except IngestError as error:
        print(f"equalities: refused: {error.summary()}", file=sys.stderr)
        for line in error.listing():
            print(f"  {line}", file=sys.stderr)
        return EXIT_REFUSED
    for line in report_lines(saved):
        print(line)
    return 0
