"""A city or a province: independent venue partitions, run as tasks on any map, merged.

A partition is a district: its own venues, the visitors who live there and
visit only its venues, its own epidemic and attackers, and the seed
``seed * 2**20 + p``. Entries of one partition's venues can never match a
visit of another (their tags are HMACs of other code keys), so a device's
warnings are exactly what it would get from the province's bundle; each
partition returns its scores and its real entries, and the driver signs the
province's daily bundle from all of them (decoys, bytes, index and shards as
one authority publishes them).

``map`` runs the partitions: the built-in one in this process,
``multiprocessing.Pool.map`` on this machine, or a Dask client's (see
:func:`dask_map`), which runs them on a cluster.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from typing import Any

from placecode import crypto
from placecode.crypto import Bundle, BundleHeader
from placecode.crypto import constants as c

from ._config import DAY, MESSAGES, START, Config, policy_name
from ._publishing import index_figures
from ._run import Run
from ._scoring import Result, index_path, score

#: a district's results, and each day's (public, authority's own) real entries
Partition = tuple[Result, list[tuple[list[bytes], list[bytes]]]]
Map = Callable[[Callable[[Config], Partition], Iterable[Config]], Iterable[Partition]]


def partition_configs(config: Config) -> list[Config]:
    """The partitions' configs: visitors and venues split as evenly as they go."""
    n = config.partitions
    if n > config.venues or n > config.visitors:
        raise crypto.Error("every partition needs at least one venue and one visitor")

    def share(total: int, p: int) -> int:
        return total // n + (1 if p < total % n else 0)

    return [
        replace(
            config,
            visitors=share(config.visitors, p),
            venues=share(config.venues, p),
            seed=config.seed * 2**20 + p,
            partitions=1,
            # partitions are the parallelism: a task forks no pool of its own
            workers=1,
        )
        for p in range(n)
    ]


def run_partition(config: Config) -> Partition:
    """One partition, start to end: its results and each day's real entries."""
    started = time.perf_counter()
    run = Run(config)
    for d in range(config.days):
        run.day(d)
    return score(run, time.perf_counter() - started), run.entries_per_day


def simulate_partitioned(config: Config, map_: Map | None = None) -> Result:
    """Runs ``config.partitions`` partitions through ``map_`` and merges them."""
    started = time.perf_counter()
    parts = list((map_ or _builtin_map)(run_partition, partition_configs(config)))
    return merge(config, parts, time.perf_counter() - started)


def _builtin_map(
    f: Callable[[Config], Partition], configs: Iterable[Config]
) -> Iterator[Partition]:
    return map(f, configs)


def dask_map(client: Any) -> Map:
    """A ``map`` over a ``dask.distributed.Client``: one task per partition."""

    def run(f: Callable[[Config], Partition], configs: Iterable[Config]) -> list[Partition]:
        futures = client.map(f, list(configs), pure=False)
        return list(client.gather(futures))

    return run


