"""The owner's confirmation of an outbreak window, sealed to the health authority."""

from __future__ import annotations

from placecode import crypto
from placecode.crypto import AuthorityPublicKeys, Venue


def confirmation(
    venue: Venue,
    start: int,
    end: int,
    authority: AuthorityPublicKeys,
    *,
    posters: tuple[int, ...] = (0,),
    screen: bool = True,
) -> tuple[int, bytes]:
    """The owner's confirmation of [start, end) sealed to the authority: (slots, sealed)."""
    slots = crypto.confirm_window(venue, start, end, posters=posters, screen=screen)
    return len(slots), crypto.seal_trace(slots, authority)
