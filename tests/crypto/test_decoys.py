"""Decoy entries (§8): lengths of real entries, bytes from the injected random, one home."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placecode.crypto import constants as c
from placecode.crypto import decoy_entries

lengths = st.lists(st.integers(c.MIN_ENTRY_BYTES, c.MAX_ENTRY_BYTES), max_size=20)


@given(count=st.integers(0, 50), lengths=lengths, seed=st.integers(0, 2**32))
def test_decoys_take_the_given_lengths_and_the_injected_bytes(
    count: int, lengths: list[int], seed: int
) -> None:
    first = decoy_entries(count, lengths, random.Random(seed).randbytes)
    assert len(first) == count
    assert {len(d) for d in first} <= (set(lengths) or {c.MIN_ENTRY_BYTES})
    assert decoy_entries(count, lengths, random.Random(seed).randbytes) == first


def test_decoys_differ_with_the_random_and_take_it_even_when_none_are_due() -> None:
    taken: list[int] = []

    def counting(n: int) -> bytes:
        taken.append(n)
        return bytes(n)

    assert decoy_entries(0, [100], counting) == []
    assert taken == [16]
    one = decoy_entries(5, [c.MIN_ENTRY_BYTES], random.Random(1).randbytes)
    two = decoy_entries(5, [c.MIN_ENTRY_BYTES], random.Random(2).randbytes)
    assert one != two


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        decoy_entries(-1, [], random.Random(0).randbytes)
