"""A population-scale simulation of placecode/1 on the real protocol code.

Visitors check in at venues of Zipf-like popularity, catch infections at
venues and in the community, test positive, and some consent to upload their
visits; owners confirm some outbreaks; attackers try to cause false warnings.
Every check-in, entry, bundle and match goes through :mod:`crypto`. What lives
here is only bookkeeping: who truly was where, to score warnings against it.

Deterministic for a seed: behaviour draws from ``random.Random(seed)``, keys
and nonces from a second seeded stream, and time is simulated Unix seconds.
The library never prints; ``progress`` is called after each simulated day.
"""

from __future__ import annotations

import bisect
import gc
import math
import multiprocessing
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from placecode import crypto
from placecode.crypto import (
    Bundle,
    BundleHeader,
    Category,
    CodeError,
    EntryContent,
    EvidenceLevel,
    Policy,
    PresenceProof,
    UploadRequest,
    Venue,
    VenueCode,
    Visit,
)
from placecode.crypto import constants as c

#: The attackers a run can include, see :class:`Config`.
ATTACKERS = ("scraper", "fake-uploader", "stale-screen", "forger")
#: Where the entries behind a false warning came from, besides the attackers.
HONEST = "honest"

#: 2026-05-27 00:00 UTC, the first simulated day.
START = 20600 * 86400
DAY = 86400
RETENTION = c.RETENTION_DAYS * DAY
#: The message every bundle's table carries (message id 0).
MESSAGE = "You shared a venue with a confirmed case. Watch for symptoms and get tested."
#: service/api/uploads.py: the service takes at most this many entries per upload.
MAX_ENTRIES_PER_UPLOAD = min(c.MAX_UPLOAD_ENTRIES, c.RETENTION_DAYS * 24 * 2)

#: Kinds of venue: category, share of venues, mean stay and default stay (minutes).
KINDS = (
    (Category.RESTAURANT, 0.22, 70, 120),
    (Category.BAR, 0.10, 100, 180),
    (Category.CAFE, 0.15, 35, 60),
    (Category.SHOP, 0.25, 20, 45),
    (Category.GYM, 0.08, 65, 120),
    (Category.OFFICE, 0.05, 240, 540),
    (Category.CULTURE, 0.10, 110, 180),
    (Category.TRANSPORT, 0.05, 25, 60),
)
#: Relative number of arrivals in each UTC hour of the day.
ARRIVALS = (0, 0, 0, 0, 0, 0, 1, 3, 5, 5, 5, 6, 9, 8, 5, 4, 5, 7, 9, 8, 6, 4, 2, 1)
#: Shared minutes at a venue after which an infection can pass.
INFECTION_MINUTES = 15
#: Days from infection to infectiousness, to a positive test, and to recovery.
LATENT_DAYS = 2
TEST_DAYS = (3, 7)
RECOVERY_DAYS = 9


def policy_name(levels: Iterable[int]) -> str:
    """``(1, 2, 3)`` -> ``"1,2,3"``: how policies are named in the results."""
    return ",".join(str(level) for level in sorted(levels))


