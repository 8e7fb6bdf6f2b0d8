"""Bundles: batching, decoys, signatures, caching, export, revocation, end to end."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from placecode.crypto import Bundle, Policy, VerificationError, match
from placecode.crypto import constants as c
from placecode.service import admin

from .conftest import T0, Clock
from .helpers import (
    entries_for,
    http,
    http_json,
    issue_tans,
    post_upload,
    random_entries,
    upload_body,
    venue_entries,
    visit,
)


def upload(client: FlaskClient, auth: str, entries: list[bytes]) -> None:
    (tan,) = issue_tans(client, auth)
    assert post_upload(client, upload_body(tan, entries)).status_code == 202


def build(settings: dict[str, Any], force: bool = False) -> Any:
    return admin.build_bundles(settings, force=force)


def fetch(client: FlaskClient, sequence: int) -> bytes:
    response = client.get(f"/v1/bundles/{sequence}")
    assert response.status_code == 200
    return response.data


def test_nothing_is_published_below_the_minimum_until_the_deadline(
    client: FlaskClient,
    settings: dict[str, Any],
    clock: Clock,
    token: Callable[[str], str],
    authority: Any,
) -> None:
    auth = token("admin")
    upload(client, auth, random_entries(6))
    first = build(settings)
    assert first is not None and first.sequence == 1 and first.entries == 6
    upload(client, auth, random_entries(2))
    assert build(settings) is None  # 2 < 5 and the deadline has not passed
    clock.advance(6 * 3600)
    second = build(settings)
    assert second is not None and second.sequence == 2
    assert second.entries == 5  # topped up with three decoys
    bundle = Bundle.verify(fetch(client, 2), authority, after_sequence=1)
    assert bundle.count == 5
    assert build(settings) is None


def test_a_bundle_is_sorted_by_tag_and_signed(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    auth = token("admin")
    uploads = [random_entries(4) for _ in range(3)]
    for entries in uploads:
        upload(client, auth, entries)
    assert build(settings) is not None
    data = fetch(client, 1)
    bundle = Bundle.verify(data, authority)
    published = bundle.entries()
    assert published == sorted(published)
    assert sorted(published) == sorted(e for u in uploads for e in u)
    assert bundle.header.messages == tuple(settings["MESSAGES"])
    with pytest.raises(VerificationError):
        Bundle.verify(data[:-1] + bytes([data[-1] ^ 1]), authority)
    with pytest.raises(VerificationError):
        Bundle.verify(data, authority, after_sequence=1)


def test_bundle_is_immutable_and_revalidates(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str]
) -> None:
    upload(client, token("admin"), random_entries(5))
    build(settings)
    response = client.get("/v1/bundles/1")
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.sha256(response.data).hexdigest()}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.mimetype == "application/octet-stream"
    again = client.get("/v1/bundles/1", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/v1/bundles/2").json["error"]["code"] == "not_found"
    assert client.get(f"/v1/bundles/{2**70}").status_code == 404


def test_index_lists_bundles_after_a_sequence(
    client: FlaskClient,
    settings: dict[str, Any],
    clock: Clock,
    token: Callable[[str], str],
    authority: Any,
) -> None:
    auth = token("admin")
    for _ in range(3):
        upload(client, auth, random_entries(5))
        build(settings)
        clock.advance(60)
    index = client.get("/v1/bundles").json
    assert index["key_id"] == authority.key_id.hex()
    assert [b["sequence"] for b in index["bundles"]] == [1, 2, 3]
    first = index["bundles"][0]
    data = fetch(client, 1)
    assert first["url"] == "/v1/bundles/1"
    assert first["size"] == len(data) and first["sha256"] == hashlib.sha256(data).hexdigest()
    assert first["entries"] == 5 and first["created_at"] == T0
    assert [b["sequence"] for b in client.get("/v1/bundles?after=1").json["bundles"]] == [2, 3]
    for bad in ("x", "1.5", "-2", str(2**64), "", "١"):
        response = client.get(f"/v1/bundles?after={bad}")
        assert response.status_code == 400, bad
    assert client.get("/v1/bundles?before=1").status_code == 400


def test_export_is_byte_identical(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], tmp_path: Path
) -> None:
    auth = token("admin")
    for _ in range(2):
        upload(client, auth, random_entries(5))
        build(settings)
    assert admin.export(settings, tmp_path) == 2
    for sequence in (1, 2):
        assert (tmp_path / "v1" / "bundles" / str(sequence)).read_bytes() == fetch(client, sequence)
    exported = json.loads((tmp_path / "v1" / "bundles" / "index.json").read_bytes())
    assert exported == client.get("/v1/bundles").json
    assert json.loads((tmp_path / "v1" / "config").read_bytes()).keys() == {
        "payload",
        "signature",
    }


def test_revocation_removes_entries_and_reaches_the_next_header(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    entries = random_entries(5)
    upload(client, token("admin"), entries)
    build(settings)
    auth = {"Authorization": token("publisher")}
    tag = entries[0][: c.TAG_BYTES]
    response = client.post("/v1/revocations", json={"tags": [tag.hex()]}, headers=auth)
    assert response.status_code == 200 and response.json == {"revoked": 1}
    assert admin.stats(settings)["entries_published"] == 4
    built = build(settings)
    assert built is not None and built.entries == 5  # decoys only, carrying the revocation
    bundle = Bundle.verify(fetch(client, 2), authority)
    assert bundle.header.revoked == (tag,)
    assert bundle.lookup(tag) == []
    for bad in ({"tags": ["zz" * 16]}, {"tags": [tag.hex()[:-2]]}, {"tags": []}, {"tag": []}):
        assert client.post("/v1/revocations", json=bad, headers=auth).status_code == 400


def test_venue_entries_are_published(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    import base64

    auth = {"Authorization": token("publisher")}
    entries = [os.urandom(112) for _ in range(5)]
    payload = venue_entries(entries)
    response = client.post("/v1/venue-entries", json=payload, headers=auth)
    assert response.status_code == 201
    assert response.json == {"accepted": 5, "already_published": 0}
    build(settings)
    bundle = Bundle.verify(fetch(client, 1), authority)
    # §8 the authority section holds them, and nothing else; decoys fill the public one
    assert bundle.authority_entries() == sorted(entries)
    assert not set(bundle.public_entries()) & set(entries)
    assert len(bundle.public_entries()) == settings["MIN_BUNDLE_ENTRIES"]
    slot = os.urandom(32).hex()
    for bad in (["!!"], [base64.b64encode(b"short").decode()], [], [5]):
        body = {"entries": bad, "slots": [slot] * len(bad)}
        response = client.post("/v1/venue-entries", json=body, headers=auth)
        assert response.status_code == 400, bad
    entry = base64.b64encode(os.urandom(112)).decode()
    for bad_slots in ([], [slot, slot], [slot.upper()], [slot[:-2]], ["zz" * 32], [5]):
        body = {"entries": [entry], "slots": bad_slots}
        response = client.post("/v1/venue-entries", json=body, headers=auth)
        assert response.status_code == 400, bad_slots
    response = client.post("/v1/venue-entries", json={"entries": [entry]}, headers=auth)
    assert response.status_code == 400  # the slots are not optional


def test_a_venue_trace_is_published_once(
    live_server: str,
    client: FlaskClient,
    settings: dict[str, Any],
    token: Callable[[str], str],
    authority: Any,
) -> None:
    """The same slots again, sealed anew (new nonces) or resent as they were, are
    refused and the first publication stays; a publication that overlaps earlier
    ones adds only its new slots; a revoked slot may be published again."""
    publisher, url = token("publisher"), f"{live_server}/v1/venue-entries"
    slots = [os.urandom(32) for _ in range(3)]
    first = [os.urandom(112) for _ in slots]
    status, body = http_json("POST", url, venue_entries(first, slots), auth=publisher)
    assert (status, body) == (201, {"accepted": 3, "already_published": 0})
    resealed = [e[: c.TAG_BYTES] + os.urandom(96) for e in first]
    for again in (resealed, first, resealed[1:]):
        status, body = http_json(
            "POST", url, venue_entries(again, slots[-len(again) :]), auth=publisher
        )
        assert status == 409 and body["error"]["code"] == "already_published", body
        assert "revoke" in body["error"]["message"]
    new_slot, new_entry = os.urandom(32), os.urandom(112)
    status, body = http_json(
        "POST", url, venue_entries([resealed[0], new_entry], [slots[0], new_slot]), auth=publisher
    )
    assert (status, body) == (201, {"accepted": 1, "already_published": 1})
    build(settings)
    assert Bundle.verify(fetch(client, 1), authority).authority_entries() == sorted(
        first + [new_entry]
    )
    # withdrawn, the first slot may be published again (another message, say)
    tag = first[0][: c.TAG_BYTES].hex()
    assert http_json("POST", f"{live_server}/v1/revocations", {"tags": [tag]}, auth=publisher)[0]
    status, body = http_json("POST", url, venue_entries(resealed, slots), auth=publisher)
    assert (status, body) == (201, {"accepted": 1, "already_published": 2})
    build(settings)
    assert Bundle.verify(fetch(client, 2), authority).authority_entries() == [resealed[0]]


def test_a_served_bundle_matches_a_visitors_visit_end_to_end(
    live_server: str, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    case_visit = visit("Corner Cafe", T0 - 3 * 3600, minutes=60)
    visitor = visit("Elsewhere", T0 - 3 * 3600, minutes=60)
    status, body = http_json("POST", f"{live_server}/v1/tans", {}, auth=token("tan-issuer"))
    assert status == 201
    tan = body["tans"][0]["tan"]
    entries = entries_for([case_visit]) + random_entries(4)
    status, _, _ = http(
        "POST",
        f"{live_server}/v1/uploads",
        upload_body(tan, entries),
        {"Content-Type": "application/octet-stream"},
    )
    assert status == 202
    assert build(settings) is not None
    status, index = http_json("GET", f"{live_server}/v1/bundles")
    status, headers, data = http("GET", live_server + index["bundles"][0]["url"])
    assert status == 200
    bundle = Bundle.verify(data, authority)
    exposures = match([case_visit, visitor], [bundle], Policy())
    assert [e.visit for e in exposures] == [case_visit]
    assert exposures[0].message == bundle.header.messages[0]


def test_a_purged_bundle_is_not_served_from_the_cache(
    client: FlaskClient, settings: dict[str, Any], clock: Clock, token: Callable[[str], str]
) -> None:
    upload(client, token("admin"), random_entries(5))
    build(settings)
    etag = client.get("/v1/bundles/1").headers["ETag"]
    assert client.get("/v1/bundles/1").status_code == 200  # now from the cache
    clock.advance(15 * 86400)
    assert admin.purge(settings)["bundles"] == 1
    assert client.get("/v1/bundles/1").status_code == 404
    assert client.get("/v1/bundles/1", headers={"If-None-Match": etag}).status_code == 404


def _groups(entries: list[bytes]) -> list[tuple[int, ...]]:
    by_tag: dict[bytes, list[int]] = {}
    for e in entries:
        by_tag.setdefault(e[: c.TAG_BYTES], []).append(len(e))
    return sorted(tuple(sorted(x)) for x in by_tag.values())


def test_decoys_take_the_tag_groups_of_real_entries(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    """A decoy group copies a real group's size and lengths: a repeated tag is no tell."""

    auth = {"Authorization": token("admin")}
    tag = os.urandom(c.TAG_BYTES)
    real = [tag + os.urandom(n - c.TAG_BYTES) for n in (48, 117, 48)]  # one partly covered hour
    upload(client, auth["Authorization"], real)
    confirmed = [os.urandom(112) for _ in range(2)]
    payload = venue_entries(confirmed)
    publisher = {"Authorization": token("publisher")}
    assert client.post("/v1/venue-entries", json=payload, headers=publisher).status_code == 201
    build(settings, force=True)
    first = Bundle.verify(fetch(client, 1), authority)
    assert first.authority_entries() == sorted(confirmed)
    decoys = [e for e in first.public_entries() if e not in real]
    assert len(first.public_entries()) == settings["MIN_BUNDLE_ENTRIES"] == 5
    # the two decoys share one tag, as the real group does, with lengths of that group
    assert _groups(decoys) == [(48, 48)]
    revoke = {"tags": [os.urandom(c.TAG_BYTES).hex()]}
    client.post("/v1/revocations", json=revoke, headers=publisher)
    build(settings)
    second = Bundle.verify(fetch(client, 2), authority).public_entries()
    # nothing pending: the groups of published public entries, never the authority's
    assert _groups(second) == [(48, 48), (48, 48, 117)]


