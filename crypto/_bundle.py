"""Signed bundles of exposure entries (§8) and matching (§12)."""

from __future__ import annotations

import bisect
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import constants as c
from ._authority import AuthorityPublicKeys, key_id
from ._entry import EvidenceLevel, evidence_holds, open_entry
from ._visit import Slot, Visit
from ._wire import Reader, sha256, u8, u16, u32, u64
from .errors import DecodeError, Error, VerificationError

#: §8 magic, key id, sequence, created, first hour, last hour
_FIXED_HEAD = 4 + c.KEY_ID_BYTES + 8 + 8 + 4 + 4


@dataclass(frozen=True)
class BundleHeader:
    """§8 What a bundle says about itself."""

    key_id: bytes
    sequence: int
    created_at: int
    first_hour: int
    last_hour: int
    messages: tuple[str, ...] = ()
    revoked: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if len(self.revoked) > c.MAX_REVOKED or any(len(t) != c.TAG_BYTES for t in self.revoked):
            raise Error(f"a bundle revokes at most {c.MAX_REVOKED} 16-byte tags")
        if len(self.key_id) != c.KEY_ID_BYTES:
            raise Error("a key id is 8 bytes")
        if not 0 <= self.sequence < 2**64 or not 0 <= self.created_at < 2**64:
            raise Error("sequence and creation time are 64-bit")
        if not 0 <= self.first_hour <= self.last_hour < 2**32:
            raise Error("a bundle covers hours first <= last (32-bit)")
        if len(self.messages) > c.MAX_MESSAGES:
            raise Error(f"a bundle has at most {c.MAX_MESSAGES} messages")
        if any(len(m.encode()) > c.MAX_MESSAGE_BYTES for m in self.messages):
            raise Error(f"a message is at most {c.MAX_MESSAGE_BYTES} UTF-8 bytes")

    def to_bytes(self) -> bytes:
        out = (
            c.BUNDLE_MAGIC
            + self.key_id
            + u64(self.sequence)
            + u64(self.created_at)
            + u32(self.first_hour)
            + u32(self.last_hour)
            + u8(len(self.messages))
        )
        for message in self.messages:
            raw = message.encode()
            out += u16(len(raw)) + raw
        return out + u16(len(self.revoked)) + b"".join(self.revoked)


def _section(entries: Iterable[bytes]) -> bytes:
    """§8 u32 count || sorted tags || end offsets || payloads."""
    ordered = sorted(entries)
    for entry in ordered:
        if not c.MIN_ENTRY_BYTES <= len(entry) <= c.MAX_ENTRY_BYTES:
            raise Error("an entry has the wrong length")
    tags = b"".join(e[: c.TAG_BYTES] for e in ordered)
    payloads = [e[c.TAG_BYTES :] for e in ordered]
    offsets = bytearray()
    end = 0
    for payload in payloads:
        end += len(payload)
        offsets += u32(end)
    return u32(len(ordered)) + tags + bytes(offsets) + b"".join(payloads)


def sign_bundle(
    header: BundleHeader,
    entries: Iterable[bytes],
    signing_key: Ed25519PrivateKey,
    authority_entries: Iterable[bytes] = (),
) -> bytes:
    """§8 header || authority section || public section || signature.

    ``authority_entries`` are the entries the authority published itself (venue
    traces): only there does a venue-confirmed entry count. ``entries`` are the
    public uploads (and decoys).
    """
    if key_id(signing_key.public_key().public_bytes_raw()) != header.key_id:
        raise Error("the header's key id does not name this signing key")
    body = header.to_bytes() + _section(authority_entries) + _section(entries)
    return body + signing_key.sign(c.BUNDLE_LABEL + sha256(body))


#: §8 Lookup: one tag in this many is kept in a bundle's sparse index (reference only).
_STRIDE = 16


