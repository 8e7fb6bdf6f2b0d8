"""One TAN, twenty simultaneous uploads through the real server: one succeeds."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from placecode.service.context import state
from placecode.service.models import Entry

from .helpers import http, http_json, random_entries, upload_body, venue_entries


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
def test_one_tan_redeemed_by_twenty_concurrent_requests_succeeds_once(
    live_server: str, app: Flask, token: Callable[[str], str]
) -> None:
    status, body = http_json("POST", f"{live_server}/v1/tans", {}, auth=token("tan-issuer"))
    assert status == 201
    tan = body["tans"][0]["tan"]
    bodies = [upload_body(tan, random_entries(50)) for _ in range(20)]
    start = threading.Barrier(20)
    statuses: list[int] = []

    def send(data: bytes) -> None:
        start.wait()
        code, _, _ = http(
            "POST",
            f"{live_server}/v1/uploads",
            data,
            {"Content-Type": "application/octet-stream"},
        )
        statuses.append(code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [202] + [403] * 19
    with app.app_context(), state().sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 50


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
def test_one_venue_trace_published_twenty_times_at_once_is_published_once(
    live_server: str, app: Flask, token: Callable[[str], str]
) -> None:
    """Twenty publications of the same slots at once, each sealed anew: one is taken."""
    publisher = token("publisher")
    slots = [os.urandom(32) for _ in range(10)]
    bodies = [venue_entries(random_entries(10), slots) for _ in range(20)]
    start = threading.Barrier(20)
    statuses: list[int] = []

    def send(body: dict[str, list[str]]) -> None:
        start.wait()
        code, _ = http_json("POST", f"{live_server}/v1/venue-entries", body, auth=publisher)
        statuses.append(code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] + [409] * 19
    with app.app_context(), state().sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 10