@dataclass(frozen=True)
class Config:
    """The parameters of a run; every rate is per visitor and day unless named otherwise."""

    visitors: int = 1000
    venues: int = 100
    days: int = 14
    seed: int = 0
    #: mean check-ins per visitor and day (Poisson)
    visits_per_day: float = 1.0
    #: venue popularity ~ 1 / rank ** zipf
    zipf: float = 1.0
    #: share of venues with a rotating screen; the rest print a poster
    screen_share: float = 0.3
    #: share of stays ended by hand when the visitor leaves; the rest end at
    #: the venue's default stay (automatic check-out), recording a wrong window
    checkout_share: float = 0.8
    #: share of hand check-outs done by rescanning the code (at a screen: an exit proof)
    rescan_share: float = 0.5
    #: daily chance of an infection caught outside the venues
    community_incidence: float = 0.0002
    #: chance that a co-present pair (at least INFECTION_MINUTES) passes an infection
    transmission: float = 0.0005
    #: share of infections that a test confirms
    detection: float = 0.7
    #: share of confirmed cases who upload their visits (consent rate)
    consent: float = 0.6
    #: mean hours from a positive test to the upload (exponential)
    upload_delay_hours: float = 12.0
    #: share of a case's visits whose venue owner the authority reaches; the
    #: owner confirms the case's window the next day (venue-confirmed entries)
    owner_reach: float = 0.5
    attackers: tuple[str, ...] = ATTACKERS
    #: posters the scraper photographed (the most popular poster venues)
    scraped_posters: int = 10
    #: evidence-level policies to score; the first is the primary one
    policies: tuple[tuple[int, ...], ...] = ((1, 2, 3), (1, 2), (1,))
    min_overlap_minutes: int = c.DEFAULT_MIN_OVERLAP_MINUTES
    #: bundles are topped up with decoys to at least this many entries (the service's default)
    min_bundle_entries: int = 200
    #: dummy uploads each device sends per day, to hide the real ones
    dummy_uploads_per_day: float = 0.1
    #: processes that match devices; results do not depend on it
    workers: int = 1
    #: check out through ``CheckIn.check_out`` (every device derives its own
    #: tags) instead of sharing each (code, hour)'s tag and key; same results, slower
    exact_check_outs: bool = False

    def __post_init__(self) -> None:
        if self.visitors < 1 or self.venues < 1 or self.days < 1:
            raise crypto.Error("a simulation needs at least one visitor, venue and day")
        if self.days > 366:
            raise crypto.Error("a simulation runs for at most 366 days")
        unknown = set(self.attackers) - set(ATTACKERS)
        if unknown:
            raise crypto.Error(f"unknown attackers: {', '.join(sorted(unknown))}")
        if not self.policies or any(not p or not set(p) <= {1, 2, 3} for p in self.policies):
            raise crypto.Error("a policy is a non-empty set of evidence levels 1, 2, 3")
        shares = (
            self.screen_share,
            self.checkout_share,
            self.rescan_share,
            self.community_incidence,
            self.transmission,
            self.detection,
            self.consent,
            self.owner_reach,
        )
        if any(not 0 <= s <= 1 for s in shares):
            raise crypto.Error("shares and chances are between 0 and 1")
        if self.workers < 1:
            raise crypto.Error("at least one worker")


@dataclass
class _Published:
    """What the simulation knows about one published entry (the service does not)."""

    source: str
    bundle: int
    hour: int
    start_minute: int
    end_minute: int
    level: int
    forged: bool = False


@dataclass
class _Upload:
    case: int
    at: int
    bundle: int
    visits: list[int]


@dataclass
class _State:
    """Everything a run accumulates; visits are parallel lists indexed by visit id."""

    visitor: list[int] = field(default_factory=list)
    venue: list[int] = field(default_factory=list)
    entered: list[int] = field(default_factory=list)
    left_true: list[int] = field(default_factory=list)
    left_recorded: list[int] = field(default_factory=list)
    #: -1 for a poster, else the UTC day of the screen code
    code_day: list[int] = field(default_factory=list)
    visit: list[Visit] = field(default_factory=list)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _union_minutes(intervals: Iterable[tuple[int, int]]) -> int:
    total, reach = 0, -1
    for lo, hi in sorted(intervals):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


