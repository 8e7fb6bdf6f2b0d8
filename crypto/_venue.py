"""Venue keys (§3) and the QR payload (§4)."""

from __future__ import annotations

import base64
import binascii
import enum
import urllib.parse
from dataclasses import dataclass
from functools import cached_property, lru_cache

import nacl.bindings
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import constants as c
from ._wire import Reader, hkdf, sha256, u8, u16, u32
from .errors import DecodeError, Error

NOT_A_PLACECODE = "this is not a placecode QR code"
INVALID_KEY = "this placecode QR code carries an invalid venue key: do not use it"
#: §4 the white space stripped around a scanned text: ASCII only
_WHITE_SPACE = " \t\n\r\x0b\x0c"
#: §4 ASCII letters only: no other character lower-cases into "https://"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Category(enum.IntEnum):
    """§4 The kind of venue, one byte in the QR payload."""

    OTHER = 0
    RESTAURANT = 1
    BAR = 2
    CAFE = 3
    SHOP = 4
    OFFICE = 5
    SCHOOL = 6
    HEALTHCARE = 7
    EVENT = 8
    TRANSPORT = 9
    GYM = 10
    WORSHIP = 11
    HOTEL = 12
    CULTURE = 13
    PUBLIC_SERVICE = 14


def bound_key(code_key: bytes, kind: int, venue_public_key: bytes) -> bytes:
    """§6 K = HKDF(C, BIND_LABEL || u8 kind || venue public key): the code key bound to its code.

    Every tag, entry key, code id and verification number derives from K, so a
    code re-encoded with another kind or another public key matches nothing.
    """
    return hkdf(code_key, c.BIND_LABEL + u8(kind) + venue_public_key)


def code_id(bound: bytes) -> bytes:
    """§6 The identifier a presence proof signs: SHA-256(CODE_ID_LABEL || bound key)."""
    return sha256(c.CODE_ID_LABEL + bound)


@lru_cache(maxsize=1024)
def valid_public_key(public_key: bytes) -> bool:
    """§2 Whether 32 bytes are the canonical encoding of an Ed25519 point of prime order.

    libsodium's check refuses non-canonical encodings, points off the curve,
    the eight points of small order and points outside the prime-order subgroup.
    Remembered (a pure function of its bytes, a scalar multiplication each):
    parsing a code and verifying its proof ask about the same key.
    """
    return len(public_key) == c.PUBLIC_KEY_BYTES and bool(
        nacl.bindings.crypto_core_ed25519_is_valid_point(public_key)
    )


def presence_message(code_id_: bytes, epoch: int) -> bytes:
    """§5 The bytes a presence proof signs."""
    return c.PRESENCE_LABEL + code_id_ + u32(epoch)


@lru_cache(maxsize=4096)
def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """§2 RFC 8032 verification under a venue key, which must be of prime order;
    remembered, since matching meets the same presence proofs in every hour of an
    uploader's stay (a pure function of its bytes)."""
    if not valid_public_key(public_key):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class PresenceProof:
    """§5 The venue's signature over a code and a 30-second epoch."""

    epoch: int
    signature: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.epoch < 2**32 or len(self.signature) != c.SIGNATURE_BYTES:
            raise Error("a presence proof needs a 32-bit epoch and a 64-byte signature")

    def verify(self, venue_public_key: bytes, code_id_: bytes) -> bool:
        return verify_signature(
            venue_public_key, self.signature, presence_message(code_id_, self.epoch)
        )


