"""A malicious venue owner: holds the venue secret, so every code and signing key."""

from __future__ import annotations

import os

from placecode import crypto
from placecode.crypto import constants as c

from .conftest import T0

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
MIDNIGHT = T0 // 86400 * 86400


def _publish(entries: list[bytes]) -> crypto.Bundle:
    header = crypto.BundleHeader(KEYS.public.key_id, 1, T0 + 30 * 86400, 0, 0)
    return crypto.Bundle.verify(crypto.sign_bundle(header, entries, KEYS.signing_key), KEYS.public)


def test_a_trace_gives_the_authority_only_the_confirmed_hours() -> None:
    venue = crypto.Venue(os.urandom(32), "Bistro", crypto.Category.RESTAURANT, 720)
    start = MIDNIGHT + 10 * 3600 + 30 * 60
    slots = crypto.confirm_window(venue, start, start + 45 * 60, screen=False)
    opened = crypto.open_trace(crypto.seal_trace(slots, KEYS.public), KEYS)
    assert [s.hour for s in opened] == [start // 3600, start // 3600 + 1]
    code_key = venue.poster().code_key
    plain = b"".join(s.to_bytes() for s in opened)
    assert code_key not in plain and venue.secret not in plain
    # a visitor's entries of other hours stay closed to every key the trace gives
    visit = crypto.check_in(venue.poster(), start - 3 * 3600).check_out(start + 5 * 3600)
    confirmed = {s.hour for s in opened}
    assert {s.hour for s in visit.slots} > confirmed
    by_tag = {s.tag: s for s in visit.slots}
    for entry in crypto.report_entries(visit, os.urandom):
        hour = by_tag[entry[: c.TAG_BYTES]].hour
        assert any(_opens(entry, k.key) for k in opened) == (hour in confirmed)


def _opens(entry: bytes, key: bytes) -> bool:
    try:
        crypto.open_entry(entry, key)
    except crypto.VerificationError:
        return False
    return True


def test_an_owner_with_a_tan_backs_any_claim_with_presence_proofs() -> None:
    """Residual: the owner signs proofs for any epoch, so level 2 does not bound the owner."""
    venue = crypto.Venue(os.urandom(32), "Own bar", crypto.Category.BAR, 720)
    never = MIDNIGHT + 13 * 3600  # the owner was not there; any time of the day will do
    staged = crypto.check_in(venue.screen(never), never)
    staged = staged.rescan(venue.screen(never + 6 * 3600), never + 6 * 3600)
    fake = crypto.report_entries(staged.check_out(never + 6 * 3600), os.urandom)
    guests = [
        crypto.check_in(venue.screen(t), t).check_out(t + 3600)
        for t in (never + 600, never + 3 * 3600, never + 5 * 3600)
    ]
    strong = crypto.Policy(
        frozenset({crypto.EvidenceLevel.VENUE_CONFIRMED, crypto.EvidenceLevel.PRESENCE_PROVEN}), 10
    )
    exposures = crypto.match(guests, [_publish(fake)], strong)
    assert [e.visit for e in exposures] == guests
    assert {e.level for e in exposures} == {crypto.EvidenceLevel.PRESENCE_PROVEN}


def test_an_owner_who_hands_out_distinct_codes_learns_which_visitor_uploaded() -> None:
    """Residual: a poster generation per visitor makes that visitor's upload recognisable."""
    venue = crypto.Venue(os.urandom(32), "Small office")
    start = MIDNIGHT + 9 * 3600
    handed = {"alice": 7, "bob": 8, "carol": 9}
    visits = {
        who: crypto.check_in(venue.poster(gen), start).check_out(start + 3600)
        for who, gen in handed.items()
    }
    bundle = _publish(crypto.report_entries(visits["bob"], os.urandom))  # bob tested positive
    found = {
        who
        for who, gen in handed.items()
        if bundle.lookup(crypto.hour_tag(venue.poster(gen).bound_key, start // 3600))
    }
    assert found == {"bob"}
