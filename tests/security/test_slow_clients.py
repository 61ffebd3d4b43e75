"""Slow clients against the production server: ``equalities serve --prod`` alone, then with
nginx in front configured by ``docs/nginx.conf``.

Each slow client sends its request a byte a second (half of them their headers, half a POST
body to the Dash callback route). Gunicorn reads a request on a worker thread with no time
limit, so a few such clients per thread hold every one and ``/healthz`` goes unanswered;
through nginx, which reads requests whole before passing them on, it answers at once.
Without nginx installed only the first half runs.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "nginx.conf"
EQUALITIES = Path(sys.executable).with_name("equalities")
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
WORKERS, THREADS = 2, 4  # serve --prod's defaults
SLOW_CLIENTS = 3 * WORKERS * THREADS  # 24: three for every thread
ANSWER_WITHIN = 1.0  # seconds

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz(port: int, timeout: float = ANSWER_WITHIN) -> float:
    """Seconds ``GET /healthz`` on ``port`` took to answer 200 (raises if it did not)."""
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as answer:
        assert answer.status == 200
        answer.read()
    return time.perf_counter() - started


def _wait_for(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            _healthz(port, timeout=5)
            return
        time.sleep(0.1)
    pytest.fail(f"nothing answered on port {port}:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # gunicorn's and nginx's quick shutdown
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(demo_root, tmp_path_factory) -> Iterator[dict[int, int]]:
    """Ports of two real ``equalities serve --prod`` servers, by number of workers: one with
    a single worker (so that which worker a client reaches cannot matter) and one with the
    default two. Both are started at once; each has :data:`THREADS` threads per worker."""
    folder = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EQUALITIES_AUTH")}
    started = {}
    for workers in (1, WORKERS):
        port, log = _free_port(), folder / f"serve-{workers}.log"
        started[workers] = (port, log, subprocess.Popen(
            [str(EQUALITIES), "--data-dir", str(demo_root), "serve", "--prod", "--port",
             str(port), "--workers", str(workers), "--threads", str(THREADS)],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT))
    try:
        for port, log, process in started.values():
            _wait_for(port, process, log)
        yield {workers: port for workers, (port, _, _) in started.items()}
    finally:
        for _, _, process in started.values():
            _stop(process)


def nginx_site(upstream: int, listen: int) -> str:
    """``docs/nginx.conf`` with only its two ports changed."""
    text = CONFIG.read_text(encoding="utf-8")
    for old, new in (("server 127.0.0.1:8050;", f"server 127.0.0.1:{upstream};"),
                     ("listen 80;", f"listen 127.0.0.1:{listen};")):
        assert text.count(old) == 1, f"docs/nginx.conf no longer has one {old!r}"
        text = text.replace(old, new)
    return text


def nginx_main(folder: Path, site: Path) -> str:
    """A main nginx.conf that runs unprivileged in ``folder`` and includes ``site`` in its
    http block, as Debian's includes ``conf.d/*.conf``."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {folder / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off; worker_processes 1; pid {folder / 'nginx.pid'}; {user}\n"
            f"error_log {folder / 'error.log'} warn;\n"
            "events { worker_connections 512; }\n"
            f"http {{ access_log off; {temp}\n include {site}; }}\n")


@pytest.fixture(scope="module")
def nginx_port(servers, tmp_path_factory) -> Iterator[int]:
    """Port of nginx configured by ``docs/nginx.conf``, in front of ``serve --prod`` with its
    default workers and threads."""
    if NGINX is None:
        pytest.skip("nginx not installed (`make test-setup` installs Debian's nginx)")
    folder = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    site = folder / "equalities.conf"
    site.write_text(nginx_site(servers[WORKERS], port))
    main = folder / "nginx.conf"
    main.write_text(nginx_main(folder, site))
    command = [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    log = folder / "nginx.out"
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, folder / "error.log", timeout=15)
        yield port
    finally:
        _stop(process)


@contextlib.contextmanager
def slow_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections to ``port`` sending a byte a second: half of them
    request headers that never end, half a POST to the Dash callback route whose headers
    arrive at once and whose body then trickles."""
    head = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pad: ".encode()
    post = (f"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5)
               for _ in range(count)]
    posts = sockets[1::2]
    for s in posts:
        s.sendall(post)
    stop = threading.Event()

    def trickle() -> None:
        sent = 0
        while not stop.is_set():
            for s in sockets:
                byte = b"{" if s in posts else head[sent:sent + 1] or b"a"
                with contextlib.suppress(OSError):
                    s.send(byte)
            sent += 1
            stop.wait(1.0)

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield sockets
    finally:
        stop.set()
        sender.join(timeout=5)
        for s in sockets:
            s.close()


def _still_open(s: socket.socket) -> bool:
    """True when the server has neither answered nor closed ``s``."""
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # returns an answer (an error page), or b"" once closed
        return False
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


def test_gunicorn_alone_is_held_by_slow_clients(servers):
    """Why nginx is needed: 12 slow clients stop serve --prod answering on its own (here one
    worker, whose 4 threads they hold; with more workers the same happens once the clients
    land on all of them), and it recovers once they go. If this fails, gunicorn has changed:
    see README's production section."""
    port = servers[1]
    assert _healthz(port) < ANSWER_WITHIN
    with slow_clients(port, 3 * THREADS) as sockets:
        time.sleep(2)  # every client has sent something, so holds a thread
        assert all(_still_open(s) for s in sockets)
        with pytest.raises(OSError):  # a timeout
            _healthz(port)
    deadline = time.time() + 10
    while True:
        with contextlib.suppress(OSError):
            assert _healthz(port) < ANSWER_WITHIN
            break
        assert time.time() < deadline, "serve --prod did not recover after the clients left"


def test_nginx_in_front_keeps_answering(nginx_port):
    """Through docs/nginx.conf, /healthz answers within a second all the while, with three
    slow clients for every gunicorn thread behind it."""
    with slow_clients(nginx_port, SLOW_CLIENTS) as sockets:
        time.sleep(2)
        took = []
        for _ in range(4):
            took.append(_healthz(nginx_port))
            time.sleep(0.5)
        assert max(took) < ANSWER_WITHIN, took
        # Held by nginx, not turned away (which would make this test prove nothing).
        assert all(_still_open(s) for s in sockets)
    with urllib.request.urlopen(f"http://127.0.0.1:{nginx_port}/", timeout=30) as page:
        assert page.status == 200 and b"_dash-config" in page.read()