@dataclass(frozen=True)
class VenueCode:
    """§4 What a venue's QR code carries."""

    kind: int
    code_key: bytes
    venue_public_key: bytes
    name: str
    category: int
    stay_minutes: int
    proof: PresenceProof | None = None

    def __post_init__(self) -> None:
        if self.kind not in (c.KIND_POSTER, c.KIND_SCREEN):
            raise Error("a venue code is a poster or a screen")
        if len(self.code_key) != c.SECRET_BYTES:
            raise Error("a code key is 32 bytes")
        if len(self.venue_public_key) != c.PUBLIC_KEY_BYTES:
            raise Error("a venue public key is 32 bytes")
        if len(self.name.encode()) > c.MAX_NAME_BYTES:
            raise Error(f"a venue name is at most {c.MAX_NAME_BYTES} UTF-8 bytes")
        if not 0 <= self.category <= 255:
            raise Error("a category is one byte")
        if not 1 <= self.stay_minutes <= c.MAX_STAY_MINUTES:
            raise Error(f"the default stay is 1 to {c.MAX_STAY_MINUTES} minutes")
        if (self.kind == c.KIND_SCREEN) != (self.proof is not None):
            raise Error("a screen code carries a presence proof and a poster does not")

    @cached_property
    def bound_key(self) -> bytes:
        return bound_key(self.code_key, self.kind, self.venue_public_key)

    @property
    def code_id(self) -> bytes:
        return code_id(self.bound_key)

    def to_bytes(self) -> bytes:
        name = self.name.encode()
        out = (
            u8(c.PROTOCOL_VERSION)
            + u8(self.kind)
            + self.code_key
            + self.venue_public_key
            + u8(self.category)
            + u16(self.stay_minutes)
            + u8(len(name))
            + name
        )
        if self.proof is not None:
            out += u32(self.proof.epoch) + self.proof.signature
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> VenueCode:
        if len(data) < c.MIN_PAYLOAD_BYTES or not 1 <= data[0] <= c.MAX_KNOWN_FUTURE_VERSION:
            raise DecodeError(NOT_A_PLACECODE)
        if data[0] != c.PROTOCOL_VERSION:
            raise DecodeError(
                f"this QR code uses placecode version {data[0]}, which this app does not "
                "know: update the app"
            )
        r = Reader(data, "this placecode QR code")
        r.u8()
        kind = r.u8()
        if kind not in (c.KIND_POSTER, c.KIND_SCREEN):
            raise DecodeError(NOT_A_PLACECODE)
        code_key = r.take(c.SECRET_BYTES)
        public_key = r.take(c.PUBLIC_KEY_BYTES)
        if not valid_public_key(public_key):
            raise DecodeError(INVALID_KEY)
        category = r.u8()
        stay = r.u16()
        name_len = r.u8()
        if name_len > c.MAX_NAME_BYTES:
            raise DecodeError(NOT_A_PLACECODE)
        try:
            name = r.take(name_len).decode()
        except UnicodeDecodeError:
            raise DecodeError("this placecode QR code has a damaged venue name") from None
        proof = None
        if kind == c.KIND_SCREEN:
            proof = PresenceProof(r.u32(), r.take(c.SIGNATURE_BYTES))
        r.done()
        if not 1 <= stay <= c.MAX_STAY_MINUTES:
            raise DecodeError(NOT_A_PLACECODE)
        return cls(kind, code_key, public_key, name, category, stay, proof)

    def to_url(self, checkin_url: str = c.DEFAULT_CHECKIN_URL) -> str:
        """§4 The QR text: the check-in URL, ``#`` and the payload in unpadded base32."""
        if not _is_checkin_url(checkin_url):
            raise Error("a check-in URL is an http(s) URL without a fragment, query or space")
        return checkin_url + "#" + base64.b32encode(self.to_bytes()).decode().rstrip("=")

    @classmethod
    def from_url(cls, text: str | bytes) -> VenueCode:
        """Parses what a scanner read. Raises only ``DecodeError``."""
        if isinstance(text, bytes):
            try:
                text = text.decode()
            except UnicodeDecodeError:
                raise DecodeError(NOT_A_PLACECODE) from None
        text = text.strip(_WHITE_SPACE)
        head, sep, fragment = text.partition("#")
        scheme = head[:8].translate(_ASCII_LOWER)
        if not sep or not scheme.startswith(("https://", "http://")):
            raise DecodeError(NOT_A_PLACECODE)
        # ASCII first: str.upper() would turn "ß" into "SS"
        if not fragment.isascii() or not fragment.isalnum():
            raise DecodeError(NOT_A_PLACECODE)
        fragment = fragment.upper()
        try:
            raw = base64.b32decode(fragment + "=" * (-len(fragment) % 8))
        except (binascii.Error, ValueError):
            raise DecodeError(NOT_A_PLACECODE) from None
        return cls.from_bytes(raw)


