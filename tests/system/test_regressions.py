"""Plain regression tests from what the state machine taught, through the same adapter.

Each one is a short scenario on the real system whose outcome the model
(``model.Model``) predicts; each names what it once caught or could catch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from placecode.testing.adapter import PlacecodeAdapter, Refused
from placecode.testing.machine import leaks
from placecode.testing.model import DAY, MINUTE, Model, Policy, Venue, Warning

#: 2026-11-03 20:00 UTC, as in the state machine
START = 1_793_736_000
SCREEN, POSTER = 0, 1
VENUES = [Venue("金龙餐厅 Golden Dragon", True, 120), Venue("Riverside Café", False, 120)]
VISITORS = ["visitor-ana", "visitor-bo", "visitor-chen"]


class World:
    """The system and the model, acted on together: each step must agree."""

    def __init__(self, policy: Policy) -> None:
        self.model = Model(policy, list(VENUES), list(VISITORS), START)
        self.system = PlacecodeAdapter(policy, START)
        for i, venue in enumerate(VENUES):
            self.system.create_venue(i, venue, bytes([i + 1]) * 32)
        for i, name in enumerate(VISITORS):
            self.system.create_visitor(i, name)

    def at(self, minutes: int) -> None:
        """Moves the clock to ``minutes`` after the start."""
        self.model.advance(START + minutes * MINUTE - self.model.now)
        self.system.advance(self.model.now)

    def check_in(self, visitor: int, venue: int, age: int = 0) -> None:
        expected = self.model.check_in(visitor, venue, False, self.model.now - age)
        assert expected is None, expected
        self.system.check_in(visitor, venue, False, self.model.now - age)

    def check_out(self, visitor: int) -> None:
        assert self.model.check_out(visitor) is None
        self.system.check_out(visitor)

    def case(self, visitor: int, valid_hours: int = 72) -> str:
        """The authority issues a TAN and the case reports with it."""
        assert self.model.issue_tan() is None
        tan = self.system.issue_tan(valid_hours)
        self.model.issued(tan, valid_hours)
        assert self.model.report(visitor, tan) is None
        self.system.report(visitor, tan)
        return tan

    def publish(self) -> None:
        expected = self.model.build_bundles(force=True)
        assert expected is not None
        assert self.system.build_bundles(force=True) == (expected.sequence, expected.published)

    def sync(self, visitor: int, dummy: bool = False) -> frozenset[Warning]:
        self.model.sync(visitor)
        self.system.sync(visitor, dummy)
        warned = self.system.warned(visitor)
        assert warned == self.model.visitors[visitor].warnings
        return warned

    def purge(self) -> None:
        self.model.purge()
        self.system.purge()
        assert self.system.stored() == self.model.stored()


@pytest.fixture
def world() -> Iterator[World]:
    w = World(Policy())
    yield w
    w.system.close()


def test_a_screen_visit_rescanned_at_the_exit_warns_presence_proven(world: World) -> None:
    world.check_in(0, SCREEN)
    world.at(5)
    world.check_in(1, SCREEN)
    world.at(40)
    world.system.rescan(0, SCREEN, False)
    assert world.model.rescan(0, SCREEN, False) is None
    world.at(50)
    world.check_out(1)
    world.case(0)
    world.publish()
    (warning,) = world.sync(1)
    assert (warning.overlap_minutes, warning.level) == (35, 2)
    assert world.sync(0) == frozenset()


def test_a_replayed_tan_publishes_nothing_in_any_spelling(world: World) -> None:
    world.check_in(0, POSTER)
    world.at(30)
    world.check_out(0)
    tan = world.case(0)
    stored = world.system.stored()
    for typed in (tan, tan.lower(), tan.replace("-", "")):
        assert world.model.report(0, typed) is not None
        with pytest.raises(Refused):
            world.system.report(0, typed)
    assert world.system.stored() == stored == world.model.stored()


def test_a_screenshot_of_the_screen_is_refused(world: World) -> None:
    assert world.model.check_in(0, SCREEN, False, START - 91) is not None
    with pytest.raises(Refused):
        world.system.check_in(0, SCREEN, False, START - 91)
    world.check_in(0, SCREEN, age=89)


def test_dummy_uploads_store_nothing(world: World) -> None:
    for visitor in range(len(VISITORS)):
        world.sync(visitor, dummy=True)
    assert world.system.stored() == world.model.stored()
    assert world.system.stored().entries == 0


def test_bundle_sequence_survives_the_purge_of_every_bundle(world: World) -> None:
    """A device that synced before a quiet fortnight still gets the next bundle."""
    world.check_in(0, POSTER)
    world.check_in(1, POSTER)
    world.at(30)
    world.check_out(0)
    world.check_out(1)
    world.case(0)
    world.publish()
    assert len(world.sync(1)) == 1
    world.at(16 * DAY // MINUTE)
    world.purge()
    assert world.system.stored().bundles == ()
    world.check_in(2, POSTER)
    world.check_in(1, POSTER)
    world.at(16 * DAY // MINUTE + 30)
    world.check_out(2)
    world.check_out(1)
    world.case(2)
    world.publish()
    (warning,) = world.sync(1)
    assert warning.entered_at == START + 16 * DAY


def test_a_stay_across_midnight_on_a_screen_is_confirmed_under_both_day_codes(
    world: World,
) -> None:
    """§11: a venue confirmation reaches a visitor who kept yesterday's screen code."""
    world.at(3 * 60 + 30)  # 23:30
    world.check_in(0, SCREEN)
    world.at(4 * 60 + 30)  # 00:30 the next day
    world.check_out(0)
    start, end = START + 4 * 3600, START + 5 * 3600
    assert (world.system.confirm_venue(SCREEN, start, end), None) == world.model.confirm_venue(
        SCREEN, start, end
    )
    world.publish()
    (warning,) = world.sync(0)
    assert (warning.overlap_minutes, warning.level) == (30, 1)


def test_a_case_whose_screen_stay_outlasts_its_proofs_can_report(world: World) -> None:
    """An hour the proofs cover in part is reported in pieces (§7); the client once
    paired entries with slots one to one and could not report at all (fixed in 3ec3b69)."""
    world.at(30)  # 20:30
    world.check_in(0, SCREEN)
    world.check_in(1, SCREEN)
    world.at(105)  # 21:45, no exit rescan: the single proof covers 20:30-21:30
    world.check_out(0)
    world.check_out(1)
    world.case(0)
    world.publish()
    (warning,) = world.sync(1)
    assert (warning.overlap_minutes, warning.level) == (75, 2)


def test_the_privacy_check_finds_a_name_planted_in_the_database(world: World) -> None:
    """The machine's storage invariant is only as good as its search: plant, and find."""
    assert leaks(world.system, world.model) == []
    engine = world.system.service.engine
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE staff_tokens SET label = :label"),
            {"label": f"x{VENUES[0].name}x"},
        )
    assert leaks(world.system, world.model) == [
        f"venue name {VENUES[0].name!r} in staff_tokens.label"
    ]


def test_a_case_who_reports_while_checked_in_is_not_warned_by_their_own_report(
    world: World,
) -> None:
    """The stay in progress is uploaded up to now; the visit it becomes at check-out is
    the case's own (the client once forgot it and warned the case, fixed in 87bdbb1)."""
    world.check_in(0, POSTER)
    world.check_in(1, POSTER)
    world.at(10)
    world.case(0)
    world.at(30)
    world.check_out(0)
    world.check_out(1)
    world.publish()
    (warning,) = world.sync(1)
    assert warning.overlap_minutes == 10
    assert world.sync(0) == frozenset()
