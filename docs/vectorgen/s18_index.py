"""§18 Compact index and shards: bundle 7's index and shards, a larger index, and refusals."""

from __future__ import annotations

import hashlib
from typing import Any

from placecode.crypto import (
    AuthorityKeys,
    Bundle,
    BundleHeader,
    Index,
    Shard,
    VerificationError,
    filter_key,
    fuse8_layout,
    shard_cuts,
    sign_index,
)
from placecode.crypto import constants as c
from placecode.crypto._bundle import _section
from placecode.crypto._wire import sha256, u32, u64

from .common import BUNDLE_TIME, Context, Drbg, hexed

#: k of bundle 7's index: small, so its 14 entries make several shards
SMALL_K = 3
#: the larger index: entries, k and the device's fetch count
LARGE_ENTRIES = 300
LARGE_K = 32
FETCHES = 4
LAYOUT_SIZES = (0, 1, 2, 3, 4, 5, 10, 14, 100, 300, 1000, 10_000, 100_000, 10**6, 10**7, 10**8)


def build(ctx: Context) -> None:
    stream = ctx.stream("index")
    authority = ctx.authority
    _, bundle7 = ctx.shared["bundles"]
    verified = Bundle.verify(bundle7, authority.public)
    header = verified.header
    small = _index_json(
        stream, authority, header, verified.public_entries(), verified.authority_entries(), SMALL_K
    )
    large_header = BundleHeader(
        authority.public.key_id, 8, BUNDLE_TIME + 86400, header.first_hour, header.last_hour + 24
    )
    entries = [stream(c.MIN_ENTRY_BYTES) for _ in range(LARGE_ENTRIES)]
    large = _index_json(stream, authority, large_header, entries, [], LARGE_K)
    index = Index.verify(bytes.fromhex(large["bytes"]), authority.public)
    large["queries"] = _queries(stream, index, entries)
    ctx.vectors["index"] = small
    ctx.vectors["index_large"] = large
    ctx.vectors["fetch_plans"] = _plans(stream, index, entries)
    ctx.vectors["fuse8_layouts"] = [_layout(n) for n in LAYOUT_SIZES]
    ctx.vectors["shard_cuts"] = [
        {"prefixes": p, "k": k, "cuts": shard_cuts(p, k)}
        for p, k in (
            ([], 2),
            ([1, 2, 3], 2),
            ([1, 2, 3, 4], 2),
            ([1, 2, 3, 4, 5], 2),
            ([1, 1, 1, 2, 3, 4], 2),
            ([1, 2, 2, 2, 2, 3, 4, 5], 2),
            ([7, 7, 7, 7], 1),
            ([1, 2, 3, 4, 5, 6, 7], 3),
        )
    ]
    small_index = Index.verify(bytes.fromhex(small["bytes"]), authority.public)
    ctx.vectors["index_errors"] = _index_errors(small, authority)
    ctx.vectors["shard_errors"] = _shard_errors(small, small_index, authority)


def _index_json(
    stream: Drbg,
    authority: AuthorityKeys,
    header: BundleHeader,
    public: list[bytes],
    by_authority: list[bytes],
    k: int,
) -> dict[str, Any]:
    salt = stream(c.SALT_BYTES)
    signed = sign_index(
        header, public, authority.signing_key, by_authority, salt=salt, shard_min_entries=k
    )
    index = Index.verify(signed.index, authority.public)
    data = signed.index
    body = data[: -c.SIGNATURE_BYTES]
    every = sorted(public + by_authority)
    fuse = index._fuse
    tags = sorted({e[: c.TAG_BYTES] for e in every})
    return {
        "header": hexed(header.to_bytes()),
        "sequence": header.sequence,
        "authority_entries": [hexed(e) for e in sorted(by_authority)],
        "entries": [hexed(e) for e in sorted(public)],
        "shard_min_entries": k,
        "salt": hexed(salt),
        "keys": [{"tag": hexed(t), "key": hexed(u64(filter_key(t, index.salt)))} for t in tags],
        "entry_count": len(every),
        "boundaries": list(index.boundaries),
        "seed": hexed(u64(fuse.seed)),
        "segment_length": fuse.segment_length,
        "segment_count": fuse.segment_count,
        "fingerprints": hexed(fuse.fingerprints),
        "body_sha256": hexed(hashlib.sha256(body).digest()),
        "signature": hexed(data[-c.SIGNATURE_BYTES :]),
        "bytes": hexed(data),
        "length": len(data),
        "shards": [_shard_json(index, n, raw, authority) for n, raw in enumerate(signed.shards)],
    }


def _shard_json(index: Index, number: int, raw: bytes, authority: AuthorityKeys) -> dict[str, Any]:
    shard = Shard.verify(raw, authority.public, index, number)
    lo, hi = index.shard_range(number)
    return {
        "number": number,
        "range": [lo, hi],
        "authority_entries": [hexed(e) for e in shard.authority_section.entries()],
        "entries": [hexed(e) for e in shard.public_section.entries()],
        "bytes": hexed(raw),
    }


def _queries(stream: Drbg, index: Index, entries: list[bytes]) -> list[dict[str, Any]]:
    """Tags of the bundle, tags that are not, and two of those the filter holds anyway."""
    tags = [e[: c.TAG_BYTES] for e in entries[:8]]
    others = [stream(c.TAG_BYTES) for _ in range(8)]
    false_positives: list[bytes] = []
    while len(false_positives) < 2:
        tag = stream(c.TAG_BYTES)
        if index.contains(tag):
            false_positives.append(tag)
    return [
        {"tag": hexed(t), "contains": index.contains(t), "shard": index.shard_of(t)}
        for t in tags + others + false_positives
    ]


