"""The compact index path (protocol §18) at 10^6 entries, against the full bundle.

Single process, one core, the diary and entries of ``bench.protocol`` (300
hour-tags, three published visits among random self-reported-length entries).
Figures:

- ``index_bytes_per_entry_1e6``: the signed index of a bundle of 10^6 entries
  (header, boundaries of shards of k = 128, salt, binary fuse filter,
  signature), per entry;
- ``index_false_positive_rate``: the share of 200,000 random tags, none in
  the bundle, that the filter holds;
- ``index_build_s_1e6``: ``sign_index`` (filter, shards, every signature);
- ``index_match_ms_diary300_vs_1e6``: what a device does with a verified index
  and verified shards, as ``match_ms_diary300_vs_1e6`` (printed in the same
  run) is what it does with a verified bundle: check its 300 tags against the
  filter, plan the F = 4 fetches and match on the fetched shards;
  ``index_shards_verify_ms_1e6`` is the verification of the shards fetched
  (the three published visits hit 9 shards, so 9), as ``bundle_verify_s_1e6``
  is the bundle's;
- ``sync_bytes_per_device_day_1e6``: one device-day at 10^6 live entries (a
  day's bundle of 10^6 / 14 entries, the retention period's share), index
  path over full bundle, with both byte counts beside it.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable

from placecode import crypto
from placecode.crypto import constants as c
from placecode.crypto._venue import verify_signature

from ._results import record
from .protocol import _authority, _diary, _header, _median, _random_entries

LIVE = 1_000_000
PROBES = 200_000


def _index_match(
    visits: list[crypto.Visit],
    index: crypto.Index,
    shards: dict[int, crypto.Shard],
    policy: crypto.Policy,
) -> list[crypto.Exposure]:
    """A device's work once it holds the verified index: tags, plan, match on the shards."""
    verify_signature.cache_clear()
    tags = [slot.tag for visit in visits for slot in visit.slots]
    plan = index.fetch_plan(tags, c.DEFAULT_SHARD_FETCHES, os.urandom)
    held = tuple(shards[n] for n in plan)
    return crypto.match(visits, [crypto.ShardedBundle(index, held)], policy)


def _full_match(
    visits: list[crypto.Visit], bundle: crypto.Bundle, policy: crypto.Policy
) -> list[crypto.Exposure]:
    verify_signature.cache_clear()
    return crypto.match(visits, [bundle], policy)


def _interleaved(
    first: Callable[[], object], second: Callable[[], object], times: int
) -> tuple[float, float]:
    """Median milliseconds of each, run in turn, so that a machine shared with other work
    slows both alike; the garbage collector off, as in ``bench.protocol._median``."""
    samples: tuple[list[float], list[float]] = ([], [])
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(times):
            for run, out in ((first, samples[0]), (second, samples[1])):
                t = time.perf_counter()
                run()
                out.append((time.perf_counter() - t) * 1000)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(samples[0]), statistics.median(samples[1])


def _at_scale(figures: dict[str, float | int]) -> None:
    rng = random.Random(1)
    keys = _authority()
    visits, published = _diary(rng)
    entries = published + _random_entries(rng, LIVE - len(published))
    header = _header(keys)
    salt = rng.randbytes(c.SALT_BYTES)
    started = time.perf_counter()
    signed = crypto.sign_index(header, entries, keys.signing_key, salt=salt)
    figures["index_build_s_1e6"] = round(time.perf_counter() - started, 2)
    figures["bundle_build_s_1e6_same_run"] = round(
        _median(lambda: crypto.sign_bundle(header, entries, keys.signing_key), 1), 2
    )
    index = crypto.Index.verify(signed.index, keys.public, shard_min_entries=128)
    figures["index_bytes_per_entry_1e6"] = round(len(signed.index) / LIVE, 4)
    figures["index_shards_1e6"] = index.shard_count
    figures["index_shard_bytes_mean_1e6"] = round(statistics.mean(map(len, signed.shards)))
    probes = [rng.randbytes(c.TAG_BYTES) for _ in range(PROBES)]
    figures["index_false_positive_rate"] = round(sum(index.contains(t) for t in probes) / PROBES, 5)
    bundle = crypto.Bundle.verify(
        crypto.sign_bundle(header, entries, keys.signing_key), keys.public
    )
    policy = crypto.Policy()
    public = keys.public
    tags = [slot.tag for visit in visits for slot in visit.slots]
    hit = index.hits(tags)
    verified = {
        n: crypto.Shard.verify(signed.shards[n], public, index, n) for n in range(index.shard_count)
    }
    full = _full_match(visits, bundle, policy)
    by_index = _index_match(visits, index, verified, policy)
    assert len(full) == 3 and [e.overlap_minutes for e in by_index] == [
        e.overlap_minutes for e in full
    ]
    full_ms, index_ms = _interleaved(
        lambda: _full_match(visits, bundle, policy),
        lambda: _index_match(visits, index, verified, policy),
        21,
    )

    def verify_fetched() -> None:
        for n in hit:
            crypto.Shard.verify(signed.shards[n], public, index, n)

    figures["index_shards_verify_ms_1e6"] = round(_median(verify_fetched, 7) * 1000, 2)
    figures["match_ms_diary300_vs_1e6"] = round(full_ms, 2)
    figures["index_match_ms_diary300_vs_1e6"] = round(index_ms, 2)
    figures["index_match_over_full_match_1e6"] = round(index_ms / full_ms, 3)


def _device_day(figures: dict[str, float | int]) -> None:
    """One day's bundle at 10^6 live entries, on both paths."""
    rng = random.Random(3)
    keys = _authority()
    day = LIVE // c.RETENTION_DAYS
    entries = _random_entries(rng, day)
    header = _header(keys)
    bundle = crypto.sign_bundle(header, entries, keys.signing_key)
    signed = crypto.sign_index(header, entries, keys.signing_key, salt=rng.randbytes(8))
    fetches = min(c.DEFAULT_SHARD_FETCHES, len(signed.shards))
    shard = statistics.mean(map(len, signed.shards))
    indexed = len(signed.index) + fetches * shard
    figures["sync_bytes_per_device_day_index_1e6"] = round(indexed)
    figures["sync_bytes_per_device_day_full_1e6"] = len(bundle)
    figures["sync_bytes_per_device_day_1e6"] = round(indexed / len(bundle), 4)


def run() -> dict[str, float | int]:
    """Measures the index path's figures, records them, and returns them."""
    figures: dict[str, float | int] = {}
    _at_scale(figures)
    _device_day(figures)
    record(figures)
    return figures


if __name__ == "__main__":
    run()
