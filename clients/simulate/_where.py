"""Who was where: visit ids by venue and time, to find the visits an entry can reach."""

from __future__ import annotations

import numpy as np

from ._config import START
from ._records import Ints, Visits


class Where:
    """One sorted chunk per simulated day: keys ``venue << 32 | (entered - START)``."""

    def __init__(self) -> None:
        self.keys: list[Ints] = []
        self.vids: list[Ints] = []

    def add(self, s: Visits, first: int) -> None:
        """Indexes visits ``first ..`` (the day's new ones)."""
        venue = s.view("venue")[first:]
        entered = s.view("entered")[first:] - START
        keys = (venue << 32) | entered
        order = np.argsort(keys, kind="stable")
        self.keys.append(keys[order])
        self.vids.append(order.astype(np.int64) + first)

    def find(self, venue: Ints, lo: Ints, hi: Ints) -> tuple[Ints, Ints]:
        """Visits at ``venue[q]`` that entered in ``[lo[q], hi[q])``: (visit ids, query q)."""
        found: list[Ints] = []
        which: list[Ints] = []
        lo_keys = (venue << 32) | np.maximum(lo - START, 0)
        hi_keys = (venue << 32) | np.maximum(hi - START, 0)
        for keys, vids in zip(self.keys, self.vids, strict=True):
            a = np.searchsorted(keys, lo_keys, side="left")
            b = np.searchsorted(keys, hi_keys, side="left")
            counts = b - a
            total = int(counts.sum())
            if not total:
                continue
            q = np.repeat(np.arange(len(venue), dtype=np.int64), counts)
            starts = np.repeat(a - np.cumsum(counts) + counts, counts)
            found.append(vids[starts + np.arange(total, dtype=np.int64)])
            which.append(q)
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(found), np.concatenate(which)
