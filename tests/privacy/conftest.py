"""A real service on a fresh SQLite database per test, with the authority's offline key.

The threat-model tests (docs/threat-model.md) act as one adversary each: they
drive the service through its HTTP API, read its database and key files the
way someone who copied them would, and use the crypto API as the devices do.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from placecode.crypto import AuthorityPublicKeys, Bundle, SealingKey, UploadRequest
from placecode.service import admin, create_app
from placecode.service.config import defaults
from placecode.service.db import make_engine, upgrade
from placecode.service.keys import SEALING_KEY, init_keys, load_keys
from placecode.service.models import StaffToken
from placecode.service.staff import token_hash

#: 2026-06-01 12:00 UTC
T0 = 1780315200
DAY = 86400


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Service:
    """The service as its operator runs it, plus what the authority keeps offline."""

    app: Flask
    client: FlaskClient
    settings: dict[str, Any]
    clock: Clock
    db_path: Path
    key_dir: Path
    sealing: SealingKey
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def authority(self) -> AuthorityPublicKeys:
        return load_keys(self.key_dir).public

    def auth(self, role: str) -> dict[str, str]:
        if role not in self._tokens:
            secret = secrets.token_urlsafe(16)
            engine = self.app.extensions["placecode"].engine
            with engine.begin() as connection:
                connection.execute(
                    StaffToken.__table__.insert().values(
                        hash=token_hash(secret), role=role, label="privacy test"
                    )
                )
            self._tokens[role] = f"Bearer {secret}"
        return {"Authorization": self._tokens[role]}

    def tans(self, count: int = 1) -> list[str]:
        response = self.client.post(
            "/v1/tans", json={"count": count}, headers=self.auth("tan-issuer")
        )
        assert response.status_code == 201, response.json
        return [t["tan"] for t in response.json["tans"]]

    def upload(self, entries: list[bytes], tan: str | None = None, dummy: bool = False) -> Any:
        if tan is None and not dummy:
            (tan,) = self.tans()
        body = UploadRequest(tan or "ABCD-EFGH-JKMN", tuple(entries), dummy).to_bytes()
        return self.client.post("/v1/uploads", data=body, content_type="application/octet-stream")

    def consent(self, sealed: bytes) -> Any:
        return self.client.post("/v1/consent", data=sealed, content_type="application/octet-stream")

    def build(self) -> Any:
        return admin.build_bundles(self.settings, force=True)

    def bundles(self) -> list[Bundle]:
        """Every published bundle, fetched and verified as a device does."""
        out = []
        for info in self.client.get("/v1/bundles").json["bundles"]:
            data = self.client.get(info["url"]).data
            out.append(Bundle.verify(data, self.authority))
        return out

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, as a copy of the database shows it."""
        engine = self.app.extensions["placecode"].engine
        with engine.connect() as connection:
            return {
                table: [
                    dict(row._mapping)
                    for row in connection.execute(text(f'SELECT * FROM "{table}"'))
                ]
                for table in inspect(connection).get_table_names()
            }

    def inbox(self) -> list[bytes]:
        messages = self.client.get("/v1/consent", headers=self.auth("inbox")).json["messages"]
        return [base64.b64decode(m["sealed"]) for m in messages]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    key_dir = tmp_path / "authority"
    init_keys(key_dir)
    # the authority moves the sealing secret offline: the service never has it
    offline = SealingKey((key_dir / SEALING_KEY).read_bytes())
    (key_dir / SEALING_KEY).unlink()
    db_path = tmp_path / "service.db"
    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    clock = Clock()
    settings = {
        **defaults(),
        "DATABASE_URL": url,
        "KEY_DIR": str(key_dir),
        "CLOCK": clock,
        "UPLOAD_FLOOR_MS": 0,
        "MIN_BUNDLE_ENTRIES": 5,
        "TAN_RATE_PER_HOUR": 500,
        "MESSAGES": ("You shared a venue with a confirmed case.", "Isolate now."),
    }
    app = create_app(settings)
    yield Service(app, app.test_client(), settings, clock, db_path, key_dir, offline)
    app.extensions["placecode"].engine.dispose()
