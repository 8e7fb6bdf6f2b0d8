"""Compact indexes and shards (protocol §18): built with each bundle, served and exported
immutable like bundles, listed beside them, purged with them, made for older bundles."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete

from placecode.crypto import Bundle, Index, Shard, VerificationError, read_config
from placecode.service import admin
from placecode.service.db import make_engine
from placecode.service.models import IndexFile, ShardFile

from .conftest import Clock
from .helpers import issue_tans, post_upload, random_entries, upload_body
from .test_bundles import CONDITIONS


def upload(client: FlaskClient, auth: str, entries: list[bytes]) -> None:
    (tan,) = issue_tans(client, auth)
    assert post_upload(client, upload_body(tan, entries)).status_code == 202


def get(client: FlaskClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.data


def published(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], entries: int = 40
) -> None:
    upload(client, token("admin"), random_entries(entries))
    admin.build_bundles(settings, force=True)


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The service's settings, with small shards (k = 8) and F = 3."""
    return {**settings, "SHARD_MIN_ENTRIES": 8, "SHARD_FETCHES": 3}


def test_each_bundle_has_a_signed_index_and_shards_holding_its_entries(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    published(client, settings, token)
    bundle = Bundle.verify(get(client, "/v1/bundles/1"), authority)
    row = client.get("/v1/bundles").json["bundles"][0]
    data = get(client, "/v1/indexes/1")
    assert row["index"] == {
        "url": "/v1/indexes/1",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "shards": row["index"]["shards"],
    }
    index = Index.verify(data, authority, shard_min_entries=8)
    assert index.header == bundle.header and index.entry_count == bundle.count == 40
    assert index.shard_count == row["index"]["shards"] > 1
    assert all(index.contains(t) for t in bundle.tags())
    entries = []
    for n in range(index.shard_count):
        shard = Shard.verify(get(client, f"/v1/shards/1/{n}"), authority, index, n)
        assert shard.count >= 8
        entries += shard.entries()
    assert sorted(entries) == sorted(bundle.entries())
    assert client.get(f"/v1/shards/1/{index.shard_count}").status_code == 404
    assert client.get("/v1/indexes/2").json["error"]["code"] == "not_found"
    assert client.get("/v1/shards/2/0").status_code == 404
    assert client.get(f"/v1/indexes/{2**70}").status_code == 404
    assert client.get(f"/v1/shards/1/{2**40}").status_code == 404


def test_the_signed_configuration_carries_k_and_f(
    client: FlaskClient, settings: dict[str, Any], authority: Any
) -> None:
    body = client.get("/v1/config").json
    config = read_config(
        base64.b64decode(body["payload"]), base64.b64decode(body["signature"]), authority
    )
    assert (config.shard_min_entries, config.shard_fetches) == (8, 3)


def test_an_index_whose_k_is_below_the_configurations_is_refused(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    published(client, settings, token)
    with pytest.raises(VerificationError):
        Index.verify(get(client, "/v1/indexes/1"), authority, shard_min_entries=9)


def test_every_index_has_its_own_salt(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    published(client, settings, token)
    published(client, settings, token)
    salts = {Index.verify(get(client, f"/v1/indexes/{s}"), authority).salt for s in (1, 2)}
    assert len(salts) == 2


@pytest.mark.parametrize("path", ["/v1/indexes/1", "/v1/shards/1/0"])
def test_index_and_shard_urls_are_ascii_digits(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], path: str
) -> None:
    published(client, settings, token)
    assert client.get(path).status_code == 200
    for other in ("１", "%EF%BC%91", "٠1", "01", "+1", "1.0"):
        changed = path.replace("/1", f"/{other}", 1)
        response = client.get(changed)
        assert response.status_code == 404, changed
        assert response.json["error"]["code"] == "not_found"
    if path.startswith("/v1/shards"):
        for other in ("００", "00", "+0", "-0"):
            assert client.get(f"/v1/shards/1/{other}").status_code == 404, other


@pytest.mark.parametrize("path", ["/v1/indexes/1", "/v1/shards/1/1"])
@pytest.mark.parametrize(("if_match", "if_none_match", "status"), CONDITIONS)
def test_conditional_requests_are_a_bundles_on_a_cold_process(
    settings: dict[str, Any],
    token: Callable[[str], str],
    path: str,
    if_match: str | None,
    if_none_match: str | None,
    status: int,
) -> None:
    """Each request goes to a new process (an empty cache), as behind a CDN (RFC 9110)."""
    from placecode.service import create_app

    writer = create_app(settings)
    published(writer.test_client(), settings, token)
    data = get(writer.test_client(), path)
    sha = hashlib.sha256(data).hexdigest()
    writer.extensions["placecode"].engine.dispose()
    headers = {}
    if if_match is not None:
        headers["If-Match"] = if_match.replace('"S"', f'"{sha}"')
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match.replace('"S"', f'"{sha}"')
    cold = create_app(settings)
    try:
        response = cold.test_client().get(path, headers=headers)
    finally:
        cold.extensions["placecode"].engine.dispose()
    assert response.status_code == status
    if status == 412:
        assert response.json["error"]["code"] == "precondition_failed"
        assert "ETag" not in response.headers
        return
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.data == (data if status == 200 else b"")


def test_export_writes_indexes_and_shards_byte_identical_and_drops_purged_ones(
    client: FlaskClient,
    settings: dict[str, Any],
    token: Callable[[str], str],
    clock: Clock,
    tmp_path: Path,
) -> None:
    published(client, settings, token)
    clock.advance(16 * 86400)
    published(client, settings, token)
    assert admin.export(settings, tmp_path) == 2
    v1 = tmp_path / "v1"
    rows = json.loads((v1 / "bundles" / "index.json").read_bytes())["bundles"]
    for row in rows:
        sequence = row["sequence"]
        assert (tmp_path / row["index"]["url"].lstrip("/")).read_bytes() == get(
            client, f"/v1/indexes/{sequence}"
        )
        for n in range(row["index"]["shards"]):
            assert (v1 / "shards" / str(sequence) / str(n)).read_bytes() == get(
                client, f"/v1/shards/{sequence}/{n}"
            )
        assert len(list((v1 / "shards" / str(sequence)).iterdir())) == row["index"]["shards"]
    removed = admin.purge(settings)
    assert removed["bundles"] == 1 and removed["bundle_indexes"] == 1
    assert removed["shards"] == rows[0]["index"]["shards"]
    assert client.get("/v1/indexes/1").status_code == 404
    assert client.get("/v1/shards/1/0").status_code == 404
    admin.export(settings, tmp_path)
    assert sorted(p.name for p in (v1 / "indexes").iterdir()) == ["2"]
    assert sorted(p.name for p in (v1 / "shards").iterdir()) == ["2"]


def test_a_bundle_published_before_indexes_gets_one_at_the_next_build(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    """What migration 0006 leaves: bundles without an index, listed with ``index: null``."""
    published(client, settings, token)
    engine = make_engine(settings["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(delete(ShardFile))
        connection.execute(delete(IndexFile))
    engine.dispose()
    assert client.get("/v1/bundles").json["bundles"][0]["index"] is None
    assert client.get("/v1/indexes/1").status_code == 404
    assert admin.build_bundles(settings) is None  # nothing waits: no new bundle, but the index
    index = Index.verify(get(client, "/v1/indexes/1"), authority)
    bundle = Bundle.verify(get(client, "/v1/bundles/1"), authority)
    assert index.header == bundle.header
    assert client.get("/v1/bundles").json["bundles"][0]["index"]["shards"] == index.shard_count


def test_an_entry_is_in_exactly_the_shard_its_tag_names(
    client: FlaskClient, settings: dict[str, Any], token: Callable[[str], str], authority: Any
) -> None:
    tag = os.urandom(16)
    group = [tag + os.urandom(32), tag + os.urandom(101)]
    upload(client, token("admin"), group + random_entries(30))
    admin.build_bundles(settings, force=True)
    index = Index.verify(get(client, "/v1/indexes/1"), authority)
    number = index.shard_of(tag)
    shard = Shard.verify(get(client, f"/v1/shards/1/{number}"), authority, index, number)
    assert sorted(shard.lookup_public(tag)) == sorted(group)
