"""Sync against a hostile server or CDN: a real HTTP server on loopback that lies.

The index is not signed; the bundles are. A server may declare huge bundles,
send more than it declared, drip its answer, lie in the index's unsigned fields
or leave bundles out of it: the app keeps its memory, its time and its diary.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

from placecode import crypto
from placecode.clients import visitor
from placecode.clients.http import Client, ServiceError
from placecode.clients.visitor import BundleRejected, Diary
from placecode.crypto import AuthorityKeys, Category, Venue
from placecode.crypto import constants as c

from .stub import StubService, serve

T0 = 1_790_000_000 // 3600 * 3600
HOUR = T0 // 3600
CAFE = Venue(bytes([1]) * 32, "Riverside Café", Category.CAFE, 120)


def _case(start: int, end: int) -> list[bytes]:
    visit = crypto.check_in(CAFE.poster(), start).check_out(end)
    return crypto.report_entries(visit, os.urandom)


def _visited(directory: Path) -> Diary:
    diary = Diary.open(directory)
    diary.check_in(CAFE.poster(), T0 + 600)
    diary.check_out(T0 + 3000)
    return diary


def _sync(diary: Diary, stub: StubService, now: int = T0 + 7200, **kw: float) -> visitor.SyncResult:
    return visitor.sync(diary, Client(stub.url, timeout=2), now, dummy_probability=0, **kw)


def test_a_bundle_declared_too_large_is_not_downloaded(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        stub.index_override = {"size": 100 * 1024 * 1024}
        diary = _visited(tmp_path)
        with pytest.raises(ServiceError, match="outside what the app accepts"):
            _sync(diary, stub)
        assert stub.bundle_requests == [] and diary.last_sequence == -1


def test_a_bundle_longer_than_declared_is_cut_off(tmp_path: Path) -> None:
    """100 MB without a Content-Length: the app reads one byte past the declared size."""
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        stub.endless = 100 * 1024 * 1024
        diary = _visited(tmp_path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(ServiceError, match="more of bundle 1 than its index declares"):
            _sync(diary, stub)
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown_kib < 20 * 1024 and diary.last_sequence == -1


def test_a_drip_fed_bundle_ends_at_the_deadline(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        stub.drip = 0.05  # a byte every 50 ms: each read is quick, the whole never ends
        diary = _visited(tmp_path)
        started = time.monotonic()
        with pytest.raises(ServiceError, match="took too long"):
            _sync(diary, stub, seconds=1.0)
        assert time.monotonic() - started < 1.0 + 2 + 1  # deadline + one read's timeout
        assert diary.last_sequence == -1 and diary.warnings == []


def test_unsigned_index_fields_purge_nothing(tmp_path: Path) -> None:
    """Regression: `last_hour = 0` in the index made the app keep a genuine bundle,
    purge it at once and report it checked; later syncs never fetched it again."""
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        stub.index_override = {"last_hour": 0, "first_hour": 0, "entries": 0}
        diary = _visited(tmp_path)
        result = _sync(diary, stub)
        assert result.new_bundles == 1 and result.expired_bundles == 0
        assert len(diary.bundles()) == 1 and len(result.new) == 1
        diary.save()
        reopened = Diary.open(tmp_path)
        reopened.purge(T0 + 8 * 86400)
        assert len(reopened.bundles()) == 1 and len(reopened.warnings) == 1


def test_an_expired_bundle_is_dropped_and_said_so(tmp_path: Path) -> None:
    """A signed bundle whose hours all passed the retention period is not kept and
    not counted as kept."""
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR - 24, HOUR), T0 + 3600)
        diary = _visited(tmp_path)
        result = _sync(diary, stub, now=T0 + 15 * 86400)
        assert (result.new_bundles, result.expired_bundles) == (0, 1)
        assert diary.bundles() == [] and diary.last_sequence == 1
        assert not (tmp_path / visitor.BUNDLE_DIR / "1.bin").exists()


def test_a_bundle_the_index_hides_is_refused(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        diary = _visited(tmp_path)
        _sync(diary, stub)
        stub.publish(_case(T0 + 7200, T0 + 9000), (HOUR, HOUR + 2), T0 + 3 * 3600)
        stub.publish(_case(T0 + 7200, T0 + 9000), (HOUR, HOUR + 3), T0 + 4 * 3600)
        stub.hidden = {2}
        with pytest.raises(BundleRejected, match="skips bundle 2"):
            _sync(diary, stub, now=T0 + 5 * 3600)
        assert diary.last_sequence == 1
        stub.hidden = set()
        assert _sync(diary, stub, now=T0 + 5 * 3600).new_bundles == 2


def test_an_index_row_that_names_another_bundle_is_refused(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR + 1), T0 + 7200)
        stub.hidden = {1}
        stub.index_override = {"sequence": 1}  # bundle 2's bytes offered as bundle 1
        with pytest.raises(BundleRejected, match="bundle 1 .* failed verification"):
            _sync(Diary.open(tmp_path), stub)


def test_a_bundle_already_on_disk_is_revalidated_not_downloaded(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        stub.publish(_case(T0, T0 + 1800), (HOUR, HOUR), T0 + 3600)
        diary = _visited(tmp_path)
        _sync(diary, stub)
        assert stub.bundle_requests == [("/v1/bundles/1", None)]
        diary.forget_bundles()  # what `placecode visit sync --refetch` does
        result = _sync(diary, stub)
        etag = stub.bundle_requests[-1][1]
        assert etag is not None and stub.not_modified == 1
        assert result.new_bundles == 1 and len(result.warnings) == 1
        # a changed copy is offered with its own tag, and downloaded again
        (tmp_path / visitor.BUNDLE_DIR / "1.bin").write_bytes(b"changed")
        diary.forget_bundles()
        assert _sync(diary, stub).new_bundles == 1
        assert stub.not_modified == 1 and stub.bundle_requests[-1][1] != etag


# --------------------------------------------------------------------------
# the compact index path (protocol §18): a hostile server of indexes and shards

SIGNED_ELSEWHERE = AuthorityKeys.generate(os.urandom)


def _crowd(n: int = 40) -> list[bytes]:
    """Entries of other venues: a bundle of several shards (k = 4 on the stub)."""
    return [os.urandom(16) + os.urandom(32) for _ in range(n)]


def _indexed(keys: AuthorityKeys | None = None) -> StubService:
    stub = StubService(keys or AuthorityKeys.generate(os.urandom), indexed=True)
    stub.publish(_case(T0, T0 + 1800) + _crowd(), (HOUR, HOUR), T0 + 3600)
    return stub


def _nothing_kept(diary: Diary) -> None:
    assert diary.last_sequence == -1 and diary.indexed() == [] and diary.warnings == []


def test_sync_uses_the_index_by_default_and_warns_as_the_full_bundle_does(
    tmp_path: Path,
) -> None:
    with serve(_indexed()) as stub:
        by_index = _visited(tmp_path / "index")
        result = _sync(by_index, stub)
        index = crypto.Index.verify(stub.indexes[0], stub.keys.public)
        assert index.shard_count > 2  # F = 2 on the stub: there is a choice of decoys
        assert stub.bundle_requests == []
        assert stub.index_requests[0] == "/v1/indexes/1"
        assert len(stub.index_requests) == 1 + 2 == 1 + result.shards_fetched
        assert (result.new_bundles, result.indexed_bundles) == (1, 1)
        whole = _visited(tmp_path / "whole")
        full = _sync(whole, stub, full_bundles=True)
        assert stub.bundle_requests == [("/v1/bundles/1", None)] and full.indexed_bundles == 0
        assert [(w.venue, w.hour, w.overlap_minutes) for w in result.new] == [
            (w.venue, w.hour, w.overlap_minutes) for w in full.new
        ]
        assert len(result.new) == 1
        assert result.downloaded_bytes < full.downloaded_bytes
        by_index.save()
        assert len(Diary.open(tmp_path / "index").indexed()) == 1


def test_a_tampered_index_keeps_nothing(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        data = bytearray(stub.indexes[0])
        data[-100] ^= 1  # a fingerprint: the listed SHA-256 is of these bytes
        stub.replace["/v1/indexes/1"] = bytes(data)
        diary = _visited(tmp_path)
        with pytest.raises(BundleRejected, match="index of bundle 1 .* failed verification"):
            _sync(diary, stub)
        _nothing_kept(diary)


def test_an_index_signed_by_another_key_keeps_nothing(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        other = _indexed(SIGNED_ELSEWHERE)
        stub.replace["/v1/indexes/1"] = other.indexes[0]
        diary = _visited(tmp_path)
        with pytest.raises(BundleRejected, match="index of bundle 1"):
            _sync(diary, stub)
        _nothing_kept(diary)


def test_the_index_of_another_sequence_keeps_nothing(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        stub.publish(_case(T0, T0 + 1800) + _crowd(), (HOUR, HOUR + 1), T0 + 7200)
        stub.replace["/v1/indexes/1"] = stub.indexes[1]  # bundle 2's index as bundle 1's
        diary = _visited(tmp_path)
        with pytest.raises(BundleRejected, match="index of bundle 1"):
            _sync(diary, stub, now=T0 + 3 * 3600)
        _nothing_kept(diary)


def test_a_replayed_index_is_refused(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        diary = _visited(tmp_path)
        _sync(diary, stub)
        stub.publish(_crowd(), (HOUR, HOUR + 1), T0 + 7200)
        stub.replace["/v1/indexes/2"] = stub.indexes[0]  # index 1 again, as index 2
        with pytest.raises(BundleRejected, match="index of bundle 2"):
            _sync(diary, stub, now=T0 + 3 * 3600)
        assert diary.last_sequence == 1


def test_a_shard_of_another_bundle_keeps_nothing(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        stub.publish(_crowd(), (HOUR, HOUR + 1), T0 + 7200)
        for n in range(len(stub.shards[0])):
            if n < len(stub.shards[1]):
                stub.replace[f"/v1/shards/1/{n}"] = stub.shards[1][n]
        diary = _visited(tmp_path)
        with pytest.raises(BundleRejected, match="shard .* of bundle 1"):
            _sync(diary, stub, now=T0 + 3 * 3600)
        _nothing_kept(diary)


def test_a_shard_with_an_entry_outside_its_range_keeps_nothing(tmp_path: Path) -> None:
    """Signed by the authority's own key, but an entry lies outside the shard's range."""
    from placecode.crypto._bundle import _section
    from placecode.crypto._wire import sha256, u32, u64

    with serve(_indexed()) as stub:
        index = crypto.Index.verify(stub.indexes[0], stub.keys.public)
        for n in range(index.shard_count):
            shard = crypto.Shard.verify(stub.shards[0][n], stub.keys.public, index, n)
            lo, _ = index.shard_range(n)
            outsider = (lo - 1) % 2**32 if n else index.boundaries[0]
            stray = outsider.to_bytes(4, "big") + os.urandom(44)
            body = c.SHARD_MAGIC + stub.keys.public.key_id + u64(1) + u32(n)
            body += _section([]) + _section(shard.public_section.entries() + [stray])
            signed = body + stub.keys.signing_key.sign(c.SHARD_LABEL + sha256(body))
            stub.replace[f"/v1/shards/1/{n}"] = signed
        diary = _visited(tmp_path)
        with pytest.raises(BundleRejected, match="shard .* of bundle 1"):
            _sync(diary, stub)
        _nothing_kept(diary)


def test_an_index_declared_too_large_is_not_downloaded(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        stub.index_override = {
            "index": {"url": "/v1/indexes/1", "size": 100 * 1024 * 1024, "sha256": "0" * 64}
        }
        diary = _visited(tmp_path)
        with pytest.raises(ServiceError, match="outside what the app accepts"):
            _sync(diary, stub)
        assert stub.index_requests == []
        _nothing_kept(diary)


def test_an_index_longer_than_declared_is_cut_off(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        stub.endless = 100 * 1024 * 1024
        diary = _visited(tmp_path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(ServiceError, match="more of the index of bundle 1 than"):
            _sync(diary, stub)
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown_kib < 20 * 1024
        _nothing_kept(diary)


def test_an_endless_shard_is_cut_off_at_what_the_index_allows(tmp_path: Path) -> None:
    """No row declares a shard's size: the verified index's entry count bounds it."""
    with serve(_indexed()) as stub:
        index = crypto.Index.verify(stub.indexes[0], stub.keys.public)
        endless = stub.shards[0][0] + bytes(100 * 1024 * 1024)
        for n in range(index.shard_count):
            stub.replace[f"/v1/shards/1/{n}"] = endless
        diary = _visited(tmp_path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(ServiceError, match="shard .* than the app accepts"):
            _sync(diary, stub)
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown_kib < 20 * 1024
        _nothing_kept(diary)
        # and without a Content-Length: read one byte past the bound, then refused
        stub.replace.clear()
        stub.endless = 100 * 1024 * 1024
        stub.hostile_paths = {f"/v1/shards/1/{n}" for n in range(index.shard_count)}
        with pytest.raises(ServiceError, match="more of shard .* than the app accepts"):
            _sync(diary, stub)
        _nothing_kept(diary)


def test_a_drip_fed_shard_ends_at_the_deadline(tmp_path: Path) -> None:
    with serve(_indexed()) as stub:
        stub.drip = 0.05
        stub.hostile_paths = {f"/v1/shards/1/{n}" for n in range(len(stub.shards[0]))}
        diary = _visited(tmp_path)
        started = time.monotonic()
        with pytest.raises(ServiceError, match="took too long"):
            _sync(diary, stub, seconds=1.0)
        assert time.monotonic() - started < 1.0 + 2 + 1
        _nothing_kept(diary)


def test_a_refetch_fetches_the_same_shards_again(tmp_path: Path) -> None:
    """New decoys at every refetch would let a CDN intersect the plans: the old one stands."""
    with serve(_indexed()) as stub:
        diary = _visited(tmp_path)
        _sync(diary, stub)
        first = sorted(stub.index_requests)
        for _ in range(3):
            stub.index_requests.clear()
            diary.forget_bundles()  # what `placecode visit sync --refetch` does
            _sync(diary, stub)
            assert sorted(stub.index_requests) == first


def test_the_hours_of_a_check_in_in_progress_are_checked(tmp_path: Path) -> None:
    """A device still at the café when the index arrives fetches the shard it needs then:
    it never has to come back for a shard of an index it already checked."""
    with serve(_indexed()) as stub:
        diary = Diary.open(tmp_path)
        diary.check_in(CAFE.poster(), T0 + 600)
        _sync(diary, stub)  # at T0 + 7200, still checked in
        index = crypto.Index.verify(stub.indexes[0], stub.keys.public)
        tag = crypto.check_in(CAFE.poster(), T0 + 600).check_out(T0 + 1200).slots[0].tag
        wanted = f"/v1/shards/1/{index.shard_of(tag)}"
        assert wanted in stub.index_requests
        diary.check_out(T0 + 7300)
        again = _sync(diary, stub, now=T0 + 7400)
        assert len(again.new) == 1 and stub.index_requests.count(wanted) == 1