def _read_header(data: bytes) -> tuple[BundleHeader, int]:
    longest = _FIXED_HEAD + 1 + c.MAX_MESSAGES * (2 + c.MAX_MESSAGE_BYTES)
    longest += 2 + c.MAX_REVOKED * c.TAG_BYTES
    r = Reader(data[:longest], "a bundle")
    if r.take(4) != c.BUNDLE_MAGIC:
        raise DecodeError("this is not a placecode/1 bundle")
    kid, seq, created, first, last = r.take(c.KEY_ID_BYTES), r.u64(), r.u64(), r.u32(), r.u32()
    messages = []
    for _ in range(r.u8()):
        try:
            messages.append(r.take(r.u16()).decode())
        except UnicodeDecodeError:
            raise DecodeError("a bundle message is not UTF-8") from None
    revoked = tuple(r.take(c.TAG_BYTES) for _ in range(r.u16()))
    try:
        header = BundleHeader(kid, seq, created, first, last, tuple(messages), revoked)
    except Error as e:
        raise DecodeError(f"a bundle header is malformed: {e}") from None
    length = len(header.to_bytes())
    return header, length


class _Section:
    """§8 One section of a verified bundle: its tag column, read in place.

    Lookup bisects a sparse index (every ``_STRIDE``-th tag, the only Python
    objects it builds) to name the stretch of at most ``_STRIDE`` tags where a
    tag would start, then ``bytes.find`` scans that stretch of the column.
    """

    def __init__(self, data: bytes, tags_at: int, count: int, end: int) -> None:
        self._data = data
        self.tags_at = tags_at
        self.count = count
        #: where the section's payloads end (the next section, or the signature)
        self.end = end
        self.offsets_at = tags_at + count * c.TAG_BYTES
        self.payload_at = self.offsets_at + count * 4

    @cached_property
    def _sparse(self) -> list[bytes]:
        at, step = self.tags_at, _STRIDE * c.TAG_BYTES
        return [self._data[i : i + c.TAG_BYTES] for i in range(at, self.offsets_at, step)]

    def _first(self, tag: bytes) -> int:
        """Position of the first entry whose tag is ``tag``, or -1."""
        if len(tag) != c.TAG_BYTES:
            return -1
        sparse = self._sparse
        block = bisect.bisect_left(sparse, tag)
        if block == 0:  # tag <= the first tag
            return 0 if sparse and sparse[0] == tag else -1
        # sparse[block - 1] < tag <= sparse[block]: the first equal tag lies after
        # position (block - 1) * _STRIDE and at most at block * _STRIDE
        block_start = (block - 1) * _STRIDE
        start = self.tags_at + block_start * c.TAG_BYTES
        end = self.tags_at + min(self.count, block_start + 2 * _STRIDE) * c.TAG_BYTES
        data = self._data
        pos = data.find(tag, start, end)
        while pos >= 0 and (pos - self.tags_at) % c.TAG_BYTES:
            pos = data.find(tag, pos + 1, end)
        return -1 if pos < 0 else (pos - self.tags_at) // c.TAG_BYTES

    def lookup(self, tag: bytes) -> list[bytes]:
        """§8 The entries at the first position with ``tag`` and every following equal one."""
        if not self.count:  # most bundles' authority section
            return []
        i = self._first(tag)
        if i < 0:
            return []
        data, tags_at, count = self._data, self.tags_at, self.count
        offsets_at, payload_at = self.offsets_at, self.payload_at
        limit = self.end - payload_at
        found = []
        while (
            i < count and data[tags_at + i * c.TAG_BYTES : tags_at + (i + 1) * c.TAG_BYTES] == tag
        ):
            at = offsets_at + 4 * i
            start = int.from_bytes(data[at - 4 : at], "big") if i else 0
            end = int.from_bytes(data[at : at + 4], "big")
            if start < end <= limit:
                found.append(tag + data[payload_at + start : payload_at + end])
            i += 1
        return found

    def tags(self) -> list[bytes]:
        """The distinct tags, in order."""
        at, end = self.tags_at, self.offsets_at
        return sorted({self._data[i : i + c.TAG_BYTES] for i in range(at, end, c.TAG_BYTES)})

    def entries(self) -> list[bytes]:
        return [e for t in self.tags() for e in self.lookup(t)]


