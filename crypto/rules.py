"""The reference service's rules that its clients must share, in their one home.

The protocol leaves these to the service (docs/api.md): what a TAN looks like,
the default warning message, how many entries one upload may carry, how the
authority's public keys are written in JSON and what its key folder holds.
They live here, in the one package both the service and the clients import, so
that the two cannot drift apart. Nothing here reads or writes a file.

A TAN is 12 digits of Crockford's base32 (the protocol carries any 1 to 32
ASCII characters, §13): typed in any case, hyphens and spaces ignored, I and L
read as 1, O as 0.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from . import constants as c
from ._authority import AuthorityKeys, AuthorityPublicKeys
from .errors import DecodeError, Error

#: the message table of the default configuration and of every bundle header
DEFAULT_MESSAGES = ("You shared a venue with a confirmed case. Watch for symptoms and get tested.",)
#: venue-hours one person can be present at in one hour, on average over the
#: retention period: the service cannot read an entry's hour (it is sealed), so
#: it bounds the count instead
MAX_VENUES_PER_HOUR = 2

#: Crockford's base32: no I, L, O or U, so a TAN read aloud is not misheard
TAN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: digits in a TAN, shown in groups of four: XXXX-XXXX-XXXX
TAN_DIGITS = 12
TAN_GROUP = 4
#: what a person may type: any case, spaces and hyphens, and Crockford's look-alikes
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def tan_digits(text: str) -> str:
    """The TAN's 12 digits, as typed in any case, with hyphens, spaces and look-alikes.

    Raises ``DecodeError`` for anything that is not a TAN.
    """
    raw = "".join(text.split()).upper().translate(_READ_AS)
    if len(raw) != TAN_DIGITS or any(ch not in TAN_ALPHABET for ch in raw):
        raise DecodeError(
            "this is not a TAN: a TAN from your health authority looks like ABCD-EFGH-JKMN"
        )
    return raw


def normalize_tan(text: str) -> str:
    """The TAN as the service shows it (XXXX-XXXX-XXXX); raises ``DecodeError`` otherwise."""
    raw = tan_digits(text)
    return "-".join(raw[i : i + TAN_GROUP] for i in range(0, TAN_DIGITS, TAN_GROUP))


def random_tan(random: Callable[[int], bytes]) -> str:
    """A TAN drawn from ``random(n) -> bytes``; 256 is a multiple of 32, so unbiased."""
    return normalize_tan("".join(TAN_ALPHABET[b % 32] for b in random(TAN_DIGITS)))


def max_upload_entries(retention_days: int) -> int:
    """Entries the service takes in one upload: the format's bound, or fewer."""
    return min(c.MAX_UPLOAD_ENTRIES, retention_days * 24 * MAX_VENUES_PER_HOUR)


#: the authority's key folder (PLACECODE_KEY_DIR): the service reads the signing
#: seed and the sealing public key; the sealing secret goes offline; the public
#: keys file is for venue owners (``placecode venue confirm --authority``)
SIGNING_KEY_FILE = "signing.key"
SEALING_PUBLIC_FILE = "sealing.pub"
SEALING_KEY_FILE = "sealing.key"
PUBLIC_KEYS_FILE = "authority.pub.json"


def authority_to_json(public: AuthorityPublicKeys) -> dict[str, str]:
    """The ``authority`` object of the signed configuration (docs/api.md), and the
    content of ``authority.pub.json``."""
    return {
        "sign_key": base64.b64encode(public.sign_key).decode(),
        "seal_key": base64.b64encode(public.seal_key).decode(),
        "key_id": public.key_id.hex(),
    }


def authority_from_json(obj: object) -> AuthorityPublicKeys:
    """Parses ``authority_to_json``'s output; the key id, if given, must match.

    Raises ``DecodeError`` for anything else.
    """
    try:
        if not isinstance(obj, dict):
            raise TypeError
        public = AuthorityPublicKeys(
            base64.b64decode(obj["sign_key"], validate=True),
            base64.b64decode(obj["seal_key"], validate=True),
        )
    except (KeyError, TypeError, ValueError, binascii.Error, Error):
        raise DecodeError("these are not an authority's public keys") from None
    if "key_id" in obj and obj["key_id"] != public.key_id.hex():
        raise DecodeError("the key id does not match the authority's signing key")
    return public


def key_files(keys: AuthorityKeys) -> dict[str, bytes]:
    """A new key folder: each file's name and content, in the order to write them
    (the signing seed last, so a folder holding it is complete)."""
    return {
        SEALING_KEY_FILE: keys.seal_secret,
        SEALING_PUBLIC_FILE: keys.public.seal_key,
        PUBLIC_KEYS_FILE: key_files_public(keys.public),
        SIGNING_KEY_FILE: keys.sign_seed,
    }


def key_files_public(public: AuthorityPublicKeys) -> bytes:
    """The content of ``authority.pub.json``."""
    return (json.dumps(authority_to_json(public), indent=2) + "\n").encode()
