"""The abuse-resistance promises (issue 9), each attacked through public interfaces.

Every test plays the attacker with what it really holds (a photographed code,
a TAN, its own Ed25519 key, an old signed configuration) against the real
service over its HTTP API, the visitor client and the published ``crypto``
library, and asserts that the attack yields nothing. Each failed on the
protocol before its hardening.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from placecode import crypto
from placecode.clients import authority, visitor
from placecode.clients.http import Client
from placecode.clients.venue.screen import screen_page
from placecode.clients.venue.traces import confirmation
from placecode.crypto import EvidenceLevel, Policy, VenueCode
from placecode.crypto import constants as c
from tests.clients.stub import StubService, serve

from .conftest import DAY, T0, Service

HOUR = 3600
#: an hour of the day before the service's clock, when the victims visit
VISIT = (T0 - DAY) // HOUR * HOUR
VENUE_CONFIRMED_ONLY = Policy(frozenset({EvidenceLevel.VENUE_CONFIRMED}), 10)


def _confirmed(slot: crypto.Slot, sign: object, start: int = 0, end: int = 60) -> bytes:
    """A venue-confirmed entry under ``slot``, its window signed with ``sign``."""
    signature = sign(crypto.confirm_message(slot.tag, start, end))  # type: ignore[operator]
    content = crypto.EntryContent(EvidenceLevel.VENUE_CONFIRMED, start, end, 1, signature)
    return crypto.seal_entry(slot.tag, slot.key, content, os.urandom(c.NONCE_BYTES))


def _scanned(code: VenueCode) -> VenueCode:
    """What a phone reads from the printed code."""
    return VenueCode.from_url(code.to_url())


# 1. Venue-confirmed warnings without the authority


def test_an_owner_cannot_upload_venue_confirmed_warnings(service: Service) -> None:
    """An owner's own signature, uploaded with a TAN, never warns at the venue-confirmed level."""
    owner = crypto.Venue(os.urandom(32), "Cafe")
    victim = crypto.check_in(_scanned(owner.poster()), VISIT).check_out(VISIT + HOUR)
    keys = owner.code_keys(c.KIND_POSTER, 0)
    forged = [_confirmed(slot, keys.sign) for slot in victim.slots]
    assert {len(e) for e in forged} == {112}
    assert service.upload(forged).status_code == 202  # the service cannot read an entry
    service.build()
    bundles = service.bundles()
    assert crypto.match([victim], bundles, VENUE_CONFIRMED_ONLY) == []
    assert crypto.match([victim], bundles, Policy(min_overlap_minutes=1)) == []


def test_a_sticker_with_its_own_key_warns_nobody_at_the_venue_confirmed_level(
    service: Service,
) -> None:
    """A sticker copies a poster's code key under the attacker's key, signs, and uploads."""
    venue = crypto.Venue(os.urandom(32), "Bakery")
    signer = Ed25519PrivateKey.from_private_bytes(os.urandom(32))
    photo = venue.poster()
    sticker = dataclasses.replace(photo, venue_public_key=signer.public_key().public_bytes_raw())
    fooled = crypto.check_in(_scanned(sticker), VISIT).check_out(VISIT + HOUR)
    genuine = crypto.check_in(_scanned(photo), VISIT).check_out(VISIT + HOUR)
    # the bound key: the sticker's visitors share no tag with the poster's
    assert not {s.tag for s in fooled.slots} & {s.tag for s in genuine.slots}
    assert service.upload([_confirmed(s, signer.sign) for s in fooled.slots]).status_code == 202
    service.build()
    bundles = service.bundles()
    assert crypto.match([fooled, genuine], bundles, VENUE_CONFIRMED_ONLY) == []
    assert crypto.match([fooled, genuine], bundles, Policy(min_overlap_minutes=1)) == []


# 2. Kind downgrade


