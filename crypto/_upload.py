"""Upload requests (§13) and the signed configuration (§14)."""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import constants as c
from ._authority import AuthorityPublicKeys
from ._bundle import Policy
from ._entry import EvidenceLevel
from ._wire import Reader, u8, u16
from .errors import DecodeError, Error, VerificationError


@dataclass(frozen=True)
class UploadRequest:
    """§13 A confirmed case's entries with a TAN, or a dummy: always UPLOAD_BYTES long.

    The TAN is space-padded inside its fixed field, so the TAN's length does
    not change where the entries start.
    """

    tan: str
    entries: tuple[bytes, ...]
    dummy: bool = False

    def __post_init__(self) -> None:
        if not self.tan.isascii() or not 0 < len(self.tan) <= c.MAX_TAN_CHARS:
            raise Error(f"a TAN is 1 to {c.MAX_TAN_CHARS} ASCII characters")
        if len(self.entries) > c.MAX_UPLOAD_ENTRIES:
            raise Error(f"an upload carries at most {c.MAX_UPLOAD_ENTRIES} entries")
        if any(not c.MIN_ENTRY_BYTES <= len(e) <= c.MAX_ENTRY_BYTES for e in self.entries):
            raise Error("an entry has the wrong length")
        if c.UPLOAD_HEAD_BYTES + sum(1 + len(e) for e in self.entries) > c.UPLOAD_BYTES:
            raise Error(f"these entries do not fit one upload of {c.UPLOAD_BYTES} bytes")
        per_tag = Counter(e[: c.TAG_BYTES] for e in self.entries)
        if per_tag and max(per_tag.values()) > c.MAX_ENTRIES_PER_TAG:
            raise Error(f"an upload carries at most {c.MAX_ENTRIES_PER_TAG} entries per tag")

    def to_bytes(self) -> bytes:
        out = (
            c.UPLOAD_MAGIC
            + u8(c.UPLOAD_DUMMY if self.dummy else c.UPLOAD_REAL)
            + u8(len(self.tan))
            + self.tan.encode().ljust(c.MAX_TAN_CHARS, b" ")
            + u16(len(self.entries))
            + b"".join(u8(len(e)) + e for e in self.entries)
        )
        return out.ljust(c.UPLOAD_BYTES, b"\0")

    @classmethod
    def from_bytes(cls, data: bytes) -> UploadRequest:
        """Parses a request; raises ``DecodeError`` with a reason on any malformed input."""
        if len(data) != c.UPLOAD_BYTES:
            raise DecodeError(f"an upload is exactly {c.UPLOAD_BYTES} bytes, not {len(data)}")
        r = Reader(data, "an upload")
        if r.take(4) != c.UPLOAD_MAGIC:
            raise DecodeError("this is not a placecode/1 upload")
        flag = r.u8()
        if flag not in (c.UPLOAD_REAL, c.UPLOAD_DUMMY):
            raise DecodeError("an upload's flag is neither real nor dummy")
        tan_len = r.u8()
        tan_field = r.take(c.MAX_TAN_CHARS)
        if (
            not 0 < tan_len <= c.MAX_TAN_CHARS
            or not tan_field.isascii()
            or tan_field[tan_len:].strip(b" ")
        ):
            raise DecodeError("an upload's TAN is malformed")
        count = r.u16()
        if count > c.MAX_UPLOAD_ENTRIES:
            raise DecodeError(f"an upload carries at most {c.MAX_UPLOAD_ENTRIES} entries")
        entries = tuple(r.take(r.u8()) for _ in range(count))
        if any(r.rest()):
            raise DecodeError("an upload's padding is not zero")
        try:
            return cls(tan_field[:tan_len].decode(), entries, flag == c.UPLOAD_DUMMY)
        except Error as e:
            raise DecodeError(f"an upload is malformed: {e}") from None


def config_message(payload: bytes) -> bytes:
    """§14 The bytes the authority signs over its configuration."""
    return c.CONFIG_LABEL + payload


