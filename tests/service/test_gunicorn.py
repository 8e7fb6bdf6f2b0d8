"""The production configuration (service/gunicorn_config.py) as a real gunicorn on
loopback: slow clients do not starve it, and its log names no address."""

from __future__ import annotations

import math
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from placecode.clients.demo import free_port
from placecode.crypto import constants as c
from placecode.service import gunicorn_config

from .helpers import http, raw_request, upload_body

#: slow clients, and how long they trickle (a bounded run)
SLOW_CLIENTS = 100
TRICKLE_SECONDS = 6.0
#: the longest a round of checks may take while they trickle: an unstarved
#: service answers in milliseconds (hundreds of times less, even on a loaded
#: machine), a starved one not before the slow clients give up (TRICKLE_SECONDS)
ANSWER_BOUND = 2.0
WORKERS = 2


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "PLACECODE_KEY_DIR": str(tmp_path / "keys"),
        "WEB_CONCURRENCY": str(WORKERS),
    }
    subprocess.run(
        [sys.executable, "-c", "from placecode.cli import run; run()", "admin", "init"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:placecode.service.gunicorn_config",
            "-b",
            f"127.0.0.1:{port}",
            "placecode.service:create_app()",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if http("GET", f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield base, server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()


def output(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGINT)  # a quick shutdown: no wait for idle connections
    out, _ = server.communicate(timeout=60)
    return out


def test_a_malformed_request_is_logged_without_the_address(
    gunicorn: tuple[str, subprocess.Popen[str]],
) -> None:
    base, server = gunicorn
    for garbage in (
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\r\n\r\n",
    ):
        status, _, _ = raw_request(base, garbage)
        assert status == 400
    logged = output(server).replace(f"Listening at: {base}", "")  # its own address
    assert "Invalid request" in logged  # the line is kept, the address taken out
    assert "127.0.0.1" not in logged and "ip=" not in logged


def booted_workers(logged: str) -> int:
    return logged.count("Booting worker with pid")


def trickle_while_checking(
    base: str, head: bytes, drip: bytes, period: float, upload: bool
) -> tuple[list[float], list[socket.socket]]:
    """Opens SLOW_CLIENTS connections that send ``head`` and then ``drip`` once
    every ``period`` seconds, for TRICKLE_SECONDS; meanwhile checks the health
    endpoint (and, with ``upload``, posts a dummy upload) five times a second.
    Returns how long each round of checks took, and the slow sockets, still open.

    The bound on a round (ANSWER_BOUND) sits between the two outcomes that can
    happen: a service that is not starved answers in milliseconds, a starved one
    only once a slow client gives up, which none does before TRICKLE_SECONDS."""
    port = int(base.rsplit(":", 1)[1])
    slow = []
    for _ in range(SLOW_CLIENTS):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(head)
        slow.append(s)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(period):
            for s in slow:
                try:
                    s.send(drip)
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle)
    trickler.start()
    answered: list[float] = []
    try:
        deadline = time.monotonic() + TRICKLE_SECONDS
        dummy = upload_body("DUMMY", [os.urandom(48)], dummy=True)
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status, _, _ = http("GET", f"{base}/healthz", timeout=TRICKLE_SECONDS)
                assert status == 200
                if upload:
                    status, _, _ = http(
                        "POST",
                        f"{base}/v1/uploads",
                        dummy,
                        {"Content-Type": "application/octet-stream"},
                        timeout=TRICKLE_SECONDS,
                    )
                    assert status == 202
            except OSError:  # not answered while the slow clients trickled: starved
                answered.append(math.inf)
                break
            answered.append(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        stop.set()
        trickler.join(10)
    return answered, slow


def test_a_hundred_slow_clients_do_not_starve_the_service(
    gunicorn: tuple[str, subprocess.Popen[str]],
) -> None:
    """Each slow client declares a 64 KiB upload and sends a byte every half
    second; meanwhile health checks and uploads are answered as usual."""
    base, server = gunicorn
    head = (
        "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {c.UPLOAD_BYTES}\r\n\r\n"
    ).encode()
    answered, slow = trickle_while_checking(base, head, b"x", 0.5, upload=True)
    for s in slow:
        s.close()
    assert len(answered) >= 5 and max(answered) < ANSWER_BOUND, answered
    logged = output(server)
    assert "WORKER TIMEOUT" not in logged and "Traceback" not in logged
    assert booted_workers(logged) == WORKERS  # none was killed and replaced
    assert "127.0.0.1" not in logged.replace(f"Listening at: {base}", "")


def test_a_hundred_clients_trickling_their_headers_do_not_starve_the_service(
    gunicorn: tuple[str, subprocess.Popen[str]],
) -> None:
    """Slowloris: each slow client sends a request line and then one byte of a
    header field every second, never ending its head. Meanwhile health checks
    are answered as usual and no worker is killed; and the service hangs up on
    every slow client (a head must be whole within ``keepalive`` seconds, which
    gevent workers enforce), so such connections cannot pile up."""
    assert gunicorn_config.keepalive < TRICKLE_SECONDS  # the limit falls inside the run
    base, server = gunicorn
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    answered, slow = trickle_while_checking(base, head, b"s", 1.0, upload=False)
    hung_up = 0
    deadline = time.monotonic() + 30  # they should all be closed already
    waiting = list(slow)
    while waiting and time.monotonic() < deadline:
        readable, _, _ = select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))
        for s in readable:
            try:
                data = s.recv(4096)
            except OSError:  # reset: hung up too
                data = b""
            assert not data.startswith(b"HTTP/1.1 2"), data  # an unfinished head is not served
            if not data:
                hung_up += 1
                waiting.remove(s)
    for s in slow:
        s.close()
    assert len(answered) >= 5 and max(answered) < ANSWER_BOUND, answered
    assert hung_up == SLOW_CLIENTS
    logged = output(server)
    assert "WORKER TIMEOUT" not in logged and "Traceback" not in logged
    assert booted_workers(logged) == WORKERS  # none was killed and replaced
    assert "127.0.0.1" not in logged.replace(f"Listening at: {base}", "")