def test_a_screen_code_re_encoded_as_a_poster_matches_nobody(service: Service) -> None:
    venue = crypto.Venue(os.urandom(32), "Club", crypto.Category.BAR, 240)
    shown = VISIT - 5 * HOUR
    photo = venue.screen(shown)
    downgraded = dataclasses.replace(photo, kind=c.KIND_POSTER, proof=None)
    # hours after the photo the re-encoded code still checks in, as a poster ...
    remote = crypto.check_in(_scanned(downgraded), VISIT).check_out(VISIT + HOUR)
    guest = crypto.check_in(venue.screen(VISIT), VISIT).check_out(VISIT + HOUR)
    # ... under tags that match nothing of the screen's
    assert not {s.tag for s in remote.slots} & {s.tag for s in guest.slots}
    assert service.upload(crypto.report_entries(remote, os.urandom)).status_code == 202
    service.build()
    assert crypto.match([guest], service.bundles(), Policy(min_overlap_minutes=1)) == []


# 3. The live verification number


def _screen_number(venue: crypto.Venue, now: int) -> str:
    """The six digits the venue's screen page shows at ``now``."""
    found = re.search(r'<div class="code">(\d{3}) (\d{3})</div>', screen_page(venue, now))
    assert found is not None
    return found.group(1) + found.group(2)


def test_a_screenshot_or_a_downgraded_code_cannot_show_the_screens_number() -> None:
    venue = crypto.Venue(os.urandom(32), "Concert hall", crypto.Category.EVENT, 180)
    taken = VISIT + 7  # a screenshot in the first seconds of an epoch
    screenshot = _scanned(venue.screen(taken))
    later = VISIT + 2 * HOUR
    # re-encoded as a poster, the screenshot checks in any time that day, and shows nothing
    downgraded = dataclasses.replace(screenshot, kind=c.KIND_POSTER, proof=None)
    assert crypto.check_in(_scanned(downgraded), later).verification_code(later) is None
    # used at once, it shows its own epoch's number: the screen has moved on 30 s later
    at = taken + 40
    phone = crypto.check_in(screenshot, at)
    assert phone.verification_code(at) == _screen_number(venue, taken)
    assert phone.verification_code(at) != _screen_number(venue, at)
    # and past the proof's 90 seconds, nothing
    assert phone.verification_code(taken + 91) is None
    # a phone that scanned the live screen shows the screen's current number
    live = crypto.check_in(_scanned(venue.screen(later)), later)
    assert live.verification_code(later) == _screen_number(venue, later)


# 4. Future claims


def test_an_upload_cannot_warn_for_hours_after_its_bundle(service: Service) -> None:
    """Uploaded today, claiming a day nine days ahead: it warns nobody then."""
    venue = crypto.Venue(os.urandom(32), "Library")
    ahead = T0 // HOUR * HOUR + 9 * DAY
    claim = crypto.check_in(_scanned(venue.poster()), ahead).check_out(ahead + 2 * HOUR)
    assert service.upload(crypto.report_entries(claim, os.urandom)).status_code == 202
    service.build()  # today: the service cannot see an entry's hour
    service.clock.now = ahead + 3 * HOUR
    victim = crypto.check_in(_scanned(venue.poster()), ahead).check_out(ahead + 2 * HOUR)
    assert crypto.match([victim], service.bundles(), Policy(min_overlap_minutes=1)) == []


def test_the_authority_refuses_a_venue_trace_of_hours_to_come(service: Service) -> None:
    owner = crypto.Venue(os.urandom(32), "Gym")
    now = int(service.clock.now)
    _, ahead = confirmation(owner, now + HOUR, now + 2 * HOUR, service.authority, screen=False)
    with pytest.raises(crypto.Error, match="not happened yet"):
        authority.seal_trace_entries(ahead, service.sealing, 0, os.urandom, now)
    _, past = confirmation(owner, now - 2 * HOUR, now - HOUR, service.authority, screen=False)
    slots, entries = authority.seal_trace_entries(past, service.sealing, 0, os.urandom, now)
    assert len(slots) == len(entries) == 1