def test_sequence_numbers_survive_the_purge_of_every_bundle(
    client: FlaskClient,
    settings: dict[str, Any],
    clock: Clock,
    token: Callable[[str], str],
    authority: Any,
) -> None:
    auth = token("admin")
    upload(client, auth, random_entries(5))
    assert build(settings).sequence == 1
    clock.advance(20 * 86400)
    assert admin.purge(settings)["bundles"] == 1
    assert client.get("/v1/bundles").json["bundles"] == []
    upload(client, auth, random_entries(5))
    built = build(settings)
    assert built.sequence == 2
    Bundle.verify(fetch(client, 2), authority, after_sequence=1)  # no rollback refusal


def test_index_after_is_an_ascii_integer_from_minus_one(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str]
) -> None:
    upload(client, token("admin"), random_entries(5))
    build(settings)
    for bad in ("--1", "-+1", "+1", "0x1", " 1", "1 ", "１", "-0", "01", str(2**63)):
        response = client.get(f"/v1/bundles?after={bad}")
        assert response.status_code == 400, bad
        assert response.json["error"]["code"] == "invalid_request"
    for good, count in (("-1", 1), ("0", 1), ("1", 0), (str(2**63 - 1), 0)):
        assert len(client.get(f"/v1/bundles?after={good}").json["bundles"]) == count, good


