"""A simple model of the whole system: who was where and when, and who must be warned.

Plain Python with no cryptography, no database and no network, so it can be
read against docs/protocol.md and docs/api.md, and reused against another
implementation (see ``adapter.py``). Times are Unix seconds on a simulated
clock; a *code* is what a visitor scanned: a venue's printed poster, or its
rotating screen on one UTC day (a screen's code changes at midnight, §3).

The model says, for every action, whether the system must refuse it, and
keeps what each party must hold afterwards:

- each visitor's diary: the stay in progress and the closed stays (§6), the
  stays they reported, and the warnings of their last sync (§12);
- the service: TANs, stored entries with their day of arrival, bundles,
  consent messages (docs/api.md);
- published windows: one per entry, ``(code, hour, minutes, level)``.

A warning is due for a stay of a visitor when published windows of bundles
the device still holds share at least ``min_overlap_minutes`` with it, per
hour the union of windows, summed over the stay's hours (§12); a reporter's
own stays never warn them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

DAY = 86400
HOUR = 3600
MINUTE = 60

#: §12 days a device and the service keep anything
RETENTION_DAYS = 14
#: §5 a screen shows a new code every epoch; a code older than this is refused
EPOCH_SECONDS = 30
MAX_CODE_AGE_SECONDS = 90
MAX_CLOCK_SKEW_SECONDS = 30
#: §5 what a single presence proof covers
SINGLE_PROOF_SPAN_SECONDS = 3600
#: §4 longest default stay, in minutes
MAX_STAY_MINUTES = 720

#: §7 evidence levels, lower is stronger
VENUE_CONFIRMED = 1
PRESENCE_PROVEN = 2
SELF_REPORTED = 3
LEVELS = (VENUE_CONFIRMED, PRESENCE_PROVEN, SELF_REPORTED)

#: §7 bytes of a sealed entry: the fixed part, a venue signature, a presence proof
ENTRY_BYTES = 48
SIGNATURE_BYTES = 64
PROOF_BYTES = 4 + SIGNATURE_BYTES
#: §13 an upload: fixed size, fixed head, one length byte per entry, an entry cap
UPLOAD_BYTES = 65536
UPLOAD_HEAD_BYTES = 40
MAX_UPLOAD_ENTRIES = (UPLOAD_BYTES - UPLOAD_HEAD_BYTES) // (1 + ENTRY_BYTES)
#: §13 most entries under one tag (one code's hour) in one upload
MAX_ENTRIES_PER_TAG = 3
#: docs/api.md: the service takes at most two venue-hours per hour of retention
VENUES_PER_HOUR = 2


class Code(NamedTuple):
    """What a visitor scanned: venue ``venue``'s poster (``day`` None) or its screen on ``day``."""

    venue: int
    day: int | None


@dataclass(frozen=True)
class Venue:
    name: str
    #: the venue runs a rotating screen (and keeps a poster as the paper fallback)
    screen: bool
    stay_minutes: int


@dataclass(frozen=True)
class Stay:
    """A closed stay, as a diary keeps it."""

    id: int
    code: Code
    entered_at: int
    left_at: int
    #: epochs of the presence proofs kept: the entry scan, and the exit rescan if any
    proofs: tuple[int, ...]


@dataclass(frozen=True)
class CheckIn:
    code: Code
    entered_at: int
    proofs: tuple[int, ...]
    auto_checkout_at: int
    #: the visitor reported this stay while it was in progress
    reported: bool = False


@dataclass(frozen=True)
class Warning:
    """A warning as a visitor sees it: which stay, how many minutes shared, how sure."""

    venue: str
    entered_at: int
    left_at: int
    overlap_minutes: int
    level: int


@dataclass
class Visitor:
    name: str
    #: what the visitor sends the authority when warned (it names them)
    contact: str
    current: CheckIn | None = None
    stays: list[Stay] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)
    warnings: frozenset[Warning] = frozenset()
    next_id: int = 1


@dataclass(frozen=True)
class Window:
    """One published entry: the minutes [start, end) of ``hour`` at ``code``."""

    code: Code
    hour: int
    start_minute: int
    end_minute: int
    level: int
    size: int


@dataclass
class StoredEntry:
    window: Window
    received_day: int
    bundle: int | None = None


@dataclass(frozen=True)
class Bundle:
    sequence: int
    created_at: int
    windows: tuple[Window, ...]
    #: entries in the signed bytes: the real ones topped up with decoys
    published: int


