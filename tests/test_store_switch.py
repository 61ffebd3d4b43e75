"""Two app servers behind one load balancer share one store and one Redis: a new build
published through the ``current`` link is picked up by both, and neither serves a figure of
the build before once it is published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from data import store
from tests.test_shared_cache import (  # noqa: F401 - redis_port is a fixture
    GUNICORN,
    REDIS_CLI,
    REDIS_SERVER,
    ROOT,
    _cli,
    _free_port,
    _post,
    _router_body,
    _wait,
    redis_port,
)

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None or REDIS_CLI is None,
    reason="redis-server/redis-cli not installed (`make test` installs Debian's redis-server)",
)
VIEW = ("/explore", "?org=SYN020&metric=pph_1500&dim=ethnicity")


@pytest.fixture
def shared_root(tmp_path, demo_root) -> Path:
    """A store folder of its own holding a copy of the demo's published build."""
    root = tmp_path / "store"
    build = store.current_build(demo_root)
    shutil.copytree(build, root / store.BUILDS / build.name)
    os.symlink(Path(store.BUILDS) / build.name, root / store.CURRENT)
    return root


@pytest.fixture
def two_servers(shared_root, redis_port, tmp_path):  # noqa: F811 - the fixture imported
    """Base URLs of two gunicorn servers (two workers each) on ``shared_root`` and Redis."""
    env = os.environ | {"EQUALITIES_DATA_DIR": str(shared_root),
                        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    started = []
    for name in ("a", "b"):
        port = _free_port()
        log = tmp_path / f"gunicorn-{name}.log"
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}",
             "app:server"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append((f"http://127.0.0.1:{port}", process, log))
    try:
        for base, process, log in started:
            _wait(base + "/_dash-layout", process, log)
        yield [base for base, _, _ in started]
    finally:
        for _, process, _ in started:
            process.terminate()
            process.wait(timeout=15)


def _page(base: str) -> str:
    """The Explore view's content as JSON (without its print heading, which states the
    time it was generated)."""
    answer = _post(base, _router_body(*VIEW))
    return json.dumps(answer["response"]["_pages_content"]["children"]["props"]["children"][-1],
                      sort_keys=True)


def _frame(base: str) -> str:
    with urllib.request.urlopen(base + "/_dash-layout", timeout=30) as response:
        return response.read().decode()


def _halved_pph(demo: store.Store) -> pl.DataFrame:
    """The demo's counts with every PPH numerator halved: another figure on every view."""
    counts = store.as_text(demo.counts)
    return counts.with_columns(
        pl.when(pl.col("metric") == "pph_1500").then(pl.col("numerator") // 2)
        .otherwise(pl.col("numerator")).alias("numerator"))


def test_a_published_build_is_served_by_every_server_at_once(
        two_servers, shared_root, redis_port, demo):  # noqa: F811 - the fixture imported
    # Several requests each, so that both workers of each server have answered.
    before = {_page(base) for base in two_servers for _ in range(4)}
    assert len(before) == 1, "the servers disagree before the switch"
    assert all("Store: second" not in _frame(base) for base in two_servers)
    keys_before = set(_cli(redis_port, "--scan", "--pattern", "equalities:*").split())

    store.write_store(_halved_pph(demo), demo.organisations,
                      demo.manifest | {"title": "second"}, shared_root)

    after = {_page(base) for base in two_servers for _ in range(4)}
    assert len(after) == 1, "the servers (or their workers) disagree after the switch"
    assert after.isdisjoint(before), "a figure of the old build was served after the switch"
    assert all("Store: second" in _frame(base) for base in two_servers)
    # The new build's results are cached under new keys; the old ones are left to expire.
    keys_after = set(_cli(redis_port, "--scan", "--pattern", "equalities:*").split())
    assert keys_after > keys_before