def test_a_bundle_has_one_url_of_ascii_digits(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str]
) -> None:
    upload(client, token("admin"), random_entries(5))
    build(settings)
    assert client.get("/v1/bundles/1").status_code == 200
    for other in ("１", "%EF%BC%91", "٠1", "01", "+1", "1.0"):
        response = client.get(f"/v1/bundles/{other}")
        assert response.status_code == 404, other
        assert response.json["error"]["code"] == "not_found"
    assert (
        client.delete("/v1/consent/１", headers={"Authorization": token("inbox")}).status_code
        == 404
    )


#: (If-Match, If-None-Match) -> status, for a bundle whose ETag is "S" (RFC 9110 13.2.2)
CONDITIONS = [
    (None, None, 200),
    (None, '"S"', 304),
    (None, 'W/"S"', 304),
    (None, "*", 304),
    (None, '"other", "S"', 304),
    (None, '"other"', 200),
    ('"S"', None, 200),
    ("*", None, 200),
    ('"other", "S"', None, 200),
    ('"x"', None, 412),
    ('W/"S"', None, 412),
    ('"S"', "*", 304),
    ('"S"', '"S"', 304),
    ('"S"', '"other"', 200),
    ('"x"', '"S"', 412),
    ('"x"', "*", 412),
]


@pytest.mark.parametrize(("if_match", "if_none_match", "status"), CONDITIONS)
def test_conditional_requests_follow_rfc_9110_on_a_cold_process(
    settings: dict[str, Any],
    token: Callable[[str], str],
    if_match: str | None,
    if_none_match: str | None,
    status: int,
) -> None:
    """Each request goes to a new process (an empty bundle cache), as behind a CDN."""
    from placecode.service import create_app

    writer = create_app(settings)
    upload(writer.test_client(), token("admin"), random_entries(5))
    build(settings)
    data = fetch(writer.test_client(), 1)
    sha = hashlib.sha256(data).hexdigest()
    writer.extensions["placecode"].engine.dispose()

    headers = {}
    if if_match is not None:
        headers["If-Match"] = if_match.replace('"S"', f'"{sha}"')
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match.replace('"S"', f'"{sha}"')
    cold = create_app(settings)
    try:
        response = cold.test_client().get("/v1/bundles/1", headers=headers)
    finally:
        cold.extensions["placecode"].engine.dispose()
    assert response.status_code == status
    if status == 200:
        assert response.data == data  # never an empty body under an ETag
        assert response.headers["ETag"] == f'"{sha}"'
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    elif status == 304:
        assert response.data == b""
        assert response.headers["ETag"] == f'"{sha}"'
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers.get("Content-Length") in (None, str(len(data)))
    else:
        assert response.json["error"]["code"] == "precondition_failed"
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert "ETag" not in response.headers