# 5. Rescan with a foreign exit code


def test_a_rescan_with_the_code_key_under_another_key_is_refused(tmp_path: Path) -> None:
    venue = crypto.Venue(os.urandom(32), "Museum", crypto.Category.CULTURE, 180)
    diary = visitor.Diary.open(tmp_path)
    diary.check_in(_scanned(venue.screen(VISIT)), VISIT)
    leave = VISIT + HOUR
    exit_code = venue.screen(leave)
    foreign = Ed25519PrivateKey.from_private_bytes(os.urandom(32))
    impostor = dataclasses.replace(
        exit_code, venue_public_key=foreign.public_key().public_bytes_raw()
    )
    assert impostor.proof is not None
    impostor = dataclasses.replace(
        impostor,
        proof=crypto.PresenceProof(
            impostor.proof.epoch,
            foreign.sign(
                c.PRESENCE_LABEL + impostor.code_id + impostor.proof.epoch.to_bytes(4, "big")
            ),
        ),
    )
    with pytest.raises(crypto.CodeError, match="not the code you checked in with"):
        diary.check_out(leave, _scanned(impostor))
    # the genuine exit code still checks out with an exit proof whose entries hold
    stored = diary.check_out(leave, _scanned(exit_code))
    for entry in crypto.report_entries(stored.visit, os.urandom):
        slot = next(s for s in stored.visit.slots if s.tag == entry[: c.TAG_BYTES])
        assert crypto.evidence_holds(crypto.open_entry(entry, slot.key), slot, stored.visit)


# 6. Ed25519 edge keys


def test_a_code_with_the_identity_key_and_a_signature_for_everything_is_refused() -> None:
    """The identity point verifies every message under OpenSSL's rules: refused at parsing."""
    venue = crypto.Venue(os.urandom(32), "Station")
    real = venue.screen(VISIT)
    assert real.proof is not None
    identity = bytes([1]) + bytes(31)
    everything = bytes([1]) + bytes(63)  # R = identity, S = 0
    forged = dataclasses.replace(
        real,
        venue_public_key=identity,
        proof=crypto.PresenceProof(real.proof.epoch, everything),
    )
    with pytest.raises(crypto.DecodeError, match="invalid venue key"):
        VenueCode.from_url(forged.to_url())
    with pytest.raises(crypto.CodeError, match="not signed by the venue"):
        crypto.check_in(forged, VISIT)  # built in code rather than scanned: still refused


# 7. Configuration freshness


@dataclasses.dataclass
class _ReplayingStub(StubService):
    """A service (or a CDN, or a network attacker) that serves chosen signed configurations."""

    issued_at: int = 1_780_000_000
    warn_levels: tuple[int, ...] = (1, 2, 3)

    def config(self) -> tuple[bytes, bytes]:
        payload, _ = super().config()
        doc = json.loads(payload)
        doc["issued_at"] = self.issued_at
        doc["policy"]["warn_levels"] = list(self.warn_levels)
        data = json.dumps(doc).encode()
        return data, crypto.sign_config(data, self.keys.signing_key)


def test_an_old_signed_configuration_is_refused(tmp_path: Path) -> None:
    """The authority switched self-reports off; replaying its older document switches them on."""
    keys = crypto.AuthorityKeys.generate(os.urandom)
    stub = _ReplayingStub(keys, issued_at=1_780_100_000, warn_levels=(1, 2))
    with serve(stub):
        diary = visitor.Diary.open(tmp_path)
        visitor.sync(diary, Client(stub.url), T0, dummy_probability=0.0)
        held = diary.config
        assert held is not None and EvidenceLevel.SELF_REPORTED not in held.policy.warn_levels
        stub.issued_at, stub.warn_levels = 1_780_000_000, (1, 2, 3)
        with pytest.raises(visitor.BundleRejected, match="older than the one this device holds"):
            visitor.sync(diary, Client(stub.url), T0 + 60, dummy_probability=0.0)
        assert diary.config == held


