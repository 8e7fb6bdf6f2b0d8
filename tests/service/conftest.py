"""Fixtures: every service test runs on SQLite and on PostgreSQL.

Each test session creates its own PostgreSQL database (several people share
the server) and drops it at the end; tables are emptied before each test.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from werkzeug.serving import make_server

from placecode.service import create_app
from placecode.service.config import defaults
from placecode.service.context import state
from placecode.service.db import make_engine, upgrade
from placecode.service.keys import init_keys, load_keys
from placecode.service.logs import QuietRequestHandler
from placecode.service.models import Base, StaffToken
from placecode.service.staff import token_hash

PG_SERVER = os.environ.get("PLACECODE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
DAY = 86400
#: 2026-06-01 12:00 UTC: tests start at noon so a few hours never cross a day
T0 = 1780315200


class Clock:
    """The app's injectable clock."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"placecode_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/test", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at {PG_SERVER} is needed for these tests: {e}")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'service.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "authority"
    init_keys(path)
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param.replace('postgres', 'pg')}_url")
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str, key_dir: Path, clock: Clock) -> dict[str, Any]:
    return {
        **defaults(),
        "DATABASE_URL": database_url,
        "KEY_DIR": str(key_dir),
        "CLOCK": clock,
        "UPLOAD_FLOOR_MS": 0,
        "MIN_BUNDLE_ENTRIES": 5,
        "BUNDLE_DEADLINE_HOURS": 6,
        "TAN_RATE_PER_HOUR": 50,
    }


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    state_ = app.extensions["placecode"]
    state_.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(app: Flask) -> Callable[[str], str]:
    """Makes a staff token of a role and returns its Authorization header value."""

    def make(role: str) -> str:
        secret = secrets.token_urlsafe(16)
        with app.app_context(), state().sessions.begin() as session:
            session.add(StaffToken(hash=token_hash(secret), role=role, label="test"))
        return f"Bearer {secret}"

    return make


@pytest.fixture
def authority(key_dir: Path) -> Any:
    return load_keys(key_dir).public


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)
