"""Authority keys (§9), consent messages (§10) and venue traces (§11)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import nacl.exceptions
import nacl.public
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import constants as c
from ._entry import EntryContent, EvidenceLevel, confirm_message, seal_entry
from ._venue import Venue
from ._visit import entry_key, hour_tag, stay_windows
from ._wire import Reader, sha256, u8, u16, u32
from .errors import DecodeError, Error, VerificationError


def key_id(sign_key: bytes) -> bytes:
    """§8 The first 8 bytes of SHA-256(KEY_ID_LABEL || authority signing key)."""
    return sha256(c.KEY_ID_LABEL + sign_key)[: c.KEY_ID_BYTES]


@dataclass(frozen=True)
class AuthorityPublicKeys:
    """§9 What every device and venue tool is configured with."""

    sign_key: bytes
    seal_key: bytes

    def __post_init__(self) -> None:
        if len(self.sign_key) != c.PUBLIC_KEY_BYTES or len(self.seal_key) != c.PUBLIC_KEY_BYTES:
            raise Error("authority public keys are 32 bytes each")

    @property
    def key_id(self) -> bytes:
        return key_id(self.sign_key)


@dataclass(frozen=True)
class SealingKey:
    """§9 The authority's sealing secret alone: what an offline inbox needs."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != c.SECRET_BYTES:
            raise Error("a sealing secret is 32 bytes")

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.public.PrivateKey(self.secret).public_key)

    def unseal(self, sealed: bytes) -> bytes:
        try:
            return nacl.public.SealedBox(nacl.public.PrivateKey(self.secret)).decrypt(sealed)
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise VerificationError() from None


@dataclass(frozen=True)
class AuthorityKeys:
    """§9 The authority's two independent secrets.

    The signing seed (bundles, configuration) lives with the service; the
    sealing secret (consent messages, venue traces) can stay offline, since
    the service needs only its public half.
    """

    sign_seed: bytes
    seal_secret: bytes

    def __post_init__(self) -> None:
        if len(self.sign_seed) != c.SECRET_BYTES or len(self.seal_secret) != c.SECRET_BYTES:
            raise Error("an authority's signing seed and sealing secret are 32 bytes each")

    @classmethod
    def generate(cls, random: Callable[[int], bytes]) -> AuthorityKeys:
        return cls(random(c.SECRET_BYTES), random(c.SECRET_BYTES))

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.sign_seed)

    @property
    def sealing_key(self) -> nacl.public.PrivateKey:
        return nacl.public.PrivateKey(self.seal_secret)

    @property
    def public(self) -> AuthorityPublicKeys:
        return AuthorityPublicKeys(
            self.signing_key.public_key().public_bytes_raw(),
            bytes(self.sealing_key.public_key),
        )

    @property
    def sealing(self) -> SealingKey:
        return SealingKey(self.seal_secret)

    def unseal(self, sealed: bytes) -> bytes:
        return self.sealing.unseal(sealed)


def seal_to(public: AuthorityPublicKeys, plaintext: bytes) -> bytes:
    """Seals bytes to the authority (libsodium sealed box).

    Edge: the ephemeral key is drawn inside libsodium, the only randomness
    the protocol does not take as a parameter.
    """
    return nacl.public.SealedBox(nacl.public.PublicKey(public.seal_key)).encrypt(plaintext)


@dataclass(frozen=True)
class ConsentMessage:
    """§10 A warned person's contact details, for one exposure."""

    tag: bytes
    hour: int
    start_minute: int
    end_minute: int
    contact: str

    def __post_init__(self) -> None:
        if len(self.tag) != c.TAG_BYTES or not 0 <= self.hour < 2**32:
            raise Error("a consent message names a 16-byte tag and a 32-bit hour")
        if not 0 <= self.start_minute < self.end_minute <= 60:
            raise Error("a consent message's window covers minutes 0 to 60")
        if len(self.contact.encode()) > c.MAX_CONTACT_BYTES:
            raise Error(f"contact details are at most {c.MAX_CONTACT_BYTES} UTF-8 bytes")

    def to_bytes(self) -> bytes:
        contact = self.contact.encode()
        head = (
            u8(c.PROTOCOL_VERSION)
            + self.tag
            + u32(self.hour)
            + u8(self.start_minute)
            + u8(self.end_minute)
            + u16(len(contact))
        )
        return (head + contact).ljust(c.CONSENT_PLAINTEXT_BYTES, b"\0")

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsentMessage:
        try:
            r = Reader(data, "a consent message")
            if r.u8() != c.PROTOCOL_VERSION or len(data) != c.CONSENT_PLAINTEXT_BYTES:
                raise DecodeError("not a placecode/1 consent message")
            tag, hour, start, end = r.take(c.TAG_BYTES), r.u32(), r.u8(), r.u8()
            raw = r.take(r.u16())
            if any(data[c.CONSENT_HEAD_BYTES + len(raw) :]):
                raise DecodeError("a consent message's padding is not zero")
            contact = raw.decode()
            return cls(tag, hour, start, end, contact)
        except (Error, UnicodeDecodeError):
            raise DecodeError("a consent message is malformed") from None


