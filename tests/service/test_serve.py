"""``placecode serve``: the command a person runs, as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from placecode.clients.demo import free_port

from .helpers import http, issue_tans, post_upload, random_entries, upload_body


def test_serve_answers_and_logs_no_addresses(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "PLACECODE_KEY_DIR": str(tmp_path / "keys"),
    }
    placecode = [sys.executable, "-c", "from placecode.cli import run; run()"]
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
    placecode = [sys.executable, "-c", "from placecode.cli import run; run()"]
    from placecode.service.keys import init_keys

    init_keys(tmp_path / "keys")
    result = subprocess.run(
        [*placecode, "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "placecode admin init" in result.stderr


def test_serve_without_keys_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "PLACECODE_KEY_DIR": str(tmp_path / "none")}
    result = subprocess.run(
        [sys.executable, "-c", "from placecode.cli import run; run()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "placecode admin init" in result.stderr


def test_serve_builds_bundles_on_its_schedule(
    client: FlaskClient,
    settings: dict[str, Any],
    token: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The schedule `placecode serve --build-every` runs publishes what is due."""
    from placecode.service import cli

    monkeypatch.setattr(cli.admin_, "settings", lambda overrides=None: settings)
    (tan,) = issue_tans(client, token("tan-issuer"))
    entries = random_entries(settings["MIN_BUNDLE_ENTRIES"] + 1)
    assert post_upload(client, upload_body(tan, entries)).status_code == 202
    assert client.get("/v1/bundles").json["bundles"] == []
    stop = threading.Event()
    schedule = threading.Thread(target=cli._build_on_schedule, args=(0.05, stop))
    schedule.start()
    try:
        for _ in range(400):
            if client.get("/v1/bundles").json["bundles"]:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        schedule.join(10)
    assert not schedule.is_alive()
    (published,) = client.get("/v1/bundles").json["bundles"]
    assert published["sequence"] == 1 and published["entries"] == len(entries)
