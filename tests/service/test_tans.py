"""Issuing TANs: roles, bounds, the hourly limit, only hashes stored."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placecode.service.context import state
from placecode.service.models import Tan

from .conftest import Clock


def test_tans_are_shown_once_and_stored_hashed(
    client: FlaskClient, app: Flask, token: Callable[[str], str], clock: Clock
) -> None:
    response = client.post(
        "/v1/tans", json={"count": 3, "valid_hours": 2}, headers={"Authorization": token("admin")}
    )
    assert response.status_code == 201
    tans = response.json["tans"]
    assert len(tans) == 3
    for t in tans:
        assert len(t["tan"]) == 14 and t["tan"][4] == t["tan"][9] == "-"
        assert t["expires_at"] == int(clock.now) + 7200
    with app.app_context(), state().sessions() as session:
        stored = list(session.scalars(select(Tan)))
    assert len(stored) == 3
    dump = b"".join(row.hash for row in stored)
    for t in tans:
        assert t["tan"].encode() not in dump and t["tan"].replace("-", "").encode() not in dump


def test_defaults_apply_to_an_empty_body(
    client: FlaskClient, token: Callable[[str], str], clock: Clock
) -> None:
    response = client.post("/v1/tans", headers={"Authorization": token("tan-issuer")})
    assert response.status_code == 201
    (tan,) = response.json["tans"]
    assert tan["expires_at"] == int(clock.now) + 72 * 3600


def test_roles_and_tokens(client: FlaskClient, token: Callable[[str], str]) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.post("/v1/tans", json={}, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
    response = client.post("/v1/tans", json={}, headers={"Authorization": token("inbox")})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_bad_bodies_are_400(client: FlaskClient, token: Callable[[str], str]) -> None:
    auth = {"Authorization": token("tan-issuer")}
    for body in [
        b"{",
        b"[]",
        b'{"count": "2"}',
        b'{"count": 0}',
        b'{"count": 101}',
        b'{"valid_hours": 169}',
        b'{"count": 1, "extra": true}',
        b'{"count": 1.5}',
        b"\xff\xfe",
    ]:
        response = client.post("/v1/tans", data=body, headers=auth, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json["error"]["code"] == "invalid_request"
    response = client.post("/v1/tans", data=b"count=1", headers=auth, content_type="text/plain")
    assert response.status_code == 400


def test_hourly_limit(client: FlaskClient, token: Callable[[str], str], clock: Clock) -> None:
    auth = {"Authorization": token("tan-issuer")}
    assert client.post("/v1/tans", json={"count": 50}, headers=auth).status_code == 201
    response = client.post("/v1/tans", json={"count": 1}, headers=auth)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    clock.advance(3600)
    assert client.post("/v1/tans", json={"count": 1}, headers=auth).status_code == 201


def test_the_service_keeps_no_finer_time_of_issuing_than_the_hour(
    client: FlaskClient, app: Flask, token: Callable[[str], str], clock: Clock
) -> None:
    from placecode.service.models import TanCount

    auth = {"Authorization": token("tan-issuer")}
    clock.advance(17 * 60 + 23)  # 12:17:23
    first = client.post("/v1/tans", json={"valid_hours": 2}, headers=auth).json["tans"][0]
    assert first["expires_at"] == (int(clock.now) // 3600 + 3) * 3600  # 15:00, not 14:17:23
    clock.advance(3600)
    client.post("/v1/tans", json={"count": 2}, headers=auth)
    with app.app_context(), state().sessions() as session:
        stored = sorted(session.scalars(select(Tan.expires_at)))
        counts = [(row.hour, row.issued) for row in session.scalars(select(TanCount))]
    assert all(expires % 3600 == 0 for expires in stored)
    assert counts == [(int(clock.now) // 3600, 2)]  # this hour's count alone
