"""What the service keeps after a realistic run, and what it logs."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from placecode.crypto import ConsentMessage, Venue, check_in, report_entries, seal_consent
from placecode.crypto import constants as c
from placecode.service import admin
from placecode.service.context import state

from .conftest import T0, Clock
from .helpers import http, http_json, upload_body

USER_AGENT = "PlacecodeTestAgent/9.9 (tracker-id-5f3a)"


def dump(app: Flask) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table, in the order the database lists them."""
    with app.app_context(), state().engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return [
            (t, [tuple(r) for r in connection.execute(text(f'SELECT * FROM "{t}"'))])
            for t in sorted(tables)
        ]


def as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def test_storage_holds_nothing_that_links_or_identifies(
    live_server: str,
    app: Flask,
    settings: dict[str, Any],
    clock: Clock,
    token: Callable[[str], str],
    authority: Any,
) -> None:
    issuer, headers = token("tan-issuer"), {"User-Agent": USER_AGENT}
    venues = [Venue.generate(os.urandom(32), f"Venue number {i}") for i in range(6)]
    secrets_seen: list[bytes] = []
    upload_times = []
    uploads: list[list[bytes]] = []
    clock.now = T0 - 5 * 3600  # the authority issues TANs with the test results
    status, body = http_json("POST", f"{live_server}/v1/tans", {"count": 4}, auth=issuer)
    tans = [t["tan"] for t in body["tans"]]
    for person, tan in enumerate(tans):
        clock.now = T0 + person * 3 * 3600 + 17  # uploads through one day
        entries = []
        for k, venue in enumerate(venues[person : person + 3]):
            code = venue.poster()
            secrets_seen += [code.code_key, code.venue_public_key, venue.name.encode()]
            entered = int(clock.now) - (k + 1) * 86400
            v = check_in(code, entered).check_out(entered + 150 * 60)
            entries += report_entries(v, os.urandom)
        uploads.append(entries)
        upload_times.append(int(clock.now))
        secrets_seen.append(tan.encode())
        for data in (upload_body(tan, entries), upload_body("DUMMY", entries[:3], dummy=True)):
            status, _, _ = http(
                "POST",
                f"{live_server}/v1/uploads",
                data,
                {**headers, "Content-Type": "application/octet-stream"},
            )
            assert status == 202
        sealed = seal_consent(
            ConsentMessage(entries[0][:16], 1, 0, 30, f"person{person}@example.org"), authority
        )
        http(
            "POST",
            f"{live_server}/v1/consent",
            sealed,
            {**headers, "Content-Type": "application/octet-stream"},
        )
        secrets_seen.append(f"person{person}@example.org".encode())

    def check(rows: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        blob = b"\n".join(as_bytes(v) for _, table in rows for row in table for v in row)
        for secret in secrets_seen + [b"127.0.0.1", USER_AGENT.encode(), b"PlacecodeTestAgent"]:
            assert secret not in blob
        for moment in upload_times:
            for shown in (str(moment), str(moment // 60), str(moment // 3600)):
                assert shown.encode() not in blob
        entries_table = dict(rows)["entries"]
        columns = [c["name"] for c in inspect(state_engine).get_columns("entries")]
        # ``authority`` marks the authority's own entries (the bundle's authority section)
        assert set(columns) == {"sealed", "tag", "received_day", "bundle_sequence", "authority"}
        stored = [as_bytes(r[columns.index("sealed")]) for r in entries_table]
        assert sorted(stored) == sorted(e for u in uploads for e in u)
        assert len({r[columns.index("received_day")] for r in entries_table}) == 1
        # the order the rows are listed in is tag order, not arrival order
        assert stored == sorted(stored)

    state_engine = app.extensions["placecode"].engine
    if state_engine.dialect.name == "sqlite":
        check(dump(app))  # before publication too: rows live in key order
    clock.now = T0 + 14 * 3600  # the scheduled build, later
    assert admin.build_bundles(settings, force=True) is not None
    check(dump(app))
    bundle_rows = dict(dump(app))["bundles"]
    assert len(bundle_rows) == 1


def test_the_real_server_logs_no_address_agent_or_time(
    live_server: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for path in ("/healthz", "/v1/bundles", "/v1/bundles/99", "/nowhere"):
        http("GET", live_server + path, headers={"User-Agent": USER_AGENT})
    http(
        "POST",
        f"{live_server}/v1/uploads",
        b"junk",
        {"User-Agent": USER_AGENT, "Content-Type": "application/octet-stream"},
    )
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "127.0.0.1" not in logged
    assert USER_AGENT not in logged and "PlacecodeTestAgent" not in logged
    assert "/v1/uploads" not in logged and "HTTP/1.1" not in logged


def test_gunicorn_settings_log_no_access() -> None:
    from placecode.service import gunicorn_config

    assert gunicorn_config.accesslog is None
    assert "asctime" not in str(gunicorn_config.logconfig_dict)
    assert c.UPLOAD_BYTES  # the upload size is fixed, so sizes reveal nothing either


def test_day_and_bundle_group_entries_no_finer_than_the_published_bundle(
    client: Any, app: Flask, settings: dict[str, Any], clock: Clock, token: Callable[[str], str]
) -> None:
    """The stated link: entries keep their arrival day and, once published, their
    bundle. Uploads of one day that one bundle publishes fall into one group, so
    a copy of the table splits them no finer than the bundle itself (public, and
    sorted by tag) does; an upload alone in its day and bundle is its own group."""
    from sqlalchemy import select

    from placecode.service.models import Entry

    from .helpers import issue_tans, post_upload, random_entries, upload_body

    def groups() -> dict[tuple[Any, Any], int]:
        with app.app_context(), state().sessions() as session:
            found: dict[tuple[Any, Any], int] = {}
            for row in session.execute(select(Entry.received_day, Entry.bundle_sequence)):
                found[tuple(row)] = found.get(tuple(row), 0) + 1
            return found

    auth = token("tan-issuer")
    for count in (3, 4):  # two cases the same day
        (tan,) = issue_tans(client, auth)
        assert post_upload(client, upload_body(tan, random_entries(count))).status_code == 202
    assert list(groups().values()) == [7]
    admin.build_bundles(settings, force=True)
    assert list(groups().values()) == [7]
    clock.advance(86400)  # a case alone the next day, alone in the next bundle
    (tan,) = issue_tans(client, auth)
    assert post_upload(client, upload_body(tan, random_entries(2))).status_code == 202
    admin.build_bundles(settings, force=True)
    assert sorted(groups().values()) == [2, 7]
