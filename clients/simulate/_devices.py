"""Devices: each day every device prunes its diary and matches it against the new bundle."""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from placecode import crypto
from placecode.crypto import Bundle, Visit
from placecode.crypto import constants as c

from ._config import DAY, RETENTION, START
from ._population import visit_of

if TYPE_CHECKING:
    from ._run import Run


@dataclass
class Synced:
    """What matching a range of devices against one day's bundle found.

    ``match_cpu`` is what the devices spend under the widest policy (the one a
    device runs); ``rematch_cpu`` is the simulation's own cost of scoring the
    narrower policies on the visits that policy warned.
    """

    warnings: list[tuple[int, int]]
    match_cpu: float
    rematch_cpu: float
    devices: int
    #: for each device whose tags are in today's bundle: the index's shards holding them
    hit_shards: dict[int, set[int]] = field(default_factory=dict)


#: the run a forked worker matches for; set only while a pool runs
_RUN: Run | None = None


def sync(run: Run, d: int) -> None:
    """Every device matches day ``d``'s bundle; in a lazy run only the visits it can reach."""
    cfg = run.config
    global _RUN
    if cfg.eager:
        # a device deletes what is past retention before it matches
        prune(run, START + (d + 1) * DAY)
        chunks = _chunks(d, cfg.visitors, cfg.workers)
        task = _sync_chunk
    else:
        candidates = reachable(run, d)
        chunks = _chunks(d, len(candidates), cfg.workers)
        run.candidates = candidates
        task = _match_chunk
    _RUN = run
    try:
        if cfg.workers == 1:
            results = [task(*chunk) for chunk in chunks]
        else:
            gc.freeze()
            with multiprocessing.get_context("fork").Pool(cfg.workers) as pool:
                results = pool.starmap(task, chunks)
            gc.unfreeze()
    finally:
        _RUN = None
    run.v.forget()
    t_b = START + (d + 1) * DAY
    devices = cfg.visitors - sum(1 for u in run.uploads if u.at <= t_b)
    run.device_days += devices
    hit_shards: dict[int, set[int]] = {}
    for synced in results:
        run.match_cpu += synced.match_cpu
        run.rematch_cpu += synced.rematch_cpu
        for device, shards in synced.hit_shards.items():
            hit_shards.setdefault(device, set()).update(shards)
        for vid, p in synced.warnings:
            run.warned[p].setdefault(vid, d)
    run.shard_hits.append((devices, [len(shards) for shards in hit_shards.values()]))


