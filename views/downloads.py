"""The Data and definitions page's view model: what the store holds and says about itself.

One object per choice of metric for the data files: how many rows each file holds, the
organisations, the breakdowns the store holds for every metric (the definitions), the
store's own description and, for one metric, what England's summed figures are. The page's
file cards, definitions, sources, store table and the data files' first lines all read it.
The files' rows are fetched when a file is asked for, not held here (up to ~200,000 rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data import queries
from metrics import registry
from views import organisations_at

ALL_METRICS = "all"


@dataclass(frozen=True)
class Downloads:
    """Everything the Data and definitions page shows for one choice (see :func:`downloads`)."""

    metric: str  # the metric whose data files are offered: a registry id, or ALL_METRICS
    manifest: dict  # what the store says about itself (title, build, inputs, rollups)
    synthetic: bool
    rows: dict[str, int]  # metric id -> rows of its counts file (and of its values file)
    held: dict[str, dict[str, tuple[str, ...]]]  # metric -> level -> breakdowns held
    england_notes: dict[str, str]  # period -> how England's figure was summed (one metric)

    @property
    def organisations(self) -> pl.DataFrame:
        """Every organisation (file card, mergers, organisations file)."""
        return organisations_at()

    @property
    def everything(self) -> bool:
        """Whether the files offered are every metric's (zip files)."""
        return self.metric == ALL_METRICS

    @property
    def chosen(self) -> registry.Metric | None:
        """The one metric whose files are offered (None for every metric)."""
        return None if self.everything else registry.get(self.metric)

    @property
    def file_rows(self) -> int:
        """Rows of the counts (or values) file offered, all files together for every metric."""
        return sum(self.rows.values()) if self.everything else self.rows.get(self.metric, 0)

    @property
    def store_title(self) -> str:
        return str(self.manifest.get("title", "unknown"))

    @property
    def built_at(self) -> str:
        return str(self.manifest.get("built_at", "?"))


@queries.cached
def downloads(metric: str) -> Downloads:
    """The model of a parsed choice: ``metric`` a registry id or :data:`ALL_METRICS`."""
    store = queries.current()
    return Downloads(
        metric=metric, manifest=store.manifest, synthetic=store.synthetic,
        rows=queries.download_rows(),
        held=queries.held_by_metric(),
        england_notes={} if metric == ALL_METRICS else queries.england_sum_notes(metric),
    )


def file_cells(kind: str, metric_id: str) -> pl.DataFrame:
    """Every row of one metric's ``counts`` or ``values`` file as the store holds it: read
    when the file is asked for, not held in the model (up to ~200,000 rows)."""
    read = {"counts": queries.download_counts, "values": queries.download_values}[kind]
    return read(metric_id)
