"""The population: venues, visits and check-ins, infections in the community and at venues."""

from __future__ import annotations

import bisect
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from placecode import crypto
from placecode.crypto import CodeError, RandomBytes, Venue, VenueCode, Visit
from placecode.crypto import constants as c

from ._config import (
    ARRIVALS,
    DAY,
    INFECTION_MINUTES,
    KINDS,
    LATENT_DAYS,
    RECOVERY_DAYS,
    START,
    TEST_DAYS,
    Config,
)

if TYPE_CHECKING:
    from ._run import Run


@dataclass
class Venues:
    """The venues, their popularity, and the codes and keys derived today."""

    venues: list[Venue]
    #: mean stay of each venue's kind, minutes
    mean_stay: list[int]
    is_screen: list[bool]
    #: venue indices, most popular first
    popularity: list[int]
    venue_cum: list[float]
    hour_cum: list[float]
    posters: list[VenueCode | None]
    #: today's screen codes by (venue, epoch)
    screen_codes: dict[tuple[int, int], VenueCode] = field(default_factory=dict)
    #: today's (tag, key) by (code key, hour)
    hour_keys: dict[tuple[bytes, int], tuple[bytes, bytes]] = field(default_factory=dict)
    #: today's screen check-ins by (venue, minute)
    check_ins: dict[tuple[int, int], crypto.CheckIn] = field(default_factory=dict)

    def forget(self) -> None:
        """Drops the codes, keys and check-ins derived so far (they are derived again)."""
        self.screen_codes.clear()
        self.hour_keys.clear()
        self.check_ins.clear()

    def posters_by_popularity(self) -> list[int]:
        return [i for i in self.popularity if not self.is_screen[i]]

    def screens_by_popularity(self) -> list[int]:
        return [i for i in self.popularity if self.is_screen[i]]


def make_venues(cfg: Config, rng: random.Random, random_bytes: RandomBytes) -> Venues:
    kinds = [rng.choices(KINDS, weights=[k[1] for k in KINDS])[0] for _ in range(cfg.venues)]
    venues = [
        Venue.generate(random_bytes(c.SECRET_BYTES), f"venue {i}", kind[0], kind[3])
        for i, kind in enumerate(kinds)
    ]
    is_screen = [rng.random() < cfg.screen_share for _ in range(cfg.venues)]
    # popularity rank is a random permutation, so kind and rank are independent
    rank = list(range(1, cfg.venues + 1))
    rng.shuffle(rank)
    weights = [1 / r**cfg.zipf for r in rank]
    return Venues(
        venues=venues,
        mean_stay=[kind[2] for kind in kinds],
        is_screen=is_screen,
        popularity=sorted(range(cfg.venues), key=lambda i: rank[i]),
        venue_cum=list(accumulate(weights)),
        hour_cum=list(accumulate(ARRIVALS)),
        posters=[None if s else v.poster() for v, s in zip(venues, is_screen, strict=True)],
    )