def test_conditions_on_a_missing_bundle_give_404(client: FlaskClient) -> None:
    for headers in ({"If-Match": "*"}, {"If-None-Match": "*"}, {"If-Match": '"x"'}):
        response = client.get("/v1/bundles/7", headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_the_export_served_by_a_static_server_gives_the_same_bytes(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], tmp_path: Path
) -> None:
    """What a CDN holds: each index row's URL resolves to bytes of the listed size and
    SHA-256, and conditional requests never get an empty success."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    auth = token("admin")
    for _ in range(2):
        upload(client, auth, random_entries(5))
        build(settings)
    admin.export(settings, tmp_path)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, _, raw = http("GET", f"{base}/v1/bundles/index.json")
        index = json.loads(raw)
        assert status == 200 and index == client.get("/v1/bundles").json
        for row in index["bundles"]:
            for headers in ({}, {"If-None-Match": f'"{row["sha256"]}"'}, {"If-Match": '"x"'}):
                status, _, data = http("GET", base + row["url"], headers=headers)
                if status == 200:
                    assert len(data) == row["size"]
                    assert hashlib.sha256(data).hexdigest() == row["sha256"]
                else:
                    assert status in (304, 412) and data == b""
        assert not list(tmp_path.rglob("*.partial"))
    finally:
        server.shutdown()
        server.server_close()
