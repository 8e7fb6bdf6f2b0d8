"""Check-in, check-out and the hour slots a device keeps (§6)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from . import constants as c
from ._venue import PresenceProof, VenueCode
from ._wire import hkdf, hmac_sha256, u32
from .errors import CodeError, Error


def hour_tag(bound: bytes, hour: int) -> bytes:
    """§6 tag_h = HMAC-SHA256(K, TAG_LABEL || u32 h), first 16 bytes, K the bound key."""
    return hmac_sha256(bound, c.TAG_LABEL + u32(hour))[: c.TAG_BYTES]


def entry_key(bound: bytes, hour: int) -> bytes:
    """§6 key_h = HKDF-SHA256(ikm=K, salt=none, info=ENTRY_KEY_LABEL || u32 h, L=32)."""
    return hkdf(bound, c.ENTRY_KEY_LABEL + u32(hour))


def verification_code(bound: bytes, proof: PresenceProof) -> str:
    """§6 The six digits of a presence proof: what the screen showing it and a device
    that scanned it both show. Only the venue's signature of an epoch yields them."""
    mac = hmac_sha256(bound, c.VERIFY_LABEL + u32(proof.epoch) + proof.signature)
    number = int.from_bytes(mac[:8], "big") % 10**c.VERIFY_DIGITS
    return f"{number:0{c.VERIFY_DIGITS}d}"


def _check_live(code: VenueCode, now: int) -> PresenceProof:
    proof = code.proof
    if proof is None:
        raise CodeError("this poster has no live code to check")
    started = proof.epoch * c.EPOCH_SECONDS
    if started > now + c.MAX_CLOCK_SKEW_SECONDS:
        raise CodeError("this code is dated in the future: check the time on this device")
    if now - started > c.MAX_CODE_AGE_SECONDS:
        raise CodeError("this code expired: scan the live code on the venue's screen")
    if not proof.verify(code.venue_public_key, code.code_id):
        raise CodeError("this code was not signed by the venue: do not use it")
    return proof


@dataclass(frozen=True)
class Slot:
    """§6 One hour of a stay: its tag, its entry key and the minutes present."""

    hour: int
    start_minute: int
    end_minute: int
    tag: bytes
    key: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 60:
            raise Error("a slot covers minutes 0 to 60 of its hour, end after start")
        if len(self.tag) != c.TAG_BYTES or len(self.key) != c.SECRET_BYTES:
            raise Error("a slot has a 16-byte tag and a 32-byte key")


def stay_windows(start: int, end: int) -> list[tuple[int, int, int]]:
    """§6 (hour, start minute, end minute) of each hour the stay [start, end) touches.

    The stay is widened to whole minutes: its first minute and its last, started one.
    """
    first = start // 60
    last = -(-end // 60)
    windows = []
    for hour in range(first // 60, -(-last // 60)):
        lo = max(first, hour * 60) - hour * 60
        hi = min(last, hour * 60 + 60) - hour * 60
        if lo < hi:
            windows.append((hour, lo, hi))
    return windows


def slots_for(bound: bytes, start: int, end: int) -> tuple[Slot, ...]:
    """§6 The hour slots of the stay [start, end) in Unix seconds, K the bound key."""
    return tuple(
        Slot(hour, lo, hi, hour_tag(bound, hour), entry_key(bound, hour))
        for hour, lo, hi in stay_windows(start, end)
    )


@dataclass(frozen=True)
class Visit:
    """§6 What a device keeps of a stay after check-out: no code key."""

    name: str
    category: int
    kind: int
    venue_public_key: bytes
    code_id: bytes
    entered_at: int
    left_at: int
    slots: tuple[Slot, ...]
    proofs: tuple[PresenceProof, ...]


@dataclass(frozen=True)
class CheckIn:
    """§6 A device's state while checked in; it holds the code key."""

    code: VenueCode
    entered_at: int
    proofs: tuple[PresenceProof, ...]

    @property
    def auto_checkout_at(self) -> int:
        """When the device checks out by itself: the venue's default stay."""
        return self.entered_at + self.code.stay_minutes * 60

    def verification_code(self, now: int) -> str | None:
        """§6 The number of the latest scanned proof while it is fresh; a poster has none."""
        if not self.proofs:
            return None
        proof = self.proofs[-1]
        if now - proof.epoch * c.EPOCH_SECONDS > c.MAX_CODE_AGE_SECONDS:
            return None
        return verification_code(self.code.bound_key, proof)

    def is_same_code(self, code: VenueCode) -> bool:
        """§6 Same code key, kind and public key: the bound keys are equal."""
        return hmac.compare_digest(self.code.bound_key, code.bound_key)

    def rescan(self, code: VenueCode, now: int) -> CheckIn:
        """§6 A rescan of the same code; a screen's fresh proof becomes the exit proof."""
        if not self.is_same_code(code):
            raise CodeError("this is not the code you checked in with")
        if code.kind != c.KIND_SCREEN:
            return self
        proof = _check_live(code, now)
        return CheckIn(self.code, self.entered_at, (self.proofs[0], proof))

    def check_out(self, left_at: int) -> Visit:
        """§6 The visit to keep; a stay never runs past the automatic check-out."""
        left_at = min(left_at, self.auto_checkout_at)
        if left_at <= self.entered_at:
            raise Error("check-out must come after check-in")
        return Visit(
            self.code.name,
            self.code.category,
            self.code.kind,
            self.code.venue_public_key,
            self.code.code_id,
            self.entered_at,
            left_at,
            slots_for(self.code.bound_key, self.entered_at, left_at),
            self.proofs,
        )


def check_in(code: VenueCode, now: int) -> CheckIn:
    """§6 Checks a scanned code in at ``now``; a screen code must be live and signed."""
    if code.kind == c.KIND_SCREEN:
        return CheckIn(code, now, (_check_live(code, now),))
    return CheckIn(code, now, ())
