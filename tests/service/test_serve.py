"""``placecode serve``: the command a person runs, as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from .helpers import http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_and_logs_no_addresses(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "PLACECODE_KEY_DIR": str(tmp_path / "keys"),
    }
    placecode = [sys.executable, "-c", "from clients.cli import run; run()"]
    subprocess.run([*placecode, "admin", "init"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*placecode, "serve", "--port", str(port), "--build-every", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = 0
        for _ in range(100):
            try:
                status, _, body = http("GET", f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and body == b'{"status":"ok"}\n'
        status, _, _ = http(
            "GET", f"http://127.0.0.1:{port}/v1/nothing", headers={"User-Agent": "UA-42"}
        )
        assert status == 404
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output  # the banner names where it listens
    logged = output.replace(f"http://127.0.0.1:{port}/", "")
    assert "127.0.0.1" not in logged and "UA-42" not in logged and "GET" not in logged


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "PLACECODE_KEY_DIR": str(tmp_path / "keys"),
    }
    placecode = [sys.executable, "-c", "from clients.cli import run; run()"]
    from service.keys import init_keys

    init_keys(tmp_path / "keys")
    result = subprocess.run(
        [*placecode, "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "placecode admin init" in result.stderr


def test_serve_without_keys_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "PLACECODE_KEY_DIR": str(tmp_path / "none")}
    result = subprocess.run(
        [sys.executable, "-c", "from clients.cli import run; run()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "placecode admin init" in result.stderr
