"""The service, or a CDN in front of it, watching devices sync on the compact index path.

Protocol §18: every device downloads each bundle's index and fetches exactly
``min(F, shards)`` shards of it, those where its tags hit topped up with
decoys. These tests run the real service over HTTP, record every request a
syncing device makes (what the operator or a CDN logs), and compare a device
that was exposed with one that was not.
"""

from __future__ import annotations

import os
import random
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from placecode import crypto
from placecode.clients import visitor
from placecode.clients.http import Client
from placecode.crypto import Index
from placecode.service import admin, create_app

from .conftest import T0, Service

CAFE = crypto.Venue(bytes([1]) * 32, "Riverside Café", crypto.Category.CAFE, 120)
GYM = crypto.Venue(bytes([2]) * 32, "City Gym", crypto.Category.GYM, 60)
K, F = 4, 2


@contextmanager
def live(settings: dict[str, Any]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The real service on loopback; yields its URL and every (method, path) it answers."""
    seen: list[tuple[str, str]] = []
    app = create_app(settings)
    wsgi = app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return wsgi(environ, start_response)

    app.wsgi_app = recording  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        app.extensions["placecode"].engine.dispose()


def sharded(service: Service, **more: Any) -> dict[str, Any]:
    return {**service.settings, "SHARD_MIN_ENTRIES": K, "SHARD_FETCHES": F, **more}


def publish_cafe_case(service: Service, settings: dict[str, Any]) -> None:
    """A case at the café from 12:00 to 12:30, among 60 other venues' entries."""
    case = crypto.check_in(CAFE.poster(), T0).check_out(T0 + 1800)
    crowd = [os.urandom(48) for _ in range(60)]
    assert service.upload(crypto.report_entries(case, os.urandom) + crowd).status_code == 202
    service.clock.now = T0 + 3600  # signed after the hour it carries
    admin.build_bundles(settings, force=True)


def device(path: Path, venue: crypto.Venue) -> visitor.Diary:
    diary = visitor.Diary.open(path)
    diary.check_in(venue.poster(), T0 + 600)
    diary.check_out(T0 + 1500)
    return diary


def shape(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a request says once its shard number is hidden."""
    return [(m, re.sub(r"^/v1/shards/(\d+)/\d+$", r"/v1/shards/\1/N", p)) for m, p in requests]


def test_a_device_with_a_hit_and_one_without_make_the_same_requests(
    service: Service, tmp_path: Path
) -> None:
    settings = sharded(service)
    publish_cafe_case(service, settings)
    with live(settings) as (url, seen):
        exposed = device(tmp_path / "exposed", CAFE)
        hit = visitor.sync(exposed, Client(url), T0 + 7200, dummy_probability=0)
        by_exposed, seen[:] = list(seen), []
        other = device(tmp_path / "other", GYM)
        missed = visitor.sync(other, Client(url), T0 + 7200, dummy_probability=0)
        by_other = list(seen)
    assert len(hit.new) == 1 and missed.new == []
    assert len(by_exposed) == len(by_other) == 3 + F
    assert shape(by_exposed) == shape(by_other)
    assert shape(by_exposed)[:3] == [
        ("GET", "/v1/config"),
        ("GET", "/v1/bundles"),
        ("GET", "/v1/indexes/1"),
    ]
    index = Index.verify(service.client.get("/v1/indexes/1").data, service.authority)
    assert index.shard_count > F  # the decoys had shards to choose from
    tag = crypto.check_in(CAFE.poster(), T0 + 600).check_out(T0 + 1500).slots[0].tag
    assert ("GET", f"/v1/shards/1/{index.shard_of(tag)}") in by_exposed
    assert not any(p.startswith("/v1/bundles/") for _, p in by_exposed + by_other)


def test_decoys_are_drawn_evenly_over_every_shard(service: Service) -> None:
    """Without a hit, a device's F shards are uniform: no shard is the sign of a miss."""
    settings = sharded(service)
    publish_cafe_case(service, settings)
    index = Index.verify(service.client.get("/v1/indexes/1").data, service.authority)
    rng = random.Random(1)
    counts = [0] * index.shard_count
    plans = 3000
    for _ in range(plans):
        plan = index.fetch_plan([rng.randbytes(16)], F, rng.randbytes)
        assert len(plan) == len(set(plan)) == F
        for n in plan:
            counts[n] += 1
    mean = plans * F / index.shard_count
    assert all(0.8 * mean < n < 1.2 * mean for n in counts), counts


def test_more_hit_shards_than_f_show_in_the_fetch_count(service: Service) -> None:
    """The residual risk: a device whose tags hit more than F shards fetches them all."""
    settings = sharded(service)
    publish_cafe_case(service, settings)
    index = Index.verify(service.client.get("/v1/indexes/1").data, service.authority)
    bundle = crypto.Bundle.verify(service.client.get("/v1/bundles/1").data, service.authority)
    by_shard: dict[int, bytes] = {}
    for tag in bundle.tags():
        by_shard.setdefault(index.shard_of(tag), tag)
    held = list(by_shard.values())[: F + 1]
    plan = index.fetch_plan(held, F, os.urandom)
    assert len(plan) == F + 1 > F and sorted(plan) == index.hits(held)


def test_a_service_cannot_shrink_shards_below_the_signed_k(
    service: Service, tmp_path: Path
) -> None:
    """Shards cut at k = 1 would name a device's tag; the configuration's k = 4 refuses them."""
    publish_cafe_case(service, sharded(service, SHARD_MIN_ENTRIES=1))
    with live(sharded(service)) as (url, seen):
        diary = device(tmp_path, CAFE)
        with pytest.raises(visitor.BundleRejected, match="index of bundle 1"):
            visitor.sync(diary, Client(url), T0 + 7200, dummy_probability=0)
    assert not any(p.startswith("/v1/shards/") for _, p in seen)
    assert diary.last_sequence == -1 and diary.indexed() == []


def test_full_bundles_fetch_no_shard_at_all(service: Service, tmp_path: Path) -> None:
    """Against downloading everything: the full path's requests are the same for all."""
    settings = sharded(service)
    publish_cafe_case(service, settings)
    with live(settings) as (url, seen):
        diary = device(tmp_path, CAFE)
        result = visitor.sync(diary, Client(url), T0 + 7200, dummy_probability=0, full_bundles=True)
    assert len(result.new) == 1
    assert shape(seen) == [
        ("GET", "/v1/config"),
        ("GET", "/v1/bundles"),
        ("GET", "/v1/bundles/1"),
    ]
