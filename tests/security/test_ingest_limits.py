"""Ingest reads a bounded number of bytes from any file: compression bombs, zip bombs,
endless files (``/dev/zero``, pipes) and workbooks that unfold into billions of cells are
refused with the file and the limit named, in bounded memory.

The bounded reader (:mod:`data.ingest.limits`) is fuzzed with small limits (random contents
and sizes on both sides of the limit, damaged and concatenated streams); the bombs are then
made at the real limits and given to the ``equalities`` command itself.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import random
import struct
import threading
import zipfile
import zlib
from pathlib import Path

import pytest

from cli import main
from data.ingest import detect, limits, xlsx
from data.ingest.errors import IngestError

SEED = 20251020
MB = limits.MEGABYTE
MAX_GROWTH_MB = 200  # resident memory an ingest may add while refusing a file


def _payloads(rng: random.Random, limit: int) -> list[bytes]:
    """Contents of sizes on both sides of ``limit``: zeros, text and random bytes."""
    sizes = [0, 1, limit - 1, limit, limit + 1, limit + 2, 2 * limit, 7 * limit + 3] + \
        [rng.randrange(1, 3 * limit) for _ in range(6)]
    makers = (bytes, lambda n: (b"Period,Value\n2023-24,12\n" * (n // 24 + 1))[:n],
              rng.randbytes)
    return [make(n) for n in sizes for make in makers]


def _gzip(raw: bytes, rng: random.Random) -> bytes:
    return gzip.compress(raw, compresslevel=rng.choice((1, 6, 9)), mtime=0)


def _xz(raw: bytes, rng: random.Random) -> bytes:
    return lzma.compress(raw, format=lzma.FORMAT_XZ, preset=rng.choice((0, 6)))


def _refused(call) -> str:
    """The one problem's message of the :class:`IngestError` ``call()`` raises."""
    with pytest.raises(IngestError) as caught:
        call()
    (problem,) = caught.value.problems
    return problem.message


# -- the bounded reader, fuzzed ------------------------------------------------------------


def test_read_returns_the_file_or_refuses_past_the_limit(tmp_path):
    rng = random.Random(SEED)
    limit = 3 * limits.CHUNK // 2  # over a chunk, so reads are joined
    for i, raw in enumerate(_payloads(rng, limit)):
        path = tmp_path / f"{i}.csv"
        path.write_bytes(raw)
        if len(raw) <= limit:
            assert limits.read(path, limit) == raw
        else:
            message = _refused(lambda path=path: limits.read(path, limit))
            assert message.startswith(f"the file is larger than {limits.megabytes(limit)}, "
                                      "the limit")


def test_read_never_trusts_the_size_a_file_reports(tmp_path):
    assert Path("/dev/zero").stat().st_size == 0
    assert "larger than 1 MB" in _refused(lambda: limits.read("/dev/zero", MB))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)

    def endless() -> None:
        with open(fifo, "wb") as pipe:
            try:
                while True:
                    pipe.write(b"x" * 65_536)
            except BrokenPipeError:
                pass  # the reader stopped, as it should

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    with pytest.raises(IngestError) as caught:
        limits.read(fifo, MB)
    writer.join(timeout=10)
    assert caught.value.problems[0].file == str(fifo) and not writer.is_alive()


class _Counting:
    """A decompressor that counts what it produces."""

    produced = 0

    def __init__(self, inner):
        self.inner = inner

    def decompress(self, data, max_length):
        piece = self.inner.decompress(data, max_length)
        _Counting.produced += len(piece)
        return piece

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_unpack_returns_the_contents_or_refuses_past_the_limit(kind):
    rng = random.Random(SEED)
    limit = 100_000
    pack = _gzip if kind == "gzip" else _xz
    new = (lambda: zlib.decompressobj(wbits=31)) if kind == "gzip" else \
        (lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ))
    for raw in _payloads(rng, limit):
        packed = pack(raw, rng)
        if len(raw) <= limit:
            assert limits.unpack(packed, "f", limit) == (raw, f" ({kind})")
        else:
            assert _refused(lambda packed=packed: limits.unpack(packed, "f", limit)) == (
                f"larger than {limits.megabytes(limit)} once decompressed, the limit; "
                f"{limits.CHECK_FILE}")
        # Never more than limit + 1 bytes come out of the decompressor, whatever the ratio.
        _Counting.produced = 0
        limits._inflate(packed, lambda new=new: _Counting(new()), limit)
        assert _Counting.produced <= limit + 1


