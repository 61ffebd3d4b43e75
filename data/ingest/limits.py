"""How much is read from a user's file, and the one bounded reader every input path uses.

A file's size on disk is never trusted (``/dev/zero`` and pipes report 0, a file can grow
while it is read) and neither is what a compressed file or a zip says it holds: at most
``limit + 1`` bytes are read, decompression stops once ``limit + 1`` bytes have come out, and
a workbook is refused before it is opened when its parts would unzip to more than the limit.
So a 1 MB gzip bomb costs at most the limit in memory, not the gigabytes it expands to.

The limits are several times the largest published file the project reads (measured on the
files in ``data/real`` and the shared real-data folder): 2.6 MB as given (the March 2025
monthly workbook), 30.6 MB unpacked (that workbook once unzipped, 30.5 MB of it one sheet),
754,038 cells in a first sheet (83,782 rows of 9) and 10 parts in a workbook.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from data.ingest.errors import IngestError, Problem

MEGABYTE = 1_048_576
MAX_FILE_BYTES = 64 * MEGABYTE  # a file as given, compressed or not
MAX_UNPACKED_BYTES = 128 * MEGABYTE  # once gzip or xz is undone
MAX_WORKBOOK_BYTES = 128 * MEGABYTE  # a workbook's parts unzipped, all together
MAX_ZIP_DIRECTORY_BYTES = MEGABYTE  # a zip's list of parts (a workbook's is about 1 KB)
MAX_CELLS = 4_000_000  # in a workbook's first sheet, empty cells included
MAX_STREAMS = 10_000  # gzip members or xz streams in one file (one, for every real file)
CHUNK = 65_536  # read and decompressed this much at a time

GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
CHECK_FILE = "published files are far smaller: check that this is the file you meant"
# Excel stores a workbook's parts deflated (or stored); zipfile does not bound the output of
# one read for the other methods (bzip2, LZMA), so those are refused.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def megabytes(size: int) -> str:
    """``size`` bytes in words, e.g. ``1.5 MB`` (1 MB = 1,048,576 bytes)."""
    return f"{size / MEGABYTE:.1f}".rstrip("0").rstrip(".") + " MB"


def too_large(file: str, limit: int, *, what: str = "the file is larger than", once: str = "",
              advice: str = CHECK_FILE) -> IngestError:
    """The refusal of ``file`` for holding more than ``limit`` bytes (``once`` says when,
    e.g. " once decompressed")."""
    return IngestError([Problem(file, None, None, f"more than {limit:,} bytes{once}",
                                f"{what} {megabytes(limit)}{once}, the limit; {advice}")])


def read(path: Path | str, limit: int = MAX_FILE_BYTES, advice: str = CHECK_FILE) -> bytes:
    """The bytes of the file at ``path``, reading at most ``limit + 1`` of them.

    Raises :class:`IngestError` when there are more than ``limit`` (``OSError`` when the file
    cannot be opened or read).
    """
    pieces: list[bytes] = []
    size = 0
    with open(path, "rb", buffering=0) as stream:
        while size <= limit:
            piece = stream.read(min(CHUNK, limit + 1 - size))
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
    if size > limit:
        raise too_large(str(path), limit, advice=advice)
    return b"".join(pieces)


def unpack(raw: bytes, file: str, limit: int = MAX_UNPACKED_BYTES,
           advice: str = CHECK_FILE) -> tuple[bytes, str]:
    """Undo gzip or xz compression; return the bytes inside and the compression's name
    (``" (gzip)"``, ``" (xz)"``, or ``""`` and ``raw`` itself when not compressed).

    Raises :class:`IngestError` for a damaged file or one holding more than ``limit`` bytes.
    """
    if raw[:2] == GZIP_MAGIC:
        new, name = (lambda: zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)), " (gzip)"
    elif raw[:6] == XZ_MAGIC:
        new, name = (lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)), " (xz)"
    else:
        return raw, ""
    try:
        pieces = _inflate(raw, new, limit)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as error:
        raise IngestError([Problem(file, None, None, None,
                                   f"a damaged compressed file: {error}")]) from None
    if pieces is None:
        raise too_large(file, limit, what="larger than", once=" once decompressed",
                        advice=advice)
    return b"".join(pieces), name


def _inflate(raw: bytes, new: Callable, limit: int) -> list[bytes] | None:
    """The pieces decompressed from every stream in ``raw`` one after another (zero bytes of
    padding between them allowed), or None as soon as more than ``limit`` bytes come out.

    Input goes in :data:`CHUNK` at a time, so that what a decompressor copies of the input
    it has not used is small however many streams the file is made of.
    """
    pieces: list[bytes] = []
    size = at = streams = 0
    stream, data = None, b""
    while True:
        if stream is None or stream.eof:
            data = (stream.unused_data if stream else data).lstrip(b"\x00")
            while not data and at < len(raw):
                data, at = raw[at:at + CHUNK].lstrip(b"\x00"), at + CHUNK
            if not data:
                return pieces
            streams += 1
            if streams > MAX_STREAMS:
                raise EOFError(f"more than {MAX_STREAMS:,} compressed streams one after "
                               "another")
            stream = new()
        elif not data and getattr(stream, "needs_input", True):
            data, at = raw[at:at + CHUNK], at + CHUNK
        piece = stream.decompress(data, min(CHUNK, limit + 1 - size))
        size += len(piece)
        if size > limit:
            return None
        pieces.append(piece)
        if not (piece or data or stream.eof):
            raise EOFError("compressed data ended before the end-of-stream marker")
        data = getattr(stream, "unconsumed_tail", b"")  # zlib keeps what it did not use


def check_zip(raw: bytes, file: str, limit: int = MAX_WORKBOOK_BYTES,
              advice: str = CHECK_FILE) -> None:
    """Refuse a zip archive (an XLSX workbook) that would cost more than ``limit`` bytes to
    read: a list of parts over :data:`MAX_ZIP_DIRECTORY_BYTES` (read whole when the archive
    is opened), parts that unzip to more than ``limit`` together, or parts compressed other
    than as Excel does. Anything that is not a readable zip is left to its reader.

    Each part is read at most to the size the list gives for it (zipfile stops there), so
    checking the listed sizes bounds what is read, overlapping parts included.
    """
    end = zipfile._EndRecData(io.BytesIO(raw))  # as zipfile itself finds it (zip64 too)
    if end is None:
        return
    directory = end[zipfile._ECD_SIZE]
    if directory > MAX_ZIP_DIRECTORY_BYTES:
        raise IngestError([Problem(
            file, None, None, f"{directory:,} bytes",
            f"a zip archive whose list of parts is larger than "
            f"{megabytes(MAX_ZIP_DIRECTORY_BYTES)}, the limit (a workbook's is about 1 KB); "
            f"{advice}")])
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    odd = [p for p in parts if p.compress_type not in _ZIP_METHODS]
    if odd:
        raise IngestError([Problem(
            file, None, None, odd[0].filename[:80],
            f"a workbook part compressed by method {odd[0].compress_type}, which Excel does "
            "not use (only stored or deflated): save the workbook again from Excel")])
    if sum(p.file_size for p in parts) > limit:
        raise too_large(file, limit, what="a workbook whose parts unzip to more than",
                        advice=advice)
