"""The health authority's offline operations: keys, venue traces, the consent inbox.

The sealing secret opens consent messages and venue traces; it never needs to
be on the server, which holds only the signing seed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from placecode import crypto
from placecode.crypto import AuthorityKeys, AuthorityPublicKeys, ConsentMessage, Error, SealingKey

from ._files import write_private

#: file names inside an authority key directory, as ``placecode admin init`` writes them
SIGN_KEY_FILE = "signing.key"
SEAL_PUBLIC_FILE = "sealing.pub"
SEAL_KEY_FILE = "sealing.key"
PUBLIC_FILE = "authority.pub.json"


class KeyFileError(Error):
    """A key file that is missing, unreadable or malformed."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def public_to_json(public: AuthorityPublicKeys) -> dict[str, str]:
    """The ``authority`` object of the signed configuration (docs/api.md)."""
    return {
        "sign_key": _b64(public.sign_key),
        "seal_key": _b64(public.seal_key),
        "key_id": public.key_id.hex(),
    }


def public_from_json(obj: object, what: str = "the authority's public keys") -> AuthorityPublicKeys:
    """Parses ``public_to_json``'s output; the key id must match the signing key."""
    try:
        assert isinstance(obj, dict)
        public = AuthorityPublicKeys(
            base64.b64decode(obj["sign_key"], validate=True),
            base64.b64decode(obj["seal_key"], validate=True),
        )
        if "key_id" in obj and obj["key_id"] != public.key_id.hex():
            raise ValueError("key id")
    except (AssertionError, KeyError, TypeError, ValueError, binascii.Error, Error):
        raise KeyFileError(f"{what} are malformed") from None
    return public


def load_public(path: str | Path) -> AuthorityPublicKeys:
    """Reads an authority's public key file (``authority.pub.json``)."""
    try:
        obj = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise KeyFileError(f"no authority key file at {path}") from None
    except (OSError, ValueError):
        raise KeyFileError(f"cannot read the authority key file {path}") from None
    return public_from_json(obj, f"the authority keys in {path}")


def _read_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    except OSError as e:
        raise KeyFileError(f"cannot read {path}: {e.strerror}") from None
    if len(secret) != crypto.constants.SECRET_BYTES:
        raise KeyFileError(f"{path} is not a placecode key file")
    return secret


@dataclass(frozen=True)
class KeyFiles:
    sign_key: Path
    seal_key: Path
    seal_public: Path
    public: Path


def generate_keys(
    directory: Path, random: Callable[[int], bytes]
) -> tuple[KeyFiles, AuthorityKeys]:
    """Writes new authority keys into ``directory``; refuses to overwrite any.

    The layout is the service's key directory (PLACECODE_KEY_DIR): the service
    reads ``signing.key`` and ``sealing.pub``; move ``sealing.key`` offline to
    the staff who open consent messages and venue traces; ``authority.pub.json``
    is public (venue owners seal their confirmations to it).
    """
    keys = AuthorityKeys.generate(random)
    files = KeyFiles(
        directory / SIGN_KEY_FILE,
        directory / SEAL_KEY_FILE,
        directory / SEAL_PUBLIC_FILE,
        directory / PUBLIC_FILE,
    )
    for path in (files.sign_key, files.seal_key, files.seal_public, files.public):
        if path.exists():
            raise KeyFileError(f"{path} already exists: keys are never overwritten")
    write_private(files.seal_key, keys.seal_secret, exclusive=True)
    write_private(files.seal_public, keys.public.seal_key, exclusive=True)
    write_private(files.sign_key, keys.sign_seed, exclusive=True)
    files.public.write_text(json.dumps(public_to_json(keys.public), indent=2) + "\n")
    return files, keys


def load_sealing(path: str | Path) -> SealingKey:
    """The sealing secret from ``sealing.key``; the signing seed is not needed offline."""
    return SealingKey(_read_secret(Path(path)))


def open_inbox(
    messages: Iterable[tuple[int, str, bytes]], keys: SealingKey
) -> list[tuple[int, str, ConsentMessage | None]]:
    """Opens (id, received day, sealed) consent messages; ``None`` for one that fails."""
    out: list[tuple[int, str, ConsentMessage | None]] = []
    for message_id, day, sealed in messages:
        try:
            out.append((message_id, day, crypto.open_consent(sealed, keys)))
        except crypto.VerificationError:
            out.append((message_id, day, None))
    return out


def seal_trace_entries(
    sealed_trace: bytes,
    keys: SealingKey,
    message_id: int,
    random: Callable[[int], bytes],
    now: int | None = None,
) -> tuple[list[crypto.ConfirmedSlot], list[bytes]]:
    """Opens a venue owner's trace and seals its venue-confirmed entries for publishing.

    Given ``now``, a trace that confirms minutes after it is refused (§11): an
    outbreak window cannot lie in the future.
    """
    try:
        slots = crypto.open_trace(sealed_trace, keys)
    except crypto.VerificationError:
        raise Error(
            "this venue trace cannot be opened: it was sealed to another authority or damaged"
        ) from None
    if now is not None:
        ends = max(s.hour * 3600 + s.end_minute * 60 for s in slots)
        if ends > now - now % 60 + 60:
            raise Error(
                "this venue trace confirms hours that have not happened yet: ask the venue "
                "owner for a confirmation of past hours"
            )
    nonce_bytes = crypto.constants.NONCE_BYTES
    return slots, [s.seal(message_id, random(nonce_bytes)) for s in slots]


def parse_tag(text: str) -> bytes:
    """A 16-byte hour tag written in hex, as the inbox shows it."""
    try:
        tag = bytes.fromhex(text)
    except ValueError:
        tag = b""
    if len(tag) != crypto.constants.TAG_BYTES:
        raise Error(f"{text!r} is not a tag: a tag is 32 hexadecimal digits")
    return tag


def trace_tags(sealed_trace: bytes, keys: SealingKey) -> list[bytes]:
    """The tags of every venue-hour a venue owner's trace confirms."""
    try:
        return [slot.tag for slot in crypto.open_trace(sealed_trace, keys)]
    except crypto.VerificationError:
        raise Error(
            "this venue trace cannot be opened: it was sealed to another authority or damaged"
        ) from None
