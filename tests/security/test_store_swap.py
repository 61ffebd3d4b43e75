"""Faults around the store: a new build published under a running gunicorn server while
clients keep asking (no request may fail), and a damaged store, found at start-up or while
serving, reported by the name of the damaged file rather than a stack trace."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from cli import main
from data import store

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
CALLBACK = "/_dash-update-component"


def _copy_store(source: Path, target: Path) -> Path:
    """The published build of ``source`` as the only build of a new store at ``target``."""
    build = store.current_build(source)
    shutil.copytree(build, target / store.BUILDS / build.name)
    os.symlink(Path(store.BUILDS) / build.name, target / store.CURRENT)
    return target


def _router(path: str, search: str) -> bytes:
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"]}).encode()


REQUESTS = [("GET", "/", None), ("GET", "/healthz", None), ("GET", "/_dash-layout", None),
            ("POST", CALLBACK, _router("/explore", "?org=ENG&metric=pph_1500")),
            ("POST", CALLBACK, _router("/", "")),
            ("POST", CALLBACK, _router("/scorecard", "")),
            ("POST", CALLBACK, _router("/explore", "?metric=stillbirth&dim=ethnicity"))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(demo_root, tmp_path):
    """gunicorn (2 workers, 4 threads) serving a copy of the demo store."""
    root = _copy_store(demo_root, tmp_path / "store")
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = os.environ | {"EQUALITIES_DATA_DIR": str(root)}
    env.pop("EQUALITIES_AUTH", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--threads", "4", "--timeout", "120",
             "--bind", f"127.0.0.1:{port}", "app:server"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("POST", CALLBACK, body=REQUESTS[3][2],
                                   headers={"Content-Type": "application/json"})
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield root, port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_new_build_swapped_in_without_failed_requests(server, demo):
    root, port, _log = server
    spans: list[tuple[float, float]] = []  # (start, end) of every answered request
    failures: list[str] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = offset
        while not stop.is_set():
            method, path, body = REQUESTS[i % len(REQUESTS)]
            i += 1
            started = time.monotonic()
            try:
                connection.request(method, path, body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                spans.append((started, time.monotonic()))
                if response.status != 200:
                    failures.append(f"{method} {path}: {response.status} {text[:200]}")
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{method} {path}: {error!r}")
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    publishing = time.monotonic()
    build = store.write_store(demo.counts, demo.organisations,
                              demo.manifest | {"title": "Swapped build for the test"}, root)
    published = time.monotonic()
    deadline = published + 60
    while sum(start > published for start, _ in spans) < 12 and time.monotonic() < deadline:
        time.sleep(0.5)  # keep asking after the swap
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    assert not failures, failures[:5]
    assert sum(end < publishing for _, end in spans) >= 6  # before,
    assert any(start < published and end > publishing for start, end in spans)  # across,
    assert sum(start > published for start, _ in spans) >= 12  # and after the swap
    assert store.current_build(root) == build
    # The server answers from the new build now.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/_dash-layout")
    assert "Swapped build for the test" in connection.getresponse().read().decode()


def _damage(build: Path, how: str) -> str:
    """Damage one file of ``build``; return that file's name."""
    counts, orgs, manifest = (build / "counts.parquet", build / "organisations.parquet",
                              build / "manifest.json")
    mapped = sorted((build / store.ARROW).glob("*.arrow"))[0]
    if how == "arrow file cut short":
        mapped.write_bytes(mapped.read_bytes()[: mapped.stat().st_size // 2])
        return mapped.name
    if how == "arrow file overwritten":
        mapped.write_bytes(os.urandom(4096))
        return mapped.name
    if how == "enums missing":
        (build / store.ARROW / store.ENUMS_FILE).unlink()
        return store.ENUMS_FILE
    if how.startswith("counts"):
        # As a build from before the Arrow files: its counts are read from the Parquet file.
        shutil.rmtree(build / store.ARROW)
    if how == "counts cut short":
        counts.write_bytes(counts.read_bytes()[: counts.stat().st_size // 2])
        return counts.name
    if how == "counts overwritten":
        counts.write_bytes(os.urandom(4096))
        return counts.name
    if how == "counts missing":
        counts.unlink()
        return counts.name
    if how == "organisations cut short":
        orgs.write_bytes(orgs.read_bytes()[:100])
        return orgs.name
    if how == "manifest not json":
        manifest.write_text("{not json", encoding="utf-8")
        return manifest.name
    raise ValueError(how)


DAMAGE = ("counts cut short", "counts overwritten", "counts missing",
          "organisations cut short", "manifest not json", "arrow file cut short",
          "arrow file overwritten", "enums missing")


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_store_at_start_up_is_named(demo_root, tmp_path, how, capsys):
    root = _copy_store(demo_root, tmp_path / "store")
    name = _damage(store.current_build(root), how)
    for command in (["info"], ["serve", "--port", "1"], ["list-orgs"]):
        assert main(["--data-dir", str(root), *command]) == 1, command
        err = capsys.readouterr().err
        assert name in err and "Traceback" not in err, err
        assert err.startswith("equalities: The data store file"), err


def test_damaged_store_while_serving(demo_root, tmp_path, dash_app, caplog):
    """A store damaged under a running app: a notice in the page frame, 503 for figures,
    one log line naming the file."""
    from tests.security.conftest import data_dir

    root = _copy_store(demo_root, tmp_path / "store")
    _damage(store.current_build(root), "counts cut short")
    client = dash_app.server.test_client()
    with data_dir(root), caplog.at_level(logging.ERROR):
        frame = client.get("/_dash-layout")
        figures = client.post(CALLBACK, data=_router("/explore", ""),
                              content_type="application/json")
    assert frame.status_code == 200 and "counts.parquet" in frame.get_data(as_text=True)
    assert figures.status_code in (200, 503)
    body = figures.get_data(as_text=True)
    assert "Traceback" not in body
    assert any("counts.parquet" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info and "counts.parquet" in r.getMessage()]


def test_counts_are_unchanged_by_a_failed_write(demo_root, tmp_path):
    """A write that fails leaves the published build as it was (no half-written store)."""
    root = _copy_store(demo_root, tmp_path / "store")
    before = store.current_build(root)
    bad = pl.DataFrame({"metric": ["x"]})
    with pytest.raises(Exception):  # noqa: B017 - any failure; the point is what stays
        store.write_store(bad, pl.DataFrame({"org_code": ["x"]}), {}, root)
    assert store.current_build(root) == before
    assert not [p for p in (root / store.BUILDS).iterdir() if p.name.startswith(".staging")]
