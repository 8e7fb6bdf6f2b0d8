"""The health authority's offline operations: keys, venue traces, the consent inbox.

The sealing secret opens consent messages and venue traces; it never needs to
be on the server, which holds only the signing seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from placecode import crypto
from placecode.crypto import (
    AuthorityKeys,
    AuthorityPublicKeys,
    ConsentMessage,
    Error,
    SealingKey,
    rules,
)

from ._files import write_private

#: file names inside an authority key directory, as ``placecode admin init`` writes them
SIGN_KEY_FILE = rules.SIGNING_KEY_FILE
SEAL_PUBLIC_FILE = rules.SEALING_PUBLIC_FILE
SEAL_KEY_FILE = rules.SEALING_KEY_FILE
PUBLIC_FILE = rules.PUBLIC_KEYS_FILE


class KeyFileError(Error):
    """A key file that is missing, unreadable or malformed."""


def public_to_json(public: AuthorityPublicKeys) -> dict[str, str]:
    """The ``authority`` object of the signed configuration (docs/api.md)."""
    return rules.authority_to_json(public)


def public_from_json(obj: object, what: str = "the authority's public keys") -> AuthorityPublicKeys:
    """Parses ``public_to_json``'s output; the key id must match the signing key."""
    try:
        return rules.authority_from_json(obj)
    except Error:
        raise KeyFileError(f"{what} are malformed") from None


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
    written = rules.key_files(keys)
    for name in written:
        if (directory / name).exists():
            raise KeyFileError(f"{directory / name} already exists: keys are never overwritten")
    for name, data in written.items():
        write_private(directory / name, data, exclusive=True)
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


#: what a published slot's digest begins with (docs/api.md, ``POST /v1/venue-entries``)
PUBLISHED_SLOT_LABEL = b"placecode/1 published slot"


def slot_digest(slot: crypto.ConfirmedSlot) -> bytes:
    """What the service remembers of a published slot, to refuse publishing it twice.

    SHA-256 over the label and the slot's bytes: the same for every sealing of
    the same confirmation (entries differ, their nonces are fresh), and it
    covers the slot's entry key, which the service never holds, so the digest
    tells the service nothing about the venue, the hour or the window.
    """
    return hashlib.sha256(PUBLISHED_SLOT_LABEL + slot.to_bytes()).digest()


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
