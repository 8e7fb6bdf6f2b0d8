"""The production configuration (service/gunicorn_config.py) as a real gunicorn on
loopback: slow clients do not starve it, and its log names no address."""

from __future__ import annotations

import os
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

from .helpers import http, raw_request, upload_body

#: slow clients, and how long they trickle (a bounded run)
SLOW_CLIENTS = 100
TRICKLE_SECONDS = 6.0


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "PLACECODE_KEY_DIR": str(tmp_path / "keys"),
        "WEB_CONCURRENCY": "2",
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


def test_a_hundred_slow_clients_do_not_starve_the_service(
    gunicorn: tuple[str, subprocess.Popen[str]],
) -> None:
    """Each slow client declares a 64 KiB upload and sends a byte every half
    second; meanwhile health checks and uploads are answered as usual."""
    base, server = gunicorn
    port = int(base.rsplit(":", 1)[1])
    slow = []
    head = (
        "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {c.UPLOAD_BYTES}\r\n\r\n"
    ).encode()
    for _ in range(SLOW_CLIENTS):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(head)
        slow.append(s)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for s in slow:
                try:
                    s.send(b"x")
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
            status, _, _ = http("GET", f"{base}/healthz")
            assert status == 200
            status, _, _ = http(
                "POST", f"{base}/v1/uploads", dummy, {"Content-Type": "application/octet-stream"}
            )
            assert status == 202
            answered.append(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        stop.set()
        trickler.join(10)
        for s in slow:
            s.close()
    assert len(answered) >= 5 and max(answered) < 2.0, answered
    logged = output(server)
    assert "WORKER TIMEOUT" not in logged and "Traceback" not in logged
