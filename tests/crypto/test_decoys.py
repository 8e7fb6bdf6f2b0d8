"""Decoy entries (§8): tag groups shaped like real ones, bytes from the injected random."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placecode.crypto import constants as c
from placecode.crypto import decoy_entries, tag_groups

lengths = st.integers(c.MIN_ENTRY_BYTES, c.MAX_ENTRY_BYTES)
shapes = st.lists(st.lists(lengths, min_size=1, max_size=3).map(sorted).map(tuple), max_size=10)


@given(count=st.integers(0, 50), shapes=shapes, seed=st.integers(0, 2**32))
def test_decoys_take_the_given_shapes_and_the_injected_bytes(
    count: int, shapes: list[tuple[int, ...]], seed: int
) -> None:
    first = decoy_entries(count, shapes, random.Random(seed).randbytes)
    assert len(first) == count
    allowed = shapes or [(c.MIN_ENTRY_BYTES,)]
    groups = tag_groups(first)
    # every group is a real group's shape, or (the last one) a cut of it
    assert all(any(g == tuple(sorted(s[: len(g)])) for s in allowed) for g in groups)
    assert sum(len(g) for g in groups) == count
    assert decoy_entries(count, shapes, random.Random(seed).randbytes) == first


def test_tag_groups_read_shapes_and_decoys_repeat_tags_like_real_entries() -> None:
    tag, other = os.urandom(c.TAG_BYTES), os.urandom(c.TAG_BYTES)
    real = [tag + bytes(32), tag + bytes(101), tag + bytes(32), other + bytes(169)]
    assert sorted(tag_groups(real)) == [(48, 48, 117), (185,)]
    decoys = decoy_entries(30, tag_groups(real), random.Random(3).randbytes)
    # a repeated tag is no sign of a real entry: the decoys repeat theirs alike
    assert any(len(g) > 1 for g in tag_groups(decoys))
    assert {len(d) for d in decoys} <= {48, 117, 185}


def test_decoys_differ_with_the_random_and_take_it_even_when_none_are_due() -> None:
    taken: list[int] = []

    def counting(n: int) -> bytes:
        taken.append(n)
        return bytes(n)

    assert decoy_entries(0, [(100,)], counting) == []
    assert taken == [16]
    one = decoy_entries(5, [(c.MIN_ENTRY_BYTES,)], random.Random(1).randbytes)
    two = decoy_entries(5, [(c.MIN_ENTRY_BYTES,)], random.Random(2).randbytes)
    assert one != two


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        decoy_entries(-1, [], random.Random(0).randbytes)
