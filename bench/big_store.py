"""Make a store N times larger than the demo (N times the trusts) for scaling benchmarks.

Plain script: ``python bench/big_store.py --from STORE --into BIG [--factor 10]``. Each demo
trust is copied ``factor`` times under new codes (``SYN001``, ``SYN001B``, ``SYN001C``...) in
the same ICB, region and peer group, so the counts table, the trust list, funnel plots and
rank tables are all ``factor`` times longer. England, region and ICB rows are their trusts'
sums, so their counts are multiplied by ``factor`` and their rates are unchanged. The copies
are identical, which changes no query's cost: the work depends on the number of rows and
trusts, not on their values.

The benchmarks then take ``--data-dir BIG``: ``bench/queries.py``, ``bench/load.py`` and
``bench/browser.py``.
"""

from __future__ import annotations

import argparse
import string
import time
from pathlib import Path

import polars as pl

from data import store


def copy_code(code: str, k: int) -> str:
    """The ``k``-th copy's code: the original for 0, then suffixes B, C, ... (then BA...)."""
    if k == 0:
        return code
    letters = string.ascii_uppercase
    suffix = ""
    while k:
        k, r = divmod(k, len(letters))
        suffix = letters[r] + suffix
    return code + suffix


def enlarge(source: store.Store, factor: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(counts, organisations) with every trust copied ``factor`` times."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    # The loaded store holds text as enums; the new codes need plain strings.
    counts = store.as_text(source.counts)
    is_trust = pl.col("org_level") == "trust"
    trusts = counts.filter(is_trust)
    copies = [trusts.with_columns(pl.col("org_code") + pl.lit(copy_code("", k)))
              for k in range(factor)]
    scaled = counts.filter(~is_trust).with_columns(
        pl.col("numerator") * factor, pl.col("denominator") * factor)
    orgs = store.as_text(source.organisations)
    trust_orgs = orgs.filter(pl.col("org_level") == "trust")
    org_copies = [trust_orgs.with_columns(
        org_code=pl.col("org_code") + pl.lit(copy_code("", k)),
        name=pl.col("name") + pl.lit("" if k == 0 else f" ({copy_code('', k)})"),
        successor_code=pl.col("successor_code") + pl.lit(copy_code("", k)),
    ) for k in range(factor)]
    return (pl.concat([scaled, *copies]),
            pl.concat([orgs.filter(pl.col("org_level") != "trust"), *org_copies]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", type=Path, required=True,
                        help="data folder of the store to enlarge (e.g. data/store)")
    parser.add_argument("--into", type=Path, required=True, help="data folder for the result")
    parser.add_argument("--factor", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    source = store.load_store(args.source)
    counts, organisations = enlarge(source, args.factor)
    manifest = source.manifest | {
        "title": f"{source.manifest.get('title', 'Store')} x{args.factor} (benchmark)",
        "enlarged": {"from": source.build_id, "factor": args.factor},
    }
    for key in ("build_id", "rows", "schema_version"):
        manifest.pop(key, None)
    build = store.write_store(counts, organisations, manifest, args.into)
    size = sum(f.stat().st_size for f in build.iterdir()) / 1e6
    print(f"{counts.height:,} count rows, {organisations.height:,} organisations, "
          f"{size:.1f} MB on disk, in {time.perf_counter() - started:.1f} s: {build}")


if __name__ == "__main__":
    main()
