"""A curious or compromised server: what it holds, what it can open, what it sees."""

from __future__ import annotations

import base64
import dataclasses
import os

import pytest

from placecode import crypto
from placecode.clients import authority
from placecode.clients.venue.traces import confirmation
from placecode.crypto import constants as c
from placecode.service.api import uploads
from placecode.service.keys import ServiceKeys
from placecode.service.tans import tan_hash

from .conftest import DAY, T0, Service


def _visit(venue: crypto.Venue, entered: int, minutes: int = 75) -> crypto.Visit:
    return crypto.check_in(venue.poster(), entered).check_out(entered + minutes * 60)


def test_nothing_the_service_holds_opens_an_entry_or_a_consent(service: Service) -> None:
    venue = crypto.Venue(os.urandom(32), "Corner Cafe")
    visit = _visit(venue, T0 - DAY)
    entries = crypto.report_entries(visit, os.urandom)
    assert service.upload(entries).status_code == 202
    contact = crypto.ConsentMessage(visit.slots[0].tag, visit.slots[0].hour, 0, 30, "+41 79 1")
    assert service.consent(crypto.seal_consent(contact, service.authority)).status_code == 202

    held = service.app.extensions["placecode"]
    # the running service holds the signing seed and public keys, never a sealing secret
    assert [f.name for f in dataclasses.fields(ServiceKeys)] == ["sign_seed", "public"]
    # (and the public keys file that admin init writes for venue owners)
    held_files = {p.name for p in service.key_dir.iterdir()}
    assert held_files == {"signing.key", "sealing.pub", "authority.pub.json"}
    candidates = [
        held.keys.sign_seed,
        held.tan_pepper,
        held.keys.public.sign_key,
        held.keys.public.seal_key,
        # the raw key files (the JSON file holds the two public keys above)
        *(p.read_bytes() for p in service.key_dir.iterdir() if p.suffix != ".json"),
    ]
    rows = service.rows()
    stored = [bytes(r["sealed"]) for r in rows["entries"]]
    assert sorted(stored) == sorted(entries)
    for entry in stored:
        for key in candidates:
            with pytest.raises(crypto.VerificationError):
                crypto.open_entry(entry, key)
    # only a visitor of that venue-hour opens them
    keys = {s.tag: s.key for s in visit.slots}
    assert all(crypto.open_entry(e, keys[e[: c.TAG_BYTES]]) for e in stored)

    (sealed,) = [bytes(r["sealed"]) for r in rows["consent_messages"]]
    for secret in candidates:
        with pytest.raises(crypto.VerificationError):
            crypto.open_consent(sealed, crypto.SealingKey(secret))
    assert crypto.open_consent(sealed, service.sealing).contact == "+41 79 1"


def test_a_redeemed_tan_leaves_nothing_behind(service: Service) -> None:
    used, unused = service.tans(2)
    venue = crypto.Venue(os.urandom(32), "Gym")
    assert service.upload(crypto.report_entries(_visit(venue, T0 - 7200), os.urandom), used)
    pepper = service.app.extensions["placecode"].tan_pepper
    rows = service.rows()
    assert [bytes(r["hash"]) for r in rows["tans"]] == [tan_hash(pepper, unused)]
    blob = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for table in rows.values()
        for row in table
        for v in row.values()
    )
    for form in (used, used.replace("-", ""), tan_hash(pepper, used), tan_hash(pepper, used).hex()):
        assert (form.encode() if isinstance(form, str) else form) not in blob
    # entries carry no upload id: nothing but the sealed bytes, their tag, the day, and
    # whether the authority published them itself (false for every upload)
    assert {tuple(sorted(r)) for r in rows["entries"]} == {
        ("authority", "bundle_sequence", "received_day", "sealed", "tag")
    }
    assert not any(r["authority"] for r in rows["entries"])


def test_bundle_header_and_index_name_no_entry_hour(service: Service) -> None:
    """The hours in a bundle's header are the retention window at build time."""
    venue = crypto.Venue(os.urandom(32), "Bar")
    for days_ago in (1, 6, 13):
        visit = _visit(venue, T0 - days_ago * DAY + 3 * 3600)
        assert service.upload(crypto.report_entries(visit, os.urandom)).status_code == 202
    service.clock.now = T0 + 5 * 3600 + 17
    assert service.build() is not None
    (bundle,) = service.bundles()
    now_hour = int(service.clock.now) // 3600
    window = (now_hour - c.RETENTION_DAYS * 24, now_hour)
    assert (bundle.header.first_hour, bundle.header.last_hour) == window
    (info,) = service.client.get("/v1/bundles").json["bundles"]
    assert (info["first_hour"], info["last_hour"]) == window


