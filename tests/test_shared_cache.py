"""Two separate gunicorn servers share cached query results through a real Redis server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
GUNICORN = Path(sys.executable).with_name("gunicorn")
CALLBACK = "/_dash-update-component"

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None or REDIS_CLI is None,
    reason="redis-server/redis-cli not installed (`make test` installs Debian's redis-server)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _router_body(path: str, search: str) -> bytes:
    """The request Dash's pages router makes to draw ``path`` with ``search``."""
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
    }).encode()


def _post(base: str, body: bytes) -> dict:
    request = urllib.request.Request(base + CALLBACK, data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not start:\n{log.read_text()[-3000:]}")


def _cli(port: int, *command: str) -> str:
    return subprocess.run([REDIS_CLI, "-p", str(port), *command], capture_output=True,
                          text=True, check=True, timeout=10).stdout


def _stats(port: int) -> dict[str, int]:
    lines = _cli(port, "INFO", "stats").splitlines()
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return {k: int(v) for k, v in pairs if k in ("keyspace_hits", "keyspace_misses")}


@pytest.fixture
def redis_port(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if _cli(port, "PING").strip() == "PONG":
                break
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def two_servers(demo_root, redis_port, tmp_path):
    """Base URLs of two gunicorn servers (one worker each) sharing the Redis cache."""
    env = os.environ | {"EQUALITIES_DATA_DIR": str(demo_root),
                        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    started = []
    for name in ("a", "b"):
        port = _free_port()
        log = tmp_path / f"gunicorn-{name}.log"
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{port}",
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


def test_second_server_answers_from_the_shared_cache(two_servers, redis_port):
    first, second = two_servers
    body = _router_body("/explore", "?org=SYN020&metric=pph_1500&dim=ethnicity")
    assert _cli(redis_port, "--scan", "--pattern", "equalities:*").split() == []

    answer = _post(first, body)
    keys = set(_cli(redis_port, "--scan", "--pattern", "equalities:*").split())
    assert keys, "the first server stored nothing in Redis"
    before = _stats(redis_port)

    again = _post(second, body)
    after = _stats(redis_port)

    # The second process computed nothing new: it read the first one's results.
    assert set(_cli(redis_port, "--scan", "--pattern", "equalities:*").split()) == keys
    assert after["keyspace_hits"] > before["keyspace_hits"]
    assert again == answer
    # And the answer is a real page: the Explore layout with its chart.
    assert "Explore" in json.dumps(answer) and '"Graph"' in json.dumps(answer)
