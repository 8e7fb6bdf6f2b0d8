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
