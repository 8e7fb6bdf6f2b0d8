"""Every endpoint against malformed, oversized and arbitrary requests: never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placecode.crypto import constants as c

from .helpers import upload_body

#: (method, path, role or None)
ENDPOINTS = [
    ("GET", "/healthz", None),
    ("GET", "/openapi.json", None),
    ("GET", "/v1/config", None),
    ("POST", "/v1/uploads", None),
    ("POST", "/v1/consent", None),
    ("GET", "/v1/bundles", None),
    ("GET", "/v1/bundles/1", None),
    ("POST", "/v1/tans", "tan-issuer"),
    ("POST", "/v1/venue-entries", "publisher"),
    ("POST", "/v1/revocations", "publisher"),
    ("GET", "/v1/consent", "inbox"),
    ("DELETE", "/v1/consent/1", "inbox"),
]
POSTS = [e for e in ENDPOINTS if e[0] == "POST"]


def assert_error_shape(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.data[:200])
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}


@pytest.mark.parametrize(("method", "path", "role"), POSTS)
def test_oversized_bodies_are_413(
    client: FlaskClient, token: Callable[[str], str], method: str, path: str, role: str | None
) -> None:
    headers = {"Authorization": token(role)} if role else {}
    for kind in ("application/octet-stream", "application/json"):
        response = client.open(
            path, method=method, data=bytes(100 * 1024 + 1), content_type=kind, headers=headers
        )
        assert response.status_code == 413
        assert response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize(("method", "path", "role"), [e for e in ENDPOINTS if e[2]])
def test_staff_endpoints_need_a_token(
    client: FlaskClient, method: str, path: str, role: str
) -> None:
    for auth in (None, "Bearer", "Bearer wrong", "Token x", "Bearer \u00e9\u00e9"):
        headers = {"Authorization": auth} if auth is not None else {}
        response = client.open(path, method=method, json={}, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"


def test_unknown_paths_and_methods_share_the_error_shape(client: FlaskClient) -> None:
    for method, path, status in [
        ("GET", "/v2/bundles", 404),
        ("PUT", "/v1/uploads", 405),
        ("GET", "/v1/uploads", 405),
        ("GET", "/v1/bundles/-1", 404),
        ("GET", "/v1/consent/abc", 404),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == status
        assert_error_shape(response)


def test_openapi_document_describes_every_route(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for method, path, role in ENDPOINTS:
        if path == "/openapi.json":
            continue
        templated = path.replace("/1", "/{sequence}" if "bundles" in path else "/{message_id}")
        operation = paths[templated][method.lower()]
        assert ("security" in operation) == bool(role), path
    upload = paths["/v1/uploads"]["post"]["requestBody"]["content"]
    assert "application/octet-stream" in upload
    assert "TanRequest" in str(paths["/v1/tans"]["post"]["requestBody"])


@pytest.fixture
def fuzz_client(app: Flask, token: Callable[[str], str]) -> Iterator[tuple[FlaskClient, str]]:
    yield app.test_client(), token("admin")


bodies = st.one_of(
    st.binary(max_size=300),
    st.binary(min_size=c.UPLOAD_BYTES, max_size=c.UPLOAD_BYTES),
    st.builds(
        lambda tan, n, dummy, tail: (
            upload_body(tan, [bytes([i]) * 48 for i in range(n)], dummy)[: -len(tail) or None]
            + tail
        ),
        st.text(alphabet="ABC-0123", min_size=1, max_size=32),
        st.integers(0, 5),
        st.booleans(),
        st.binary(max_size=3),
    ),
    st.binary(min_size=c.CONSENT_BYTES, max_size=c.CONSENT_BYTES),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["count", "valid_hours", "entries", "tags", "x"]), inner, max_size=3
            )
        ),
        max_leaves=8,
    ).map(lambda v: __import__("json").dumps(v).encode()),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=bodies,
    content_type=st.sampled_from(
        [
            "application/octet-stream",
            "application/json",
            "text/plain",
            "",
            "application/json; charset=latin-1",
        ]
    ),
    query=st.sampled_from(["", "?after=1", "?after=x", "?after=99999999999999999999", "?z=1"]),
    authorised=st.booleans(),
)
def test_arbitrary_requests_never_give_a_500(
    fuzz_client: tuple[FlaskClient, str],
    endpoint: tuple[str, str, str | None],
    body: bytes,
    content_type: str,
    query: str,
    authorised: bool,
) -> None:
    client, auth = fuzz_client
    method, path, _ = endpoint
    headers = {"Authorization": auth} if authorised else {}
    response = client.open(
        path + query,
        method=method,
        data=body if method != "GET" else None,
        content_type=content_type or None,
        headers=headers,
    )
    assert_error_shape(response)
