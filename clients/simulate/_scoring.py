"""Scoring: who was truly exposed, who was warned, why a warning was false or missing."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from placecode import crypto
from placecode.crypto import Policy, Visit
from placecode.crypto import constants as c

from ._config import DAY, HONEST, RETENTION, START, policy_name
from ._population import visit_of
from ._publishing import IndexFigures
from ._records import Ints

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
    #: the same, downloading each day's index and shards instead of bundles
    index_path_bytes_per_device_per_day: float
    #: the index path, and what a CDN sees of shard fetches (see docs/research.md)
    index_path: dict[str, float]
    index_bytes_per_day: list[int]
    #: devices that synced each day (not those that had uploaded)
    devices_per_day: list[int]
    #: each day, ``[[shards hit, devices], ...]`` of the devices with a hit
    hit_shards_per_day: list[list[list[int]]]
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


#: minutes covered by intervals of minutes: the protocol's own union (§12)
union_minutes = crypto.union_length


def held(run: Run, vids: Ints, b: Ints) -> npt.NDArray[np.bool_]:
    """Whether the device of each ``vids[i]`` matched it against bundle ``b[i]``."""
    s = run.s
    entered, left = s.view("entered")[vids], s.view("left_recorded")[vids]
    t_b = START + (b + 1) * DAY
    synced = np.where(left <= t_b, t_b, t_b + DAY)
    uploaded = np.full(run.config.visitors, np.iinfo(np.int64).max, dtype=np.int64)
    for u in run.uploads:
        uploaded[u.case] = u.at
    return (
        (entered < t_b)
        & (uploaded[s.view("visitor")[vids]] > synced)
        & (synced < run.end + 1)
        & (left > synced - RETENTION)
    )


def truth(run: Run) -> tuple[set[int], dict[int, list[tuple[int, int]]]]:
    """The visits truly exposed, and for the exposed ones the case visits and bundles."""
    s = run.s
    case_visits = [(cv, u.case, u.bundle) for u in run.uploads for cv in u.visits]
    if not case_visits:
        return set(), {}
    cv, case, bundle = (np.array(x, dtype=np.int64) for x in zip(*case_visits, strict=True))
    entered, left_true = s.view("entered"), s.view("left_true")
    longest = c.MAX_STAY_MINUTES * 60
    v, q = run.where.find(s.view("venue")[cv], entered[cv] - longest, left_true[cv])
    cv, case, bundle = cv[q], case[q], bundle[q]
    keep = (s.view("visitor")[v] != case) & (left_true[v] > entered[cv])
    v, cv, bundle = v[keep], cv[keep], bundle[keep]
    keep = held(run, v, bundle)
    v, cv, bundle = v[keep], cv[keep], bundle[keep]
    # minutes shared, truly: the union over each visit's case visits
    lo = np.maximum(entered[v], entered[cv]) // 60
    hi = np.minimum(left_true[v], left_true[cv]) // 60
    minutes = _union_by_group(v, lo, hi)
    need = run.config.min_overlap_minutes
    exposed = {u for u, m in minutes.items() if m >= need}
    missing = np.array(sorted(u for u in exposed if u not in run.warned[0]), dtype=np.int64)
    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    mask = np.isin(v, missing)
    for a, b_, bb in zip(v[mask].tolist(), cv[mask].tolist(), bundle[mask].tolist(), strict=True):
        pairs[a].append((b_, bb))
    return exposed, pairs


def _union_by_group(group: Ints, lo: Ints, hi: Ints) -> dict[int, int]:
    """Each group's length of the union of its ``[lo, hi)`` intervals, as ``union_minutes``."""
    present = np.unique(group)
    nonempty = hi > lo
    group, lo, hi = group[nonempty], lo[nonempty], hi[nonempty]
    order = np.lexsort((hi, lo, group))
    group, lo, hi = group[order], lo[order], hi[order]
    # a running maximum of hi within each group: offset each group above the last
    rank = np.searchsorted(present, group)
    big = np.int64(1) << 40
    reach = np.maximum.accumulate(hi + rank * big) - rank * big
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    before = np.empty_like(reach)
    before[1:] = reach[:-1]
    before[first] = -1
    gained = np.maximum(0, hi - np.maximum(lo, before))
    totals = np.bincount(rank, weights=gained, minlength=len(present)).astype(np.int64)
    return dict(zip(present.tolist(), totals.tolist(), strict=True))


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


