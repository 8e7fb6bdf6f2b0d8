"""Service benchmarks on PostgreSQL (127.0.0.1:5432), in a database of their own.

- ``uploads_per_s_postgres``: gunicorn with 2 workers (the production settings:
  gevent, every upload waits out the 50 ms timing floor), 16
  clients on loopback, typical uploads (about 60 entries: 30 visits of two
  hour slots), a bounded run;
- ``bundle_serve_ratio_app_vs_static``: requests per second for one bundle of
  10,000 entries through the app, divided by the same for Python's static file
  server on the exported copy, new connection per request for both (median
  of three alternated rounds);
- ``build_bundles_s_1e5_postgres``: seconds to publish 100,000 pending entries;
- ``tan_guess_requests_per_min``, ``tan_guesses_answered_per_min``: 16 clients
  sending wrong TANs as fast as they can through the same gunicorn, for 5 s
  once the burst is spent: the requests made, and those whose TAN was looked
  at (403, not 429), per minute (the bucket allows 10 a minute per process);
  ``genuine_tan_accepted_after_flood_s``: how long a case whose TAN is valid
  then retries (every 0.5 s) before it is accepted.

``run()`` merges its figures into ``bench/results.json`` and returns them.
Run alone with ``python -m bench.service``; ``make bench`` runs it after the
protocol benchmarks.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import insert

from placecode.clients.demo import free_port
from placecode.crypto import UploadRequest, Venue, check_in, report_entries
from placecode.service import admin
from placecode.service.config import Settings
from placecode.service.db import make_engine
from placecode.service.models import Entry

from ._results import record

PG_SERVER = os.environ.get("PLACECODE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
UPLOADS = 800
UPLOAD_SECONDS = 20.0
SERVE_SECONDS = 3.0
GUESS_SECONDS = 5.0
CLIENTS = 16


def _wait_for(port: int, path: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server answered on port {port}")


def _hammer(
    port: int,
    make_request: Callable[[int], tuple[str, str, bytes | None, dict[str, str]]],
    count: int,
    seconds: float,
    *,
    keep_alive: bool,
) -> tuple[int, float, list[int]]:
    """Up to ``count`` requests in ``seconds`` from CLIENTS threads: done, time, statuses."""
    lock = threading.Lock()
    next_index = [0]
    statuses: list[int] = []
    started = time.monotonic()
    deadline = started + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= count:
                break
            method, path, body, headers = make_request(i)
            if not keep_alive:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
            if not keep_alive:
                connection.close()
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(statuses), time.monotonic() - started, statuses


def _typical_upload(tan: str, now: int) -> bytes:
    entries: list[bytes] = []
    for day in range(15):
        for visit in range(2):
            venue = Venue.generate(os.urandom(32), "Bench venue")
            entered = now - (day + 1) * 86400 + visit * 4 * 3600 + 1800
            stay = check_in(venue.poster(), entered).check_out(entered + 90 * 60)
            entries += report_entries(stay, os.urandom)
    return UploadRequest(tan, tuple(entries[:60])).to_bytes()


def _bulk_entries(settings: Settings, count: int) -> None:
    engine = make_engine(settings.database_url)
    today = dt.datetime.now(dt.UTC).date()
    with engine.begin() as connection:
        for start in range(0, count, 10_000):
            rows = []
            for _ in range(min(10_000, count - start)):
                entry = os.urandom(48)
                rows.append({"sealed": entry, "tag": entry[:16], "received_day": today})
            connection.execute(insert(Entry), rows)
    engine.dispose()


def _measure(workdir: Path, url: str) -> dict[str, float]:
    key_dir = workdir / "keys"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PLACECODE_KEY_DIR": str(key_dir),
        "PLACECODE_TAN_RATE_PER_HOUR": "100000",
        "PLACECODE_BUILD_INTERVAL_MINUTES": "0",
    }
    settings = admin.settings({"DATABASE_URL": url, "KEY_DIR": str(key_dir)})
    admin.init(settings)
    results: dict[str, float] = {}

    _bulk_entries(settings, 100_000)
    started = time.perf_counter()
    built = admin.build_bundles(settings, force=True)
    results["build_bundles_s_1e5_postgres"] = round(time.perf_counter() - started, 3)
    assert built is not None and built.entries == 100_000

    _bulk_entries(settings, 10_000)
    served = admin.build_bundles(settings, force=True)
    assert served is not None
    admin.export(settings, workdir / "cdn")

    port = free_port()
    app_server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:placecode.service.gunicorn_config",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "placecode.service:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    static_port = free_port()
    static_server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(workdir / "cdn"),
            str(static_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, "/healthz")
        bundle_path = f"/v1/bundles/{served.sequence}"
        _wait_for(static_port, bundle_path)
        rates: dict[int, list[float]] = {port: [], static_port: []}
        for _ in range(3):  # alternated, so a noisy neighbour hits both alike
            for p in rates:
                done, seconds, statuses = _hammer(
                    p,
                    lambda i: ("GET", bundle_path, None, {}),
                    10**9,
                    SERVE_SECONDS,
                    keep_alive=False,
                )
                assert set(statuses) == {200}
                rates[p].append(done / seconds)
        app_rate, static_rate = (sorted(r)[1] for r in rates.values())
        results["bundle_serve_ratio_app_vs_static"] = round(app_rate / static_rate, 3)

        token = admin.create_token(settings, "tan-issuer", "bench")
        tans: list[str] = []
        while len(tans) <= UPLOADS:  # and one for the genuine case after the flood
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(
                "POST",
                "/v1/tans",
                body=b'{"count": 100}',
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            tans += [t["tan"] for t in json.loads(connection.getresponse().read())["tans"]]
        now = int(time.time())
        bodies = [_typical_upload(tan, now) for tan in tans[:UPLOADS]]
        headers = {"Content-Type": "application/octet-stream"}
        done, seconds, statuses = _hammer(
            port,
            lambda i: ("POST", "/v1/uploads", bodies[i], headers),
            UPLOADS,
            UPLOAD_SECONDS,
            keep_alive=True,
        )
        assert set(statuses) == {202}, set(statuses)
        results["uploads_per_s_postgres"] = round(done / seconds, 1)
        results.update(_guessing(port, tans[UPLOADS], now))
    finally:
        for process in (app_server, static_server):
            process.terminate()
            process.wait(10)
    return results


def _guessing(port: int, tan: str, now: int) -> dict[str, float]:
    """A TAN-guessing flood from CLIENTS threads, then the genuine TAN."""
    headers = {"Content-Type": "application/octet-stream"}
    guesses = [UploadRequest(f"ZZZZ-ZZZZ-{i % 10000:04d}", ()).to_bytes() for i in range(64)]
    for seconds in (2.0, GUESS_SECONDS):  # the first run spends the burst, the second counts
        done, seconds, statuses = _hammer(
            port,
            lambda i: ("POST", "/v1/uploads", guesses[i % len(guesses)], headers),
            10**9,
            seconds,
            keep_alive=True,
        )
        assert set(statuses) <= {403, 429}, set(statuses)
    genuine = _typical_upload(tan, now)
    started = time.monotonic()
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/v1/uploads", body=genuine, headers=headers)
        status = connection.getresponse().status
        connection.close()
        if status == 202:
            break
        assert status == 429 and time.monotonic() - started < 60, status
        time.sleep(0.5)
    return {
        "tan_guess_requests_per_min": round(done / seconds * 60),
        "tan_guesses_answered_per_min": round(statuses.count(403) / seconds * 60),
        "genuine_tan_accepted_after_flood_s": round(time.monotonic() - started, 1),
    }


def run() -> dict[str, float]:
    name = f"placecode_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as workdir:
                url = f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
                results = _measure(Path(workdir), url)
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    record(results)
    return results


if __name__ == "__main__":
    run()
