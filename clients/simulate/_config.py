"""The parameters of a run and the model's fixed constants.

Each :class:`Config` field carries its command-line option in its metadata
(:func:`option`): ``placecode simulate`` is generated from these fields, so a
default or a help text is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from placecode import crypto
from placecode.crypto import Category, rules
from placecode.crypto import constants as c

#: The attackers a run can include, see :class:`Config`.
ATTACKERS = ("scraper", "fake-uploader", "stale-screen", "forger")
#: Where the entries behind a false warning came from, besides the attackers.
HONEST = "honest"

#: 2026-05-27 00:00 UTC, the first simulated day.
START = 20600 * 86400
DAY = 86400
RETENTION = c.RETENTION_DAYS * DAY
#: The message table every bundle carries (entries use message id 0).
MESSAGES = rules.DEFAULT_MESSAGES
#: The service takes at most this many entries per upload.
MAX_ENTRIES_PER_UPLOAD = rules.max_upload_entries(c.RETENTION_DAYS)

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


def option(
    default: Any,
    help: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    name: str | None = None,
    cli: bool = True,
) -> Any:
    """A :class:`Config` field with its command-line option: help text, range, name.

    ``name`` overrides the option name derived from the field (``--visits-per-day``);
    ``cli=False`` leaves the field out of the command.
    """
    meta = {"help": help, "lo": lo, "hi": hi, "name": name, "cli": cli}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Config:
    """The parameters of a run; every rate is per visitor and day unless named otherwise."""

    visitors: int = option(1000, lo=1)
    venues: int = option(100, lo=1)
    days: int = option(14, lo=1, hi=366)
    seed: int = option(0)
    visits_per_day: float = option(1.0, "Mean check-ins per visitor and day (Poisson).", lo=0)
    zipf: float = option(1.0, "Venue popularity ~ 1 / rank ** ZIPF.", lo=0)
    screen_share: float = option(
        0.3, "Share of venues with a rotating screen; the rest print a poster.", lo=0, hi=1
    )
    #: the rest end at the venue's default stay (automatic check-out), recording a wrong window
    checkout_share: float = option(
        0.8,
        "Share of stays checked out by hand on leaving (the rest: automatic).",
        lo=0,
        hi=1,
    )
    rescan_share: float = option(
        0.5,
        "Share of hand check-outs done by rescanning the code (at a screen: an exit proof).",
        lo=0,
        hi=1,
    )
    community_incidence: float = option(
        0.0002, "Daily chance of an infection outside venues.", lo=0, hi=1, name="incidence"
    )
    transmission: float = option(
        0.0005,
        f"Chance that {INFECTION_MINUTES} shared minutes at a venue pass an infection.",
        lo=0,
        hi=1,
    )
    detection: float = option(0.7, "Share of infections confirmed by a test.", lo=0, hi=1)
    consent: float = option(0.6, "Share of confirmed cases who upload.", lo=0, hi=1)
    upload_delay_hours: float = option(
        12.0, "Mean hours from a positive test to the upload (exponential).", lo=0
    )
    #: the owner confirms the case's window the next day (venue-confirmed entries)
    owner_reach: float = option(
        0.5, "Share of a case's venues whose owner confirms the window.", lo=0, hi=1
    )
    attackers: tuple[str, ...] = option(ATTACKERS, "Attackers to include (repeat); default all.")
    scraped_posters: int = option(
        10, "Posters the scraper photographed (the most popular poster venues).", lo=0
    )
    #: the first is the primary one
    policies: tuple[tuple[int, ...], ...] = option(
        ((1, 2, 3), (1, 2), (1,)),
        "Evidence levels that warn, e.g. 1,2,3 (repeat; first is primary). "
        "Default: 1,2,3 then 1,2 then 1.",
    )
    min_overlap_minutes: int = option(
        c.DEFAULT_MIN_OVERLAP_MINUTES,
        "Shared minutes before a device warns.",
        lo=1,
        hi=c.MAX_STAY_MINUTES,
        name="min-overlap",
    )
    min_bundle_entries: int = option(
        200, "Bundles are topped up with decoys to at least this many entries.", lo=0
    )
    dummy_uploads_per_day: float = option(
        0.1, "Dummy uploads each device sends per day, to hide the real ones.", lo=0
    )
    workers: int = option(1, "Processes that match devices (results do not depend on it).", lo=1)
    #: the index path (docs/protocol.md §18): fewest entries of a shard (k)
    shard_min_entries: int = option(
        128, "Index path: fewest entries of a shard (k, in the signed configuration).", lo=1
    )
    #: the index path: shards a device fetches of every index, hit or not (F)
    shard_fetches: int = option(
        4, "Index path: shards a device fetches of every index, hit or not (F).", lo=0
    )
    #: a city or a province: independent venue partitions (districts), each a task
    partitions: int = option(
        1,
        "Split venues and visitors into this many independent districts, run as separate "
        "tasks (on --workers processes or a Dask cluster) and merged into one authority's "
        "bundles.",
        lo=1,
    )
    #: check in, check out and match every visit of every device for real, as a
    #: device does; the default runs the protocol only for visits that an entry
    #: of the same venue and hour can match (the results are the same)
    eager: bool = option(
        False,
        "Run check-ins and matching for every visit, not only where an entry can match "
        "(same results, much slower).",
    )

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
        if self.workers < 1 or self.partitions < 1:
            raise crypto.Error("at least one worker and one partition")