class _Run:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.random_bytes = random.Random(f"placecode-simulate-bytes-{config.seed}").randbytes
        self.end = START + config.days * DAY
        self.s = _State()
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
        self._make_venues()
        self.authority = crypto.AuthorityKeys.generate(self.random_bytes)
        n = config.visitors
        self.diary: list[list[int]] = [[] for _ in range(n)]
        self.free_at = [START] * n
        self.last_venue = [-1] * n
        self.infected_at: list[int | None] = [None] * n
        self.infectious: list[tuple[int, int] | None] = [None] * n
        self.isolated_at: list[int | None] = [None] * n
        self.uploaded_at: list[int | None] = [None] * n
        self.by_venue: list[list[int]] = [[] for _ in range(config.venues)]
        self.upload_due: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.owner_due: dict[int, list[int]] = defaultdict(list)
        self.pending: list[tuple[bytes, _Published]] = []
        self.published: dict[bytes, list[_Published]] = defaultdict(list)
        self.uploads: list[_Upload] = []
        self.bundle_bytes: list[bytes] = []
        self.bundles: list[Bundle] = []
        self.entries_by_source: Counter[str] = Counter()
        self.warned: list[dict[int, int]] = [{} for _ in self.policies]
        self.match_cpu = 0.0
        self.rematch_cpu = 0.0
        self.device_days = 0
        self.verify_s = 0.0
        self.tans = 0

    # --- population -------------------------------------------------------

    def _make_venues(self) -> None:
        cfg, rng = self.config, self.rng
        kinds = [rng.choices(KINDS, weights=[k[1] for k in KINDS])[0] for _ in range(cfg.venues)]
        self.venues = [
            Venue.generate(self.random_bytes(c.SECRET_BYTES), f"venue {i}", kind[0], kind[3])
            for i, kind in enumerate(kinds)
        ]
        self.mean_stay = [kind[2] for kind in kinds]
        self.is_screen = [rng.random() < cfg.screen_share for _ in range(cfg.venues)]
        # popularity rank is a random permutation, so kind and rank are independent
        rank = list(range(1, cfg.venues + 1))
        rng.shuffle(rank)
        weights = [1 / r**cfg.zipf for r in rank]
        self.popularity = sorted(range(cfg.venues), key=lambda i: rank[i])
        self.venue_cum = list(_accumulate(weights))
        self.hour_cum = list(_accumulate(ARRIVALS))
        self.posters = [
            None if s else v.poster() for v, s in zip(self.venues, self.is_screen, strict=True)
        ]
        self.screen_codes: dict[tuple[int, int], VenueCode] = {}
        self.hour_keys: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}

    def _screen(self, venue: int, now: int) -> VenueCode:
        key = (venue, now // c.EPOCH_SECONDS)
        code = self.screen_codes.get(key)
        if code is None:
            code = self.screen_codes[key] = self.venues[venue].screen(now)
        return code

    def _pick_venue(self, avoid: int) -> int:
        while True:
            i = bisect.bisect(self.venue_cum, self.rng.random() * self.venue_cum[-1])
            i = min(i, len(self.venue_cum) - 1)
            if i != avoid or len(self.venue_cum) == 1:
                return i

    # --- one day ----------------------------------------------------------

    def day(self, d: int) -> None:
        t0 = START + d * DAY
        t1 = t0 + DAY
        clock = time.perf_counter()
        self._community_infections(t0)
        first_visit = len(self.s.visitor)
        self._visits(t0)
        self.screen_codes.clear()
        self.hour_keys.clear()
        self._transmissions(first_visit)
        self.phase["visits and check-ins"] += time.perf_counter() - clock
        clock = time.perf_counter()
        for at, case in sorted(self.upload_due.pop(d, [])):
            self._upload(case, at, d)
        for vid in self.owner_due.pop(d, []):
            self._owner_confirms(vid, d)
        for name in self.config.attackers:
            ATTACKS[name](self, d, t0)
        self.phase["uploads, owners, attackers"] += time.perf_counter() - clock
        clock = time.perf_counter()
        self._publish(d, t1)
        self.phase["bundles"] += time.perf_counter() - clock
        clock = time.perf_counter()
        self._sync(d)
        self.phase["device matching"] += time.perf_counter() - clock

    def _community_infections(self, t0: int) -> None:
        rng, p = self.rng, self.config.community_incidence
        for i in range(self.config.visitors):
            if rng.random() < p and self.infected_at[i] is None:
                self._infect(i, t0 + rng.randrange(DAY))

    def _infect(self, i: int, at: int) -> None:
        cfg, rng = self.config, self.rng
        self.infected_at[i] = at
        self.counts["infections"] += 1
        start = at + LATENT_DAYS * DAY
        if rng.random() < cfg.detection:
            confirmed = at + rng.randint(TEST_DAYS[0] * DAY, TEST_DAYS[1] * DAY)
            self.isolated_at[i] = confirmed
            self.infectious[i] = (start, confirmed)
            if confirmed < self.end:
                self.counts["confirmed cases"] += 1
                if rng.random() < cfg.consent:
                    delay = (
                        rng.expovariate(1 / cfg.upload_delay_hours) if cfg.upload_delay_hours else 0
                    )
                    upload = confirmed + int(delay * 3600)
                    if upload < self.end:
                        self.upload_due[(upload - START) // DAY].append((upload, i))
        else:
            self.infectious[i] = (start, at + RECOVERY_DAYS * DAY)

    def _visits(self, t0: int) -> None:
        cfg, rng = self.config, self.rng
        for i in range(cfg.visitors):
            k = _poisson(rng, cfg.visits_per_day)
            if not k:
                continue
            arrivals = sorted(
                t0
                + 3600 * bisect.bisect(self.hour_cum, rng.random() * self.hour_cum[-1])
                + 60 * rng.randrange(60)
                for _ in range(k)
            )
            for arrival in arrivals:
                self._visit(i, max(arrival, self.free_at[i]))

    def _visit(self, i: int, entered: int) -> None:
        cfg, rng, s = self.config, self.rng, self.s
        venue_index = self._pick_venue(self.last_venue[i])
        venue = self.venues[venue_index]
        mean = self.mean_stay[venue_index]
        sigma = 0.6
        stay = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
        stay_minutes = max(5, min(venue.stay_minutes, round(stay)))
        by_hand = rng.random() < cfg.checkout_share
        rescan = rng.random() < cfg.rescan_share
        left_true = entered + 60 * stay_minutes
        left_recorded = left_true if by_hand else entered + 60 * venue.stay_minutes
        isolated = self.isolated_at[i]
        if max(left_true, left_recorded) > self.end or (
            isolated is not None and left_true > isolated
        ):
            return
        # an hour apart: one device never holds two visits of one code in one hour
        self.free_at[i] = max(left_true, left_recorded) + 3600
        self.last_venue[i] = venue_index
        if self.is_screen[venue_index]:
            check = crypto.check_in(self._screen(venue_index, entered), entered)
            self.counts["screen check-ins"] += 1
            if by_hand and rescan:
                try:
                    check = check.rescan(self._screen(venue_index, left_recorded), left_recorded)
                    self.counts["exit rescans"] += 1
                except CodeError:
                    # past midnight the screen shows the next day's code
                    self.counts["exit rescans refused (new day code)"] += 1
            code_day = entered // DAY
        else:
            poster = self.posters[venue_index]
            assert poster is not None
            check = crypto.check_in(poster, entered)
            self.counts["poster check-ins"] += 1
            if by_hand and rescan:
                check = check.rescan(poster, left_recorded)
            code_day = -1
        vid = len(s.visitor)
        s.visitor.append(i)
        s.venue.append(venue_index)
        s.entered.append(entered)
        s.left_true.append(left_true)
        s.left_recorded.append(left_recorded)
        s.code_day.append(code_day)
        s.visit.append(
            check.check_out(left_recorded)
            if self.config.exact_check_outs
            else self._check_out(check, left_recorded)
        )
        self.diary[i].append(vid)
        self.by_venue[venue_index].append(vid)

    def _check_out(self, check: crypto.CheckIn, left_at: int) -> Visit:
        """``check.check_out(left_at)``, with each (code, hour)'s tag and key derived once.

        Tags and entry keys depend only on the code key and the hour, so every
        device that scanned a code derives the same ones: sharing them changes
        no result (``Config.exact_check_outs`` and the tests check this).
        """
        code = check.code
        left_at = min(left_at, check.auto_checkout_at)
        slots = []
        for hour, lo, hi in crypto.stay_windows(check.entered_at, left_at):
            keys = self.hour_keys.get((code.code_key, hour))
            if keys is None:
                keys = (crypto.hour_tag(code.code_key, hour), crypto.entry_key(code.code_key, hour))
                self.hour_keys[code.code_key, hour] = keys
            slots.append(crypto.Slot(hour, lo, hi, *keys))
        return Visit(
            code.name,
            code.category,
            code.kind,
            code.venue_public_key,
            code.code_id,
            check.entered_at,
            left_at,
            tuple(slots),
            check.proofs,
        )

    def _transmissions(self, first_visit: int) -> None:
        s, rng, p = self.s, self.rng, self.config.transmission
        if not p:
            return
        today: dict[int, list[int]] = defaultdict(list)
        for vid in range(first_visit, len(s.visitor)):
            today[s.venue[vid]].append(vid)
        for vid in range(first_visit, len(s.visitor)):
            window = self.infectious[s.visitor[vid]]
            if window is None or not window[0] <= s.entered[vid] < window[1]:
                continue
            for other in today[s.venue[vid]]:
                j = s.visitor[other]
                if self.infected_at[j] is not None:
                    continue
                lo = max(s.entered[vid], s.entered[other])
                hi = min(s.left_true[vid], s.left_true[other])
                if hi - lo >= INFECTION_MINUTES * 60 and rng.random() < p:
                    self._infect(j, lo)
                    self.counts["infections at venues"] += 1

    # --- uploads ------------------------------------------------------------

    def _send(self, source: str, entries: list[tuple[bytes, _Published]]) -> None:
        """Uploads entries in fixed-size requests, one TAN each, as the service parses them."""
        chunk: list[tuple[bytes, _Published]] = []
        size = c.UPLOAD_HEAD_BYTES
        for item in entries:
            grown = size + 1 + len(item[0])
            if chunk and (len(chunk) == MAX_ENTRIES_PER_UPLOAD or grown > c.UPLOAD_BYTES):
                self._request(source, chunk)
                chunk, grown = [], c.UPLOAD_HEAD_BYTES + 1 + len(item[0])
            chunk.append(item)
            size = grown
        if chunk:
            self._request(source, chunk)

    def _request(self, source: str, chunk: list[tuple[bytes, _Published]]) -> None:
        self.tans += 1
        request = UploadRequest(f"SIM{self.tans:08d}", tuple(e for e, _ in chunk))
        received = UploadRequest.from_bytes(request.to_bytes())
        assert received.entries == request.entries
        self.counts["uploads"] += 1
        if source == HONEST:
            self.counts["uploads by cases"] += 1
        self.pending.extend(zip(received.entries, (p for _, p in chunk), strict=True))

    def _entries_of(self, visit: Visit, source: str, bundle: int) -> list[tuple[bytes, _Published]]:
        entries = crypto.report_entries(visit, self.random_bytes)
        out: list[tuple[bytes, _Published]] = []
        slots = {slot.tag: slot for slot in visit.slots}
        for entry in entries:
            slot = slots[entry[: c.TAG_BYTES]]
            content = crypto.open_entry(entry, slot.key)
            info = _Published(
                source,
                bundle,
                slot.hour,
                content.start_minute,
                content.end_minute,
                content.level,
            )
            out.append((entry, info))
        return out

    def _upload(self, case: int, at: int, d: int) -> None:
        s = self.s
        kept = [
            vid
            for vid in self.diary[case]
            if s.left_recorded[vid] <= at and s.left_recorded[vid] > at - RETENTION
        ]
        entries = []
        for vid in kept:
            entries.extend(self._entries_of(s.visit[vid], HONEST, d))
            if self.rng.random() < self.config.owner_reach and d + 1 < self.config.days:
                self.owner_due[d + 1].append(vid)
        if entries:
            self._send(HONEST, entries)
        self.uploaded_at[case] = at
        self.uploads.append(_Upload(case, at, d, kept))
        self.counts["uploading cases"] += 1

    def _owner_confirms(self, vid: int, d: int) -> None:
        s = self.s
        venue = s.venue[vid]
        screen = self.is_screen[venue]
        slots = crypto.confirm_window(
            self.venues[venue],
            s.entered[vid],
            s.left_recorded[vid],
            posters=() if screen else (0,),
            screen=screen,
        )
        trace = crypto.seal_trace(slots, self.authority.public)
        entries: list[tuple[bytes, _Published]] = []
        for slot in crypto.open_trace(trace, self.authority):
            entry = slot.seal(0, self.random_bytes(c.NONCE_BYTES))
            info = _Published(
                HONEST,
                d,
                slot.hour,
                slot.start_minute,
                slot.end_minute,
                EvidenceLevel.VENUE_CONFIRMED,
            )
            entries.append((entry, info))
        self.counts["owner confirmations"] += 1
        # the authority publishes these itself (POST /v1/venue-entries), without a TAN
        self.pending.extend(entries)

    # --- attackers ------------------------------------------------------------

    def _posters_by_popularity(self) -> list[int]:
        return [i for i in self.popularity if not self.is_screen[i]]

    def _screens_by_popularity(self) -> list[int]:
        return [i for i in self.popularity if self.is_screen[i]]

    def _scraper(self, d: int, t0: int) -> None:
        """Self-reported entries for every hour of the day at each photographed poster."""
        entries = []
        for venue in self._posters_by_popularity()[: self.config.scraped_posters]:
            poster = self.posters[venue]
            assert poster is not None
            for start in (t0, t0 + DAY // 2):
                visit = crypto.check_in(poster, start).check_out(start + DAY // 2)
                entries.extend(self._entries_of(visit, "scraper", d))
        if entries:
            self._send("scraper", entries)

    def _fake_uploader(self, d: int, t0: int) -> None:
        """A remote check-in with a photographed poster: a made-up evening at a busy venue."""
        posters = self._posters_by_popularity()
        if not posters:
            return
        poster = self.posters[posters[min(len(posters) - 1, self.config.scraped_posters)]]
        assert poster is not None
        visit = crypto.check_in(poster, t0 + 18 * 3600).check_out(t0 + 21 * 3600)
        self._send("fake-uploader", self._entries_of(visit, "fake-uploader", d))

    def _stale_screen(self, d: int, t0: int) -> None:
        """A screenshot of a screen taken at noon, used three hours later."""
        screens = self._screens_by_popularity()
        if not screens:
            return
        venue = screens[0]
        code = self.venues[venue].screen(t0 + 12 * 3600)
        claimed = t0 + 15 * 3600
        try:
            crypto.check_in(code, claimed)
        except CodeError:
            self.counts["stale check-ins refused"] += 1
        assert code.proof is not None
        visit = Visit(
            code.name,
            code.category,
            code.kind,
            code.venue_public_key,
            code.code_id,
            claimed,
            claimed + 3 * 3600,
            crypto.slots_for(code.code_key, claimed, claimed + 3 * 3600),
            (code.proof,),
        )
        self._send("stale-screen", self._entries_of(visit, "stale-screen", d))

    def _forger(self, d: int, t0: int) -> None:
        """Presence-proven entries for every hour after a morning visit, with forged proofs."""
        screens = self._screens_by_popularity()
        if not screens:
            return
        code = self.venues[screens[0]].screen(t0 + 8 * 3600)
        entries: list[tuple[bytes, _Published]] = []
        for hour in range((t0 + 9 * 3600) // 3600, (t0 + 23 * 3600) // 3600):
            epoch = hour * 3600 // c.EPOCH_SECONDS
            proofs = (
                PresenceProof(epoch, self.random_bytes(c.SIGNATURE_BYTES)),
                PresenceProof(epoch + 119, self.random_bytes(c.SIGNATURE_BYTES)),
            )
            content = EntryContent(EvidenceLevel.PRESENCE_PROVEN, 0, 60, 0, None, proofs)
            entry = crypto.seal_entry(
                crypto.hour_tag(code.code_key, hour),
                crypto.entry_key(code.code_key, hour),
                content,
                self.random_bytes(c.NONCE_BYTES),
            )
            entries.append((entry, _Published("forger", d, hour, 0, 60, 2, forged=True)))
        self._send("forger", entries)

    # --- bundles and devices ------------------------------------------------------

    def _publish(self, d: int, t1: int) -> None:
        entries = self.pending
        self.pending = []
        for entry, info in entries:
            self.published[entry[: c.TAG_BYTES]].append(info)
            self.entries_by_source[info.source] += 1
        lengths = [len(e) for e, _ in entries] or [c.MIN_ENTRY_BYTES]
        shortfall = max(0, self.config.min_bundle_entries - len(entries))
        choose = random.Random(self.random_bytes(16))
        decoys = [self.random_bytes(choose.choice(lengths)) for _ in range(shortfall)]
        self.counts["decoys"] += shortfall
        header = BundleHeader(
            self.authority.public.key_id,
            d + 1,
            t1,
            t1 // 3600 - c.RETENTION_DAYS * 24,
            t1 // 3600,
            (MESSAGE,),
        )
        data = crypto.sign_bundle(
            header, [e for e, _ in entries] + decoys, self.authority.signing_key
        )
        clock = time.perf_counter()
        # every device verifies alike; the simulation verifies once and charges it per device
        bundle = Bundle.verify(data, self.authority.public, after_sequence=d)
        self.verify_s += time.perf_counter() - clock
        self.bundle_bytes.append(data)
        self.bundles.append(bundle)

    def _sync(self, d: int) -> None:
        cfg = self.config
        global _RUN
        # a device deletes what is past retention before it matches
        self._prune(START + (d + 1) * DAY)
        if cfg.workers == 1:
            results = [_sync_devices(self, d, 0, cfg.visitors)]
        else:
            _RUN = self
            gc.freeze()
            step = -(-cfg.visitors // (cfg.workers * 4))
            chunks = [(d, lo, min(cfg.visitors, lo + step)) for lo in range(0, cfg.visitors, step)]
            with multiprocessing.get_context("fork").Pool(cfg.workers) as pool:
                results = pool.starmap(_sync_chunk, chunks)
            _RUN = None
            gc.unfreeze()
        for synced in results:
            self.match_cpu += synced.match_cpu
            self.rematch_cpu += synced.rematch_cpu
            self.device_days += synced.devices
            for vid, p in synced.warnings:
                self.warned[p].setdefault(vid, d)

    def _prune(self, now: int) -> None:
        s = self.s
        for diary in self.diary:
            drop = 0
            while drop < len(diary) and s.left_recorded[diary[drop]] <= now - RETENTION:
                drop += 1
            if drop:
                del diary[:drop]

    # --- results ----------------------------------------------------------------

    def _held(self, vid: int, b: int) -> bool:
        """Whether the device of ``vid`` matched it against bundle ``b``."""
        s = self.s
        t_b = START + (b + 1) * DAY
        if s.entered[vid] >= t_b:
            return False
        synced = t_b if s.left_recorded[vid] <= t_b else t_b + DAY
        uploaded = self.uploaded_at[s.visitor[vid]]
        if uploaded is not None and uploaded <= synced:
            return False
        return synced < self.end + 1 and s.left_recorded[vid] > synced - RETENTION

    def _truth(self) -> tuple[set[int], dict[int, list[tuple[int, int]]]]:
        """The visits truly exposed, and for each co-present visit the case visits and bundles."""
        s = self.s
        starts = {}
        for venue, vids in enumerate(self.by_venue):
            vids.sort(key=lambda v: s.entered[v])
            starts[venue] = [s.entered[v] for v in vids]
        longest = c.MAX_STAY_MINUTES * 60
        pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for upload in self.uploads:
            for cv in upload.visits:
                venue = s.venue[cv]
                vids, at = self.by_venue[venue], starts[venue]
                lo = bisect.bisect_left(at, s.entered[cv] - longest)
                hi = bisect.bisect_left(at, s.left_true[cv])
                for v in vids[lo:hi]:
                    if s.visitor[v] == upload.case or s.left_true[v] <= s.entered[cv]:
                        continue
                    if self._held(v, upload.bundle):
                        pairs[v].append((cv, upload.bundle))
        exposed = {
            v
            for v, cases in pairs.items()
            if self._shared(v, (cv for cv, _ in cases), recorded=False)
            >= self.config.min_overlap_minutes
        }
        return exposed, pairs

    def _shared(self, v: int, case_visits: Iterable[int], *, recorded: bool) -> int:
        s = self.s
        left = s.left_recorded if recorded else s.left_true
        return _union_minutes(
            (max(s.entered[v], s.entered[cv]) // 60, min(left[v], left[cv]) // 60)
            for cv in case_visits
        )

    def _why_missed(self, v: int, cases: list[tuple[int, int]]) -> str:
        s, need = self.s, self.config.min_overlap_minutes
        same = [(cv, b) for cv, b in cases if s.code_day[cv] == s.code_day[v]]
        if self._shared(v, (cv for cv, _ in same), recorded=False) < need:
            return "screen day code differs"
        if self._shared(v, (cv for cv, _ in same), recorded=True) < need:
            return "automatic check-out"
        by_bundle: dict[int, list[int]] = defaultdict(list)
        for cv, b in same:
            by_bundle[b].append(cv)
        if all(self._shared(v, cvs, recorded=True) < need for cvs in by_bundle.values()):
            return "split across bundles"
        return "other"

    def _sources(self, v: int, policy: Policy) -> set[str]:
        """Who published the entries that match visit ``v`` under ``policy``."""
        found = set()
        levels = {int(level) for level in policy.warn_levels}
        for slot in self.s.visit[v].slots:
            for info in self.published.get(slot.tag, ()):
                if info.level not in levels or info.forged:
                    continue
                if info.start_minute < slot.end_minute and slot.start_minute < info.end_minute:
                    found.add(info.source)
        return found

    def results(self, wall: float) -> dict[str, Any]:
        cfg, s = self.config, self.s
        clock = time.perf_counter()
        exposed, pairs = self._truth()
        names = [policy_name(p) for p in cfg.policies]
        precision, recall, warnings, false, by_attacker = {}, {}, {}, {}, {}
        for source in (*cfg.attackers, HONEST):
            by_attacker[source] = dict.fromkeys(names, 0)
        for name, policy, warned in zip(names, self.policies, self.warned, strict=True):
            hits = sum(1 for v in warned if v in exposed)
            warnings[name] = len(warned)
            false[name] = len(warned) - hits
            precision[name] = hits / len(warned) if warned else None
            recall[name] = hits / len(exposed) if exposed else None
            for v in warned:
                if v not in exposed:
                    for source in self._sources(v, policy):
                        by_attacker[source][name] += 1
        primary = self.warned[0]
        missed = Counter(self._why_missed(v, pairs[v]) for v in exposed if v not in primary)
        self.phase["truth"] += time.perf_counter() - clock
        bundle_total = sum(len(b) for b in self.bundle_bytes)
        real_uploads = self.counts["uploads by cases"]
        dummies = round(cfg.dummy_uploads_per_day * cfg.visitors * cfg.days)
        per_device_day = cfg.visitors * cfg.days
        upload_bytes = (real_uploads + dummies) * c.UPLOAD_BYTES / per_device_day
        storage = max(
            sum(len(b) for b in self.bundle_bytes[max(0, d - c.RETENTION_DAYS + 1) : d + 1])
            for d in range(cfg.days)
        )
        parameters = asdict(cfg)
        parameters["policies"] = names
        parameters["attackers"] = list(cfg.attackers)
        counts = dict(sorted(self.counts.items()))
        counts.update(
            {
                "visits": len(s.visitor),
                "bundles": len(self.bundle_bytes),
                "entries published": sum(self.entries_by_source.values()),
                "true exposed visits": len(exposed),
                "true exposed devices": len({s.visitor[v] for v in exposed}),
                "warned devices": len({s.visitor[v] for v in primary}),
                "device-days matched": self.device_days,
            }
        )
        return {
            "parameters": parameters,
            "precision": precision[names[0]],
            "recall": recall[names[0]],
            "precision_by_policy": precision,
            "recall_by_policy": recall,
            "warnings_by_policy": warnings,
            "false_warnings_by_policy": false,
            "false_warnings_by_attacker": by_attacker,
            "missed_by_cause": dict(sorted(missed.items())),
            "entries_by_source": dict(sorted(self.entries_by_source.items())),
            "entries_per_day": [b.count for b in self.bundles],
            "bundle_bytes_per_day": [len(b) for b in self.bundle_bytes],
            "bytes_per_device_per_day": bundle_total / cfg.days + upload_bytes,
            "bundle_bytes_per_device_per_day": bundle_total / cfg.days,
            "upload_bytes_per_device_per_day": upload_bytes,
            "server_storage_bytes": storage,
            "match_cpu_s_total": self.match_cpu,
            "match_us_per_device_day": 1e6 * self.match_cpu / max(1, self.device_days),
            "policy_rematch_cpu_s": self.rematch_cpu,
            "bundle_verify_ms": 1e3 * self.verify_s / cfg.days,
            "wall_s": wall,
            "wall_s_by_phase": {k: round(v, 3) for k, v in self.phase.items()},
            "counts": counts,
        }


def _accumulate(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


ATTACKS: dict[str, Callable[[_Run, int, int], None]] = {
    "scraper": _Run._scraper,
    "fake-uploader": _Run._fake_uploader,
    "stale-screen": _Run._stale_screen,
    "forger": _Run._forger,
}


@dataclass
class _Synced:
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
_RUN: _Run | None = None


def _sync_chunk(d: int, lo: int, hi: int) -> _Synced:
    assert _RUN is not None
    return _sync_devices(_RUN, d, lo, hi)


def _sync_devices(run: _Run, d: int, lo: int, hi: int) -> _Synced:
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
    return _Synced(warnings, cpu, narrowing, devices)


def simulate(config: Config, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Runs the simulation; returns the JSON-ready results (see ``docs/research.md``)."""
    started = time.perf_counter()
    run = _Run(config)
    for d in range(config.days):
        run.day(d)
        if progress is not None:
            progress(d + 1)
    return run.results(time.perf_counter() - started)


#: bar colours of false warnings by source; true warnings are green
COLORS = {
    "scraper": "tab:blue",
    "fake-uploader": "tab:orange",
    "stale-screen": "tab:purple",
    "forger": "tab:brown",
    HONEST: "tab:red",
}


def plot(result: dict[str, Any], path: Path) -> None:
    """Writes a PNG: warnings by policy and source, entries per day, precision and recall."""
    from matplotlib.figure import Figure

    names = list(result["warnings_by_policy"])
    fig = Figure(figsize=(14, 4.5), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    true = [result["warnings_by_policy"][n] - result["false_warnings_by_policy"][n] for n in names]
    ax1.bar(names, true, label="true warnings", color="tab:green")
    bottom = list(true)
    for source, by_policy in result["false_warnings_by_attacker"].items():
        heights = [by_policy[n] for n in names]
        if any(heights):
            color = COLORS.get(source)
            ax1.bar(names, heights, bottom=bottom, label=f"false: {source}", color=color)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax1.set_xlabel("evidence levels that warn")
    ax1.set_ylabel("warned visits")
    ax1.set_title("Warnings by policy (a false one counts under each source)")
    ax1.legend(fontsize="small")
    days = range(1, len(result["entries_per_day"]) + 1)
    ax2.plot(days, [b / 1024 for b in result["bundle_bytes_per_day"]], marker="o")
    ax2.set_xlabel("day")
    ax2.set_ylabel("bundle KiB (downloaded by every device)")
    ax2.set_title("Daily bundle size")
    precision = [result["precision_by_policy"][n] or 0 for n in names]
    recall = [result["recall_by_policy"][n] or 0 for n in names]
    x = range(len(names))
    ax3.bar([i - 0.2 for i in x], precision, width=0.4, label="precision")
    ax3.bar([i + 0.2 for i in x], recall, width=0.4, label="recall")
    ax3.set_xticks(list(x), names)
    ax3.set_ylim(0, 1.05)
    ax3.set_xlabel("evidence levels that warn")
    ax3.set_title("Precision and recall (per visit)")
    ax3.legend(fontsize="small")
    p = result["parameters"]
    fig.suptitle(
        f"placecode simulate: {p['visitors']:,} visitors, {p['venues']:,} venues, "
        f"{p['days']} days, seed {p['seed']}"
    )
    fig.savefig(path, format="png", dpi=100)


__all__ = ["ATTACKERS", "Config", "plot", "policy_name", "simulate"]
