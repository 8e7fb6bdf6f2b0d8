"""One run's state, and the order of a simulated day."""

from __future__ import annotations

import random
import time
from array import array
from collections import Counter, defaultdict

from placecode import crypto
from placecode.crypto import Bundle, EvidenceLevel, Policy

from . import _attackers, _devices, _population, _publishing
from ._config import DAY, START, Config
from ._publishing import IndexFigures
from ._records import Published, Upload, Visits
from ._where import Where


class Run:
    """Everything a run accumulates. Behaviour draws from ``rng``; keys and nonces
    from ``random_bytes``; the order of the draws makes a seed's results."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.random_bytes = random.Random(f"placecode-simulate-bytes-{config.seed}").randbytes
        self.end = START + config.days * DAY
        self.s = Visits()
        self.counts: Counter[str] = Counter()
        self.phase: defaultdict[str, float] = defaultdict(float)
        self.policies = [
            Policy(frozenset(EvidenceLevel(x) for x in p), config.min_overlap_minutes)
            for p in config.policies
        ]
        self.widest = Policy(
            frozenset(level for p in self.policies for level in p.warn_levels),
            config.min_overlap_minutes,
        )
        self.v = _population.make_venues(config, self.rng, self.random_bytes)
        self.authority = crypto.AuthorityKeys.generate(self.random_bytes)
        n = config.visitors
        #: each visitor's visit ids, oldest first
        self.diary: list[array[int]] = [array("q") for _ in range(n)]
        self.free_at = [START] * n
        self.last_venue = [-1] * n
        self.infected_at: list[int | None] = [None] * n
        self.infectious: list[tuple[int, int] | None] = [None] * n
        self.isolated_at: list[int | None] = [None] * n
        self.uploaded_at: list[int | None] = [None] * n
        self.where = Where()
        self.upload_due: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.owner_due: dict[int, list[int]] = defaultdict(list)
        self.pending: list[tuple[bytes, Published]] = []
        #: the authority's own entries (venue traces): a bundle's authority section (§8)
        self.pending_authority: list[tuple[bytes, Published]] = []
        self.published: dict[bytes, list[Published]] = defaultdict(list)
        self.uploads: list[Upload] = []
        self.bundle_bytes: list[bytes] = []
        self.bundles: list[Bundle] = []
        #: the (venue, hour) of every entry in each day's bundle
        self.bundle_keys: list[set[tuple[int, int]]] = []
        #: the index path's figures of each day's bundle (see ``_publishing.index_figures``)
        self.indexes: list[IndexFigures] = []
        #: each day's real entries, public and the authority's own (a partitioned
        #: run's driver merges them)
        self.entries_per_day: list[tuple[list[bytes], list[bytes]]] = []
        #: the tags of each day's bundle's real entries
        self.bundle_tags: list[set[bytes]] = []
        #: each day: devices that synced, and for each device with a hit, its hit shards
        self.shard_hits: list[tuple[int, list[int]]] = []
        #: the visits a lazy sync matches (read by forked workers)
        self.candidates: list[int] = []
        self.entries_by_source: Counter[str] = Counter()
        self.warned: list[dict[int, int]] = [{} for _ in self.policies]
        self.match_cpu = 0.0
        self.rematch_cpu = 0.0
        self.device_days = 0
        self.verify_s = 0.0
        self.tans = 0

    def day(self, d: int) -> None:
        t0 = START + d * DAY
        t1 = t0 + DAY
        clock = time.perf_counter()
        _population.community_infections(self, t0)
        first_visit = len(self.s.visitor)
        _population.visits(self, t0)
        self.where.add(self.s, first_visit)
        self.v.forget()
        _population.transmissions(self, first_visit)
        self.phase["visits and check-ins"] += time.perf_counter() - clock
        clock = time.perf_counter()
        for at, case in sorted(self.upload_due.pop(d, [])):
            _publishing.upload(self, case, at, d)
        for vid in self.owner_due.pop(d, []):
            _publishing.owner_confirms(self, vid, d)
        for name in self.config.attackers:
            _attackers.ATTACKS[name](self, d, t0)
        self.phase["uploads, owners, attackers"] += time.perf_counter() - clock
        clock = time.perf_counter()
        _publishing.publish(self, d, t1)
        self.phase["bundles"] += time.perf_counter() - clock
        clock = time.perf_counter()
        _devices.sync(self, d)
        self.phase["device matching"] += time.perf_counter() - clock
