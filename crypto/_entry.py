"""Exposure entries (§7): sealing, opening and checking their evidence."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import constants as c
from ._venue import PresenceProof, verify_signature
from ._visit import Slot, Visit
from ._wire import Reader, u8, u32
from .errors import DecodeError, Error, VerificationError

RandomBytes = Callable[[int], bytes]


class EvidenceLevel(enum.IntEnum):
    """§7 How an entry shows that the case was there; lower is stronger."""

    VENUE_CONFIRMED = 1
    PRESENCE_PROVEN = 2
    SELF_REPORTED = 3


def confirm_message(tag: bytes, start_minute: int, end_minute: int) -> bytes:
    """§7 The bytes a venue signs to confirm an exposure window."""
    return c.CONFIRM_LABEL + tag + u8(start_minute) + u8(end_minute)


@dataclass(frozen=True)
class EntryContent:
    """§7 The plaintext of an exposure entry."""

    level: EvidenceLevel
    start_minute: int
    end_minute: int
    message_id: int = 0
    venue_signature: bytes | None = None
    proofs: tuple[PresenceProof, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 60:
            raise Error("an exposure window covers minutes 0 to 60, end after start")
        if not 0 <= self.message_id <= 255:
            raise Error("a message id is one byte")
        has_sig = self.venue_signature is not None
        if has_sig != (self.level == EvidenceLevel.VENUE_CONFIRMED):
            raise Error("only a venue-confirmed entry carries a venue signature")
        if has_sig and len(self.venue_signature or b"") != c.SIGNATURE_BYTES:
            raise Error("a venue signature is 64 bytes")
        if self.level == EvidenceLevel.PRESENCE_PROVEN:
            if not 1 <= len(self.proofs) <= c.MAX_PROOFS:
                raise Error(f"a presence-proven entry carries 1 to {c.MAX_PROOFS} proofs")
        elif self.proofs:
            raise Error("only a presence-proven entry carries presence proofs")

    def to_bytes(self) -> bytes:
        out = u8(self.level) + u8(self.start_minute) + u8(self.end_minute) + u8(self.message_id)
        if self.venue_signature is not None:
            out += self.venue_signature
        if self.level == EvidenceLevel.PRESENCE_PROVEN:
            out += u8(len(self.proofs))
            out += b"".join(u32(p.epoch) + p.signature for p in self.proofs)
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> EntryContent:
        try:
            r = Reader(data, "an entry")
            level = EvidenceLevel(r.u8())
            start, end, message_id = r.u8(), r.u8(), r.u8()
            signature = None
            proofs: tuple[PresenceProof, ...] = ()
            if level == EvidenceLevel.VENUE_CONFIRMED:
                signature = r.take(c.SIGNATURE_BYTES)
            elif level == EvidenceLevel.PRESENCE_PROVEN:
                proofs = tuple(
                    PresenceProof(r.u32(), r.take(c.SIGNATURE_BYTES)) for _ in range(r.u8())
                )
            r.done()
            return cls(level, start, end, message_id, signature, proofs)
        except (Error, ValueError):
            raise DecodeError("an entry's plaintext is malformed") from None


def seal_entry(tag: bytes, key: bytes, content: EntryContent, nonce: bytes) -> bytes:
    """§7 tag || nonce || AES-256-GCM(key, nonce, plaintext, aad=tag)."""
    if len(tag) != c.TAG_BYTES or len(key) != c.SECRET_BYTES or len(nonce) != c.NONCE_BYTES:
        raise Error("sealing needs a 16-byte tag, a 32-byte key and a 12-byte nonce")
    return tag + nonce + AESGCM(key).encrypt(nonce, content.to_bytes(), tag)


def open_entry(entry: bytes, key: bytes) -> EntryContent:
    """§7 Opens a sealed entry; any failure raises the opaque ``VerificationError``."""
    if not c.MIN_ENTRY_BYTES <= len(entry) <= c.MAX_ENTRY_BYTES:
        raise VerificationError()
    tag = entry[: c.TAG_BYTES]
    nonce = entry[c.TAG_BYTES : c.TAG_BYTES + c.NONCE_BYTES]
    try:
        plain = AESGCM(key).decrypt(nonce, entry[c.TAG_BYTES + c.NONCE_BYTES :], tag)
        return EntryContent.from_bytes(plain)
    except (InvalidTag, DecodeError):
        raise VerificationError() from None


def proof_coverage(proofs: tuple[PresenceProof, ...]) -> tuple[int, int]:
    """§7 The minutes [first, last) that presence proofs cover, in Unix minutes.

    From the earliest proof's epoch to the latest's plus the code's life; one
    proof alone covers SINGLE_PROOF_SPAN_SECONDS.
    """
    epochs = sorted(p.epoch for p in proofs)
    lo = epochs[0] * c.EPOCH_SECONDS
    if epochs[-1] > epochs[0]:
        hi = epochs[-1] * c.EPOCH_SECONDS + c.MAX_CODE_AGE_SECONDS
    else:
        hi = lo + c.SINGLE_PROOF_SPAN_SECONDS
    return lo // 60, -(-hi // 60)


def evidence_holds(content: EntryContent, slot: Slot, visit: Visit) -> bool:
    """§7 Whether an opened entry's evidence checks out against the device's own visit."""
    if content.level == EvidenceLevel.VENUE_CONFIRMED:
        message = confirm_message(slot.tag, content.start_minute, content.end_minute)
        return verify_signature(visit.venue_public_key, content.venue_signature or b"", message)
    if content.level == EvidenceLevel.PRESENCE_PROVEN:
        if not all(p.verify(visit.venue_public_key, visit.code_id) for p in content.proofs):
            return False
        lo, hi = proof_coverage(content.proofs)
        base = slot.hour * 60
        return lo <= base + content.start_minute and base + content.end_minute <= hi
    return True


def report_entries(visit: Visit, random: RandomBytes, message_id: int = 0) -> list[bytes]:
    """§7 The sealed entries an uploader's device sends for one of its visits.

    Every minute of the stay is claimed once: the minutes its presence proofs
    cover are presence-proven, the rest self-reported. A slot thus yields one
    entry, or up to three under its tag when the coverage begins or ends
    inside it.
    """
    lo, hi = proof_coverage(visit.proofs) if visit.proofs else (0, 0)
    entries = []
    for slot in visit.slots:
        base = slot.hour * 60
        start, end = slot.start_minute, slot.end_minute
        inner = (max(start, lo - base), min(end, hi - base))
        if inner[0] < inner[1]:
            pieces = [
                (EvidenceLevel.SELF_REPORTED, start, inner[0]),
                (EvidenceLevel.PRESENCE_PROVEN, *inner),
                (EvidenceLevel.SELF_REPORTED, inner[1], end),
            ]
        else:
            pieces = [(EvidenceLevel.SELF_REPORTED, start, end)]
        for level, a, b in pieces:
            if a < b:
                proofs = visit.proofs if level == EvidenceLevel.PRESENCE_PROVEN else ()
                content = EntryContent(level, a, b, message_id, None, proofs)
                entries.append(seal_entry(slot.tag, slot.key, content, random(c.NONCE_BYTES)))
    return entries