# 8. The level shown


def test_two_confirmed_minutes_do_not_make_an_hour_venue_confirmed(service: Service) -> None:
    venue = crypto.Venue(os.urandom(32), "Canteen")
    victim = crypto.check_in(_scanned(venue.poster()), VISIT).check_out(VISIT + HOUR)
    _, sealed = confirmation(venue, VISIT, VISIT + 120, service.authority, screen=False)
    slots, confirmed = authority.seal_trace_entries(sealed, service.sealing, 0, os.urandom)
    response = service.client.post(
        "/v1/venue-entries",
        json={
            "entries": [base64.b64encode(e).decode() for e in confirmed],
            "slots": [authority.slot_digest(s).hex() for s in slots],
        },
        headers=service.auth("publisher"),
    )
    assert response.status_code == 201
    case = crypto.check_in(_scanned(venue.poster()), VISIT + 120).check_out(VISIT + HOUR)
    assert service.upload(crypto.report_entries(case, os.urandom)).status_code == 202
    service.build()
    (exposure,) = crypto.match([victim], service.bundles(), Policy())
    assert exposure.overlap_minutes == 60
    assert exposure.level == EvidenceLevel.SELF_REPORTED  # 2 venue-confirmed minutes < 10


# 9. Linking within bundles


def test_a_repeated_tag_does_not_single_out_real_entries_in_a_bundle(service: Service) -> None:
    """Decoys repeat tags as real groups do: "repeated means real" misjudges decoys."""
    venue = crypto.Venue(os.urandom(32), "Pool", crypto.Category.GYM, 180)
    enter = VISIT + 40 * 60  # the single proof covers an hour from hh:40
    case = crypto.check_in(_scanned(venue.screen(enter)), enter).check_out(enter + 70 * 60)
    real = crypto.report_entries(case, os.urandom)
    # hh:40-hh+1:00 proven; hh+1:00-hh+1:41 proven and hh+1:41-hh+1:50 self-reported, one tag
    assert sorted(len(e) for e in real) == [48, 117, 117]
    assert service.upload(real).status_code == 202
    service.settings["MIN_BUNDLE_ENTRIES"] = 200  # the default batch size
    service.build()
    (bundle,) = service.bundles()
    public = bundle.entries()  # no venue confirmation: every entry is an upload or a decoy
    decoys = [e for e in public if e not in real]
    assert len(public) == service.settings["MIN_BUNDLE_ENTRIES"]
    counts: dict[bytes, int] = {}
    for entry in public:
        counts[entry[: c.TAG_BYTES]] = counts.get(entry[: c.TAG_BYTES], 0) + 1
    flagged = [e for e in public if counts[e[: c.TAG_BYTES]] > 1]
    # the attacker's rule flags decoys as real: a repeated tag is no tell
    assert any(d in flagged for d in decoys)
    # and decoys take lengths real entries have
    assert {len(d) for d in decoys} <= {len(e) for e in real}


def test_a_tag_repeated_across_bundles_is_real(service: Service) -> None:
    """Residual: decoy tags never recur in a later bundle, so a recurring tag is a real one,
    and tells that both bundles carry entries of one venue-hour (not which)."""
    venue = crypto.Venue(os.urandom(32), "Bar")
    first = crypto.check_in(_scanned(venue.poster()), VISIT).check_out(VISIT + 1800)
    second = crypto.check_in(_scanned(venue.poster()), VISIT + 1800).check_out(VISIT + HOUR)
    assert service.upload(crypto.report_entries(first, os.urandom)).status_code == 202
    service.build()
    service.clock.now += HOUR
    assert service.upload(crypto.report_entries(second, os.urandom)).status_code == 202
    service.build()
    one, two = service.bundles()
    recurring = {e[: c.TAG_BYTES] for e in one.entries()} & {
        e[: c.TAG_BYTES] for e in two.entries()
    }
    assert recurring == {first.slots[0].tag}
