"""Requests an attacker writes by hand, sent through the real server as raw bytes:
each is refused in the one JSON error shape, never read in a way it did not say."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from placecode.crypto import constants as c
from placecode.service.context import state
from placecode.service.models import Tan

from .helpers import raw_request


def chunked(method: str, path: str, body: bytes, headers: str = "") -> bytes:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 4096]), body[i : i + 4096])
        for i in range(0, len(body), 4096)
    )
    return (
        (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )


def error_code(body: bytes) -> str:
    document = json.loads(body)
    assert set(document) == {"error"} and set(document["error"]) == {"code", "message"}
    return str(document["error"]["code"])


def tan_count(app: Flask) -> int:
    with app.app_context(), state().sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Tan)) or 0)


@pytest.mark.parametrize(
    ("path", "content_type", "size"),
    [
        ("/v1/uploads", "application/octet-stream", c.UPLOAD_BYTES),
        ("/v1/uploads", "application/octet-stream", 200 * 1024),
        ("/v1/consent", "application/octet-stream", c.CONSENT_BYTES),
        ("/v1/tans", "application/json", 200 * 1024),
    ],
)
def test_a_chunked_body_is_refused_before_it_is_read(
    live_server: str,
    app: Flask,
    token: Callable[[str], str],
    path: str,
    content_type: str,
    size: int,
) -> None:
    auth = f"Authorization: {token('admin')}\r\n"
    request = chunked("POST", path, b"x" * size, f"{auth}Content-Type: {content_type}\r\n")
    status, headers, body = raw_request(live_server, request)
    assert status == 411 and error_code(body) == "length_required"
    assert headers["content-type"] == "application/json"
    assert tan_count(app) == 0


def test_a_chunked_tan_request_issues_nothing(
    live_server: str, app: Flask, token: Callable[[str], str]
) -> None:
    """The body asks for 100 TANs valid one hour; read as empty it gave one of 72 hours."""
    payload = json.dumps({"count": 100, "valid_hours": 1}).encode()
    request = chunked(
        "POST",
        "/v1/tans",
        payload,
        f"Authorization: {token('tan-issuer')}\r\nContent-Type: application/json\r\n",
    )
    status, _, body = raw_request(live_server, request)
    assert status == 411 and error_code(body) == "length_required"
    assert tan_count(app) == 0


def test_an_oversized_declared_body_is_413_unread(live_server: str) -> None:
    request = (
        b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
    ) + b"x" * 1000
    status, headers, body = raw_request(live_server, request)
    assert status == 413 and error_code(body) == "too_large"
    assert headers["connection"] == "close"


@pytest.mark.parametrize(
    "body",
    [
        b'{"count": 1, "count": 100}',
        b'{"valid_hours": 1, "count": 2, "valid_hours": 168}',
        b'{"entries": ["AAAA"], "entries": []}',
    ],
)
def test_a_json_key_given_twice_is_refused(
    live_server: str, app: Flask, token: Callable[[str], str], body: bytes
) -> None:
    for path in ("/v1/tans", "/v1/venue-entries", "/v1/revocations"):
        request = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Authorization: {token('admin')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        status, _, answer = raw_request(live_server, request)
        assert status == 400, path
        assert error_code(answer) == "invalid_request"
        assert "twice" in json.loads(answer)["error"]["message"]
    assert tan_count(app) == 0


def test_a_nested_duplicate_key_is_refused_too(
    live_server: str, token: Callable[[str], str]
) -> None:
    body = b'{"tags": [{"a": 1, "a": 2}]}'
    request = (
        "POST /v1/revocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Authorization: {token('publisher')}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    status, _, answer = raw_request(live_server, request)
    assert status == 400 and "twice" in json.loads(answer)["error"]["message"]