@dataclass
class Tan:
    expires_at: int
    redeemed: bool = False
    purged: bool = False


@dataclass(frozen=True)
class Policy:
    """§12 which levels warn, after how many minutes; §14 how the service publishes."""

    warn_levels: frozenset[int] = frozenset(LEVELS)
    min_overlap_minutes: int = 10
    min_bundle_entries: int = 5
    bundle_deadline_hours: int = 6
    tan_rate_per_hour: int = 50
    retention_days: int = RETENTION_DAYS


@dataclass(frozen=True)
class Stored:
    """What the service must hold: counts of rows, which bundles, and the oldest of each kind
    (UTC day numbers of arrival, Unix seconds of a bundle's creation and a TAN's expiry)."""

    entries: int
    bundles: tuple[int, ...]
    tans: int
    consent_messages: int
    first_entry_day: int | None
    first_bundle_at: int | None
    first_tan_expiry: int | None
    first_consent_day: int | None


# --- the protocol's arithmetic, from the spec ------------------------------------------


def stay_windows(start: int, end: int) -> list[tuple[int, int, int]]:
    """§6 (hour, start minute, end minute) per hour of [start, end), widened to whole minutes."""
    first, last = start // MINUTE, -(-end // MINUTE)
    out = []
    for hour in range(first // 60, -(-last // 60)):
        lo, hi = max(first, hour * 60) - hour * 60, min(last, hour * 60 + 60) - hour * 60
        if lo < hi:
            out.append((hour, lo, hi))
    return out


def proof_coverage(epochs: tuple[int, ...]) -> tuple[int, int]:
    """§7 the Unix minutes [lo, hi) that presence proofs of these epochs cover."""
    first, last = min(epochs), max(epochs)
    lo = first * EPOCH_SECONDS
    hi = last * EPOCH_SECONDS + MAX_CODE_AGE_SECONDS if last > first else lo + 3600
    return lo // MINUTE, -(-hi // MINUTE)


def report_windows(stay: Stay) -> list[Window]:
    """§7 what an uploader publishes of one stay: every minute claimed once.

    A screen stay's minutes that its presence proofs cover are presence-proven,
    the rest self-reported: up to three entries in an hour the coverage
    begins or ends in.
    """
    first, last = proof_coverage(stay.proofs) if stay.proofs else (0, 0)
    proven = ENTRY_BYTES + 1 + PROOF_BYTES * len(stay.proofs)
    out = []
    for hour, lo, hi in stay_windows(stay.entered_at, stay.left_at):
        start, end = max(lo, first - hour * 60), min(hi, last - hour * 60)
        if start < end:
            pieces = [
                (SELF_REPORTED, lo, start, ENTRY_BYTES),
                (PRESENCE_PROVEN, start, end, proven),
                (SELF_REPORTED, end, hi, ENTRY_BYTES),
            ]
        else:
            pieces = [(SELF_REPORTED, lo, hi, ENTRY_BYTES)]
        out += [Window(stay.code, hour, a, b, level, size) for level, a, b, size in pieces if a < b]
    return out


def confirm_windows(index: int, venue: Venue, start: int, end: int) -> list[Window]:
    """§11 a venue owner's confirmation of [start, end): every code a visitor may hold.

    The poster, and on a screen the day code of the hour and, before noon, the
    previous day's (a stay lasts at most 12 hours).
    """
    size = ENTRY_BYTES + SIGNATURE_BYTES
    out = []
    for hour, lo, hi in stay_windows(start, end):
        codes = [Code(index, None)]
        if venue.screen:
            day = hour // 24
            codes.append(Code(index, day))
            if hour % 24 < MAX_STAY_MINUTES // 60 and day > 0:
                codes.append(Code(index, day - 1))
        out += [Window(code, hour, lo, hi, VENUE_CONFIRMED, size) for code in codes]
    return out


def union_length(intervals: list[tuple[int, int]]) -> int:
    total, reach = 0, -1
    for lo, hi in sorted(intervals):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


def exposure(
    stay: Stay, venue: Venue, windows: list[tuple[Window, int]], policy: Policy
) -> Warning | None:
    """§12 the warning one stay earns from these published (window, bundle created_at), if any.

    No window counts for a minute after its bundle was signed; the level is the
    strongest whose windows, with stronger ones, reach the minimum overlap.
    """
    shared: list[list[tuple[int, int, int]]] = []
    for hour, lo, hi in stay_windows(stay.entered_at, stay.left_at):
        found = []
        for w, created_at in windows:
            if w.code != stay.code or w.hour != hour or w.level not in policy.warn_levels:
                continue
            signed = created_at // 60 - hour * 60
            start, end = max(lo, w.start_minute), min(hi, w.end_minute, signed)
            if start < end:
                found.append((start, end, w.level))
        shared.append(found)

    def overlap(weakest: int) -> int:
        return sum(union_length([(a, b) for a, b, x in f if x <= weakest]) for f in shared)

    levels = sorted({x for f in shared for _, _, x in f})
    if not levels or overlap(SELF_REPORTED) < policy.min_overlap_minutes:
        return None
    level = next(x for x in levels if overlap(x) >= policy.min_overlap_minutes)
    return Warning(venue.name, stay.entered_at, stay.left_at, overlap(SELF_REPORTED), level)


# --- the model -------------------------------------------------------------------------


class Model:
    """The whole system in the small. Each action mutates the model as the system must,
    and returns ``None`` when the system must accept it, or why it must refuse it."""

    def __init__(self, policy: Policy, venues: list[Venue], visitors: list[str], now: int):
        self.policy = policy
        self.venues = venues
        self.visitors = [
            Visitor(name, f"{name}, phone +41 79 555 {i:04d}") for i, name in enumerate(visitors)
        ]
        self.now = now
        self.tans: dict[str, Tan] = {}
        self.tans_per_hour: dict[int, int] = {}
        self.entries: list[StoredEntry] = []
        self.bundles: list[Bundle] = []
        self.purged_bundles: set[int] = set()
        self.consent: list[tuple[int, str]] = []

    @property
    def retention(self) -> int:
        return self.policy.retention_days * DAY

    def advance(self, seconds: int) -> None:
        self.now += seconds

    # --- diaries ---------------------------------------------------------------------

    def code_at(self, venue: int, poster: bool, shown_at: int) -> Code:
        """The code a visitor scans at a venue: its poster, or its screen's code at ``shown_at``."""
        if poster or not self.venues[venue].screen:
            return Code(venue, None)
        return Code(venue, shown_at // DAY)

    def _close(self, who: Visitor, left_at: int, proofs: tuple[int, ...]) -> Stay:
        current = who.current
        assert current is not None
        stay = Stay(
            who.next_id,
            current.code,
            current.entered_at,
            min(left_at, current.auto_checkout_at),
            proofs,
        )
        who.next_id += 1
        who.stays.append(stay)
        if current.reported:
            who.reported.add(stay.id)
        who.current = None
        return stay

    def expire(self, visitor: int) -> None:
        """§6 automatic check-out once the venue's default stay has passed."""
        who = self.visitors[visitor]
        if who.current is not None and self.now >= who.current.auto_checkout_at:
            self._close(who, who.current.auto_checkout_at, who.current.proofs)

    def _live(self, code: Code, shown_at: int) -> str | None:
        if code.day is None:
            return None
        started = shown_at // EPOCH_SECONDS * EPOCH_SECONDS
        if started > self.now + MAX_CLOCK_SKEW_SECONDS:
            return "the code is dated in the future"
        if self.now - started > MAX_CODE_AGE_SECONDS:
            return "the code expired (a screenshot)"
        return None

    def check_in(self, visitor: int, venue: int, poster: bool, shown_at: int) -> str | None:
        """Checking in with the code shown at ``shown_at`` (now, or earlier: a screenshot)."""
        self.expire(visitor)
        who = self.visitors[visitor]
        code = self.code_at(venue, poster, shown_at)
        if who.current is not None and who.current.code == code:
            return "already checked in with this code"
        refused = self._live(code, shown_at)
        if refused:
            return refused
        if who.current is not None:
            if self.now <= who.current.entered_at:
                return "checked in elsewhere at this very time"
            self._close(who, self.now, who.current.proofs)
        proofs = () if code.day is None else (shown_at // EPOCH_SECONDS,)
        stay = self.venues[venue].stay_minutes * MINUTE
        who.current = CheckIn(code, self.now, proofs, self.now + stay)
        return None

    def check_out(self, visitor: int) -> str | None:
        self.expire(visitor)
        who = self.visitors[visitor]
        if who.current is None:
            return "not checked in"
        if self.now <= who.current.entered_at:
            return "check-out must come after check-in"
        self._close(who, self.now, who.current.proofs)
        return None

    def rescan(self, visitor: int, venue: int, poster: bool) -> str | None:
        """Scanning a venue's live code: the code of the stay checks out, any other checks in.

        After midnight a screen shows the next day's code, which the device cannot
        link to the one it checked in with; it goes by what the screen says of
        itself (same name, one day later) and checks out without an exit proof.
        """
        self.expire(visitor)
        who = self.visitors[visitor]
        code = self.code_at(venue, poster, self.now)
        current = who.current
        if (
            current is not None
            and current.code.venue == venue
            and current.code.day is not None
            and code.day == current.code.day + 1
        ):
            if self.now <= current.entered_at:
                return "check-out must come after check-in"
            self._close(who, self.now, current.proofs)
            return None
        if current is None or current.code != code:
            return self.check_in(visitor, venue, poster, self.now)
        if self.now <= current.entered_at:
            return "check-out must come after check-in"
        proofs = current.proofs
        if code.day is not None:
            proofs = (proofs[0], self.now // EPOCH_SECONDS)
        self._close(who, self.now, proofs)
        return None

    def purge_diary(self, visitor: int) -> None:
        """A device deletes stays older than retention, and their warnings."""
        who = self.visitors[visitor]
        cutoff = self.now - self.retention
        gone = {(s.entered_at, s.left_at) for s in who.stays if s.left_at <= cutoff}
        who.stays = [s for s in who.stays if s.left_at > cutoff]
        who.warnings = frozenset(w for w in who.warnings if (w.entered_at, w.left_at) not in gone)

    def held_bundles(self) -> list[Bundle]:
        """The bundles a device holds after syncing now: those within its retention."""
        cutoff = self.now - self.retention
        return [b for b in self.bundles if (b.created_at // HOUR + 1) * HOUR > cutoff]

    def sync(self, visitor: int) -> None:
        self.expire(visitor)
        self.purge_diary(visitor)
        who = self.visitors[visitor]
        windows = [(w, b.created_at) for b in self.held_bundles() for w in b.windows]
        warnings = set()
        for stay in who.stays:
            if stay.id in who.reported:
                continue
            warning = exposure(stay, self.venues[stay.code.venue], windows, self.policy)
            if warning is not None:
                warnings.add(warning)
        who.warnings = frozenset(warnings)

    def contact(self, visitor: int) -> None:
        """A warned visitor sends their contact details, sealed to the authority."""
        self.consent.append((self.now // DAY, self.visitors[visitor].contact))

    # --- the authority and the service -------------------------------------------------

    def issue_tan(self) -> str | None:
        """The authority asks the service for one TAN: refused past the hourly rate limit."""
        hour = self.now // HOUR
        if self.tans_per_hour.get(hour, 0) + 1 > self.policy.tan_rate_per_hour:
            return "more TANs this hour than the rate limit"
        self.tans_per_hour[hour] = self.tans_per_hour.get(hour, 0) + 1
        return None

    def issued(self, tan: str, valid_hours: int) -> None:
        """The TAN the service issued, valid for ``valid_hours`` from now, rounded up to
        the hour (the service keeps no finer time)."""
        self.tans[normalise_tan(tan)] = Tan(-(-(self.now + valid_hours * HOUR) // HOUR) * HOUR)

    def report_items(self, visitor: int) -> list[Stay]:
        """§13 what a case's device uploads now: the stays of the retention period, and the
        stay in progress up to now (or up to its automatic check-out)."""
        who = self.visitors[visitor]
        cutoff = self.now - self.retention
        items = [s for s in who.stays if s.left_at > cutoff]
        current = who.current
        if current is not None and self.now > current.entered_at:
            left = min(self.now, current.auto_checkout_at)
            items.append(Stay(0, current.code, current.entered_at, left, current.proofs))
        return items

    def report(self, visitor: int, tan: str) -> str | None:
        """A case uploads their stays with a TAN, inside a sync of their device."""
        self.expire(visitor)
        if not _TAN_SHAPE.fullmatch(normalise_tan(tan)):
            return "this is not a TAN"
        items = self.report_items(visitor)
        if not items:
            return "nothing to report"
        windows = [w for s in items for w in report_windows(s)]
        per_tag = Counter((w.code, w.hour) for w in windows)
        if (
            len(windows) > MAX_UPLOAD_ENTRIES
            or UPLOAD_HEAD_BYTES + sum(1 + w.size for w in windows) > UPLOAD_BYTES
            or max(per_tag.values()) > MAX_ENTRIES_PER_TAG
        ):
            return "the entries do not fit one upload"
        if len(windows) > self.policy.retention_days * 24 * VENUES_PER_HOUR:
            return "more entries than the retention period allows"
        known = self.tans.get(normalise_tan(tan))
        if known is None or known.redeemed or known.purged or known.expires_at <= self.now:
            return "the TAN is unknown, used or expired"
        known.redeemed = True
        # the upload travels inside a sync, which matches before the stays are marked
        self.sync(visitor)
        day = self.now // DAY
        self.entries += [StoredEntry(w, day) for w in windows]
        who = self.visitors[visitor]
        who.reported |= {s.id for s in items if s.id}
        if who.current is not None and self.now > who.current.entered_at:
            current = who.current
            who.current = CheckIn(
                current.code, current.entered_at, current.proofs, current.auto_checkout_at, True
            )
        return None

    def confirm_venue(self, venue: int, start: int, end: int) -> tuple[int, str | None]:
        """The owner confirms [start, end); the authority publishes it. Returns the
        entries published, or why the service refuses.

        docs/api.md: the service publishes a confirmed slot once (until it is purged
        or revoked); it skips the slots it holds, and refuses when it holds them all.
        """
        windows = confirm_windows(venue, self.venues[venue], start, end)
        held = {e.window for e in self.entries if e.window.level == VENUE_CONFIRMED}
        new = [w for w in windows if w not in held]
        if not new:
            return 0, "every slot of this confirmation was published already"
        day = self.now // DAY
        self.entries += [StoredEntry(w, day) for w in new]
        return len(new), None

    def build_bundles(self, force: bool) -> Bundle | None:
        """docs/api.md Publication: a bundle when enough entries wait, or past the deadline."""
        pending = [e for e in self.entries if e.bundle is None]
        if not pending:
            return None
        deadline = self.policy.bundle_deadline_hours * HOUR
        due = not self.bundles or self.now - self.bundles[-1].created_at >= deadline
        if len(pending) < self.policy.min_bundle_entries and not (force or due):
            return None
        sequence = self.bundles[-1].sequence + 1 if self.bundles else 1
        # §8 venue confirmations go into the authority section, which no decoy tops up
        by_authority = sum(1 for e in pending if e.window.level == VENUE_CONFIRMED)
        public = len(pending) - by_authority
        published = max(public, self.policy.min_bundle_entries) + by_authority
        bundle = Bundle(sequence, self.now, tuple(e.window for e in pending), published)
        for e in pending:
            e.bundle = sequence
        self.bundles.append(bundle)
        return bundle

    def purge(self) -> None:
        """The service and every device delete what is older than retention."""
        days = self.policy.retention_days
        first_day = self.now // DAY - days
        self.entries = [e for e in self.entries if e.received_day >= first_day]
        self.consent = [m for m in self.consent if m[0] >= first_day]
        for b in self.bundles:
            if b.created_at < first_day * DAY:
                self.purged_bundles.add(b.sequence)
        for t in self.tans.values():
            if t.expires_at <= self.now:
                t.purged = True
        for visitor in range(len(self.visitors)):
            self.purge_diary(visitor)

    def stored(self) -> Stored:
        bundles = [b for b in self.bundles if b.sequence not in self.purged_bundles]
        tans = [t.expires_at for t in self.tans.values() if not (t.redeemed or t.purged)]
        return Stored(
            len(self.entries),
            tuple(b.sequence for b in bundles),
            len(tans),
            len(self.consent),
            min((e.received_day for e in self.entries), default=None),
            min((b.created_at for b in bundles), default=None),
            min(tans, default=None),
            min((day for day, _ in self.consent), default=None),
        )

    def redeemed_tans(self) -> list[str]:
        return sorted(t for t, state in self.tans.items() if state.redeemed)


_TAN_SHAPE = re.compile("[0-9A-HJKMNP-TV-Z]{12}")


def normalise_tan(tan: str) -> str:
    """docs/api.md: TANs are compared without case and hyphens."""
    return tan.upper().replace("-", "").replace(" ", "")
