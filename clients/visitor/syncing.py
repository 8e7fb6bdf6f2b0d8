"""Sync: the authority's signed configuration, new bundles, local matching, dummy uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from placecode import crypto
from placecode.crypto import Bundle, Error, UploadRequest
from placecode.crypto import constants as c
from placecode.crypto.rules import random_tan

from ..http import Client
from .diary import BundleRejected, Diary, DiaryError, RandomBytes, ServiceConfig, StoredWarning

#: called with (bytes just downloaded, total bytes to download)
Progress = Callable[[int, int], None]

#: a dummy upload carries as many fake entries as a real one might: 1 to this many
MAX_DUMMY_ENTRIES = 120
#: how likely each sync is to send a dummy upload, unless configured otherwise
DEFAULT_DUMMY_PROBABILITY = 0.3


def parse_pin(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != c.PUBLIC_KEY_BYTES:
        raise DiaryError("an authority key is 64 hexadecimal digits (its Ed25519 signing key)")
    return key


def fetch_config(
    diary: Diary, client: Client, authority_key: bytes | None = None
) -> tuple[ServiceConfig, bool]:
    """Verifies the signed configuration against the pinned key; returns (config, newly pinned).

    The first sync pins the key the service names (trust on first use) unless
    ``authority_key`` pins one explicitly.
    """
    payload, signature = client.config()
    config = ServiceConfig.parse(payload)
    pinned = diary.authority
    named = config.authority
    if authority_key is not None:
        if named.sign_key != authority_key:
            raise BundleRejected(
                "the service is signed by another authority key than the one you gave: "
                f"it names {named.sign_key.hex()}"
            )
    elif pinned is not None and pinned.sign_key != named.sign_key:
        raise BundleRejected(
            f"the service's authority key changed (you trust key id {pinned.key_id.hex()}, "
            f"it now names {named.key_id.hex()}): if your health authority announced a new "
            "key, pass it with --authority-key"
        )
    try:
        crypto.verify_config(payload, signature, named)
    except crypto.VerificationError:
        raise BundleRejected("the service's configuration is not signed by its authority") from None
    newly = pinned is None or pinned != named
    if newly and pinned is not None and pinned.sign_key != named.sign_key:
        diary.forget_bundles()
    diary.pin(named, payload)
    return config, newly


@dataclass(frozen=True)
class SyncResult:
    key_id: str
    pinned: bool
    new_bundles: int
    downloaded_bytes: int
    new: list[StoredWarning]
    withdrawn: list[StoredWarning]
    warnings: list[StoredWarning]
    dummy_sent: bool


def _chance(random: RandomBytes, probability: float) -> bool:
    return int.from_bytes(random(8), "big") < probability * 2**64


def dummy_upload(random: RandomBytes) -> UploadRequest:
    """An upload nobody can tell from a real one on the wire: same size, TAN-shaped."""
    tan = random_tan(random)
    count = 1 + int.from_bytes(random(2), "big") % MAX_DUMMY_ENTRIES
    entries = []
    for _ in range(count):
        proofs = random(1)[0] % 3
        size = c.MIN_ENTRY_BYTES + (1 + proofs * (4 + c.SIGNATURE_BYTES) if proofs else 0)
        entries.append(random(size))
    return UploadRequest(tan, tuple(entries), dummy=True)


def sync(
    diary: Diary,
    client: Client,
    now: int,
    *,
    authority_key: bytes | None = None,
    dummy_probability: float = DEFAULT_DUMMY_PROBABILITY,
    progress: Progress | None = None,
    report: UploadRequest | None = None,
) -> SyncResult:
    """Downloads and verifies new bundles, matches locally, sends a dummy upload by chance.

    Every bundle is verified before any is kept: a tampered or replayed one
    leaves the diary as it was. A ``report`` (a real upload) takes the dummy's
    place, so a report makes the same requests, in the same order, as a sync
    that sends a dummy; its failure is raised, a dummy's ignored.
    """
    config, pinned = fetch_config(diary, client, authority_key)
    authority = config.authority
    index = [
        b for b in client.bundle_index(diary.last_sequence) if b.sequence > diary.last_sequence
    ]
    total = sum(b.size for b in index)
    fetched: list[tuple[Bundle, bytes]] = []
    last = diary.last_sequence
    for info in sorted(index, key=lambda b: b.sequence):
        data = client.bundle(info)
        if progress:
            progress(len(data), total)
        try:
            if hashlib.sha256(data).hexdigest() != info.sha256.lower():
                raise crypto.VerificationError()
            bundle = Bundle.verify(data, authority, after_sequence=last)
        except crypto.VerificationError:
            raise BundleRejected(
                f"bundle {info.sequence} from the service failed verification (altered, "
                "replayed or signed by another key): nothing was kept"
            ) from None
        last = bundle.header.sequence
        fetched.append((bundle, data))
    diary.add_bundles(fetched)
    diary.purge(now)
    new, withdrawn, warnings = _rematch(diary, config, now)
    dummy = report is None and _chance(diary.random, dummy_probability)
    if report is not None:
        client.upload(report.to_bytes())
    elif dummy:
        try:
            client.upload(dummy_upload(diary.random).to_bytes())
        except Error:
            dummy = False
    return SyncResult(
        authority.key_id.hex(),
        pinned,
        len(fetched),
        sum(len(d) for _, d in fetched),
        new,
        withdrawn,
        warnings,
        dummy,
    )


def _rematch(
    diary: Diary, config: ServiceConfig, now: int
) -> tuple[list[StoredWarning], list[StoredWarning], list[StoredWarning]]:
    reported = diary.reported
    stored_visits = [s for s in diary.visits if s.id not in reported]
    by_object = {id(s.visit): s for s in stored_visits}
    exposures = crypto.match([s.visit for s in stored_visits], diary.bundles(), config.policy)
    old = {w.visit_id: w for w in diary.warnings}
    warnings, new = [], []
    for exposure in exposures:
        stored = by_object[id(exposure.visit)]
        previous = old.pop(stored.id, None)
        warning = StoredWarning(
            previous.id if previous else diary.new_id(),
            stored.id,
            exposure.visit.name,
            exposure.visit.entered_at,
            exposure.visit.left_at,
            exposure.slot.hour,
            exposure.slot.start_minute,
            exposure.slot.end_minute,
            exposure.slot.tag,
            exposure.overlap_minutes,
            int(exposure.level),
            exposure.message,
            previous.found_at if previous else now,
            previous.contacted_at if previous else None,
        )
        warnings.append(warning)
        if previous is None:
            new.append(warning)
    diary.set_warnings(warnings)
    return new, list(old.values()), warnings
