"""§8 Decoy entries: what tops a bundle's public section up to its minimum batch size."""

from __future__ import annotations

import random as random_
from collections.abc import Iterable, Sequence

from . import constants as c
from ._entry import RandomBytes


def tag_groups(entries: Iterable[bytes]) -> list[tuple[int, ...]]:
    """The shape of each group of entries under one tag: its lengths, sorted, in tag order."""
    groups: dict[bytes, list[int]] = {}
    for entry in entries:
        groups.setdefault(entry[: c.TAG_BYTES], []).append(len(entry))
    return [tuple(sorted(groups[tag])) for tag in sorted(groups)]


def decoy_entries(count: int, shapes: Sequence[Sequence[int]], random: RandomBytes) -> list[bytes]:
    """``count`` random entries in tag groups shaped like real ones (``tag_groups``).

    Random bytes are what AES-GCM output looks like to anyone without the entry
    key, so a decoy is told from a real entry by nobody who holds no matching
    tag. Real entries share a tag when several cases (or one case's pieces of
    an hour, §7) report one venue-hour; so does a decoy group: a shape drawn
    from ``shapes`` (one ``MIN_ENTRY_BYTES`` entry when it is empty) gives a
    fresh random tag and one entry per length, the last group cut to fit
    ``count``. Shapes are drawn by a generator seeded from 16 bytes of
    ``random``, which this takes even when ``count`` is 0; every byte of a
    decoy comes from ``random`` too, so a seeded ``random`` gives the same
    decoys.
    """
    if count < 0:
        raise ValueError("a negative number of decoys")
    choose = random_.Random(random(16))
    pool = [tuple(shape) for shape in shapes if shape] or [(c.MIN_ENTRY_BYTES,)]
    out: list[bytes] = []
    while len(out) < count:
        shape = choose.choice(pool)[: count - len(out)]
        tag = random(c.TAG_BYTES)
        out.extend(tag + random(length - c.TAG_BYTES) for length in shape)
    return out