def _is_checkin_url(text: str) -> bool:
    return (
        text.isascii()
        and text.isprintable()
        and not any(ch in text for ch in " #?")
        and text.lower().startswith(("https://", "http://"))
    )


def checkin_url(public_url: str) -> str:
    """§4 The check-in URL of a service at ``public_url``: scheme and host upper-cased
    (both are case-insensitive, and upper case is what QR alphanumeric mode holds),
    the path kept as it is, then ``CHECKIN_PATH``.
    """
    parts = urllib.parse.urlsplit(public_url.strip())
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not _is_checkin_url(public_url.strip())
    ):
        raise Error(
            f"{public_url!r} is not a service's public URL like https://checkin.example.org"
        )
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path.rstrip('/')}" + (
        c.CHECKIN_PATH
    )


def _context(kind: int, number: int) -> bytes:
    prefix = c.POSTER_CONTEXT if kind == c.KIND_POSTER else c.DAY_CONTEXT
    return prefix + u32(number)


@dataclass(frozen=True)
class CodeKeys:
    """§3 The keys of one code: a poster generation or a screen's UTC day."""

    kind: int
    number: int
    code_key: bytes
    signing_seed: bytes

    @cached_property
    def _private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.signing_seed)

    @cached_property
    def public_key(self) -> bytes:
        return self._private_key.public_key().public_bytes_raw()

    @cached_property
    def bound_key(self) -> bytes:
        return bound_key(self.code_key, self.kind, self.public_key)

    @property
    def code_id(self) -> bytes:
        return code_id(self.bound_key)

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def presence_proof(self, epoch: int) -> PresenceProof:
        return PresenceProof(epoch, self.sign(presence_message(self.code_id, epoch)))


@dataclass(frozen=True)
class Venue:
    """§3 A venue owner's keys. The secret never leaves the owner's tool."""

    secret: bytes
    name: str
    category: int = Category.OTHER
    stay_minutes: int = c.DEFAULT_STAY_MINUTES

    def __post_init__(self) -> None:
        if len(self.secret) != c.SECRET_BYTES:
            raise Error("a venue secret is 32 bytes")
        VenueCode(
            c.KIND_POSTER,
            bytes(32),
            bytes(32),
            self.name,
            self.category,
            self.stay_minutes,
        )

    @classmethod
    def generate(
        cls,
        random_bytes: bytes,
        name: str,
        category: int = Category.OTHER,
        stay_minutes: int = c.DEFAULT_STAY_MINUTES,
    ) -> Venue:
        return cls(random_bytes, name, category, stay_minutes)

    def code_keys(self, kind: int, number: int) -> CodeKeys:
        """§3 Keys of poster generation ``number`` or of screen day ``number``."""
        if kind not in (c.KIND_POSTER, c.KIND_SCREEN) or not 0 <= number < 2**32:
            raise Error("a code is a poster generation or a screen day (32-bit)")
        ctx = _context(kind, number)
        return CodeKeys(
            kind,
            number,
            hkdf(self.secret, c.CODE_KEY_LABEL + ctx),
            hkdf(self.secret, c.VENUE_SIGN_LABEL + ctx),
        )

    def poster(self, generation: int = 0) -> VenueCode:
        """§4 The code printed on a poster."""
        keys = self.code_keys(c.KIND_POSTER, generation)
        return VenueCode(
            c.KIND_POSTER,
            keys.code_key,
            keys.public_key,
            self.name,
            self.category,
            self.stay_minutes,
        )

    def screen(self, now: int) -> VenueCode:
        """§4 The code a rotating screen shows at time ``now`` (Unix seconds, UTC)."""
        keys = self.code_keys(c.KIND_SCREEN, now // 86400)
        return VenueCode(
            c.KIND_SCREEN,
            keys.code_key,
            keys.public_key,
            self.name,
            self.category,
            self.stay_minutes,
            keys.presence_proof(now // c.EPOCH_SECONDS),
        )
