"""Sync: the authority's signed configuration, new bundles, local matching, dummy uploads."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from placecode import crypto
from placecode.crypto import Bundle, Error, UploadRequest
from placecode.crypto import constants as c
from placecode.crypto.rules import random_tan

from ..http import Client, IndexRow
from .diary import BundleRejected, Diary, DiaryError, RandomBytes, ServiceConfig, StoredWarning

#: called with (bytes just downloaded, total bytes to download)
Progress = Callable[[int, int], None]

#: a dummy upload carries as many fake entries as a real one might: 1 to this many
MAX_DUMMY_ENTRIES = 120
#: how likely each sync is to send a dummy upload, unless configured otherwise
DEFAULT_DUMMY_PROBABILITY = 0.3
#: how long a sync's downloads may take in all before it gives up, keeping nothing
SYNC_SECONDS = 600.0


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
    # §14 freshness: an old signed configuration (a laxer policy, say) cannot be replayed
    held = diary.config_issued_at if pinned == named else None
    try:
        crypto.read_config(payload, signature, named, held_issued_at=held)
    except crypto.DecodeError as e:
        raise BundleRejected(str(e)) from None
    except crypto.VerificationError:
        raise BundleRejected(
            "the service sent a configuration older than the one this device holds, or a "
            "malformed one: nothing was changed"
        ) from None
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
    #: verified bundles whose hours had all passed the retention period: dropped at once
    expired_bundles: int = 0


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
    seconds: float = SYNC_SECONDS,
) -> SyncResult:
    """Downloads and verifies new bundles, matches locally, sends a dummy upload by chance.

    Every bundle is verified before any is kept: a tampered or replayed one
    leaves the diary as it was, and so does a download that outlasts
    ``seconds``. The index is not signed, so it only says where to look: a
    bundle is kept or dropped by its signed header, and a sequence the index
    skips is asked for by number (an index that hides one is refused). A
    ``report`` (a real upload) takes the dummy's place, so a report makes the
    same requests, in the same order, as a sync that sends a dummy; its failure
    is raised, a dummy's ignored.
    """
    deadline = time.monotonic() + seconds
    config, pinned = fetch_config(diary, client, authority_key)
    authority = config.authority
    last = diary.last_sequence
    index = {b.sequence: b for b in client.bundle_index(last) if b.sequence > last}
    total = sum(b.size for b in index.values())
    fetched: list[tuple[Bundle, bytes]] = []
    for sequence in _wanted(diary, index):
        info = index.get(sequence)
        if info is None:
            raise BundleRejected(
                f"the service's bundle index skips bundle {sequence}, which this device "
                "needs to stay complete: nothing was kept; try again later, and tell your "
                "health authority if this stays"
            )
        data = client.bundle(info, deadline=deadline, have=diary.bundle_file(sequence))
        if progress:
            progress(len(data), total)
        try:
            if hashlib.sha256(data).hexdigest() != info.sha256.lower():
                raise crypto.VerificationError()
            bundle = Bundle.verify(data, authority, after_sequence=last)
            if bundle.header.sequence != sequence:
                raise crypto.VerificationError()
        except crypto.VerificationError:
            raise BundleRejected(
                f"bundle {sequence} from the service failed verification (altered, "
                "replayed or signed by another key): nothing was kept"
            ) from None
        last = sequence
        fetched.append((bundle, data))
    cutoff = now - diary.retention_days * 86400
    expired = [b for b, _ in fetched if (b.header.last_hour + 1) * 3600 <= cutoff]
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
        len(fetched) - len(expired),
        sum(len(d) for _, d in fetched),
        new,
        withdrawn,
        warnings,
        dummy,
        len(expired),
    )


def _wanted(diary: Diary, index: dict[int, IndexRow]) -> list[int]:
    """The sequences to download: those listed, and any the index skips among them.

    The service purges its oldest bundles first, so only a run at the start may
    be missing, and only when this device holds no bundle that the missing ones
    would follow: a device that holds its last bundle wants every one after it.
    """
    if not index:
        return []
    last = diary.last_sequence
    first = last + 1 if diary.holds(last) else min(index)
    return list(range(first, max(index) + 1))


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