def _read_section(body: memoryview, at: int) -> tuple[int, int, int]:
    """§8 Checks one section's frame: (where its tags start, its count, where it ends)."""
    if len(body) < at + 4:
        raise VerificationError()
    count = int.from_bytes(body[at : at + 4], "big")
    payload_at = at + 4 + count * (c.TAG_BYTES + 4)
    if payload_at > len(body):
        raise VerificationError()
    last_end = int.from_bytes(body[payload_at - 4 : payload_at], "big") if count else 0
    return at + 4, count, payload_at + last_end


@dataclass(frozen=True)
class Bundle:
    """§8 A verified bundle; entries are found by binary search, never all parsed."""

    header: BundleHeader
    authority_section: _Section = field(repr=False)
    public_section: _Section = field(repr=False)
    _data: bytes = field(repr=False)

    @classmethod
    def verify(
        cls, data: bytes, authority: AuthorityPublicKeys, *, after_sequence: int = -1
    ) -> Bundle:
        """§8 Checks a downloaded bundle; raises ``VerificationError`` on any failure.

        ``after_sequence`` is the highest sequence this device holds: an older
        or equal bundle is refused, so nobody can roll a device back.
        """
        try:
            header, head_len = _read_header(data)
        except DecodeError:
            raise VerificationError() from None
        if not hmac.compare_digest(header.key_id, authority.key_id):
            raise VerificationError()
        body = memoryview(data)[: -c.SIGNATURE_BYTES]
        signature = data[-c.SIGNATURE_BYTES :]
        try:
            Ed25519PublicKey.from_public_bytes(authority.sign_key).verify(
                signature, c.BUNDLE_LABEL + sha256(body)
            )
        except InvalidSignature:
            raise VerificationError() from None
        if header.sequence <= after_sequence:
            raise VerificationError()
        first = _read_section(body, head_len)
        if first[2] > len(body):
            raise VerificationError()
        second = _read_section(body, first[2])
        if second[2] != len(body):
            raise VerificationError()
        raw = data if type(data) is bytes else bytes(data)
        return cls(header, _Section(raw, *first), _Section(raw, *second), raw)

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def count(self) -> int:
        """Entries in both sections."""
        return self.authority_section.count + self.public_section.count

    def lookup_authority(self, tag: bytes) -> list[bytes]:
        """The entries the authority itself published under ``tag`` (venue traces)."""
        return self.authority_section.lookup(tag)

    def lookup_public(self, tag: bytes) -> list[bytes]:
        """The entries of public uploads (and decoys) under ``tag``."""
        return self.public_section.lookup(tag)

    def lookup(self, tag: bytes) -> list[bytes]:
        """The sealed entries (tag || nonce || ciphertext) under ``tag``, authority's first."""
        if not self.authority_section.count:  # most bundles: one lookup, as before sections
            return self.public_section.lookup(tag)
        return self.authority_section.lookup(tag) + self.public_section.lookup(tag)

    def tags(self) -> list[bytes]:
        """The distinct tags of both sections, in order."""
        return sorted(set(self.authority_section.tags()) | set(self.public_section.tags()))

    def authority_entries(self) -> list[bytes]:
        """The authority section's entries, in order."""
        return self.authority_section.entries()

    def public_entries(self) -> list[bytes]:
        """The public section's entries, in order."""
        return self.public_section.entries()

    def entries(self) -> list[bytes]:
        """Every entry, authority's first: for export and statistics, not for matching."""
        return self.authority_entries() + self.public_entries()


@dataclass(frozen=True)
class Policy:
    """§12 Which evidence levels warn, and after how many shared minutes."""

    warn_levels: frozenset[EvidenceLevel] = frozenset(EvidenceLevel)
    min_overlap_minutes: int = c.DEFAULT_MIN_OVERLAP_MINUTES