def test_a_compromised_server_sees_what_each_upload_carries(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Residual: code running on the server sees the TAN, the flag and the entries together."""
    seen: list[crypto.UploadRequest] = []
    store = uploads._store

    def spy(request: crypto.UploadRequest) -> None:
        seen.append(request)
        store(request)

    monkeypatch.setattr(uploads, "_store", spy)
    venue = crypto.Venue(os.urandom(32), "Shop")
    entries = crypto.report_entries(_visit(venue, T0 - DAY, 150), os.urandom)
    (tan,) = service.tans()
    service.upload(entries, tan)
    service.upload(entries[:1], dummy=True)
    assert [(r.tan, r.dummy, sorted(r.entries)) for r in seen] == [
        (tan, False, sorted(entries)),
        ("ABCD-EFGH-JKMN", True, sorted(entries[:1])),
    ]


def test_a_published_slot_is_remembered_by_a_digest_that_names_no_window(
    service: Service,
) -> None:
    """To publish a venue trace once, the service keeps a digest of each slot it
    published. The digest covers the venue's signature: even an attacker who holds
    the venue's code (so the tag, the entry key and the hour) cannot try windows
    against it, and the row names nobody."""
    venue = crypto.Venue(os.urandom(32), "Corner Cafe")
    start = T0 - DAY - DAY % 3600 + 10 * 60
    _, sealed = confirmation(venue, start, start + 35 * 60, service.authority, screen=False)
    (slot,), entries = authority.seal_trace_entries(sealed, service.sealing, 0, os.urandom)
    response = service.client.post(
        "/v1/venue-entries",
        json={
            "entries": [base64.b64encode(e).decode() for e in entries],
            "slots": [authority.slot_digest(slot).hex()],
        },
        headers=service.auth("publisher"),
    )
    assert response.status_code == 201
    (row,) = service.rows()["published_slots"]
    assert set(row) == {"digest", "tag", "published_day"}
    assert bytes(row["tag"]) == slot.tag  # public already: the bundle carries it
    assert bytes(row["digest"]) == authority.slot_digest(slot)
    # every window of the hour, under the venue's code, with any signature but the venue's
    tried = {
        authority.slot_digest(
            dataclasses.replace(slot, start_minute=a, end_minute=b, signature=sig)
        )
        for a in range(60)
        for b in range(a + 1, 61)
        for sig in (bytes(c.SIGNATURE_BYTES), os.urandom(c.SIGNATURE_BYTES))
    }
    assert bytes(row["digest"]) not in tried


def test_entry_lengths_reveal_the_evidence_level() -> None:
    """Residual: anyone who sees an entry knows its level from its length alone."""
    venue = crypto.Venue(os.urandom(32), "Screen bar")
    t = T0 - DAY
    poster = _visit(venue, t, 30)
    screen = crypto.check_in(venue.screen(t), t)
    one_proof = screen.check_out(t + 1800)
    two_proofs = screen.rescan(venue.screen(t + 1800), t + 1800).check_out(t + 1800)
    confirmed = crypto.confirm_window(venue, t, t + 1800, screen=False)
    lengths = {
        "self-reported": {len(e) for e in crypto.report_entries(poster, os.urandom)},
        "presence, 1 proof": {len(e) for e in crypto.report_entries(one_proof, os.urandom)},
        "presence, 2 proofs": {len(e) for e in crypto.report_entries(two_proofs, os.urandom)},
        "venue-confirmed": {len(s.seal(0, os.urandom(12))) for s in confirmed},
    }
    assert lengths == {
        "self-reported": {48},
        "presence, 1 proof": {117},
        "presence, 2 proofs": {185},
        "venue-confirmed": {112},
    }


def test_after_a_build_no_sqlite_file_keeps_arrival_order(service: Service) -> None:
    """Once a bundle is built, SQLite's write-ahead log, which holds each
    upload's pages as they came, is emptied into the database file."""
    venue = crypto.Venue(os.urandom(32), "Cafe")
    first = crypto.report_entries(_visit(venue, T0 - DAY, 600), os.urandom)
    second = crypto.report_entries(_visit(venue, T0 - 2 * DAY, 600), os.urandom)
    assert service.upload(first).status_code == 202
    assert service.upload(second).status_code == 202
    wal = service.db_path.parent / (service.db_path.name + "-wal")
    assert all(wal.read_bytes().find(e) >= 0 for e in first + second)
    assert service.build() is not None
    assert not wal.exists() or all(wal.read_bytes().find(e) < 0 for e in first + second)
