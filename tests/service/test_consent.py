"""The sealed consent inbox."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from placecode.crypto import ConsentMessage, seal_consent
from placecode.crypto import constants as c


def post(client: FlaskClient, body: bytes, content_type: str = "application/octet-stream") -> Any:
    return client.post("/v1/consent", data=body, content_type=content_type)


def test_consent_round_trip(
    client: FlaskClient, token: Callable[[str], str], authority: Any
) -> None:
    sealed = seal_consent(
        ConsentMessage(os.urandom(16), 494_000, 5, 50, "+41 79 000 00 00"), authority
    )
    response = post(client, sealed)
    assert response.status_code == 202 and response.json == {"status": "accepted"}
    auth = {"Authorization": token("inbox")}
    inbox = client.get("/v1/consent", headers=auth).json["messages"]
    assert len(inbox) == 1
    assert base64.b64decode(inbox[0]["sealed"]) == sealed
    assert inbox[0]["received_day"] == "2026-06-01"
    message_id = inbox[0]["id"]
    assert client.delete(f"/v1/consent/{message_id}", headers=auth).status_code == 204
    response = client.delete(f"/v1/consent/{message_id}", headers=auth)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.delete(f"/v1/consent/{2**70}", headers=auth).status_code == 404
    assert client.get("/v1/consent", headers=auth).json == {"messages": [], "next_after": None}


def test_consent_of_the_wrong_size_or_type_is_400(client: FlaskClient) -> None:
    for body, kind in [
        (b"", "application/octet-stream"),
        (bytes(c.CONSENT_BYTES - 1), "application/octet-stream"),
        (bytes(c.CONSENT_BYTES + 1), "application/octet-stream"),
        (bytes(c.CONSENT_BYTES), "application/json"),
    ]:
        response = post(client, body, kind)
        assert response.status_code == 400
        assert response.json["error"]["code"] == "malformed_consent"


def test_inbox_needs_the_inbox_role(client: FlaskClient, token: Callable[[str], str]) -> None:
    assert client.get("/v1/consent").status_code == 401
    assert client.delete("/v1/consent/1").status_code == 401
    wrong = {"Authorization": token("publisher")}
    assert client.get("/v1/consent", headers=wrong).status_code == 403
    assert client.delete("/v1/consent/1", headers=wrong).status_code == 403
    assert client.get("/v1/consent", headers={"Authorization": token("admin")}).status_code == 200