def accumulate(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def screen(run: Run, venue: int, now: int) -> VenueCode:
    """The code venue ``venue``'s screen shows at ``now`` (one per epoch)."""
    key = (venue, now // c.EPOCH_SECONDS)
    code = run.v.screen_codes.get(key)
    if code is None:
        code = run.v.screen_codes[key] = run.v.venues[venue].screen(now)
    return code


def pick_venue(run: Run, avoid: int) -> int:
    cum = run.v.venue_cum
    while True:
        i = bisect.bisect(cum, run.rng.random() * cum[-1])
        i = min(i, len(cum) - 1)
        if i != avoid or len(cum) == 1:
            return i


def community_infections(run: Run, t0: int) -> None:
    rng, p = run.rng, run.config.community_incidence
    for i in range(run.config.visitors):
        if rng.random() < p and run.infected_at[i] is None:
            infect(run, i, t0 + rng.randrange(DAY))


def infect(run: Run, i: int, at: int) -> None:
    cfg, rng = run.config, run.rng
    run.infected_at[i] = at
    run.counts["infections"] += 1
    start = at + LATENT_DAYS * DAY
    if rng.random() < cfg.detection:
        confirmed = at + rng.randint(TEST_DAYS[0] * DAY, TEST_DAYS[1] * DAY)
        run.isolated_at[i] = confirmed
        run.infectious[i] = (start, confirmed)
        if confirmed < run.end:
            run.counts["confirmed cases"] += 1
            if rng.random() < cfg.consent:
                delay = rng.expovariate(1 / cfg.upload_delay_hours) if cfg.upload_delay_hours else 0
                upload = confirmed + int(delay * 3600)
                if upload < run.end:
                    run.upload_due[(upload - START) // DAY].append((upload, i))
    else:
        run.infectious[i] = (start, at + RECOVERY_DAYS * DAY)


def visits(run: Run, t0: int) -> None:
    cfg, rng, hour_cum = run.config, run.rng, run.v.hour_cum
    for i in range(cfg.visitors):
        k = poisson(rng, cfg.visits_per_day)
        if not k:
            continue
        arrivals = sorted(
            t0
            + 3600 * bisect.bisect(hour_cum, rng.random() * hour_cum[-1])
            + 60 * rng.randrange(60)
            for _ in range(k)
        )
        for arrival in arrivals:
            visit(run, i, max(arrival, run.free_at[i]))


def visit(run: Run, i: int, entered: int) -> None:
    cfg, rng, s = run.config, run.rng, run.s
    venue_index = pick_venue(run, run.last_venue[i])
    venue = run.v.venues[venue_index]
    mean = run.v.mean_stay[venue_index]
    sigma = 0.6
    stay = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
    stay_minutes = max(5, min(venue.stay_minutes, round(stay)))
    by_hand = rng.random() < cfg.checkout_share
    rescan = rng.random() < cfg.rescan_share
    left_true = entered + 60 * stay_minutes
    left_recorded = left_true if by_hand else entered + 60 * venue.stay_minutes
    isolated = run.isolated_at[i]
    if max(left_true, left_recorded) > run.end or (isolated is not None and left_true > isolated):
        return
    # an hour apart: one device never holds two visits of one code in one hour
    run.free_at[i] = max(left_true, left_recorded) + 3600
    run.last_venue[i] = venue_index
    is_screen = run.v.is_screen[venue_index]
    rescanned = by_hand and rescan
    if is_screen:
        run.counts["screen check-ins"] += 1
        code_day = entered // DAY
        if rescanned:
            # past midnight the screen shows the next day's code, which is another code
            rescanned = left_recorded // DAY == code_day
            run.counts["exit rescans" if rescanned else "exit rescans refused (new day code)"] += 1
    else:
        run.counts["poster check-ins"] += 1
        code_day = -1
    s.visitor.append(i)
    s.venue.append(venue_index)
    s.entered.append(entered)
    s.left_true.append(left_true)
    s.left_recorded.append(left_recorded)
    s.code_day.append(code_day)
    s.rescanned.append(rescanned)
    if cfg.eager:
        s.visit.append(visit_of(run, len(s.visit)))
    run.diary[i].append(len(s.visitor) - 1)


def visit_of(run: Run, vid: int) -> Visit:
    """The ``Visit`` the device of ``vid`` holds: checked in, perhaps rescanned, checked out."""
    s = run.s
    venue, entered, left = s.venue[vid], s.entered[vid], s.left_recorded[vid]
    if run.v.is_screen[venue]:
        check = run.v.check_ins.get((venue, entered))
        if check is None:
            # every device scanning one screen in one minute sees one code: one check
            check = run.v.check_ins[venue, entered] = crypto.check_in(
                screen(run, venue, entered), entered
            )
        if s.rescanned[vid]:
            try:
                check = check.rescan(screen(run, venue, left), left)
            except CodeError as e:  # the bookkeeping said the code was the same
                raise AssertionError(f"visit {vid}: rescan refused") from e
    else:
        poster = run.v.posters[venue]
        assert poster is not None
        check = crypto.check_in(poster, entered)
        if s.rescanned[vid]:
            check = check.rescan(poster, left)
    return check_out(run, check, left)


def check_out(run: Run, check: crypto.CheckIn, left_at: int) -> Visit:
    """``check.check_out(left_at)``, with each (code, hour)'s tag and key derived once.

    Tags and entry keys depend only on the code key and the hour, so every
    device that scanned a code derives the same ones: sharing them changes
    no result.
    """
    code = check.code
    left_at = min(left_at, check.auto_checkout_at)
    slots = []
    hour_keys = run.v.hour_keys
    for hour, lo, hi in crypto.stay_windows(check.entered_at, left_at):
        keys = hour_keys.get((code.bound_key, hour))
        if keys is None:
            keys = (crypto.hour_tag(code.bound_key, hour), crypto.entry_key(code.bound_key, hour))
            hour_keys[code.bound_key, hour] = keys
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


def transmissions(run: Run, first_visit: int) -> None:
    s, rng, p = run.s, run.rng, run.config.transmission
    if not p:
        return
    today: dict[int, list[int]] = defaultdict(list)
    for vid in range(first_visit, len(s.visitor)):
        today[s.venue[vid]].append(vid)
    for vid in range(first_visit, len(s.visitor)):
        window = run.infectious[s.visitor[vid]]
        if window is None or not window[0] <= s.entered[vid] < window[1]:
            continue
        for other in today[s.venue[vid]]:
            j = s.visitor[other]
            if run.infected_at[j] is not None:
                continue
            lo = max(s.entered[vid], s.entered[other])
            hi = min(s.left_true[vid], s.left_true[other])
            if hi - lo >= INFECTION_MINUTES * 60 and rng.random() < p:
                infect(run, j, lo)
                run.counts["infections at venues"] += 1
