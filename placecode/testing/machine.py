"""The whole system, step by step, against a simple model of who was where and when.

One service on SQLite behind a loopback server, three venues (one with a
rotating screen and a paper poster), four visitors with real encrypted
diaries, the health authority and the venue owners, all on a simulated clock.
Rules act on the system (through ``adapter.PlacecodeAdapter``) and on
``model.Model`` alike; invariants check after every step that

- every diary holds the stays the model says (automatic check-out included),
  and every visitor's warnings are the model's: who shared at least the
  policy's minutes of some venue-hour with an uploaded or venue-confirmed
  window, never by a reporter's own stays;
- the service stores exactly the entries, bundles, TANs and consent messages
  the model expects: a replayed TAN or a dummy upload adds nothing, and
  nothing outlives retention;
- the database holds no code key, venue public key, venue secret, entry key,
  venue name, visitor name, contact detail or TAN in clear, in any column of
  any table, as raw bytes, hex or base64.

``tests/system/test_stateful.py`` runs it; its ``ci`` profile keeps it to about a
minute. To run it long:

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/system

To run the machine against another implementation, see ``adapter.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from typing import ClassVar

from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from placecode.crypto.rules import TAN_ALPHABET

from .adapter import Adapter, DiaryView, PlacecodeAdapter, Refused
from .model import (
    DAY,
    HOUR,
    LEVELS,
    MINUTE,
    Model,
    Policy,
    Venue,
)

#: 2026-11-03 20:00 UTC: a screen's day code changes four hours into the run
START = 1_793_736_000
VISITORS = ("visitor-ana", "visitor-bo", "visitor-chen", "visitor-dara")
NAMES = (
    "金龙餐厅 Golden Dragon",
    "Riverside Café",
    "City Gym & Spa",
    "Zürich HB Kiosk",
    "Старая мельница",
    "カフェ 森の音",
)

visitors = st.integers(0, len(VISITORS) - 1)
venues = st.sampled_from([0, 0, 1, 1, 2])
#: how long a visitor waits before acting: often no time at all
waits = st.sampled_from([0, 0, 1, 5, 10, 15, 30, 60]).map(lambda m: m * MINUTE)
policies = st.builds(
    Policy,
    warn_levels=st.sampled_from([frozenset(LEVELS), frozenset(LEVELS), frozenset({1, 2})]),
    min_overlap_minutes=st.sampled_from([10, 10, 1, 15, 30]),
    min_bundle_entries=st.sampled_from([5, 1, 20]),
    bundle_deadline_hours=st.sampled_from([6, 0, 1]),
    tan_rate_per_hour=st.sampled_from([50, 2]),
)
#: mostly minutes, some seconds (stays are widened to whole minutes) and hours
durations = st.one_of(
    st.integers(1, 90).map(lambda m: m * MINUTE),
    st.integers(1, 59),
    st.integers(1, 14).map(lambda h: h * HOUR),
)
#: how old a screen's code is when scanned: live, almost stale, a screenshot
code_ages = st.sampled_from([0, 0, 0, 20, 59, 60, 89, 91, 120, 3600, DAY])
forged_tans = st.text(TAN_ALPHABET, min_size=12, max_size=12).map(
    lambda raw: f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
)


#: between values when they are searched at once: no needle spans it
_SEPARATOR = b"\n\x00\xff\x00\n"


def _forms(secret: bytes) -> Iterator[bytes]:
    """A key as it could sit in a column: raw, hex, base64."""
    yield secret
    yield secret.hex().encode()
    yield secret.hex().upper().encode()
    for encoded in (base64.b64encode(secret), base64.urlsafe_b64encode(secret)):
        yield encoded
        yield encoded.rstrip(b"=")


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def leaks(system: Adapter, model: Model) -> list[str]:
    """What the system's database holds that identifies a venue, a visitor or a code.

    Looked for: every key the adapter names (code keys, venue public keys and
    secrets, entry keys) raw, as hex and as base64; venue names (UTF-8),
    visitor names, contact details, and TANs in clear, in any spelling.
    """
    needles: dict[bytes, str] = {}
    for key in system.key_material():
        for form in _forms(key):
            needles[form] = f"key material {key.hex()[:16]}..."
    for venue in model.venues:
        needles[venue.name.encode()] = f"venue name {venue.name!r}"
    for who in model.visitors:
        needles[who.name.encode()] = f"visitor {who.name}"
        needles[who.contact.encode()] = f"contact of {who.name}"
    for tan in model.tans:
        for spelling in (tan, tan.lower(), f"{tan[:4]}-{tan[4:8]}-{tan[8:]}"):
            needles[spelling.encode()] = f"TAN {tan}"
    cells = [(t, c, _as_bytes(v)) for t, c, v in system.database_dump()]
    # one search per needle over every value at once; a value is looked at only on a hit
    everything = _SEPARATOR.join(data for _, _, data in cells)
    found = []
    for needle, what in needles.items():
        if needle in everything:
            where = sorted({f"{t}.{c}" for t, c, data in cells if needle in data})
            found.append(f"{what} in {', '.join(where)}")
    return found


class SystemMachine(RuleBasedStateMachine):
    """The system against ``Model``; ``adapter`` makes the system under test."""

    adapter: ClassVar[Callable[[Policy, int], Adapter]] = PlacecodeAdapter

    tans = Bundle("tans")

    def __init__(self) -> None:
        super().__init__()
        self.model: Model
        self.system: Adapter
        self.started = False

    def teardown(self) -> None:
        if self.started:
            self.system.close()

    @initialize(
        policy=policies,
        names=st.permutations(NAMES),
        screens=st.tuples(st.just(True), st.just(False), st.booleans()),
        stays=st.tuples(*[st.sampled_from([120, 45, 90, 720, 20])] * 3),
        seed=st.binary(min_size=32, max_size=32),
    )
    def start(
        self,
        policy: Policy,
        names: list[str],
        screens: tuple[bool, ...],
        stays: tuple[int, ...],
        seed: bytes,
    ) -> None:
        venues = [Venue(names[i], screens[i], stays[i]) for i in range(3)]
        self.model = Model(policy, venues, list(VISITORS), START)
        self.system = type(self).adapter(policy, START)
        self.started = True
        for i, venue in enumerate(venues):
            self.system.create_venue(i, venue, hashlib.sha256(seed + bytes([i])).digest())
        for i, name in enumerate(VISITORS):
            self.system.create_visitor(i, name)

    # --- helpers ----------------------------------------------------------------------

    def _agree(self, what: str, expected: str | None, action: Callable[[], object]) -> object:
        """Runs ``action`` on the system; it must refuse exactly when the model does."""
        try:
            result = action()
        except Refused as e:
            note(f"{what}: refused ({e}); the model says {expected or 'accept'}")
            assert expected is not None, f"{what} was refused ({e}), the model accepts it"
            return None
        note(f"{what}: accepted; the model says {expected or 'accept'}")
        assert expected is None, f"{what} was accepted, the model refuses: {expected}"
        return result

    def _time(self) -> str:
        return dt.datetime.fromtimestamp(self.model.now, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    # --- time -------------------------------------------------------------------------

    @rule(seconds=durations)
    def advance(self, seconds: int) -> None:
        if not seconds:
            return
        self.model.advance(seconds)
        self.system.advance(self.model.now)
        note(f"now {self._time()}")

    @rule(days=st.sampled_from([1, 2, 3, 7, 13, 14, 15]))
    def advance_days(self, days: int) -> None:
        self.advance(days * DAY)

    @rule(days=st.sampled_from([14, 15, 16]))
    def retention_passes(self, days: int) -> None:
        """A quiet fortnight, then the retention purge."""
        self.advance_days(days)
        self.purge()

    # --- visitors -----------------------------------------------------------------------

    def _inside(self, data: st.DataObject) -> int:
        inside = [i for i, v in enumerate(self.model.visitors) if v.current]
        return data.draw(st.sampled_from(inside), label="visitor")

    @rule(visitor=visitors, venue=venues, poster=st.sampled_from([False, False, True]), wait=waits)
    def check_in(self, visitor: int, venue: int, poster: bool, wait: int) -> None:
        self.advance(wait)
        self.check_in_with_old_code(visitor, venue, poster, 0)

    @rule(
        group=st.lists(visitors, min_size=2, max_size=len(VISITORS), unique=True),
        venue=venues,
        poster=st.sampled_from([False, False, True]),
        wait=waits,
    )
    def gather(self, group: list[int], venue: int, poster: bool, wait: int) -> None:
        """A group arrives together: each checks in, the same code at the same time."""
        self.advance(wait)
        for visitor in group:
            self.check_in_with_old_code(visitor, venue, poster, 0)

    @rule(visitor=visitors, venue=venues, poster=st.booleans(), age=code_ages)
    def check_in_with_old_code(self, visitor: int, venue: int, poster: bool, age: int) -> None:
        """A screen's code scanned ``age`` seconds after it was shown: live, or a screenshot."""
        shown_at = self.model.now - age
        expected = self.model.check_in(visitor, venue, poster, shown_at)
        medium = "poster" if poster or not self.model.venues[venue].screen else "screen"
        self._agree(
            f"{VISITORS[visitor]} checks in at {self.model.venues[venue].name} "
            f"({medium}{f', code {age} s old' if age else ''})",
            expected,
            lambda: self.system.check_in(visitor, venue, poster, shown_at),
        )

    @precondition(lambda self: any(v.current for v in self.model.visitors))
    @rule(data=st.data(), wait=waits)
    def check_out(self, data: st.DataObject, wait: int) -> None:
        self.advance(wait)
        visitor = self._inside(data)
        expected = self.model.check_out(visitor)
        self._agree(
            f"{VISITORS[visitor]} checks out",
            expected,
            lambda: self.system.check_out(visitor),
        )

    @precondition(lambda self: any(v.current for v in self.model.visitors))
    @rule(data=st.data(), wait=waits)
    def rescan(self, data: st.DataObject, wait: int) -> None:
        """A visitor scans the code of the venue they are in again, to check out."""
        self.advance(wait)
        visitor = self._inside(data)
        current = self.model.visitors[visitor].current
        assert current is not None
        venue, poster = current.code.venue, current.code.day is None
        expected = self.model.rescan(visitor, venue, poster)
        self._agree(
            f"{VISITORS[visitor]} rescans at {self.model.venues[venue].name}",
            expected,
            lambda: self.system.rescan(visitor, venue, poster),
        )

    @rule(visitor=visitors)
    def reopen(self, visitor: int) -> None:
        self.system.reopen(visitor)

    @rule(visitor=visitors, dummy=st.booleans())
    def sync(self, visitor: int, dummy: bool) -> None:
        self.model.sync(visitor)
        self._agree(f"{VISITORS[visitor]} syncs", None, lambda: self.system.sync(visitor, dummy))
        warnings = self.model.visitors[visitor].warnings
        note(f"{VISITORS[visitor]} must be warned for {sorted(warnings, key=repr)}")
        for warning in warnings:
            event(f"a warning of level {warning.level}")

    @rule(dummy=st.booleans())
    def sync_all(self, dummy: bool) -> None:
        """Every device syncs, as phones do every few hours."""
        for visitor in range(len(VISITORS)):
            self.sync(visitor, dummy)

    @precondition(lambda self: any(v.warnings for v in self.model.visitors))
    @rule(data=st.data())
    def contact(self, data: st.DataObject) -> None:
        warned = [i for i, v in enumerate(self.model.visitors) if v.warnings]
        visitor = data.draw(st.sampled_from(warned), label="visitor")
        warnings = sorted(self.model.visitors[visitor].warnings, key=repr)
        warning = data.draw(st.sampled_from(warnings), label="warning")
        self.model.contact(visitor)
        contact = self.model.visitors[visitor].contact
        self._agree(
            f"{VISITORS[visitor]} sends contact details",
            None,
            lambda: self.system.contact(visitor, warning, contact),
        )

    # --- the authority ------------------------------------------------------------------

    @rule(target=tans, valid_hours=st.sampled_from([72, 1, 24, 168]))
    def issue_tan(self, valid_hours: int) -> object:
        expected = self.model.issue_tan()
        tan = self._agree(
            "the authority issues a TAN", expected, lambda: self.system.issue_tan(valid_hours)
        )
        if tan is None:
            return multiple()
        assert isinstance(tan, str)
        self.model.issued(tan, valid_hours)
        note(f"TAN {tan}, valid {valid_hours} h")
        return tan

    def _case(self, data: st.DataObject) -> int:
        """Who tests positive: someone who went out, if anyone did."""
        been = [i for i, v in enumerate(self.model.visitors) if v.stays or v.current]
        return data.draw(st.sampled_from(been or range(len(VISITORS))), label="case")

    def _report(self, visitor: int, typed: str) -> None:
        before = self.model.stored().entries
        expected = self.model.report(visitor, typed)
        self._agree(
            f"{VISITORS[visitor]} reports with TAN {typed}",
            expected,
            lambda: self.system.report(visitor, typed),
        )
        event("a case reported" if expected is None else f"a report refused: {expected}")
        note(f"entries stored: {before} -> {self.model.stored().entries}")

    @rule(target=tans, data=st.data(), valid_hours=st.sampled_from([72, 1, 24, 168]))
    def confirm_case(self, data: st.DataObject, valid_hours: int) -> object:
        """A visitor tests positive: the authority issues a TAN and the case reports with it."""
        tan = self.issue_tan(valid_hours)
        if isinstance(tan, str):
            self._report(self._case(data), tan)
        return tan

    @rule(data=st.data(), tan=tans, form=st.sampled_from(["as issued", "lower", "bare"]))
    def report(self, data: st.DataObject, tan: str, form: str) -> None:
        """A case uploads their visits with a TAN they were given (typed in any form)."""
        typed = {"as issued": tan, "lower": tan.lower(), "bare": tan.replace("-", "")}[form]
        self._report(self._case(data), typed)

    @rule(target=tans, data=st.data(), wait=waits, confirm=st.booleans(), dummy=st.booleans())
    def outbreak(self, data: st.DataObject, wait: int, confirm: bool, dummy: bool) -> object:
        """The whole chain at once: a case reports, the owner of the venue of their last
        stay may confirm it, a bundle is published, everyone syncs."""
        self.advance(wait)
        case = self._case(data)
        tan = self.issue_tan(72)
        if isinstance(tan, str):
            self._report(case, tan)
        stays = self.model.visitors[case].stays
        if confirm and stays:
            last = stays[-1]
            start, end = last.entered_at, last.left_at
            self._confirm(last.code.venue, start, end)
        self.build_bundles(force=True)
        self.sync_all(dummy)
        return tan

    @precondition(lambda self: self.model.redeemed_tans())
    @rule(visitor=visitors, data=st.data())
    def replay_tan(self, visitor: int, data: st.DataObject) -> None:
        """A used TAN (or a forged one) never publishes anything."""
        tan = data.draw(
            st.one_of(st.sampled_from(self.model.redeemed_tans()), forged_tans), label="tan"
        )
        before = self.system.stored()
        expected = self.model.report(visitor, tan)
        self._agree(
            f"{VISITORS[visitor]} replays TAN {tan}",
            expected,
            lambda: self.system.report(visitor, tan),
        )
        assert expected is not None
        assert self.system.stored() == before

    @rule(
        venue=venues,
        back=st.one_of(st.integers(1, 180), st.integers(1, 48 * 60)).map(lambda m: m * MINUTE),
        length=st.one_of(st.integers(1, 120), st.integers(1, 8 * 60)).map(lambda m: m * MINUTE),
    )
    def confirm_venue(self, venue: int, back: int, length: int) -> None:
        """The owner confirms an outbreak window that ended by now; the authority publishes it."""
        start = self.model.now - back
        self._confirm(venue, start, min(start + length, self.model.now))

    def _confirm(self, venue: int, start: int, end: int) -> None:
        expected, refusal = self.model.confirm_venue(venue, start, end)
        accepted = self._agree(
            f"{self.model.venues[venue].name} confirms {(self.model.now - start) // MINUTE} "
            f"min ago, {(end - start) // MINUTE} min",
            refusal,
            lambda: self.system.confirm_venue(venue, start, end),
        )
        if refusal is None:
            assert accepted == expected, f"{accepted} entries published, the model says {expected}"
        event("a venue confirmed" if refusal is None else "a confirmation published before")

    @rule(force=st.booleans())
    def build_bundles(self, force: bool) -> None:
        expected = self.model.build_bundles(force)
        built = self.system.build_bundles(force)
        note(f"bundle built: {built}; the model says {expected and expected.sequence}")
        if expected is None:
            assert built is None, f"bundle {built} published, the model expects none"
        else:
            assert built == (expected.sequence, expected.published)

    @rule()
    def read_inbox(self) -> None:
        assert sorted(self.system.inbox()) == sorted(m for _, m in self.model.consent)

    @rule()
    def purge(self) -> None:
        """Nothing outlives retention, on the service or on any device."""
        before = self.model.stored()
        self.model.purge()
        self.system.purge()
        stored = self.system.stored()
        note(f"purged: {before} -> {stored}")
        if stored != before:
            event("a purge deleted rows")
        first_day = self.model.now // DAY - self.model.policy.retention_days
        for oldest in (stored.first_entry_day, stored.first_consent_day):
            assert oldest is None or oldest >= first_day, stored
        assert stored.first_bundle_at is None or stored.first_bundle_at >= first_day * DAY, stored
        assert stored.first_tan_expiry is None or stored.first_tan_expiry > self.model.now, stored
        cutoff = self.model.now - self.model.retention
        for visitor in range(len(VISITORS)):
            view = self.system.diary(visitor)
            assert all(left > cutoff for _, _, _, left, _ in view.stays), view

    # --- invariants ---------------------------------------------------------------------

    def _view(self, visitor: int) -> DiaryView:
        who = self.model.visitors[visitor]
        venues = self.model.venues

        def kind(day: int | None) -> int:
            return 1 if day is None else 2

        current = who.current
        return DiaryView(
            None
            if current is None
            else (
                venues[current.code.venue].name,
                kind(current.code.day),
                current.entered_at,
                len(current.proofs),
            ),
            tuple(
                (
                    venues[s.code.venue].name,
                    kind(s.code.day),
                    s.entered_at,
                    s.left_at,
                    len(s.proofs),
                )
                for s in sorted(who.stays, key=lambda s: s.entered_at)
            ),
        )

    @invariant()
    def diaries_agree(self) -> None:
        if not self.started:
            return
        for visitor in range(len(VISITORS)):
            assert self.system.diary(visitor) == self._view(visitor), VISITORS[visitor]

    @invariant()
    def warnings_agree(self) -> None:
        if not self.started:
            return
        for visitor in range(len(VISITORS)):
            got = self.system.warned(visitor)
            expected = self.model.visitors[visitor].warnings
            assert got == expected, (
                f"{VISITORS[visitor]}: warned {sorted(got, key=repr)}, "
                f"the model says {sorted(expected, key=repr)}"
            )

    @invariant()
    def storage_agrees(self) -> None:
        if not self.started:
            return
        assert self.system.stored() == self.model.stored()

    @invariant()
    def nothing_identifying_stored(self) -> None:
        if not self.started:
            return
        found = leaks(self.system, self.model)
        assert not found, "; ".join(found)
