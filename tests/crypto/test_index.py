"""§18 The compact index and its shards: the pure query is the library's, and the parsers hold.

The filter is built by FastFilter's C code (through pyfusefilter) and queried
by the few lines of ``Index.contains``; these tests hold the two together bit
for bit: every key the library was given is found, the library's own
``binary_fuse8_contain`` answers every other key as the pure query does, and
the sizing the spec prints is the library's.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placecode.crypto import (
    AuthorityKeys,
    Bundle,
    BundleHeader,
    Index,
    Shard,
    ShardedBundle,
    VerificationError,
    filter_key,
    fuse8_layout,
    index_bytes,
    shard_cuts,
    sign_bundle,
    sign_index,
)
from placecode.crypto._index import SHARD_OVERHEAD

fuse = pytest.importorskip("pyfusefilter._xorfilter")

KEYS = AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
OTHER = AuthorityKeys(bytes(range(1, 33)), bytes(range(33, 65)))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tags_st = st.lists(st.binary(min_size=16, max_size=16), max_size=600, unique=True)
entry_st = st.builds(
    lambda tag, rest: tag + rest,
    st.binary(min_size=16, max_size=16),
    st.sampled_from([32, 96, 101, 169]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)


def header(sequence: int = 5) -> BundleHeader:
    return BundleHeader(KEYS.public.key_id, sequence, 1_800_000_000, 400_000, 400_010)


def entries_of(tags: list[bytes], rng: random.Random) -> list[bytes]:
    return [t + rng.randbytes(32) for t in tags]


def library_contains(index: Index, key: int) -> bool:
    """FastFilter's own ``binary_fuse8_contain`` over the index's filter fields."""
    ffi, lib = fuse.ffi, fuse.lib
    f = index._fuse
    built = ffi.new("binary_fuse8_t *")
    fingerprints = ffi.new("uint8_t[]", f.fingerprints)
    built.Seed = f.seed
    built.SegmentLength = f.segment_length
    built.SegmentLengthMask = f.segment_length - 1
    built.SegmentCount = f.segment_count
    built.SegmentCountLength = f.segment_count * f.segment_length
    built.ArrayLength = len(f.fingerprints)
    built.Fingerprints = fingerprints
    return bool(lib.binary_fuse8_contain(key, built))


@PROPERTY
@given(tags_st, st.binary(min_size=8, max_size=8), st.integers(1, 40))
def test_every_tag_the_library_was_given_is_found(tags: list[bytes], salt: bytes, k: int) -> None:
    entries = entries_of(tags, random.Random(len(tags)))
    signed = sign_index(header(), entries, KEYS.signing_key, salt=salt, shard_min_entries=k)
    index = Index.verify(signed.index, KEYS.public)
    assert all(index.contains(t) for t in tags)
    assert index.hits(tags) == sorted({index.shard_of(t) for t in tags})


@PROPERTY
@given(tags_st, st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=200))
def test_the_pure_query_is_the_librarys_for_every_key(tags: list[bytes], probes: list[int]) -> None:
    entries = entries_of(tags, random.Random(1))
    signed = sign_index(header(), entries, KEYS.signing_key, salt=b"\x01" * 8)
    index = Index.verify(signed.index, KEYS.public)
    keys = [filter_key(t, index.salt) for t in tags]
    for key in keys[:50] + probes:
        assert index._contains_key(key) == library_contains(index, key)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3_000_000))
def test_the_printed_sizing_is_the_librarys(n: int) -> None:
    built = fuse.ffi.new("binary_fuse8_t *")
    assert fuse.lib.binary_fuse8_allocate(n, built)
    try:
        assert fuse8_layout(n) == (built.SegmentLength, built.SegmentCount)
        assert (built.SegmentCount + 2) * built.SegmentLength == built.ArrayLength
    finally:
        fuse.lib.binary_fuse8_free(built)


def test_false_positive_rate_is_about_one_in_256() -> None:
    rng = random.Random(20602)
    tags = [rng.randbytes(16) for _ in range(5000)]
    signed = sign_index(header(), entries_of(tags, rng), KEYS.signing_key, salt=rng.randbytes(8))
    index = Index.verify(signed.index, KEYS.public)
    trials = 40_000
    rate = sum(index.contains(rng.randbytes(16)) for _ in range(trials)) / trials
    assert 0.002 < rate < 0.006


@PROPERTY
@given(st.lists(entry_st, max_size=300), st.lists(entry_st, max_size=40), st.integers(1, 50))
def test_shards_partition_the_bundle_by_prefix(
    public: list[bytes], by_authority: list[bytes], k: int
) -> None:
    signed = sign_index(
        header(), public, KEYS.signing_key, by_authority, salt=bytes(8), shard_min_entries=k
    )
    index = Index.verify(signed.index, KEYS.public, shard_min_entries=k)
    bundle = Bundle.verify(
        sign_bundle(header(), public, KEYS.signing_key, by_authority), KEYS.public
    )
    assert index.entry_count == len(public) + len(by_authority)
    assert len(signed.shards) == index.shard_count
    shards = [Shard.verify(d, KEYS.public, index, n) for n, d in enumerate(signed.shards)]
    if index.shard_count > 1:
        assert all(s.count >= k for s in shards)
    assert sorted(e for s in shards for e in s.public_section.entries()) == sorted(public)
    assert sorted(e for s in shards for e in s.authority_section.entries()) == sorted(by_authority)
    whole = ShardedBundle(index, tuple(shards))
    for tag in {e[:16] for e in public + by_authority}:
        assert whole.lookup_public(tag) == bundle.lookup_public(tag)
        assert whole.lookup_authority(tag) == bundle.lookup_authority(tag)
        assert index.contains(tag)
    assert sum(len(d) for d in signed.shards) == index.shard_count * SHARD_OVERHEAD + sum(
        len(e) + 4 for e in public + by_authority
    )
    keys = len({filter_key(e, 0) for e in public + by_authority})
    assert len(signed.index) == index_bytes(len(header().to_bytes()), index.shard_count, keys)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=200).map(sorted), st.integers(1, 20))
def test_shard_cuts_hold_k_and_never_split_a_prefix(prefixes: list[int], k: int) -> None:
    cuts = shard_cuts(prefixes, k)
    bounds = [0, *cuts, len(prefixes)]
    runs = list(zip(bounds, bounds[1:], strict=False))
    if len(runs) > 1:
        assert all(hi - lo >= k for lo, hi in runs)
    for i in cuts:
        assert prefixes[i - 1] != prefixes[i]
    # greedy: no run could have ended earlier and still held k entries
    for lo, hi in runs[:-1]:
        assert all(prefixes[j - 1] == prefixes[j] for j in range(lo + k, hi))


@pytest.fixture(scope="module")
def published() -> tuple[bytes, tuple[bytes, ...]]:
    rng = random.Random(7)
    entries = entries_of([rng.randbytes(16) for _ in range(40)], rng)
    signed = sign_index(header(), entries, KEYS.signing_key, salt=bytes(8), shard_min_entries=8)
    return signed.index, signed.shards


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_index_parser_refuses_any_change_opaquely(published: Any, data: st.DataObject) -> None:
    raw = bytearray(published[0])
    kind = data.draw(st.sampled_from(["flip", "cut", "grow"]))
    if kind == "flip":
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    elif kind == "cut":
        del raw[data.draw(st.integers(0, len(raw) - 1)) :]
    else:
        raw += data.draw(st.binary(min_size=1, max_size=8))
    with pytest.raises(VerificationError) as caught:
        Index.verify(bytes(raw), KEYS.public)
    assert str(caught.value) == "verification failed"


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_shard_parser_refuses_any_change(published: Any, data: st.DataObject) -> None:
    index = Index.verify(published[0], KEYS.public)
    number = data.draw(st.integers(0, index.shard_count - 1))
    raw = bytearray(published[1][number])
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(VerificationError):
        Shard.verify(bytes(raw), KEYS.public, index, number)
    # and the untouched shard verifies only under its own number
    for other in range(index.shard_count):
        if other != number:
            with pytest.raises(VerificationError):
                Shard.verify(published[1][number], KEYS.public, index, other)


def test_another_authority_and_another_bundle_are_refused(published: Any) -> None:
    index_data, shards = published
    with pytest.raises(VerificationError):
        Index.verify(index_data, OTHER.public)
    rng = random.Random(8)
    entries = entries_of([rng.randbytes(16) for _ in range(40)], rng)
    later = sign_index(header(6), entries, KEYS.signing_key, salt=bytes(8), shard_min_entries=8)
    index6 = Index.verify(later.index, KEYS.public)
    with pytest.raises(VerificationError):  # shard 0 of bundle 5 offered for bundle 6
        Shard.verify(shards[0], KEYS.public, index6, 0)
    with pytest.raises(VerificationError):  # index 5 after a device holds 6
        Index.verify(index_data, KEYS.public, after_sequence=6)
    with pytest.raises(VerificationError):  # a bundle is not an index
        Index.verify(sign_bundle(header(), entries, KEYS.signing_key), KEYS.public)


@PROPERTY
@given(tags_st, st.integers(0, 12), st.randoms(use_true_random=False))
def test_fetch_plan_is_the_hits_topped_up_to_f(
    tags: list[bytes], fetches: int, rng: random.Random
) -> None:
    entries = entries_of(tags, rng)
    signed = sign_index(header(), entries, KEYS.signing_key, salt=bytes(8), shard_min_entries=4)
    index = Index.verify(signed.index, KEYS.public)
    held = rng.sample(tags, min(len(tags), 3)) + [rng.randbytes(16) for _ in range(3)]
    plan = index.fetch_plan(held, fetches, rng.randbytes)
    hits = index.hits(held)
    assert len(plan) == len(set(plan)) == max(len(hits), min(fetches, index.shard_count))
    assert set(hits) <= set(plan) and all(0 <= n < index.shard_count for n in plan)
