"""Uploads: TAN redemption, checks, and dummies answered like real uploads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placecode.crypto import UploadRequest
from placecode.crypto import constants as c
from placecode.service.context import state
from placecode.service.models import Entry, Tan

from .conftest import T0, Clock
from .helpers import entries_for, issue_tans, post_upload, random_entries, upload_body, visit


def count_entries(app: Flask) -> int:
    with app.app_context(), state().sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Entry)) or 0)


def test_real_upload_stores_its_entries_once(
    client: FlaskClient, app: Flask, token: Callable[[str], str]
) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"))
    entries = entries_for([visit("Cafe", T0 - 7200), visit("Gym", T0 - 86400)])
    response = post_upload(client, upload_body(tan, entries))
    assert response.status_code == 202
    assert response.json == {"status": "accepted"}
    assert count_entries(app) == len(entries)

    replay = post_upload(client, upload_body(tan, random_entries(3)))
    assert replay.status_code == 403
    assert replay.json["error"]["code"] == "invalid_tan"
    assert count_entries(app) == len(entries)


def test_tan_is_normalised(client: FlaskClient, app: Flask, token: Callable[[str], str]) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"))
    typed = tan.replace("-", "").lower()
    assert post_upload(client, upload_body(typed, random_entries(2))).status_code == 202


def test_expired_and_unknown_tans_are_refused(
    client: FlaskClient, app: Flask, clock: Clock, token: Callable[[str], str]
) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"), hours=1)
    clock.advance(3600)
    response = post_upload(client, upload_body(tan, random_entries(2)))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "invalid_tan"
    assert post_upload(client, upload_body("ZZZZ-ZZZZ-ZZZZ", [])).status_code == 403
    assert count_entries(app) == 0


def test_dummy_upload_is_answered_like_a_real_one_and_discarded(
    client: FlaskClient, app: Flask, token: Callable[[str], str]
) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"))
    real = post_upload(client, upload_body(tan, random_entries(20)))
    dummy = post_upload(client, upload_body("ABCD-EFGH-JKMN", random_entries(20), dummy=True))
    assert (real.status_code, real.data) == (dummy.status_code, dummy.data)
    assert sorted(real.headers.keys()) == sorted(dummy.headers.keys())
    assert real.headers["Content-Length"] == dummy.headers["Content-Length"]
    assert count_entries(app) == 20
    with app.app_context(), state().sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tan)) == 0


def test_dummy_and_real_are_released_at_the_same_time(
    settings: dict[str, object], token: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the work costs below the floor, every answer leaves at the floor.

    The clock is a fake one that moves only when the handler works or sleeps,
    so the test measures the mechanism, not this machine's load.
    """
    from placecode.service import create_app
    from placecode.service.api import uploads

    class FakeTime:
        now = 0.0

        def monotonic(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.now += seconds

    fake = FakeTime()
    work = {"seconds": 0.0}
    store = uploads._store

    def slow_store(request: UploadRequest) -> None:
        fake.now += work["seconds"]
        store(request)

    monkeypatch.setattr(uploads, "time", fake)
    monkeypatch.setattr(uploads, "_store", slow_store)
    app = create_app({**settings, "UPLOAD_FLOOR_MS": 60})
    client = app.test_client()
    (tan,) = issue_tans(client, token("tan-issuer"))
    released = []
    for dummy, seconds in ((False, 0.041), (True, 0.003), (True, 0.059)):
        work["seconds"] = seconds
        fake.now = 0.0
        response = post_upload(client, upload_body(tan, random_entries(100), dummy=dummy))
        assert response.status_code == 202
        assert response.get_data() == b'{"status":"accepted"}\n'
        released.append(fake.now)
    # work beyond the floor is not cut short, and adds nothing more
    work["seconds"] = 0.2
    fake.now = 0.0
    post_upload(client, upload_body(tan, [], dummy=True))
    app.extensions["placecode"].engine.dispose()
    assert released == [pytest.approx(0.06)] * 3
    assert fake.now == pytest.approx(0.2)


def test_malformed_uploads_are_400(client: FlaskClient) -> None:
    good = upload_body("ABCD", [])
    for body, content_type in [
        (b"", "application/octet-stream"),
        (good[:-1], "application/octet-stream"),
        (good + b"\0", "application/octet-stream"),
        (b"XXXX" + good[4:], "application/octet-stream"),
        (good, "application/json"),
        (good[:-1] + b"\1", "application/octet-stream"),
    ]:
        response = client.post("/v1/uploads", data=body, content_type=content_type)
        assert response.status_code == 400, body[:8]
        assert response.json["error"]["code"] == "malformed_upload"


def test_too_many_entries_per_tag_or_in_all_are_refused(
    client: FlaskClient, app: Flask, token: Callable[[str], str]
) -> None:
    (tan,) = issue_tans(client, token("tan-issuer"))
    tag = random_entries(1)[0][: c.TAG_BYTES]
    twins = [tag + bytes([i]) * 32 for i in range(c.MAX_ENTRIES_PER_TAG + 1)]
    # one entry more under the tag than the parser allows, written by hand
    body = bytearray(upload_body(tan, twins[:-1]))
    body[c.UPLOAD_HEAD_BYTES - 2 : c.UPLOAD_HEAD_BYTES] = len(twins).to_bytes(2, "big")
    at = c.UPLOAD_HEAD_BYTES + (len(twins) - 1) * (1 + c.MIN_ENTRY_BYTES)
    body[at : at + 1 + c.MIN_ENTRY_BYTES] = bytes([c.MIN_ENTRY_BYTES]) + twins[-1]
    response = post_upload(client, bytes(body))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_upload"
    too_many = random_entries(c.RETENTION_DAYS * 24 * 2 + 1)
    response = post_upload(client, upload_body(tan, too_many))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_entries"
    # refused uploads leave the TAN usable; entries may share a tag up to the limit
    assert post_upload(client, upload_body(tan, twins[:-1])).status_code == 202
    assert count_entries(app) == c.MAX_ENTRIES_PER_TAG


def test_an_entry_uploaded_twice_is_stored_once(
    client: FlaskClient, app: Flask, token: Callable[[str], str]
) -> None:
    first, second = issue_tans(client, token("tan-issuer"), count=2)
    entries = random_entries(4)
    assert post_upload(client, upload_body(first, entries)).status_code == 202
    assert post_upload(client, upload_body(second, entries[:2])).status_code == 202
    assert count_entries(app) == 4