def merge(config: Config, parts: list[Partition], wall: float) -> Result:
    """The province's results: sums of the partitions' counts, the province's bundles."""
    results = [r for r, _ in parts]
    names = [policy_name(p) for p in config.policies]
    merged = random.Random(f"placecode-simulate-merge-{config.seed}").randbytes
    authority = crypto.AuthorityKeys.generate(merged)
    clock = time.perf_counter()
    bundles: list[bytes] = []
    figures = []
    verify_s = 0.0
    for d in range(config.days):
        entries = [e for _, by_day in parts for e in by_day[d][0]]
        by_authority = [e for _, by_day in parts for e in by_day[d][1]]
        shortfall = max(0, config.min_bundle_entries - len(entries))
        decoys = crypto.decoy_entries(shortfall, crypto.tag_groups(entries), merged)
        t1 = START + (d + 1) * DAY
        header = BundleHeader(
            authority.public.key_id,
            d + 1,
            t1,
            t1 // 3600 - c.RETENTION_DAYS * 24,
            t1 // 3600,
            MESSAGES,
        )
        everything = entries + decoys + by_authority
        data = crypto.sign_bundle(header, entries + decoys, authority.signing_key, by_authority)
        verifying = time.perf_counter()
        Bundle.verify(data, authority.public, after_sequence=d)
        verify_s += time.perf_counter() - verifying
        bundles.append(data)
        tags = sorted(e[: c.TAG_BYTES] for e in everything)
        figures.append(index_figures(header, tags, [len(e) for e in everything], config))
    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.counts)
    counts["bundles"] = config.days
    counts["decoys"] = sum(max(0, config.min_bundle_entries - n) for n in _real_per_day(parts))
    warnings = {n: sum(r.warnings_by_policy[n] for r in results) for n in names}
    false = {n: sum(r.false_warnings_by_policy[n] for r in results) for n in names}
    exposed = counts["true exposed visits"]
    precision = {n: (warnings[n] - false[n]) / warnings[n] if warnings[n] else None for n in names}
    recall = {n: (warnings[n] - false[n]) / exposed if exposed else None for n in names}
    by_attacker: dict[str, dict[str, int]] = {}
    for r in results:
        for source, by_policy in r.false_warnings_by_attacker.items():
            into = by_attacker.setdefault(source, dict.fromkeys(names, 0))
            for n in names:
                into[n] += by_policy[n]
    devices = [sum(r.devices_per_day[d] for r in results) for d in range(config.days)]
    hits = []
    for d in range(config.days):
        histogram: Counter[int] = Counter()
        for r in results:
            for h, k in r.hit_shards_per_day[d]:
                histogram[h] += k
        hits.append([[h, k] for h, k in sorted(histogram.items())])
    index = index_path(figures, devices, hits, config.shard_fetches)
    bundle_per_day = sum(len(b) for b in bundles) / config.days
    index_total = index["index_bytes_per_device_per_day"] + index["shard_bytes_per_device_per_day"]
    index["ratio_to_full_bundles"] = index_total / max(1.0, bundle_per_day)
    upload = sum(r.upload_bytes_per_device_per_day * r.parameters["visitors"] for r in results)
    upload /= config.visitors
    device_days = sum(devices)
    phases: defaultdict[str, float] = defaultdict(float)
    for r in results:
        for phase, seconds in r.wall_s_by_phase.items():
            phases[phase] += seconds
    phases["merge"] = time.perf_counter() - clock
    parameters = asdict(config)
    parameters["policies"] = names
    parameters["attackers"] = list(config.attackers)
    missed: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for r in results:
        missed.update(r.missed_by_cause)
        sources.update(r.entries_by_source)
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
        entries_by_source=dict(sorted(sources.items())),
        entries_per_day=[f.entries for f in figures],
        bundle_bytes_per_day=[len(b) for b in bundles],
        bytes_per_device_per_day=bundle_per_day + upload,
        bundle_bytes_per_device_per_day=bundle_per_day,
        upload_bytes_per_device_per_day=upload,
        index_path_bytes_per_device_per_day=index_total + upload,
        index_path=index,
        index_bytes_per_day=[f.index_bytes for f in figures],
        devices_per_day=devices,
        hit_shards_per_day=hits,
        server_storage_bytes=max(
            sum(len(b) for b in bundles[max(0, d - c.RETENTION_DAYS + 1) : d + 1])
            for d in range(config.days)
        ),
        match_cpu_s_total=sum(r.match_cpu_s_total for r in results),
        match_us_per_device_day=1e6
        * sum(r.match_cpu_s_total for r in results)
        / max(1, device_days),
        policy_rematch_cpu_s=sum(r.policy_rematch_cpu_s for r in results),
        bundle_verify_ms=1e3 * verify_s / config.days,
        wall_s=wall,
        wall_s_by_phase={k: round(v, 3) for k, v in phases.items()},
        counts=dict(sorted(counts.items())),
    )


def _real_per_day(parts: list[Partition]) -> list[int]:
    days = len(parts[0][1])
    return [sum(len(by_day[d][0]) for _, by_day in parts) for d in range(days)]
