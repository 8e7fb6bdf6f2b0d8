"""Residual risks of docs/threat-model.md, shown on the real code."""

from __future__ import annotations

import os
from pathlib import Path

from placecode import crypto
from placecode.clients import visitor

from .conftest import Service

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))


def test_the_consent_inbox_takes_opaque_messages_up_to_the_intake_rate(service: Service) -> None:
    """Nobody can tell junk from a sealed message: POST /v1/consent takes any 512
    bytes, up to the service-wide intake (a tenth of the hourly rate at once)."""
    statuses = [service.consent(os.urandom(512)).status_code for _ in range(300)]
    assert statuses == [202] * 100 + [429] * 200
    assert len(service.inbox()) == 100


def test_revocation_hides_every_entry_under_the_tag() -> None:
    """Revoking a fake entry also hides a genuine case's entry of the same venue-hour."""
    venue = crypto.Venue(os.urandom(32), "Cafe")
    t = 1_790_000_000 // 3600 * 3600
    genuine = crypto.check_in(venue.poster(), t).check_out(t + 3000)
    device = crypto.check_in(venue.poster(), t + 600).check_out(t + 3000)
    fake = crypto.seal_entry(
        genuine.slots[0].tag,
        genuine.slots[0].key,
        crypto.EntryContent(crypto.EvidenceLevel.SELF_REPORTED, 0, 60),
        os.urandom(12),
    )
    entries = [*crypto.report_entries(genuine, os.urandom), fake]

    def bundle(
        sequence: int, entries: list[bytes], revoked: tuple[bytes, ...] = ()
    ) -> crypto.Bundle:
        header = crypto.BundleHeader(KEYS.public.key_id, sequence, t + 86400, 0, 0, revoked=revoked)
        data = crypto.sign_bundle(header, entries, KEYS.signing_key)
        return crypto.Bundle.verify(data, KEYS.public)

    first = bundle(1, entries)
    assert len(crypto.match([device], [first], crypto.Policy())) == 1
    revoking = bundle(2, [], (genuine.slots[0].tag,))
    assert crypto.match([device], [first, revoking], crypto.Policy()) == []


def test_a_rescan_after_utc_midnight_checks_out_without_an_exit_proof(tmp_path: Path) -> None:
    """Limit: after midnight the screen's code cannot prove the exit; the device
    checks out on the screen's own account of itself, with the entry proof only."""
    venue = crypto.Venue(os.urandom(32), "Night bar", crypto.Category.BAR, 360)
    midnight = 1_790_035_200
    assert midnight % 86400 == 0
    diary = visitor.Diary.open(tmp_path)
    diary.scan(venue.screen(midnight - 1200), midnight - 1200)
    after = diary.scan(venue.screen(midnight + 1200), midnight + 1200)
    assert after.checked_in is None and diary.checked_in is None
    closed = after.checked_out
    assert closed is not None and closed.visit.left_at == midnight + 1200
    assert len(closed.visit.proofs) == 1  # no exit proof
