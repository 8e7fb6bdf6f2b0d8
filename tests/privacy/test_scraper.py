"""A scraper who photographs QR codes: posters and rotating screens."""

from __future__ import annotations

import os

from placecode import crypto
from placecode.crypto import constants as c

from .conftest import T0

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
#: 2026-06-01 00:00 UTC
MIDNIGHT = T0 // 86400 * 86400


def _publish(entries: list[bytes]) -> crypto.Bundle:
    header = crypto.BundleHeader(KEYS.public.key_id, 1, T0 + 30 * 86400, 0, 0)
    return crypto.Bundle.verify(crypto.sign_bundle(header, entries, KEYS.signing_key), KEYS.public)


def _fake_day(code_key: bytes, first_hour: int, hours: int) -> list[bytes]:
    """Self-reported entries for every minute of ``hours`` hours: all a scraper can make."""
    content = crypto.EntryContent(crypto.EvidenceLevel.SELF_REPORTED, 0, 60)
    return [
        crypto.seal_entry(
            crypto.hour_tag(code_key, h), crypto.entry_key(code_key, h), content, os.urandom(12)
        )
        for h in range(first_hour, first_hour + hours)
    ]


def test_a_photographed_day_code_gives_no_key_or_tag_of_another_day() -> None:
    venue = crypto.Venue(os.urandom(32), "Station kiosk", crypto.Category.SHOP, 720)
    monday, tuesday = venue.screen(MIDNIGHT + 9 * 3600), venue.screen(MIDNIGHT + 86400 + 9 * 3600)
    assert monday.code_key != tuesday.code_key
    assert monday.venue_public_key != tuesday.venue_public_key
    assert monday.code_id != tuesday.code_id
    # a Tuesday visitor's tags and keys, against all the photo of Monday derives
    stay = MIDNIGHT + 86400 + 12 * 3600
    tuesday_visit = crypto.check_in(venue.screen(stay), stay).check_out(stay + 12 * 3600 - 60)
    first = MIDNIGHT // 3600 - 24
    derived_tags = {crypto.hour_tag(monday.bound_key, h) for h in range(first, first + 24 * 5)}
    derived_keys = {crypto.entry_key(monday.bound_key, h) for h in range(first, first + 24 * 5)}
    assert not derived_tags & {s.tag for s in tuesday_visit.slots}
    assert not derived_keys & {s.key for s in tuesday_visit.slots}


def test_a_photographed_day_code_warns_only_that_days_visitors() -> None:
    venue = crypto.Venue(os.urandom(32), "Station kiosk", crypto.Category.SHOP, 120)
    day = MIDNIGHT + 86400
    photo = venue.screen(day + 8 * 3600)
    # the scraper claims two whole days under the photographed code
    bundle = _publish(_fake_day(photo.bound_key, (day - 86400) // 3600, 48 + 24))
    policy = crypto.Policy(min_overlap_minutes=1)
    same_day = crypto.check_in(venue.screen(day + 14 * 3600), day + 14 * 3600)
    next_day = crypto.check_in(venue.screen(day + 86400 + 14 * 3600), day + 86400 + 14 * 3600)
    day_before = crypto.check_in(venue.screen(day - 10 * 3600), day - 10 * 3600)
    victims = [v.check_out(v.entered_at + 3600) for v in (same_day, next_day, day_before)]
    warned = [e.visit for e in crypto.match(victims, [bundle], policy)]
    assert warned == [victims[0]]  # the photographed day's visitors only


def test_a_screenshot_of_one_epoch_backs_an_hour_of_presence_claims() -> None:
    """Residual: a proof shows the screen was seen, not by whom nor for how long."""
    venue = crypto.Venue(os.urandom(32), "Club", crypto.Category.BAR, 240)
    shown = MIDNIGHT + 20 * 3600
    photo = crypto.VenueCode.from_url(venue.screen(shown).to_url())
    # forwarded within 90 s and checked in from elsewhere, then "left" an hour later
    remote = crypto.check_in(photo, shown + 60).check_out(shown + 3600)
    entries = crypto.report_entries(remote, os.urandom)
    guest_in = shown + 20 * 60
    guest = crypto.check_in(venue.screen(guest_in), guest_in).check_out(guest_in + 3 * 3600)
    strong = crypto.Policy(frozenset({1, 2}), 10)
    (exposure,) = crypto.match([guest], [_publish(entries)], strong)
    assert exposure.level == crypto.EvidenceLevel.PRESENCE_PROVEN
    assert exposure.overlap_minutes == 40  # bounded by the proof: one hour from the photo


def test_a_poster_photo_reads_every_published_window_of_that_venue() -> None:
    """Residual: whoever holds a poster's key follows the venue's exposures to the minute."""
    venue = crypto.Venue(os.urandom(32), "Corner Cafe")
    stays = [(MIDNIGHT - 3 * 86400 + 11 * 3600 + 7 * 60, 95), (MIDNIGHT - 86400 + 19 * 3600, 40)]
    case = [crypto.check_in(venue.poster(), t).check_out(t + m * 60) for t, m in stays]
    other = crypto.Venue(os.urandom(32), "Elsewhere").poster()
    noise = crypto.check_in(other, MIDNIGHT - 86400).check_out(MIDNIGHT - 80000)
    bundle = _publish([e for v in [*case, noise] for e in crypto.report_entries(v, os.urandom)])
    photo = venue.poster().bound_key  # never visited
    seen = []
    for h in range(MIDNIGHT // 3600 - c.RETENTION_DAYS * 24, MIDNIGHT // 3600 + 24):
        for entry in bundle.lookup(crypto.hour_tag(photo, h)):
            content = crypto.open_entry(entry, crypto.entry_key(photo, h))
            seen.append((h, content.start_minute, content.end_minute))
    expected = [w for t, m in stays for w in crypto.stay_windows(t, t + m * 60)]
    assert sorted(seen) == sorted(expected) and len(expected) == 3