class _Recorder:
    """Hands out ``stream``'s bytes and keeps each draw for the vector."""

    def __init__(self, stream: Drbg) -> None:
        self.stream, self.draws = stream, []  # type: ignore[var-annotated]

    def __call__(self, n: int) -> bytes:
        out = self.stream(n)
        self.draws.append(out)
        return out


def _plans(stream: Drbg, index: Index, entries: list[bytes]) -> list[dict[str, Any]]:
    cases = [
        ("no tag of the bundle", [stream(c.TAG_BYTES) for _ in range(3)], FETCHES),
        ("one hit", [entries[5][: c.TAG_BYTES], stream(c.TAG_BYTES)], FETCHES),
        ("hits in more shards than F", [e[: c.TAG_BYTES] for e in entries[::50]], 2),
    ]
    out = []
    for case, tags, fetches in cases:
        recorder = _Recorder(stream)
        plan = index.fetch_plan(tags, fetches, recorder)
        out.append(
            {
                "case": case,
                "index": "index_large",
                "tags": [hexed(t) for t in tags],
                "fetches": fetches,
                "hits": index.hits(tags),
                "random": [hexed(d) for d in recorder.draws],
                "plan": plan,
            }
        )
    return out


def _layout(n: int) -> dict[str, Any]:
    length, count = fuse8_layout(n)
    return {
        "keys": n,
        "segment_length": length,
        "segment_count": count,
        "fingerprint_bytes": (count + 2) * length,
    }


def _sign(authority: AuthorityKeys, label: bytes, body: bytes) -> bytes:
    return body + authority.signing_key.sign(label + sha256(body))


def _refused(check: Any) -> None:
    try:
        check()
    except VerificationError:
        return
    raise AssertionError("a refusal vector was accepted")


def _index_errors(small: dict[str, Any], authority: AuthorityKeys) -> list[dict[str, Any]]:
    data = bytes.fromhex(small["bytes"])
    body = data[: -c.SIGNATURE_BYTES]
    flipped = bytearray(data)
    flipped[-c.SIGNATURE_BYTES - 1] ^= 1
    head = 4 + len(bytes.fromhex(small["header"]))
    unsorted = bytearray(body)
    boundaries = small["boundaries"]
    assert len(boundaries) >= 2
    unsorted[head + 12 : head + 20] = u32(boundaries[1]) + u32(boundaries[0])
    bundle_magic = bytearray(body)
    bundle_magic[:4] = c.BUNDLE_MAGIC
    cases: list[tuple[str, bytes, int, int]] = [
        ("a fingerprint changed after signing", bytes(flipped), -1, 1),
        ("a byte appended", data + b"\x00", -1, 1),
        ("replayed to a device holding sequence 7", data, 7, 1),
        ("k below the configuration's", data, -1, small["shard_min_entries"] + 1),
        (
            "boundaries out of order, signed",
            _sign(authority, c.INDEX_LABEL, bytes(unsorted)),
            -1,
            1,
        ),
        (
            "signed as an index under the bundle magic",
            _sign(authority, c.INDEX_LABEL, bytes(bundle_magic)),
            -1,
            1,
        ),
        ("a bundle's signature label", _sign(authority, c.BUNDLE_LABEL, body), -1, 1),
    ]
    out = []
    for case, raw, after, k in cases:
        _refused(
            lambda raw=raw, after=after, k=k: Index.verify(
                raw, authority.public, after_sequence=after, shard_min_entries=k
            )
        )
        out.append(
            {"case": case, "bytes": hexed(raw), "after_sequence": after, "shard_min_entries": k}
        )
    return out


def _shard_errors(
    small: dict[str, Any], index: Index, authority: AuthorityKeys
) -> list[dict[str, Any]]:
    shards = small["shards"]
    key = authority.public.key_id
    first = bytes.fromhex(shards[0]["bytes"])
    second_entries = [
        bytes.fromhex(e) for e in shards[1]["entries"] + shards[1]["authority_entries"]
    ]
    first_entries = [bytes.fromhex(e) for e in shards[0]["entries"]]
    first_by_authority = [bytes.fromhex(e) for e in shards[0]["authority_entries"]]

    def frame(sequence: int, number: int, by_authority: list[bytes], public: list[bytes]) -> bytes:
        body = c.SHARD_MAGIC + key + u64(sequence) + u32(number) + _section(by_authority)
        return _sign(authority, c.SHARD_LABEL, body + _section(public))

    flipped = bytearray(first)
    flipped[-c.SIGNATURE_BYTES - 1] ^= 1
    short = (first_by_authority + first_entries)[: index.shard_min_entries - 1]
    cases: list[tuple[str, bytes, int]] = [
        ("shard 0 asked for as shard 1", first, 1),
        ("a byte changed after signing", bytes(flipped), 0),
        ("shard 0 of bundle 6", frame(6, 0, first_by_authority, first_entries), 0),
        (
            "an entry of shard 1's range in shard 0",
            frame(7, 0, first_by_authority, first_entries + second_entries[:1]),
            0,
        ),
        ("fewer than k entries", frame(7, 0, [], short), 0),
        (
            "signed under the index label",
            _sign(authority, c.INDEX_LABEL, first[: -c.SIGNATURE_BYTES]),
            0,
        ),
        ("a shard number past the last", frame(7, index.shard_count, [], []), index.shard_count),
    ]
    out = []
    for case, raw, number in cases:
        _refused(lambda raw=raw, number=number: Shard.verify(raw, authority.public, index, number))
        out.append({"case": case, "index": "index", "bytes": hexed(raw), "number": number})
    return out