def sign_config(payload: bytes, signing_key: Ed25519PrivateKey) -> bytes:
    """§14 Signs the configuration document (UTF-8 JSON bytes, any content)."""
    return signing_key.sign(config_message(payload))


def verify_config(payload: bytes, signature: bytes, authority: AuthorityPublicKeys) -> None:
    """§14 Raises ``VerificationError`` unless the authority signed ``payload``."""
    try:
        Ed25519PublicKey.from_public_bytes(authority.sign_key).verify(
            signature, config_message(payload)
        )
    except (InvalidSignature, ValueError):
        raise VerificationError() from None


@dataclass(frozen=True)
class Configuration:
    """§14 The fields of the authority's configuration a device acts on."""

    protocol: int
    authority: AuthorityPublicKeys
    policy: Policy
    retention_days: int
    upload_bytes: int
    consent_bytes: int
    messages: tuple[str, ...]
    issued_at: int
    #: §18 k: the fewest entries of a shard, unless an index has one shard
    shard_min_entries: int = c.DEFAULT_SHARD_MIN_ENTRIES
    #: §18 F: the shards a device fetches of every index, hit or not
    shard_fetches: int = c.DEFAULT_SHARD_FETCHES


def _b64(text: object, size: int) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a string")
    raw = base64.b64decode(text, validate=True)
    if len(raw) != size:
        raise ValueError("wrong length")
    return raw


def _int(value: object, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError("not an integer in range")
    return value


def read_config(
    payload: bytes,
    signature: bytes,
    authority: AuthorityPublicKeys,
    *,
    held_issued_at: int | None = None,
) -> Configuration:
    """§14 Verifies, then parses, the configuration; refuses one older than the one held.

    Raises ``VerificationError`` for a bad signature, a document that names
    another authority, a malformed document and one issued before
    ``held_issued_at``; ``DecodeError`` (asking for an update) for another
    protocol version.
    """
    verify_config(payload, signature, authority)
    try:
        doc = json.loads(payload.decode())
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        protocol = doc["protocol"]
        if protocol != c.PROTOCOL_VERSION:
            raise DecodeError(
                f"the service speaks placecode/{protocol}, which this app does not know: "
                "update the app"
            )
        named = doc["authority"]
        keys = AuthorityPublicKeys(
            _b64(named["sign_key"], c.PUBLIC_KEY_BYTES), _b64(named["seal_key"], c.PUBLIC_KEY_BYTES)
        )
        if keys != authority or named["key_id"] != authority.key_id.hex():
            raise ValueError("another authority")
        policy = doc["policy"]
        levels = policy["warn_levels"]
        if not isinstance(levels, list):
            raise ValueError("warn levels are a list")
        index = doc["index"]
        if not isinstance(index, dict):
            raise ValueError("the index settings are an object")
        config = Configuration(
            protocol,
            keys,
            Policy(
                frozenset(EvidenceLevel(_int(x, 1, 3)) for x in levels),
                _int(policy["min_overlap_minutes"], 0, 60 * c.MAX_STAY_MINUTES),
            ),
            _int(doc["retention_days"], 1, 366),
            _int(doc["upload_bytes"], c.UPLOAD_BYTES, c.UPLOAD_BYTES),
            _int(doc["consent_bytes"], c.CONSENT_BYTES, c.CONSENT_BYTES),
            tuple(_str(m) for m in doc["messages"]),
            _int(doc["issued_at"], 0, 2**63 - 1),
            _int(index["shard_min_entries"], 1, 2**32 - 1),
            _int(index["shard_fetches"], 0, c.MAX_SHARD_FETCHES),
        )
    except DecodeError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error):
        raise VerificationError() from None
    if held_issued_at is not None and config.issued_at < held_issued_at:
        raise VerificationError()
    return config


def _str(value: object) -> str:
    if not isinstance(value, str) or len(value.encode()) > c.MAX_MESSAGE_BYTES:
        raise ValueError("a message is a string of at most 1024 bytes")
    return value