@dataclass(frozen=True)
class Exposure:
    """§12 A visit that shared enough minutes with published cases."""

    visit: Visit
    slot: Slot
    overlap_minutes: int
    level: EvidenceLevel
    message: str


def union_length(intervals: Iterable[tuple[int, int]]) -> int:
    """§12 The length of the union of half-open intervals ``[lo, hi)``."""
    total, reach = 0, -1
    for lo, hi in sorted(intervals):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


@dataclass(frozen=True)
class _Window:
    lo: int
    hi: int
    level: EvidenceLevel
    message: str


def _overlap(slots: list[list[_Window]], level: int) -> int:
    """§12 Minutes of the union of each slot's windows of ``level`` or stronger, summed."""
    return sum(union_length([(w.lo, w.hi) for w in ws if w.level <= level]) for ws in slots)


class Published(Protocol):
    """§12 What matching reads of a bundle: a verified :class:`Bundle`, or a
    ``ShardedBundle`` (§18), which answers for the tags of the shards it holds."""

    @property
    def header(self) -> BundleHeader: ...

    def lookup_authority(self, tag: bytes) -> list[bytes]: ...

    def lookup_public(self, tag: bytes) -> list[bytes]: ...


def match(visits: Iterable[Visit], bundles: Sequence[Published], policy: Policy) -> list[Exposure]:
    """§12 A device's exposures: its visits against every verified bundle it holds.

    An entry is ignored when a bundle of a higher sequence revokes its tag, a
    venue-confirmed entry counts only from a bundle's authority section, and no
    entry counts for a minute after its bundle was signed. The level shown is
    the strongest whose windows (with those of stronger levels) reach the
    minimum overlap.
    """
    revoked_by: dict[bytes, int] = {}
    for bundle in bundles:
        for tag in bundle.header.revoked:
            revoked_by[tag] = max(revoked_by.get(tag, -1), bundle.header.sequence)
    exposures = []
    for visit in visits:
        first: Slot | None = None
        per_slot: list[list[_Window]] = []
        for slot in visit.slots:
            windows: list[_Window] = []
            revoked = revoked_by.get(slot.tag, -1) if revoked_by else -1
            for bundle in bundles:
                by_authority = bundle.lookup_authority(slot.tag)
                public = bundle.lookup_public(slot.tag)
                if not (by_authority or public) or revoked > bundle.header.sequence:
                    continue
                signed_minute = bundle.header.created_at // 60 - slot.hour * 60
                found = [(True, e) for e in by_authority] + [(False, e) for e in public]
                for from_authority, entry in found:
                    try:
                        content = open_entry(entry, slot.key)
                    except VerificationError:
                        continue
                    if content.level == EvidenceLevel.VENUE_CONFIRMED and not from_authority:
                        continue
                    if content.level not in policy.warn_levels:
                        continue
                    if not evidence_holds(content, slot, visit):
                        continue
                    lo = max(content.start_minute, slot.start_minute)
                    hi = min(content.end_minute, slot.end_minute, signed_minute)
                    if lo < hi:
                        messages = bundle.header.messages
                        mid = content.message_id
                        message = messages[mid] if mid < len(messages) else ""
                        windows.append(_Window(lo, hi, content.level, message))
                        first = first or slot
            per_slot.append(windows)
        if first is None:
            continue
        overlap = _overlap(per_slot, EvidenceLevel.SELF_REPORTED)
        if overlap < policy.min_overlap_minutes:
            continue
        present = sorted({w.level for ws in per_slot for w in ws})
        level = next(x for x in present if _overlap(per_slot, x) >= policy.min_overlap_minutes)
        message = next(w.message for ws in per_slot for w in ws if w.level == level)
        exposures.append(Exposure(visit, first, overlap, level, message))
    return exposures
