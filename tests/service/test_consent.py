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


def test_a_flood_of_junk_is_bounded_and_genuine_messages_get_through_after_it(
    settings: dict[str, Any], clock: Any, token: Callable[[str], str], authority: Any
) -> None:
    from placecode.service import create_app

    app = create_app({**settings, "CONSENT_PER_HOUR": 600, "CONSENT_MAX_HELD": 150})
    client = app.test_client()
    genuine = seal_consent(ConsentMessage(os.urandom(16), 494_000, 5, 50, "me"), authority)
    assert post(client, genuine).status_code == 202
    statuses = [post(client, os.urandom(c.CONSENT_BYTES)).status_code for _ in range(200)]
    assert statuses.count(202) == 59 and statuses.count(429) == 141  # the burst of 60
    refused = post(client, genuine)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) == 6
    clock.advance(6)
    assert post(client, genuine).status_code == 202
    for _ in range(30):  # a flood that goes on for hours fills the cap, and no more
        clock.advance(3600)
        for _ in range(60):
            post(client, os.urandom(c.CONSENT_BYTES))
    auth = {"Authorization": token("inbox")}
    first = client.get("/v1/consent?limit=5", headers=auth).json
    assert base64.b64decode(first["messages"][0]["sealed"]) == genuine  # oldest first
    held, after = [], 0
    while after is not None:
        page = client.get(f"/v1/consent?after={after}", headers=auth).json
        assert len(page["messages"]) <= 100
        held += page["messages"]
        after = page["next_after"]
    assert len(held) == 150
    assert [m["id"] for m in held] == sorted({m["id"] for m in held})
    app.extensions["placecode"].engine.dispose()


def test_inbox_pages_refuse_bad_parameters(
    client: FlaskClient, token: Callable[[str], str]
) -> None:
    auth = {"Authorization": token("inbox")}
    for query in ("after=-1", "after=x", "limit=0", "limit=1001", "after=１", "page=2"):
        response = client.get(f"/v1/consent?{query}", headers=auth)
        assert response.status_code == 400, query
        assert response.json["error"]["code"] == "invalid_request"