def test_unpack_reads_every_stream_and_refuses_damage():
    rng = random.Random(SEED)
    parts = [rng.randbytes(rng.randrange(1, 5_000)) for _ in range(3)]
    joined = b"".join(parts)
    gz = b"".join(gzip.compress(p, mtime=0) for p in parts)
    xz = b"".join(lzma.compress(p) for p in parts)
    assert limits.unpack(gz, "f", 10**6)[0] == gzip.decompress(gz) == joined
    assert limits.unpack(xz, "f", 10**6)[0] == lzma.decompress(xz) == joined
    assert limits.unpack(gz + b"\0" * 8, "f", 10**6)[0] == joined  # zero padding at the end
    assert limits.unpack(b"plain,text\n", "f", 1) == (b"plain,text\n", "")  # not compressed
    many = gzip.compress(b"", mtime=0) * (limits.MAX_STREAMS + 1)  # 200 KB, checked at once
    assert f"more than {limits.MAX_STREAMS:,} compressed streams" in _refused(
        lambda: limits.unpack(many, "f", 10**6))
    for packed in (gz, xz):
        for damaged in (packed[:-5], packed[: len(packed) // 2], packed + b"junk after"):
            assert _refused(lambda d=damaged: limits.unpack(d, "f", 10**6)).startswith(
                "a damaged compressed file")
        for _ in range(200):  # one byte changed anywhere: the contents or a clear refusal
            changed = bytearray(packed)
            changed[rng.randrange(6, len(changed))] ^= 1 << rng.randrange(8)
            try:
                assert len(limits.unpack(bytes(changed), "f", 10**6)[0]) <= 10**6
            except IngestError as error:
                assert error.problems[0].file == "f"


# -- zip archives and workbooks ------------------------------------------------------------


def _workbook(rows: int = 3) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for i in range(rows):
        book.active.append(["Period", "Value", i])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_part(name: str, write, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A real workbook with its part ``name`` replaced by what ``write(stream)`` writes."""
    source = zipfile.ZipFile(io.BytesIO(_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != name:
                archive.writestr(info.filename, source.read(info.filename))
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with archive.open(info, "w") as stream:
            write(stream)
    return out.getvalue()


def test_zip_parts_past_the_limit_are_refused_before_unzipping():
    def zeros(megabytes: int):
        return lambda stream: [stream.write(bytes(MB)) for _ in range(megabytes)]

    bomb = _with_part("xl/worksheets/sheet1.xml", zeros(3))
    assert len(bomb) < 20_000
    message = _refused(lambda: limits.check_zip(bomb, "bomb.xlsx", 2 * MB))
    assert message.startswith("a workbook whose parts unzip to more than 2 MB, the limit")
    limits.check_zip(bomb, "bomb.xlsx", 4 * MB)  # within a larger limit
    limits.check_zip(b"PK\x03\x04 not really a zip", "x.xlsx")  # left to its reader


def test_parts_compressed_as_excel_never_does_are_refused():
    odd = _with_part("xl/sharedStrings.xml", lambda s: s.write(b"<sst/>"), zipfile.ZIP_BZIP2)
    assert "method 12" in _refused(lambda: limits.check_zip(odd, "odd.xlsx"))


def test_a_huge_list_of_parts_is_refused_before_the_zip_is_opened():
    # 40,000 entries all naming one empty part: 1.9 MB of directory, 7 KB when xz'd.
    name = b"a"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + name
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
                        0, 0, 0, 0) + name
    directory = entry * 40_000
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 40_000, 40_000, len(directory),
                      len(local), 0)
    raw = local + directory + end
    assert "list of parts is larger than 1 MB" in _refused(
        lambda: limits.check_zip(raw, "many.xlsx"))


def test_a_part_larger_than_it_says_is_cut_off_not_read(tmp_path):
    """zipfile stops each part at its listed size, so checking those sizes bounds what is
    read: a part that lies about its size fails its checksum instead of unfolding."""
    raw = bytearray(_workbook(rows=200))
    archive = zipfile.ZipFile(io.BytesIO(bytes(raw)))
    sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    at = 0  # rewrite the sheet's entry in the central directory to claim 100 bytes
    while True:
        at = bytes(raw).index(b"PK\x01\x02", at)
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46: at + 46 + length] == sheet.filename.encode():
            struct.pack_into("<L", raw, at + 24, 100)
            break
        at += 4
    path = tmp_path / "lies.xlsx"
    path.write_bytes(bytes(raw))
    message = _refused(lambda: detect.detect(path))
    assert message.startswith("an Excel workbook that cannot be read") and "CRC" in message


def test_a_sheet_that_unfolds_into_billions_of_cells_is_refused(tmp_path):
    """A few kilobytes naming cell XFDn in every row: openpyxl pads each row to 16,384
    cells, so 20,000 rows would be 327 million cells (gigabytes) without the limit."""
    rows = "".join(f'<row r="{i}"><c r="XFD{i}"><v>1</v></c></row>' for i in range(1, 20_001))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{rows}</sheetData></worksheet>").encode()
    path = tmp_path / "cells.xlsx"
    path.write_bytes(_with_part("xl/worksheets/sheet1.xml", lambda s: s.write(sheet)))
    assert path.stat().st_size < 200_000
    message, grew = _growth(lambda: _refused(lambda: detect.detect(path)))
    assert f"more than {limits.MAX_CELLS:,} cells" in message
    assert grew < MAX_GROWTH_MB, f"{grew} MB"


# -- the real limits, through the command ---------------------------------------------------


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise LookupError(field)


def _growth(call):
    """``(call(), MB)``: the result, and how far the resident memory's peak rose above
    what was resident before (the peak is reset first, so earlier tests do not count)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        pytest.skip("cannot reset this process's peak memory (/proc/self/clear_refs)")
    before = _status("VmRSS")
    result = call()
    return result, _status("VmHWM") - before


def _zeros_packed(megabytes: int, kind: str) -> bytes:
    pack = zlib.compressobj(9, zlib.DEFLATED, 31) if kind == "gzip" else \
        lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=0)
    zero = bytes(MB)
    return b"".join([pack.compress(zero) for _ in range(megabytes)] + [pack.flush()])


def _ingest(capsys, *argv: str) -> tuple[int, str]:
    code = main(["ingest", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_a_compression_bomb_is_refused_in_bounded_memory(kind, tmp_path, capsys):
    expands = limits.MAX_UNPACKED_BYTES // MB + 32  # just over the limit, all zeros
    path = tmp_path / f"bomb.csv.{'gz' if kind == 'gzip' else 'xz'}"
    path.write_bytes(_zeros_packed(expands, kind))
    assert path.stat().st_size < 200_000  # it would expand a thousandfold or more
    (code, err), grew = _growth(lambda: _ingest(capsys, str(path), "--into",
                                                str(tmp_path / "store")))
    assert code == 2 and f"{path}:" in err
    assert f"larger than {limits.megabytes(limits.MAX_UNPACKED_BYTES)} once decompressed" in err
    assert grew < MAX_GROWTH_MB, f"{grew} MB"
    assert not (tmp_path / "store").exists()


def test_a_zip_bomb_inside_xz_is_refused_in_bounded_memory(tmp_path, capsys):
    def zeros(stream):
        for _ in range(limits.MAX_WORKBOOK_BYTES // MB + 8):
            stream.write(bytes(MB))

    path = tmp_path / "bomb.xlsx.xz"
    path.write_bytes(lzma.compress(_with_part("xl/worksheets/sheet1.xml", zeros)))
    assert path.stat().st_size < 200_000
    (code, err), grew = _growth(lambda: _ingest(capsys, str(path), "--into",
                                                str(tmp_path / "store")))
    assert code == 2 and f"{path}:" in err
    assert f"parts unzip to more than {limits.megabytes(limits.MAX_WORKBOOK_BYTES)}" in err
    assert grew < MAX_GROWTH_MB, f"{grew} MB"


@pytest.mark.parametrize("local", [True, False], ids=["ingest --local", "ingest"])
def test_dev_zero_is_refused_in_bounded_memory(local, tmp_path, capsys):
    argv = ("--local", "/dev/zero") if local else ("/dev/zero",)
    (code, err), grew = _growth(lambda: _ingest(capsys, *argv, "--into", str(tmp_path)))
    limit = "2 MB" if local else limits.megabytes(limits.MAX_FILE_BYTES)
    assert code == 2
    assert "/dev/zero: value 'more than" in err and f"larger than {limit}, the limit" in err
    assert ("split it into smaller files" if local else limits.CHECK_FILE) in err
    assert grew < MAX_GROWTH_MB, f"{grew} MB"
    assert list(tmp_path.iterdir()) == []


def test_the_limits_fit_the_real_files_several_times_over():
    """The largest published files the project reads (data/real, measured): 2.6 MB as
    given, 30.6 MB unpacked and unzipped, 754,038 cells in a sheet."""
    real = Path(__file__).resolve().parents[2] / "data" / "real"
    largest = max(real.glob("*.xz"), key=lambda p: p.stat().st_size)
    given = limits.read(largest)
    raw, _ = limits.unpack(given, largest.name)
    limits.check_zip(raw, largest.name)
    parts = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(raw)).infolist())
    cells = sum(len(r) for r in xlsx.read_cells(raw)[0])
    assert 4 * len(given) < limits.MAX_FILE_BYTES
    assert 4 * len(raw) < limits.MAX_UNPACKED_BYTES and 4 * parts < limits.MAX_WORKBOOK_BYTES
    assert 4 * cells < limits.MAX_CELLS
