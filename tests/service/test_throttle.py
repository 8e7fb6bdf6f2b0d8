"""The service-wide limit on wrong TANs: an attacker guessing TANs is slowed to
the bucket's rate, with no address kept, and a genuine TAN still works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from placecode.service import create_app
from placecode.service.throttle import TokenBucket

from .conftest import Clock
from .helpers import issue_tans, post_upload, random_entries, upload_body

#: 60 wrong TANs an hour: 6 at once, then one every minute
SLOW = {"TAN_FAILURES_PER_HOUR": 60}


@pytest.fixture
def slow_app(settings: dict[str, Any]) -> Any:
    app = create_app({**settings, **SLOW})
    yield app
    app.extensions["placecode"].engine.dispose()


def guess(client: FlaskClient, n: int) -> list[int]:
    return [
        post_upload(client, upload_body(f"ZZZZ-ZZZZ-{i:04d}", random_entries(1))).status_code
        for i in range(n)
    ]


def test_wrong_tans_are_limited_service_wide_and_the_real_tan_survives(
    slow_app: Flask, clock: Clock, token: Callable[[str], str]
) -> None:
    client = slow_app.test_client()
    (tan,) = issue_tans(client, token("tan-issuer"))
    assert guess(client, 10) == [403] * 6 + [429] * 4
    refused = post_upload(client, upload_body(tan, random_entries(2)))
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert "still valid" in refused.json["error"]["message"]
    assert refused.headers["Retry-After"] == "60"
    clock.advance(60)
    assert post_upload(client, upload_body(tan, random_entries(2))).status_code == 202
    # a success costs no token: the one that came back still answers a wrong TAN
    assert guess(client, 2) == [403, 429]


def test_the_guess_rate_is_the_bucket_rate_over_an_hour(slow_app: Flask, clock: Clock) -> None:
    client = slow_app.test_client()
    evaluated = 0
    for _ in range(60):  # an attacker sending 5 guesses every minute for an hour
        evaluated += guess(client, 5).count(403)
        clock.advance(60)
    assert evaluated == 6 + 59  # the burst, then one a minute


def test_dummies_and_valid_tans_cost_no_token(slow_app: Flask, token: Callable[[str], str]) -> None:
    client = slow_app.test_client()
    tans = issue_tans(client, token("tan-issuer"), count=10)
    for tan in tans:
        assert post_upload(client, upload_body(tan, random_entries(1))).status_code == 202
    for _ in range(20):
        dummy = upload_body("DUMMY", random_entries(1), dummy=True)
        assert post_upload(client, dummy).status_code == 202
    assert guess(client, 7) == [403] * 6 + [429]


def test_a_dummy_is_refused_like_a_real_upload_while_the_bucket_is_empty(
    slow_app: Flask,
) -> None:
    client = slow_app.test_client()
    guess(client, 6)
    real = post_upload(client, upload_body("ZZZZ-ZZZZ-ZZZZ", random_entries(1)))
    dummy = post_upload(client, upload_body("DUMMY", random_entries(1), dummy=True))
    assert real.status_code == dummy.status_code == 429
    assert real.data == dummy.data
    assert real.headers["Retry-After"] == dummy.headers["Retry-After"]


def test_the_bucket_refills_to_its_capacity_and_no_further() -> None:
    now = [0.0]
    bucket = TokenBucket(3, 3600, lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_to_next() == 1
    now[0] += 10**6
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    bucket.give_back()
    assert bucket.take() and not bucket.take()