def _chunks(d: int, n: int, workers: int) -> list[tuple[int, int, int]]:
    if workers == 1:
        return [(d, 0, n)]
    step = max(1, -(-n // (workers * 4)))
    return [(d, lo, min(n, lo + step)) for lo in range(0, n, step)]


def reachable(run: Run, d: int) -> list[int]:
    """The visits that an entry of day ``d``'s bundle can match, as devices hold them at its sync.

    An entry can match only a visit at its venue in its hour: the visits held
    (checked out by the sync, within retention, the device not uploaded) with
    a slot at a (venue, hour) of today's bundle, or of yesterday's for a visit
    still open at yesterday's sync (matched against both, as on check-out).
    Every other visit's tags are in no bundle; matching it would find nothing.
    """
    s = run.s
    t_b = START + (d + 1) * DAY
    t_prev = t_b - DAY
    found = []
    for keys, crossing in (
        (run.bundle_keys[d], False),
        (run.bundle_keys[d - 1] if d else (), True),
    ):
        if not keys:
            continue
        pairs = np.array(sorted(keys), dtype=np.int64).reshape(-1, 2)
        venue, hour = pairs[:, 0], pairs[:, 1]
        vids, q = run.where.find(venue, hour * 3600 - c.MAX_STAY_MINUTES * 60, (hour + 1) * 3600)
        entered = s.view("entered")[vids]
        left = s.view("left_recorded")[vids]
        keep = (left > hour[q] * 3600) & (left <= t_b) & (left > t_b - RETENTION)
        if crossing:
            keep &= (entered < t_prev) & (t_prev < left)
        found.append(vids[keep])
    if not found:
        return []
    vids = np.unique(np.concatenate(found))
    uploaded = np.full(run.config.visitors, np.iinfo(np.int64).max, dtype=np.int64)
    for u in run.uploads:
        uploaded[u.case] = u.at
    vids = vids[uploaded[s.view("visitor")[vids]] > t_b]
    return [int(v) for v in vids]


def _match_chunk(d: int, lo: int, hi: int) -> Synced:
    run = _RUN
    assert run is not None
    return match_visits(run, d, run.candidates[lo:hi])


def match_visits(run: Run, d: int, vids: list[int]) -> Synced:
    """The visits ``vids`` checked in, out and matched for real against day ``d``'s bundle."""
    s = run.s
    bundle = [run.bundles[d]]
    both = [run.bundles[d - 1], run.bundles[d]] if d else bundle
    t_prev = START + d * DAY
    widest, policies = run.widest, run.policies
    narrower = [(p, policy) for p, policy in enumerate(policies) if policy != widest]
    widest_index = [p for p, policy in enumerate(policies) if policy == widest]
    tags, index = run.bundle_tags[d], run.indexes[d]
    cpu = narrowing = 0.0
    warnings: list[tuple[int, int]] = []
    shards: dict[int, set[int]] = {}
    warned = run.warned
    for vid in vids:
        visit = visit_of(run, vid)
        hits = {index.shard_of(slot.tag) for slot in visit.slots if slot.tag in tags}
        if hits:
            shards.setdefault(s.visitor[vid], set()).update(hits)
        if all(vid in w for w in warned):
            # warned before under every policy: matching again changes no result
            continue
        bundles = both if s.entered[vid] < t_prev < s.left_recorded[vid] else bundle
        started = time.process_time()
        exposures = crypto.match([visit], bundles, widest)
        cpu += time.process_time() - started
        if not exposures:
            continue
        started = time.process_time()
        warnings.extend((vid, p) for p in widest_index)
        # a narrower policy can warn only where an entry of one of its levels is published
        levels = {info.level for slot in visit.slots for info in run.published.get(slot.tag, ())}
        for p, policy in narrower:
            if vid in warned[p] or not levels & {int(x) for x in policy.warn_levels}:
                continue
            if crypto.match([visit], bundles, policy):
                warnings.append((vid, p))
        narrowing += time.process_time() - started
    return Synced(warnings, cpu, narrowing, 0, shards)


def prune(run: Run, now: int) -> None:
    left = run.s.left_recorded
    for diary in run.diary:
        drop = 0
        while drop < len(diary) and left[diary[drop]] <= now - RETENTION:
            drop += 1
        if drop:
            del diary[:drop]


def _sync_chunk(d: int, lo: int, hi: int) -> Synced:
    assert _RUN is not None
    return sync_devices(_RUN, d, lo, hi)


def sync_devices(run: Run, d: int, lo: int, hi: int) -> Synced:
    """Devices ``lo..hi`` match their diaries against day ``d``'s bundle.

    A visit still open at the previous sync is matched against that bundle too,
    together with today's, as a device does on check-out.
    """
    s = run.s
    bundle = [run.bundles[d]]
    both = [run.bundles[d - 1], run.bundles[d]] if d else bundle
    t_b = START + (d + 1) * DAY
    t_prev = t_b - DAY
    widest, policies = run.widest, run.policies
    narrower = [(p, policy) for p, policy in enumerate(policies) if policy != widest]
    widest_index = [p for p, policy in enumerate(policies) if policy == widest]
    cpu = narrowing = 0.0
    devices = 0
    warnings: list[tuple[int, int]] = []
    tags, index = run.bundle_tags[d], run.indexes[d]
    hit_shards: dict[int, set[int]] = {}
    for i in range(lo, hi):
        uploaded = run.uploaded_at[i]
        if uploaded is not None and uploaded <= t_b:
            continue
        devices += 1
        recent: list[Visit] = []
        crossed: list[Visit] = []
        for vid in run.diary[i]:
            if s.left_recorded[vid] > t_b:
                break
            if s.entered[vid] < t_prev < s.left_recorded[vid]:
                crossed.append(s.visit[vid])
            else:
                recent.append(s.visit[vid])
        if not recent and not crossed:
            continue
        hits = {
            index.shard_of(slot.tag)
            for v in recent + crossed
            for slot in v.slots
            if slot.tag in tags
        }
        if hits:
            hit_shards[i] = hits
        started = time.process_time()
        exposures = crypto.match(recent, bundle, widest)
        if crossed:
            exposures += crypto.match(crossed, both, widest)
        cpu += time.process_time() - started
        if not exposures:
            continue
        started = time.process_time()
        crossed_ids = {id(v) for v in crossed}
        found: list[tuple[Visit, list[Bundle]]] = [
            (e.visit, both if id(e.visit) in crossed_ids else bundle) for e in exposures
        ]
        narrowed = [
            (p, crypto.match([v], bundles, policy))
            for p, policy in narrower
            for v, bundles in found
        ]
        narrowing += time.process_time() - started
        ids = {id(s.visit[vid]): vid for vid in run.diary[i]}
        for e in exposures:
            warnings.extend((ids[id(e.visit)], p) for p in widest_index)
        for p, exposed in narrowed:
            warnings.extend((ids[id(e.visit)], p) for e in exposed)
    return Synced(warnings, cpu, narrowing, devices, hit_shards)