def sources(run: Run, visit: Visit, policy: Policy) -> set[str]:
    """Who published the entries that match ``visit`` under ``policy``."""
    found = set()
    levels = {int(level) for level in policy.warn_levels}
    for slot in visit.slots:
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
    visits: dict[int, Visit] = {}
    for name, policy, warned in zip(names, run.policies, run.warned, strict=True):
        hits = sum(1 for v in warned if v in exposed)
        warnings[name] = len(warned)
        false[name] = len(warned) - hits
        precision[name] = hits / len(warned) if warned else None
        recall[name] = hits / len(exposed) if exposed else None
        for v in warned:
            if v not in exposed:
                visit = visits.get(v)
                if visit is None:
                    visit = visits[v] = s.visit[v] if cfg.eager else visit_of(run, v)
                for source in sources(run, visit, policy):
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
    devices = [n for n, _ in run.shard_hits]
    hit_days = [hit_histogram(h) for _, h in run.shard_hits]
    index = index_path(run.indexes, devices, hit_days, cfg.shard_fetches)
    index_total = index["index_bytes_per_device_per_day"] + index["shard_bytes_per_device_per_day"]
    index["ratio_to_full_bundles"] = index_total / max(1.0, bundle_total / cfg.days)
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
        index_path_bytes_per_device_per_day=index_total + upload_bytes,
        index_path=index,
        index_bytes_per_day=[ix.index_bytes for ix in run.indexes],
        devices_per_day=devices,
        hit_shards_per_day=hit_days,
        server_storage_bytes=storage,
        match_cpu_s_total=run.match_cpu,
        match_us_per_device_day=1e6 * run.match_cpu / max(1, run.device_days),
        policy_rematch_cpu_s=run.rematch_cpu,
        bundle_verify_ms=1e3 * run.verify_s / cfg.days,
        wall_s=wall,
        wall_s_by_phase={k: round(v, 3) for k, v in run.phase.items()},
        counts=counts,
    )


def hit_histogram(hits: list[int]) -> list[list[int]]:
    """``[[shards hit, devices], ...]`` of one day's devices with a hit."""
    return [[h, n] for h, n in sorted(Counter(hits).items())]


def index_path(
    figures: list[IndexFigures],
    devices: list[int],
    hits: list[list[list[int]]],
    fetches_least: int,
) -> dict[str, float]:
    """Bytes and shard fetches of the index path, every device and day.

    A device downloads every day's index and fetches the shards holding its
    tags that hit, topped up with decoy shards to ``min(F, shards)``; a CDN
    sees how many shards each device fetches of each index. False positives
    of the filter (about 2^-8 per tag that is not in the bundle) are not
    drawn: they only pick one of the F shards a device fetches anyway, unless
    a device already has F hits.
    """
    index_bytes = fetched_bytes = fetches = hit_fetches = device_days = 0.0
    with_hit = beyond = 0
    for day, n, histogram in zip(figures, devices, hits, strict=True):
        shards = len(day.shard_bytes)
        least = min(fetches_least, shards)
        mean = sum(day.shard_bytes) / shards
        hit_devices = sum(k for _, k in histogram)
        day_fetches = (n - hit_devices) * least + sum(max(h, least) * k for h, k in histogram)
        index_bytes += day.index_bytes * n
        fetched_bytes += day_fetches * mean
        fetches += day_fetches
        hit_fetches += sum(h * k for h, k in histogram)
        device_days += n
        with_hit += hit_devices
        beyond += sum(k for h, k in histogram if h > least)
    per = max(1.0, device_days)
    return {
        "index_bytes_per_device_per_day": index_bytes / per,
        "shard_bytes_per_device_per_day": fetched_bytes / per,
        "shard_fetches_per_device_day": fetches / per,
        "shards_per_index_mean": sum(len(f.shard_bytes) for f in figures) / max(1, len(figures)),
        "device_days_with_a_hit": float(with_hit),
        "device_days_with_a_hit_share": with_hit / per,
        "device_days_fetching_more_than_F": float(beyond),
        "decoy_fetch_share": 1 - hit_fetches / fetches if fetches else 0.0,
    }
