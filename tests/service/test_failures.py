"""Real failures: the database dies mid-upload, or is not there at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from placecode.service import create_app
from placecode.service.context import state
from placecode.service.models import Entry

from .helpers import issue_tans, post_upload, random_entries, upload_body


def entry_count(app: Flask) -> int:
    with app.app_context(), state().sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Entry)) or 0)


@pytest.fixture
def fail_after_tan_redemption(app: Flask) -> Iterator[list[str]]:
    """Kills the database connection right after the TAN is redeemed.

    On PostgreSQL the backend serving the request is terminated for real
    (``pg_terminate_backend``); on SQLite, which has no server to kill, the
    next statement raises the driver's OperationalError.
    """
    engine = app.extensions["placecode"].engine
    fired: list[str] = []
    sqlite_armed: list[bool] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if fired or not statement.lstrip().upper().startswith("DELETE FROM TANS"):
            return
        fired.append(statement)
        sqlite_armed.append(True)
        if engine.dialect.name == "postgresql":
            pid = conn.connection.dbapi_connection.info.backend_pid
            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(url, autocommit=True) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if sqlite_armed and engine.dialect.name == "sqlite" and "INSERT INTO entries" in statement:
            sqlite_armed.clear()
            raise OperationalError(statement, {}, Exception("disk I/O error"))

    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "before_cursor_execute", before)
    yield fired
    event.remove(engine, "after_cursor_execute", after)
    event.remove(engine, "before_cursor_execute", before)


def test_database_failing_mid_upload_writes_nothing_and_keeps_the_tan(
    client: FlaskClient,
    app: Flask,
    token: Callable[[str], str],
    fail_after_tan_redemption: list[str],
) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"))
    body = upload_body(tan, random_entries(30))
    response = post_upload(client, body)
    assert fail_after_tan_redemption, "the failure was not injected"
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert entry_count(app) == 0
    assert post_upload(client, body).status_code == 202
    assert entry_count(app) == 30


@pytest.mark.postgres
def test_unreachable_database_gives_503(settings: dict[str, Any]) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    app = create_app({**settings, "DATABASE_URL": url})
    client = app.test_client()
    for method, path in [("GET", "/healthz"), ("GET", "/v1/bundles"), ("GET", "/v1/bundles/1")]:
        response = client.open(path, method=method)
        assert response.status_code == 503, path
        assert response.json["error"]["code"] == "database_unavailable"
    assert post_upload(client, upload_body("ABCD", [], dummy=True)).status_code == 503
