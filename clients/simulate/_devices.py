"""Devices: each day every device prunes its diary and matches it against the new bundle."""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from placecode import crypto
from placecode.crypto import Bundle, Visit

from ._config import DAY, RETENTION, START

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


#: the run a forked worker matches for; set only while a pool runs
_RUN: Run | None = None


def sync(run: Run, d: int) -> None:
    cfg = run.config
    global _RUN
    # a device deletes what is past retention before it matches
    prune(run, START + (d + 1) * DAY)
    if cfg.workers == 1:
        results = [sync_devices(run, d, 0, cfg.visitors)]
    else:
        _RUN = run
        gc.freeze()
        step = -(-cfg.visitors // (cfg.workers * 4))
        chunks = [(d, lo, min(cfg.visitors, lo + step)) for lo in range(0, cfg.visitors, step)]
        with multiprocessing.get_context("fork").Pool(cfg.workers) as pool:
            results = pool.starmap(_sync_chunk, chunks)
        _RUN = None
        gc.unfreeze()
    for synced in results:
        run.match_cpu += synced.match_cpu
        run.rematch_cpu += synced.rematch_cpu
        run.device_days += synced.devices
        for vid, p in synced.warnings:
            run.warned[p].setdefault(vid, d)


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
    return Synced(warnings, cpu, narrowing, devices)
