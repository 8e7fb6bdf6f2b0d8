"""The compact index of a bundle and its shards (§18): build, verify, query, fetch plan.

The index is a binary fuse filter (FastFilter's ``binary_fuse8``, 3-wise, 8-bit
fingerprints) of every tag of a bundle, with the bundle's header and the
boundaries of its shards, signed like a bundle. Building the filter needs the C
library (``pyfusefilter``, the service's and researchers' extra); querying it is
the few lines of :meth:`Index.contains`, bit-exact with the library's
``binary_fuse8_contain``, so a device needs nothing but this module.
"""

from __future__ import annotations

import bisect
import hmac
import importlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import constants as c
from ._authority import AuthorityPublicKeys, key_id
from ._bundle import BundleHeader, _read_header, _read_section, _Section, _section
from ._entry import RandomBytes
from ._wire import Reader, sha256, u32, u64
from .errors import DecodeError, Error, VerificationError

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
#: §18 one past the largest 4-byte prefix: the end of the last shard's range
PREFIX_END = 1 << (8 * c.PREFIX_BYTES)
#: §18 how many of the keys a build checks with :meth:`Index.contains` afterwards
_BUILD_CHECKS = 256


def _murmur64(h: int) -> int:
    """§18 FastFilter's ``binary_fuse_murmur64`` (MurmurHash3's 64-bit finalizer)."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


def filter_key(tag: bytes, salt: int) -> int:
    """§18 The filter's 64-bit key of a tag: its first 8 bytes, big-endian, XOR the salt."""
    return int.from_bytes(tag[:8], "big") ^ salt


