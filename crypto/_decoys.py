"""§8 Decoy entries: what tops a bundle up to its minimum batch size."""

from __future__ import annotations

import random as random_
from collections.abc import Sequence

from . import constants as c
from ._entry import RandomBytes


def decoy_entries(count: int, lengths: Sequence[int], random: RandomBytes) -> list[bytes]:
    """``count`` random entries whose lengths are drawn from ``lengths`` (real entries' lengths).

    Random bytes are what AES-GCM output looks like to anyone without the entry
    key, so a decoy is told from a real entry by nobody who holds no matching
    tag. Lengths are drawn from ``lengths`` (``MIN_ENTRY_BYTES`` when it is
    empty) by a generator seeded from 16 bytes of ``random``, which this takes
    even when ``count`` is 0; every decoy's bytes come from ``random`` too, so
    a seeded ``random`` gives the same decoys.
    """
    if count < 0:
        raise ValueError("a negative number of decoys")
    choose = random_.Random(random(16))
    pool = list(lengths) or [c.MIN_ENTRY_BYTES]
    return [random(choose.choice(pool)) for _ in range(count)]
