"""A malicious uploader with a valid TAN."""

from __future__ import annotations

import os

from placecode import crypto
from placecode.crypto import constants as c

from .conftest import DAY, T0, Service

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))


def _publish(entries: list[bytes], sequence: int = 1, **kw: object) -> crypto.Bundle:
    header = crypto.BundleHeader(KEYS.public.key_id, sequence, T0 + 30 * DAY, 0, 0, **kw)  # type: ignore[arg-type]
    return crypto.Bundle.verify(crypto.sign_bundle(header, entries, KEYS.signing_key), KEYS.public)


def test_stacked_fake_entries_count_each_minute_once() -> None:
    """Three entries under one tag (the most an upload may carry) add no minute."""
    venue = crypto.Venue(os.urandom(32), "Cafe")
    start = T0 // 3600 * 3600
    device = crypto.check_in(venue.poster(), start).check_out(start + 30 * 60)
    (slot,) = device.slots
    fake = crypto.EvidenceLevel.SELF_REPORTED

    def stack(window: tuple[int, int]) -> crypto.Bundle:
        content = crypto.EntryContent(fake, *window)
        return _publish(
            [crypto.seal_entry(slot.tag, slot.key, content, os.urandom(12)) for _ in range(3)]
        )

    policy = crypto.Policy(min_overlap_minutes=10)
    assert crypto.match([device], [stack((0, 5))], policy) == []  # 5 minutes, not 15
    (exposure,) = crypto.match([device], [stack((0, 60))], policy)
    assert exposure.overlap_minutes == 30  # the device's own minutes, not 60 or 180


def test_a_revoked_entry_uploaded_again_warns_again(service: Service) -> None:
    """Residual: revocation is not sticky; a second TAN re-publishes the revoked bytes."""
    venue = crypto.Venue(os.urandom(32), "Bar")
    start = T0 - DAY
    device = crypto.check_in(venue.poster(), start).check_out(start + 3600)
    fake = crypto.report_entries(device, os.urandom)  # anyone who holds the poster's key
    assert service.upload(fake).status_code == 202
    service.build()
    tags = sorted({e[: c.TAG_BYTES].hex() for e in fake})
    response = service.client.post(
        "/v1/revocations", json={"tags": tags}, headers=service.auth("publisher")
    )
    assert response.status_code == 200
    service.build()
    policy = crypto.Policy(min_overlap_minutes=1)
    assert crypto.match([device], service.bundles(), policy) == []
    assert service.upload(fake).status_code == 202  # the same bytes, copied from bundle 1
    service.build()
    assert len(crypto.match([device], service.bundles(), policy)) == 1


def test_the_uploader_chooses_the_message_a_device_shows() -> None:
    """Residual: any message of the signed table, not the authority's choice."""
    venue = crypto.Venue(os.urandom(32), "Gym")
    start = T0 - DAY
    visit = crypto.check_in(venue.poster(), start).check_out(start + 3600)
    messages = ("Watch for symptoms.", "Isolate for ten days now.")
    bundle = _publish(crypto.report_entries(visit, os.urandom, message_id=1), messages=messages)
    (exposure,) = crypto.match([visit], [bundle], crypto.Policy())
    assert exposure.message == "Isolate for ten days now."
