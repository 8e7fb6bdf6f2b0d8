"""A health authority and venue owners working together."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from placecode import crypto
from placecode.clients import visitor
from placecode.clients.http import Client
from placecode.crypto import constants as c
from placecode.service.api import uploads
from tests.clients.stub import StubService, serve

from .conftest import DAY, T0, Service

HOUR = 3600


def test_a_consent_names_one_exposure_and_nothing_else(tmp_path: Path) -> None:
    start = 1_790_000_000 // HOUR * HOUR
    cafe = crypto.Venue(bytes([1]) * 32, "Riverside Café", crypto.Category.CAFE, 120)
    gym = crypto.Venue(bytes([2]) * 32, "City Gym", crypto.Category.GYM, 60)
    keys = crypto.AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys)) as stub:
        diary = visitor.Diary.open(tmp_path)
        for venue, at in ((gym, start - 5 * HOUR), (cafe, start + 600), (gym, start + 2 * HOUR)):
            diary.check_in(venue.poster(), at)
            diary.check_out(at + 40 * 60)
        case = crypto.check_in(cafe.poster(), start).check_out(start + 1800)
        hours = (start // HOUR, start // HOUR)
        stub.publish(crypto.report_entries(case, os.urandom), hours, start + 3 * HOUR)
        (warning,) = visitor.sync(diary, Client(stub.url), start + 4 * HOUR).warnings
        visitor.send_contact(diary, Client(stub.url), warning.id, "ana@example.org", start)
        (sealed,) = stub.consents
    message = crypto.open_consent(sealed, keys)
    cafe_visit = next(s.visit for s in diary.visits if s.visit.name == "Riverside Café")
    assert (message.tag, message.hour) == (cafe_visit.slots[0].tag, start // HOUR)
    assert (message.start_minute, message.end_minute) == (10, 50)
    assert message.contact == "ana@example.org"
    plain = message.to_bytes()
    assert len(plain) == c.CONSENT_PLAINTEXT_BYTES
    for stored in diary.visits:
        for slot in stored.visit.slots:
            assert slot.key not in plain
            assert slot.tag not in plain or slot.tag == message.tag
    assert b"Gym" not in plain and b"Caf" not in plain


def test_an_authority_that_keeps_tans_maps_an_upload_with_an_owners_code(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Residual: TAN to person, upload to TAN, tag to venue: the chain is the authority's."""
    given: dict[str, str] = {}
    (given["alice"],) = service.tans()  # the authority notes whom it gave the TAN to
    recorded: dict[str, list[bytes]] = {}
    store = uploads._store

    def keep(request: crypto.UploadRequest) -> None:
        recorded[request.tan] = list(request.entries)
        store(request)

    monkeypatch.setattr(uploads, "_store", keep)
    venues = [crypto.Venue(os.urandom(32), name) for name in ("Clinic", "Bar", "Temple")]
    stays = [(venues[0], T0 - 3 * DAY), (venues[2], T0 - 2 * DAY + 5 * HOUR), (venues[1], T0 - DAY)]
    entries = [
        e
        for venue, at in stays
        for e in crypto.report_entries(
            crypto.check_in(venue.poster(), at).check_out(at + 3 * HOUR), os.urandom
        )
    ]
    assert service.upload(entries, given["alice"]).status_code == 202
    temple = venues[2].poster().bound_key  # the temple's owner hands over its code
    now = T0 // HOUR
    alice = {e[: c.TAG_BYTES] for e in recorded[given["alice"]]}
    hours = [
        h for h in range(now - c.RETENTION_DAYS * 24, now) if crypto.hour_tag(temple, h) in alice
    ]
    first = (T0 - 2 * DAY + 5 * HOUR) // HOUR
    assert hours == [first, first + 1]  # the poster's default stay: two hours
