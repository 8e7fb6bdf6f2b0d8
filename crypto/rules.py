"""The reference service's rules that its clients must share, in their one home.

The protocol leaves these to the service (docs/api.md): what a TAN looks like,
the default warning message, how many entries one upload may carry. They live
here, in the one package both the service and the clients import, so that the
two cannot drift apart.

A TAN is 12 digits of Crockford's base32 (the protocol carries any 1 to 32
ASCII characters, §13): typed in any case, hyphens and spaces ignored, I and L
read as 1, O as 0.
"""

from __future__ import annotations

from collections.abc import Callable

from . import constants as c
from .errors import DecodeError

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
