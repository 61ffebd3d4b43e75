"""Make the project's copies of the NHS England files ``build-real`` uses (``data/real/``).

CSV files are gzip-compressed (no file name or time inside, so the output is reproducible).
Workbooks are re-packed with their parts stored uncompressed and the whole xz-compressed,
about a third of the size of Excel's own compression; every part, the worksheet included,
is byte for byte the original's. Prints each file's SHA-256 before and after, for the README::

    .venv/bin/python -m data.ingest.vendor SOURCE_FOLDER [DEST_FOLDER]
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import sys
import zipfile
from pathlib import Path

from data.ingest import limits
from data.ingest.build import VENDORED

FILES = (
    "hosp-epis-stat-mat-msdscsv-2019-20.csv",
    "hosp-epis-stat-mat-msdscsv-2020-21.csv",
    "hosp-epis-stat-mat-msdscsv-2021-22.csv",
    "hosp-epis-stat-mat-msdscsv-2022-23.csv",
    "hosp-epis-stat-mat-msdscsv-2023-24.xlsx",
    "msds-feb2025-exp-data.xlsx",
    "msds-mar2025-exp-data.xlsx",
    "msds-apr2025Provisional-exp-measures.xlsx",
)


def pack_csv(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=9, mtime=0)


def pack_workbook(raw: bytes) -> bytes:
    """The workbook with stored (uncompressed) parts, xz-compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time),
                            source.read(info.filename), compress_type=zipfile.ZIP_STORED)
    return lzma.compress(out.getvalue(), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                         preset=9)


def main(argv: list[str]) -> int:
    source = Path(argv[0])
    dest = Path(argv[1]) if len(argv) > 1 else VENDORED
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        raw = limits.read(source / name)
        workbook = name.endswith(".xlsx")
        if workbook:
            limits.check_zip(raw, name)
        packed = pack_workbook(raw) if workbook else pack_csv(raw)
        target = dest / (name + (".xz" if workbook else ".gz"))
        target.write_bytes(packed)
        print(f"{target.name}\t{len(packed)}\t{hashlib.sha256(packed).hexdigest()}\t"
              f"{name}\t{len(raw)}\t{hashlib.sha256(raw).hexdigest()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