def seal_consent(message: ConsentMessage, authority: AuthorityPublicKeys) -> bytes:
    """§10 Always CONSENT_BYTES long, whatever the contact details."""
    return seal_to(authority, message.to_bytes())


def open_consent(sealed: bytes, keys: AuthorityKeys | SealingKey) -> ConsentMessage:
    """§10 Opens a consent message; any failure raises ``VerificationError``."""
    if len(sealed) != c.CONSENT_BYTES:
        raise VerificationError()
    try:
        return ConsentMessage.from_bytes(keys.unseal(sealed))
    except DecodeError:
        raise VerificationError() from None


@dataclass(frozen=True)
class ConfirmedSlot:
    """§11 One venue-hour the owner confirms: what the authority needs to seal an entry."""

    tag: bytes
    key: bytes
    hour: int
    start_minute: int
    end_minute: int
    signature: bytes

    def to_bytes(self) -> bytes:
        return (
            self.tag
            + self.key
            + u32(self.hour)
            + u8(self.start_minute)
            + u8(self.end_minute)
            + self.signature
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ConfirmedSlot:
        r = Reader(data, "a confirmed slot")
        tag, key, hour = r.take(c.TAG_BYTES), r.take(c.SECRET_BYTES), r.u32()
        start, end, signature = r.u8(), r.u8(), r.take(c.SIGNATURE_BYTES)
        r.done()
        if not 0 <= start < end <= 60:
            raise DecodeError("a confirmed slot's window is malformed")
        return cls(tag, key, hour, start, end, signature)

    def seal(self, message_id: int, nonce: bytes) -> bytes:
        """§11 The venue-confirmed entry the authority publishes for this slot."""
        content = EntryContent(
            EvidenceLevel.VENUE_CONFIRMED,
            self.start_minute,
            self.end_minute,
            message_id,
            self.signature,
        )
        return seal_entry(self.tag, self.key, content, nonce)


def confirm_window(
    venue: Venue, start: int, end: int, *, posters: tuple[int, ...] = (0,), screen: bool = True
) -> list[ConfirmedSlot]:
    """§11 The owner's confirmation of [start, end) (Unix seconds) for every code in use.

    A screen visitor keeps the day code of the day it checked in, and a stay
    lasts at most 12 hours, so an hour before noon UTC is confirmed under its
    own day's code and the previous day's.
    """
    if not 0 < end - start <= c.RETENTION_DAYS * 86400:
        raise Error("an outbreak window is longer than zero and at most the retention period")
    out = []
    for hour, lo, hi in stay_windows(start, end):
        codes = [venue.code_keys(c.KIND_POSTER, g) for g in posters]
        if screen:
            day = hour // 24
            codes.append(venue.code_keys(c.KIND_SCREEN, day))
            if hour % 24 < c.MAX_STAY_MINUTES // 60 and day > 0:
                codes.append(venue.code_keys(c.KIND_SCREEN, day - 1))
        for keys in codes:
            tag = hour_tag(keys.bound_key, hour)
            signature = keys.sign(confirm_message(tag, lo, hi))
            out.append(ConfirmedSlot(tag, entry_key(keys.bound_key, hour), hour, lo, hi, signature))
    return out


def seal_trace(slots: list[ConfirmedSlot], authority: AuthorityPublicKeys) -> bytes:
    """§11 The owner's confirmation, sealed to the authority."""
    if not slots:
        raise Error("a venue trace confirms at least one slot")
    return seal_to(authority, u8(c.PROTOCOL_VERSION) + b"".join(s.to_bytes() for s in slots))


def open_trace(sealed: bytes, keys: AuthorityKeys | SealingKey) -> list[ConfirmedSlot]:
    """§11 Opens an owner's trace; a wrong key, tampering or no slot: ``VerificationError``."""
    data = keys.unseal(sealed)
    if len(data) < 1 + c.CONFIRMED_SLOT_BYTES or data[0] != c.PROTOCOL_VERSION:
        raise VerificationError()
    if (len(data) - 1) % c.CONFIRMED_SLOT_BYTES:
        raise VerificationError()
    n = c.CONFIRMED_SLOT_BYTES
    try:
        return [ConfirmedSlot.from_bytes(data[i : i + n]) for i in range(1, len(data), n)]
    except DecodeError:
        raise VerificationError() from None
