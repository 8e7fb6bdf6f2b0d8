"""What every section shares: the fixed inputs, the deterministic randomness, and small encoders.

Sections communicate through one :class:`Context`: a section reads what an
earlier section put there (the venue, the authority keys, the uploaders'
entries...) and adds what a later one needs. Every secret and nonce comes from
``ctx.random``, one stream shared by the sections in their order, so a section
inserted in the middle would shift every later byte: a new section appends to
``SECTIONS`` (in ``vectorgen/__init__.py``) or draws from its own stream,
``ctx.stream("name")``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.encoding
import nacl.hash

from placecode.crypto import (
    AuthorityKeys,
    EntryContent,
    PresenceProof,
    UploadRequest,
    Venue,
    Visit,
    check_in,
    open_entry,
    report_entries,
    seal_entry,
)
from placecode.crypto import constants as c
from placecode.crypto.rules import DEFAULT_MESSAGES

DRBG_SEED = b"placecode/1 test vectors"

#: Fixed times (Unix seconds, UTC). Day 20602 is 2026-05-28; DAY_START is its 00:00.
DAY = 20602
DAY_START = DAY * 86400
T_1020 = DAY_START + 10 * 3600 + 20 * 60
T_1025 = DAY_START + 10 * 3600 + 25 * 60
T_1030 = DAY_START + 10 * 3600 + 30 * 60
T_1040 = DAY_START + 10 * 3600 + 40 * 60
T_1100 = DAY_START + 11 * 3600
T_1105 = DAY_START + 11 * 3600 + 5 * 60
T_1110 = DAY_START + 11 * 3600 + 10 * 60
T_1115 = DAY_START + 11 * 3600 + 15 * 60
T_1130 = DAY_START + 11 * 3600 + 30 * 60
T_1145 = DAY_START + 11 * 3600 + 45 * 60
T_1210 = DAY_START + 12 * 3600 + 10 * 60
T_1400 = DAY_START + 14 * 3600
T_1500 = DAY_START + 15 * 3600
BUNDLE_TIME = (DAY + 1) * 86400

VENUE_NAME = "Café Ümlaut"
VENUE_STAY = 180
TAN = "ABCD-EFGH-JKMN"
CONTACT = "Alex Muster, +41 79 000 00 00"
MESSAGES = (
    *DEFAULT_MESSAGES,
    "The venue confirmed this outbreak. Get tested today.",
)


class Drbg:
    """``random(n)``: n bytes of SHA-256(seed || u32 k) || SHA-256(seed || u32 k+1) ...

    Every call starts on a fresh block: a call for n bytes consumes ceil(n / 32)
    blocks and drops the unused tail of the last one.
    """

    def __init__(self, seed: bytes = DRBG_SEED) -> None:
        self.seed = seed
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(4, "big")).digest()
            self.counter += 1
        return out[:n]


@dataclass
class Context:
    """The state sections pass on: ``vectors`` is the JSON being built, ``shared`` the objects."""

    random: Drbg = field(default_factory=Drbg)
    vectors: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    def stream(self, name: str) -> Drbg:
        """An independent stream for a later section: seed ``DRBG_SEED || "/" || name``."""
        return Drbg(DRBG_SEED + b"/" + name.encode())

    @property
    def authority(self) -> AuthorityKeys:
        keys: AuthorityKeys = self.shared["authority"]
        return keys

    @property
    def venue(self) -> Venue:
        venue: Venue = self.shared["venue"]
        return venue


def sealed_box(plaintext: bytes, recipient: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium's crypto_box_seal with a chosen ephemeral secret instead of a random one.

    epk || crypto_box_easy(m, nonce = BLAKE2b-192(epk || pk), pk, esk): the bytes
    crypto_box_seal would produce had it drawn ``ephemeral_secret``.
    """
    epk = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)
    nonce = nacl.hash.blake2b(epk + recipient, digest_size=24, encoder=nacl.encoding.RawEncoder)
    return epk + nacl.bindings.crypto_box_easy(plaintext, nonce, recipient, ephemeral_secret)


def hexed(data: bytes) -> str:
    return data.hex()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def content_json(content: EntryContent) -> dict[str, Any]:
    return {
        "level": int(content.level),
        "start_minute": content.start_minute,
        "end_minute": content.end_minute,
        "message_id": content.message_id,
        "venue_signature": hexed(content.venue_signature) if content.venue_signature else None,
        "proofs": [{"epoch": p.epoch, "signature": hexed(p.signature)} for p in content.proofs],
        "plaintext": hexed(content.to_bytes()),
    }


def visit_json(visit: Visit) -> dict[str, Any]:
    return {
        "kind": visit.kind,
        "venue_public_key": hexed(visit.venue_public_key),
        "code_id": hexed(visit.code_id),
        "entered_at": visit.entered_at,
        "left_at": visit.left_at,
        "proofs": [{"epoch": p.epoch, "signature": hexed(p.signature)} for p in visit.proofs],
        "slots": [
            {
                "hour": s.hour,
                "start_minute": s.start_minute,
                "end_minute": s.end_minute,
                "tag": hexed(s.tag),
                "key": hexed(s.key),
            }
            for s in visit.slots
        ],
    }


def stay(
    venue: Venue, kind: int, entered_at: int, left_at: int, rescan_at: int | None = None
) -> tuple[dict[str, Any], Visit]:
    """A device's stay: it scans at ``entered_at``, maybe rescans, and checks out."""
    code = venue.poster(0) if kind == c.KIND_POSTER else venue.screen(entered_at)
    state = check_in(code, entered_at)
    step: dict[str, Any] = {"code_url": code.to_url(), "entered_at": entered_at}
    if rescan_at is not None:
        state = state.rescan(venue.screen(rescan_at), rescan_at)
        step["rescan_url"] = venue.screen(rescan_at).to_url()
        step["rescan_at"] = rescan_at
    step["left_at"] = left_at
    visit = state.check_out(left_at)
    step["visit"] = visit_json(visit)
    return step, visit


def entries_json(visit: Visit, random: Drbg, message_id: int) -> list[dict[str, Any]]:
    """report_entries for ``visit``, with the inputs of each sealed entry spelled out."""
    start = random.counter
    sealed = report_entries(visit, random, message_id)
    random.counter = start
    slots = {slot.tag: slot for slot in visit.slots}
    out = []
    for entry in sealed:
        slot = slots[entry[: c.TAG_BYTES]]
        nonce = random(c.NONCE_BYTES)
        content = open_entry(entry, slot.key)
        assert seal_entry(slot.tag, slot.key, content, nonce) == entry
        out.append(
            {
                "hour": slot.hour,
                "tag": hexed(slot.tag),
                "key": hexed(slot.key),
                "nonce": hexed(nonce),
                "content": content_json(content),
                "entry": hexed(entry),
                "length": len(entry),
            }
        )
    return out


def upload_json(request: UploadRequest) -> dict[str, Any]:
    data = request.to_bytes()
    used = c.UPLOAD_HEAD_BYTES + sum(1 + len(e) for e in request.entries)
    return {
        "tan": request.tan,
        "dummy": request.dummy,
        "entries": [hexed(e) for e in request.entries],
        "head": hexed(data[:used]),
        "zero_padding": len(data) - used,
        "length": len(data),
        "sha256": hexed(hashlib.sha256(data).digest()),
    }


def fake_proofs(epochs: list[int]) -> tuple[PresenceProof, ...]:
    """Coverage reads only epochs; the signatures here are placeholders, never verified."""
    return tuple(PresenceProof(e, bytes(c.SIGNATURE_BYTES)) for e in epochs)