def fuse8_layout(keys: int) -> tuple[int, int]:
    """§18 ``(segment_length, segment_count)`` of ``binary_fuse8_allocate(keys)``.

    The sizing of FastFilter's C code, in its 32-bit unsigned arithmetic; the
    fingerprints take ``(segment_count + 2) * segment_length`` bytes.
    """
    if keys == 0:
        length = 4
    else:
        length = 1 << math.floor(math.log(keys) / math.log(3.33) + 2.25)
    length = min(length, c.MAX_SEGMENT_LENGTH)
    if keys <= 1:
        capacity = 0
    else:
        factor = max(1.125, 0.875 + 0.25 * math.log(1000000.0) / math.log(keys))
        capacity = math.floor(keys * factor + 0.5)  # C's round(), half away from zero
    arity = c.FUSE_ARITY
    # pyfusefilter 1.3.0's xor_singleheader: keep at least 32 segments' worth of capacity
    while length > 256 and (capacity + length - 1) // length < 32 + (arity - 1):
        length //= 2
    initial = ((capacity + length - 1) // length - (arity - 1)) & _M32
    array = ((initial + arity - 1) * length) & _M32
    count = (array + length - 1) // length
    count = 1 if count <= arity - 1 else count - (arity - 1)
    return length, count


def fuse8_bytes(keys: int) -> int:
    """§18 Bytes of the filter field of an index of ``keys`` distinct keys (§15)."""
    length, count = fuse8_layout(keys)
    return 8 + 4 + 4 + (count + 2) * length


def index_bytes(header_bytes: int, shards: int, keys: int) -> int:
    """§15 Bytes of an index: frame, the bundle's header, boundaries, salt, filter, signature."""
    head = 4 + header_bytes + 4 + 4 + 4 + 4 * (shards - 1) + c.SALT_BYTES
    return head + fuse8_bytes(keys) + c.SIGNATURE_BYTES


#: §15 bytes of a shard besides its entries' ``len(entry) + 4`` each
SHARD_OVERHEAD = 4 + c.KEY_ID_BYTES + 8 + 4 + 4 + 4 + c.SIGNATURE_BYTES


def shard_cuts(prefixes: Sequence[int], k: int) -> list[int]:
    """§18 Where the shards after the first begin, in ``prefixes`` (sorted) of all entries.

    Each shard holds at least ``k`` entries and ends where the prefix changes;
    a remainder of fewer than ``k`` entries joins the last shard.
    """
    if k < 1:
        raise Error("a shard holds at least one entry")
    n, cuts, i = len(prefixes), [], k
    while i < n:
        while i < n and prefixes[i] == prefixes[i - 1]:
            i += 1
        if i >= n:
            break
        cuts.append(i)
        i += k
    if cuts and n - cuts[-1] < k:
        cuts.pop()
    return cuts


@dataclass(frozen=True)
class _Fuse8:
    seed: int
    segment_length: int
    segment_count: int
    fingerprints: bytes

    def to_bytes(self) -> bytes:
        return (
            u64(self.seed) + u32(self.segment_length) + u32(self.segment_count) + self.fingerprints
        )


def _fuse_library() -> Any:
    try:
        return importlib.import_module("pyfusefilter._xorfilter")
    except ImportError:
        raise Error(
            "building an index needs the binary fuse filter library: "
            "pip install 'placecode[service]' (pyfusefilter)"
        ) from None


def _build_fuse8(keys: list[int]) -> _Fuse8:
    """FastFilter's ``binary_fuse8_allocate`` and ``binary_fuse8_populate`` over ``keys``."""
    module = _fuse_library()
    ffi, lib = module.ffi, module.lib
    built = ffi.new("binary_fuse8_t *")
    if not lib.binary_fuse8_allocate(len(keys), built):
        raise Error("the filter library could not allocate the index")
    try:
        array = ffi.new("uint64_t[]", keys or [0])
        if not lib.binary_fuse8_populate(array, len(keys), built):
            raise Error("the filter library could not build the index")
        fingerprints = bytes(ffi.buffer(built.Fingerprints, built.ArrayLength))
        out = _Fuse8(
            int(built.Seed), int(built.SegmentLength), int(built.SegmentCount), fingerprints
        )
    finally:
        lib.binary_fuse8_free(built)
    if (out.segment_length, out.segment_count) != fuse8_layout(len(keys)):
        raise Error("the filter library sizes filters unlike docs/protocol.md §18")
    return out


@dataclass(frozen=True)
class SignedIndex:
    """§18 What the authority publishes beside a bundle: its index and its shards."""

    index: bytes
    shards: tuple[bytes, ...]


def sign_index(
    header: BundleHeader,
    entries: Iterable[bytes],
    signing_key: Ed25519PrivateKey,
    authority_entries: Iterable[bytes] = (),
    *,
    salt: bytes,
    shard_min_entries: int = c.DEFAULT_SHARD_MIN_ENTRIES,
) -> SignedIndex:
    """§18 The index and shards of the bundle ``sign_bundle`` makes of the same arguments.

    ``salt`` is 8 fresh random bytes (the service draws them when it seals the
    bundle, so nobody who uploads tags can know the filter's keys in advance).
    """
    if key_id(signing_key.public_key().public_bytes_raw()) != header.key_id:
        raise Error("the header's key id does not name this signing key")
    if len(salt) != c.SALT_BYTES:
        raise Error("an index's salt is 8 bytes")
    if not 1 <= shard_min_entries <= _M32:
        raise Error("a shard holds at least one entry")
    by_authority = sorted(authority_entries)
    public = sorted(entries)
    for entry in by_authority + public:
        if not c.MIN_ENTRY_BYTES <= len(entry) <= c.MAX_ENTRY_BYTES:
            raise Error("an entry has the wrong length")
    prefixes_a = [int.from_bytes(e[: c.PREFIX_BYTES], "big") for e in by_authority]
    prefixes_p = [int.from_bytes(e[: c.PREFIX_BYTES], "big") for e in public]
    merged = sorted(prefixes_a + prefixes_p)
    boundaries = [merged[i] for i in shard_cuts(merged, shard_min_entries)]
    salt_value = int.from_bytes(salt, "big")
    keys = sorted({filter_key(e, salt_value) for e in by_authority + public})
    fuse = _build_fuse8(keys)
    head = header.to_bytes()
    body = (
        c.INDEX_MAGIC
        + head
        + u32(len(merged))
        + u32(shard_min_entries)
        + u32(len(boundaries) + 1)
        + b"".join(u32(b) for b in boundaries)
        + salt
        + fuse.to_bytes()
    )
    index = body + signing_key.sign(c.INDEX_LABEL + sha256(body))
    made = Index._parse(index)
    step = max(1, len(keys) // _BUILD_CHECKS)
    if not all(made._contains_key(k) for k in keys[::step]):
        raise Error("the filter library builds filters unlike docs/protocol.md §18")
    edges = [0, *boundaries, PREFIX_END]
    shards = []
    for number, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        a = by_authority[bisect.bisect_left(prefixes_a, lo) : bisect.bisect_left(prefixes_a, hi)]
        p = public[bisect.bisect_left(prefixes_p, lo) : bisect.bisect_left(prefixes_p, hi)]
        shard_body = (
            c.SHARD_MAGIC
            + header.key_id
            + u64(header.sequence)
            + u32(number)
            + _section(a)
            + _section(p)
        )
        shards.append(shard_body + signing_key.sign(c.SHARD_LABEL + sha256(shard_body)))
    return SignedIndex(index, tuple(shards))


@dataclass(frozen=True)
class Index:
    """§18 A verified index: the bundle's header, its shards' ranges and its filter."""

    header: BundleHeader
    #: entries of the bundle, in both sections: what its shards hold together
    entry_count: int
    #: k: every shard holds at least this many entries, unless there is only one
    shard_min_entries: int
    #: the first 4-byte prefix of each shard after the first, strictly increasing
    boundaries: tuple[int, ...]
    salt: int
    _fuse: _Fuse8 = field(repr=False)
    _data: bytes = field(repr=False)

    @classmethod
    def _parse(cls, data: bytes) -> Index:
        """The fields, without the signature and sequence checks of :meth:`verify`."""
        if data[:4] != c.INDEX_MAGIC:
            raise DecodeError("this is not a placecode/1 index")
        header, head_len = _read_header(data[4:])
        r = Reader(data[4 + head_len : len(data) - c.SIGNATURE_BYTES], "an index")
        if len(data) < 4 + head_len + c.SIGNATURE_BYTES:
            raise DecodeError("an index is truncated")
        entry_count, k, shard_count = r.u32(), r.u32(), r.u32()
        if k < 1 or shard_count < 1:
            raise DecodeError("an index names no shard")
        boundaries = tuple(r.u32() for _ in range(shard_count - 1))
        if boundaries and boundaries[0] == 0:
            raise DecodeError("an index's first shard is empty")
        if any(a >= b for a, b in zip(boundaries, boundaries[1:], strict=False)):
            raise DecodeError("an index's shard boundaries are not increasing")
        if shard_count > 1 and shard_count * k > entry_count:
            raise DecodeError("an index's shards hold fewer entries than it says")
        salt, seed = r.u64(), r.u64()
        length, count = r.u32(), r.u32()
        if length not in _LENGTHS or count < 1:
            raise DecodeError("an index's filter is malformed")
        fingerprints = r.take((count + 2) * length)
        r.done()
        fuse = _Fuse8(seed, length, count, fingerprints)
        return cls(header, entry_count, k, boundaries, salt, fuse, data)

    @classmethod
    def verify(
        cls,
        data: bytes,
        authority: AuthorityPublicKeys,
        *,
        after_sequence: int = -1,
        shard_min_entries: int = 1,
    ) -> Index:
        """§18 Checks a downloaded index; raises ``VerificationError`` on any failure.

        As a bundle (§8): the key id, the signature (under its own label), the
        sequence above ``after_sequence``; then the frame, and that its shards
        hold at least ``shard_min_entries`` (the configuration's k) each.
        """
        data = data if type(data) is bytes else bytes(data)
        if data[:4] != c.INDEX_MAGIC or len(data) < 4 + c.SIGNATURE_BYTES:
            raise VerificationError()
        try:
            header, _ = _read_header(data[4:])
        except DecodeError:
            raise VerificationError() from None
        if not hmac.compare_digest(header.key_id, authority.key_id):
            raise VerificationError()
        body, signature = data[: -c.SIGNATURE_BYTES], data[-c.SIGNATURE_BYTES :]
        try:
            Ed25519PublicKey.from_public_bytes(authority.sign_key).verify(
                signature, c.INDEX_LABEL + sha256(body)
            )
        except InvalidSignature:
            raise VerificationError() from None
        if header.sequence <= after_sequence:
            raise VerificationError()
        try:
            index = cls._parse(data)
        except DecodeError:
            raise VerificationError() from None
        if index.shard_min_entries < shard_min_entries and index.shard_count > 1:
            raise VerificationError()
        return index

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def shard_count(self) -> int:
        return len(self.boundaries) + 1

    def _contains_key(self, key: int) -> bool:
        fuse = self._fuse
        length = fuse.segment_length
        mask = length - 1
        h = _murmur64((key + fuse.seed) & _M64)
        f = (h ^ (h >> 32)) & 0xFF
        h0 = (h * (fuse.segment_count * length)) >> 64
        h1 = (h0 + length) ^ ((h >> 18) & mask)
        h2 = (h0 + 2 * length) ^ (h & mask)
        fp = fuse.fingerprints
        return f ^ fp[h0] ^ fp[h1] ^ fp[h2] == 0

    def contains(self, tag: bytes) -> bool:
        """§18 Whether the filter holds ``tag``: always for the bundle's tags, else ~1/256."""
        if len(tag) != c.TAG_BYTES:
            return False
        return self._contains_key(filter_key(tag, self.salt))

    def shard_of(self, tag: bytes) -> int:
        """§18 The number of the shard whose range holds ``tag``'s 4-byte prefix."""
        return bisect.bisect_right(self.boundaries, int.from_bytes(tag[: c.PREFIX_BYTES], "big"))

    def shard_range(self, number: int) -> tuple[int, int]:
        """§18 ``[lo, hi)``: the 4-byte prefixes of shard ``number``'s entries."""
        if not 0 <= number < self.shard_count:
            raise Error(f"an index of {self.shard_count} shards has no shard {number}")
        lo = self.boundaries[number - 1] if number else 0
        hi = self.boundaries[number] if number < len(self.boundaries) else PREFIX_END
        return lo, hi

    def hits(self, tags: Iterable[bytes]) -> list[int]:
        """§18 The shards of the tags the filter holds, in ascending order, each once.

        ``contains`` for each tag, with the filter's fields held in locals (a
        device checks hundreds of tags against every index).
        """
        fuse, salt = self._fuse, self.salt
        length, seed, fp = fuse.segment_length, fuse.seed, fuse.fingerprints
        mask, span = length - 1, fuse.segment_count * length
        boundaries = self.boundaries
        found = set()
        for tag in tags:
            if len(tag) != c.TAG_BYTES:
                continue
            # _murmur64, inlined
            h = ((int.from_bytes(tag[:8], "big") ^ salt) + seed) & _M64
            h ^= h >> 33
            h = (h * 0xFF51AFD7ED558CCD) & _M64
            h ^= h >> 33
            h = (h * 0xC4CEB9FE1A85EC53) & _M64
            h ^= h >> 33
            h0 = (h * span) >> 64
            f = (h ^ (h >> 32)) & 0xFF
            if (
                f
                ^ fp[h0]
                ^ fp[(h0 + length) ^ ((h >> 18) & mask)]
                ^ fp[(h0 + 2 * length) ^ (h & mask)]
            ):
                continue
            found.add(bisect.bisect_right(boundaries, int.from_bytes(tag[:4], "big")))
        return sorted(found)

    def fetch_plan(self, tags: Iterable[bytes], fetches: int, random: RandomBytes) -> list[int]:
        """§18 The shards to fetch: every hit, topped up to ``min(F, shards)`` with decoys.

        Decoys are drawn uniformly among the shards without a hit, without
        repetition; the list comes shuffled, so its order says nothing either.
        """
        if fetches < 0:
            raise Error("a device fetches at least zero shards")
        wanted = self.hits(tags)
        chosen = sorted(wanted)
        while len(wanted) < min(fetches, self.shard_count):
            # the decoy at position ``below(count)`` among the shards not yet chosen,
            # in ascending order, found without listing them
            number = _below(random, self.shard_count - len(chosen))
            for taken in chosen:
                if taken > number:
                    break
                number += 1
            wanted.append(number)
            bisect.insort(chosen, number)
        for i in range(len(wanted) - 1, 0, -1):
            j = _below(random, i + 1)
            wanted[i], wanted[j] = wanted[j], wanted[i]
        return wanted


#: §18 the segment lengths FastFilter's sizing can give
_LENGTHS = frozenset(
    1 << b for b in range(2, c.MAX_SEGMENT_LENGTH.bit_length()) if 1 << b <= c.MAX_SEGMENT_LENGTH
)


def _below(random: RandomBytes, n: int) -> int:
    """A uniform integer in ``0 .. n-1`` from 8 random bytes at a time (rejection sampling)."""
    limit = (1 << 64) - (1 << 64) % n
    while True:
        value = int.from_bytes(random(8), "big")
        if value < limit:
            return value % n


@dataclass(frozen=True)
class Shard:
    """§18 A verified shard: the entries of one range of a bundle, in its two sections."""

    sequence: int
    number: int
    authority_section: _Section = field(repr=False)
    public_section: _Section = field(repr=False)
    _data: bytes = field(repr=False)
    #: the distinct tags of both sections
    tags: frozenset[bytes] = field(repr=False)

    @classmethod
    def verify(
        cls, data: bytes, authority: AuthorityPublicKeys, index: Index, number: int
    ) -> Shard:
        """§18 Checks shard ``number`` of ``index``; raises ``VerificationError`` on any failure.

        The key id and signature (under its own label); the bundle's sequence
        and the shard's number; the two sections' frames as in a bundle; every
        entry's tag inside the shard's range; at least k entries (unless the
        index has one shard).
        """
        raw = data if type(data) is bytes else bytes(data)
        head = 4 + c.KEY_ID_BYTES + 8 + 4
        if len(raw) < head + c.SIGNATURE_BYTES or raw[:4] != c.SHARD_MAGIC:
            raise VerificationError()
        if not hmac.compare_digest(raw[4 : 4 + c.KEY_ID_BYTES], authority.key_id):
            raise VerificationError()
        body = memoryview(raw)[: -c.SIGNATURE_BYTES]
        try:
            Ed25519PublicKey.from_public_bytes(authority.sign_key).verify(
                raw[-c.SIGNATURE_BYTES :], c.SHARD_LABEL + sha256(body)
            )
        except InvalidSignature:
            raise VerificationError() from None
        sequence = int.from_bytes(raw[12:20], "big")
        got = int.from_bytes(raw[20:24], "big")
        if sequence != index.header.sequence or got != number or number >= index.shard_count:
            raise VerificationError()
        first = _read_section(body, head)
        if first[2] > len(body):
            raise VerificationError()
        second = _read_section(body, first[2])
        if second[2] != len(body):
            raise VerificationError()
        lo, hi = index.shard_range(number)
        tags = set()
        for tags_at, count, _ in (first, second):
            for at in range(tags_at, tags_at + count * c.TAG_BYTES, c.TAG_BYTES):
                tag = raw[at : at + c.TAG_BYTES]
                if not lo <= int.from_bytes(tag[: c.PREFIX_BYTES], "big") < hi:
                    raise VerificationError()
                tags.add(tag)
        if index.shard_count > 1 and first[1] + second[1] < index.shard_min_entries:
            raise VerificationError()
        sections = _Section(raw, *first), _Section(raw, *second)
        return cls(sequence, number, *sections, raw, frozenset(tags))

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def count(self) -> int:
        return self.authority_section.count + self.public_section.count

    def lookup_authority(self, tag: bytes) -> list[bytes]:
        return self.authority_section.lookup(tag)

    def lookup_public(self, tag: bytes) -> list[bytes]:
        return self.public_section.lookup(tag)

    def entries(self) -> list[bytes]:
        """Every entry, authority's first."""
        return self.authority_section.entries() + self.public_section.entries()


@dataclass(frozen=True)
class ShardedBundle:
    """§18 What a device holds of a bundle on the index path: the index and fetched shards.

    It answers lookups as the bundle would for every tag of a fetched shard's
    range, so :func:`match` runs on it exactly as on a bundle (§12).
    """

    index: Index
    shards: tuple[Shard, ...]

    #: (lo, hi, shard): the prefix range of each held shard
    _ranges: tuple[tuple[int, int, Shard], ...] = field(init=False, repr=False, compare=False)
    #: every tag the held shards hold: any other tag is answered at once
    _tags: frozenset[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len({s.number for s in self.shards}) != len(self.shards):
            raise Error("a shard is held twice")
        if any(s.sequence != self.index.header.sequence for s in self.shards):
            raise Error("a shard of another bundle")
        ranges = tuple((*self.index.shard_range(s.number), s) for s in self.shards)
        object.__setattr__(self, "_ranges", ranges)
        object.__setattr__(self, "_tags", frozenset().union(*(s.tags for s in self.shards)))

    @property
    def header(self) -> BundleHeader:
        return self.index.header

    def _shard(self, tag: bytes) -> Shard | None:
        prefix = int.from_bytes(tag[: c.PREFIX_BYTES], "big")
        for lo, hi, shard in self._ranges:
            if lo <= prefix < hi:
                return shard
        return None

    def lookup_authority(self, tag: bytes) -> list[bytes]:
        if tag not in self._tags:
            return []
        shard = self._shard(tag)
        return shard.lookup_authority(tag) if shard else []

    def lookup_public(self, tag: bytes) -> list[bytes]:
        if tag not in self._tags:
            return []
        shard = self._shard(tag)
        return shard.lookup_public(tag) if shard else []
