"""Requests and realistic entries for the service tests."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from flask.testing import FlaskClient

from placecode.crypto import UploadRequest, Venue, Visit, check_in, report_entries


def visit(name: str, entered_at: int, minutes: int = 90) -> Visit:
    """A visitor's visit to a fresh poster venue."""
    venue = Venue.generate(os.urandom(32), name)
    return check_in(venue.poster(), entered_at).check_out(entered_at + minutes * 60)


def entries_for(visits: list[Visit]) -> list[bytes]:
    return [e for v in visits for e in report_entries(v, os.urandom)]


def random_entries(count: int) -> list[bytes]:
    return [os.urandom(48) for _ in range(count)]


def venue_entries(entries: list[bytes], slots: list[bytes] | None = None) -> dict[str, Any]:
    """A ``POST /v1/venue-entries`` body; each entry's slot digest random unless given."""
    import base64

    digests = slots if slots is not None else [os.urandom(32) for _ in entries]
    return {
        "entries": [base64.b64encode(e).decode() for e in entries],
        "slots": [d.hex() for d in digests],
    }


def upload_body(tan: str, entries: list[bytes], dummy: bool = False) -> bytes:
    return UploadRequest(tan, tuple(entries), dummy).to_bytes()


def post_upload(client: FlaskClient, body: bytes) -> Any:
    return client.post("/v1/uploads", data=body, content_type="application/octet-stream")


def issue_tans(client: FlaskClient, auth: str, count: int = 1, hours: int = 72) -> list[str]:
    response = client.post(
        "/v1/tans",
        json={"count": count, "valid_hours": hours},
        headers={"Authorization": auth},
    )
    assert response.status_code == 201, response.json
    return [t["tan"] for t in response.json["tans"]]


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, dict[str, str], bytes]:
    """A real HTTP request; returns status, headers and body, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_json(method: str, url: str, payload: Any = None, auth: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    body = None if payload is None else json.dumps(payload).encode()
    status, _, data = http(method, url, body, headers)
    return status, json.loads(data) if data else None


def raw_request(base: str, data: bytes, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Bytes written to the server as they are; returns status, headers and body.

    For requests that an HTTP library would not send: chunked bodies, lying
    lengths. The request should say ``Connection: close``.
    """
    import socket
    import urllib.parse

    address = urllib.parse.urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # all sent: a server that drains what it did not read stops
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body
