"""Scoring: who was truly exposed, who was warned, why a warning was false or missing."""

from __future__ import annotations

import bisect
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from placecode import crypto
from placecode.crypto import Policy
from placecode.crypto import constants as c

from ._config import DAY, HONEST, RETENTION, START, policy_name

if TYPE_CHECKING:
    from ._run import Run


@dataclass(frozen=True)
class Result:
    """A run's results; :meth:`to_json` is the JSON document ``docs/research.md`` describes.

    Scores are per visit. Policies are named as ``policy_name`` names them; the
    first configured policy is the primary one (``precision``, ``recall``,
    ``missed_by_cause``).
    """

    parameters: dict[str, Any]
    precision: float | None
    recall: float | None
    precision_by_policy: dict[str, float | None]
    recall_by_policy: dict[str, float | None]
    warnings_by_policy: dict[str, int]
    false_warnings_by_policy: dict[str, int]
    #: source -> policy -> false warnings its entries contributed to
    false_warnings_by_attacker: dict[str, dict[str, int]]
    missed_by_cause: dict[str, int]
    entries_by_source: dict[str, int]
    entries_per_day: list[int]
    bundle_bytes_per_day: list[int]
    bytes_per_device_per_day: float
    bundle_bytes_per_device_per_day: float
    upload_bytes_per_device_per_day: float
    server_storage_bytes: int
    match_cpu_s_total: float
    match_us_per_device_day: float
    policy_rematch_cpu_s: float
    bundle_verify_ms: float
    wall_s: float
    wall_s_by_phase: dict[str, float]
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The results as a JSON-ready dict, keys in the order of the fields."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """Reads back what :meth:`to_json` wrote (for example to plot a saved run)."""
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise crypto.Error(f"not a simulation result: no {', '.join(missing)}")
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def union_minutes(intervals: Iterable[tuple[int, int]]) -> int:
    total, reach = 0, -1
    for lo, hi in sorted(intervals):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


def held(run: Run, vid: int, b: int) -> bool:
    """Whether the device of ``vid`` matched it against bundle ``b``."""
    s = run.s
    t_b = START + (b + 1) * DAY
    if s.entered[vid] >= t_b:
        return False
    synced = t_b if s.left_recorded[vid] <= t_b else t_b + DAY
    uploaded = run.uploaded_at[s.visitor[vid]]
    if uploaded is not None and uploaded <= synced:
        return False
    return synced < run.end + 1 and s.left_recorded[vid] > synced - RETENTION


def truth(run: Run) -> tuple[set[int], dict[int, list[tuple[int, int]]]]:
    """The visits truly exposed, and for each co-present visit the case visits and bundles."""
    s = run.s
    starts = {}
    for venue, vids in enumerate(run.by_venue):
        vids.sort(key=lambda v: s.entered[v])
        starts[venue] = [s.entered[v] for v in vids]
    longest = c.MAX_STAY_MINUTES * 60
    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for upload in run.uploads:
        for cv in upload.visits:
            venue = s.venue[cv]
            vids, at = run.by_venue[venue], starts[venue]
            lo = bisect.bisect_left(at, s.entered[cv] - longest)
            hi = bisect.bisect_left(at, s.left_true[cv])
            for v in vids[lo:hi]:
                if s.visitor[v] == upload.case or s.left_true[v] <= s.entered[cv]:
                    continue
                if held(run, v, upload.bundle):
                    pairs[v].append((cv, upload.bundle))
    exposed = {
        v
        for v, cases in pairs.items()
        if shared(run, v, (cv for cv, _ in cases), recorded=False) >= run.config.min_overlap_minutes
    }
    return exposed, pairs


def shared(run: Run, v: int, case_visits: Iterable[int], *, recorded: bool) -> int:
    """Minutes visit ``v`` shared with any of ``case_visits``, truly or as recorded."""
    s = run.s
    left = s.left_recorded if recorded else s.left_true
    return union_minutes(
        (max(s.entered[v], s.entered[cv]) // 60, min(left[v], left[cv]) // 60) for cv in case_visits
    )


def why_missed(run: Run, v: int, cases: list[tuple[int, int]]) -> str:
    s, need = run.s, run.config.min_overlap_minutes
    same = [(cv, b) for cv, b in cases if s.code_day[cv] == s.code_day[v]]
    if shared(run, v, (cv for cv, _ in same), recorded=False) < need:
        return "screen day code differs"
    if shared(run, v, (cv for cv, _ in same), recorded=True) < need:
        return "automatic check-out"
    by_bundle: dict[int, list[int]] = defaultdict(list)
    for cv, b in same:
        by_bundle[b].append(cv)
    if all(shared(run, v, cvs, recorded=True) < need for cvs in by_bundle.values()):
        return "split across bundles"
    return "other"


def sources(run: Run, v: int, policy: Policy) -> set[str]:
    """Who published the entries that match visit ``v`` under ``policy``."""
    found = set()
    levels = {int(level) for level in policy.warn_levels}
    for slot in run.s.visit[v].slots:
        for info in run.published.get(slot.tag, ()):
            if info.level not in levels or info.forged:
                continue
            if info.start_minute < slot.end_minute and slot.start_minute < info.end_minute:
                found.add(info.source)
    return found


def score(run: Run, wall: float) -> Result:
    cfg, s = run.config, run.s
    clock = time.perf_counter()
    exposed, pairs = truth(run)
    names = [policy_name(p) for p in cfg.policies]
    precision: dict[str, float | None] = {}
    recall: dict[str, float | None] = {}
    warnings: dict[str, int] = {}
    false: dict[str, int] = {}
    by_attacker: dict[str, dict[str, int]] = {}
    for source in (*cfg.attackers, HONEST):
        by_attacker[source] = dict.fromkeys(names, 0)
    for name, policy, warned in zip(names, run.policies, run.warned, strict=True):
        hits = sum(1 for v in warned if v in exposed)
        warnings[name] = len(warned)
        false[name] = len(warned) - hits
        precision[name] = hits / len(warned) if warned else None
        recall[name] = hits / len(exposed) if exposed else None
        for v in warned:
            if v not in exposed:
                for source in sources(run, v, policy):
                    by_attacker[source][name] += 1
    primary = run.warned[0]
    missed = Counter(why_missed(run, v, pairs[v]) for v in exposed if v not in primary)
    run.phase["truth"] += time.perf_counter() - clock
    bundle_total = sum(len(b) for b in run.bundle_bytes)
    real_uploads = run.counts["uploads by cases"]
    dummies = round(cfg.dummy_uploads_per_day * cfg.visitors * cfg.days)
    per_device_day = cfg.visitors * cfg.days
    upload_bytes = (real_uploads + dummies) * c.UPLOAD_BYTES / per_device_day
    storage = max(
        sum(len(b) for b in run.bundle_bytes[max(0, d - c.RETENTION_DAYS + 1) : d + 1])
        for d in range(cfg.days)
    )
    parameters = asdict(cfg)
    parameters["policies"] = names
    parameters["attackers"] = list(cfg.attackers)
    counts = dict(sorted(run.counts.items()))
    counts.update(
        {
            "visits": len(s.visitor),
            "bundles": len(run.bundle_bytes),
            "entries published": sum(run.entries_by_source.values()),
            "true exposed visits": len(exposed),
            "true exposed devices": len({s.visitor[v] for v in exposed}),
            "warned devices": len({s.visitor[v] for v in primary}),
            "device-days matched": run.device_days,
        }
    )
    return Result(
        parameters=parameters,
        precision=precision[names[0]],
        recall=recall[names[0]],
        precision_by_policy=precision,
        recall_by_policy=recall,
        warnings_by_policy=warnings,
        false_warnings_by_policy=false,
        false_warnings_by_attacker=by_attacker,
        missed_by_cause=dict(sorted(missed.items())),
        entries_by_source=dict(sorted(run.entries_by_source.items())),
        entries_per_day=[b.count for b in run.bundles],
        bundle_bytes_per_day=[len(b) for b in run.bundle_bytes],
        bytes_per_device_per_day=bundle_total / cfg.days + upload_bytes,
        bundle_bytes_per_device_per_day=bundle_total / cfg.days,
        upload_bytes_per_device_per_day=upload_bytes,
        server_storage_bytes=storage,
        match_cpu_s_total=run.match_cpu,
        match_us_per_device_day=1e6 * run.match_cpu / max(1, run.device_days),
        policy_rematch_cpu_s=run.rematch_cpu,
        bundle_verify_ms=1e3 * run.verify_s / cfg.days,
        wall_s=wall,
        wall_s_by_phase={k: round(v, 3) for k, v in run.phase.items()},
        counts=counts,
    )
