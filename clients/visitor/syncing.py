"""Sync: the authority's signed configuration, new bundles, local matching, dummy uploads.

By default a device syncs on the compact index path (protocol §18): for each
new bundle it downloads the signed index, checks its own tags against the
index's filter and fetches exactly ``min(F, shards)`` shards (those where its
tags hit, topped up with decoys), unless more than ``F`` of its shards hit.
``full_bundles`` downloads the whole bundles instead, as does a bundle the
service has not indexed yet.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from placecode import crypto
from placecode.crypto import SHARD_OVERHEAD, Bundle, Error, Index, Shard, UploadRequest
from placecode.crypto import constants as c
from placecode.crypto.rules import random_tan

from ..http import MAX_BUNDLE_BYTES, Client, IndexRow
from .diary import (
    BundleRejected,
    Diary,
    DiaryError,
    RandomBytes,
    ServiceConfig,
    StoredWarning,
)

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
        diary.forget_plans()
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
    #: bundles synced through their index (protocol §18), and the shards fetched of them
    indexed_bundles: int = 0
    shards_fetched: int = 0


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
    full_bundles: bool = False,
) -> SyncResult:
    """Downloads and verifies what is new, matches locally, sends a dummy upload by chance.

    For each new bundle: its compact index and a fixed number of its shards
    (protocol §18), or, with ``full_bundles`` or for a bundle without an
    index, the bundle itself. Everything is verified before anything is kept:
    a tampered or replayed file leaves the diary as it was, and so does a
    download that outlasts ``seconds``. The bundle list is not signed, so it
    only says where to look: a bundle is kept or dropped by its signed header,
    and a sequence the list skips is asked for by number (a list that hides
    one is refused). A ``report`` (a real upload) takes the dummy's place, so
    a report makes the same requests, in the same order, as a sync that sends
    a dummy; its failure is raised, a dummy's ignored.
    """
    deadline = time.monotonic() + seconds
    config, pinned = fetch_config(diary, client, authority_key)
    authority = config.authority
    last = diary.last_sequence
    listed = {b.sequence: b for b in client.bundle_index(last) if b.sequence > last}
    total = sum(
        b.size if full_bundles or b.index is None else b.index.size for b in listed.values()
    )
    tags = diary.tags_to_check(now)
    fetched: list[tuple[Bundle, bytes]] = []
    indexed: list[tuple[Index, bytes, list[tuple[Shard, bytes]]]] = []
    downloaded = 0
    for sequence in _wanted(diary, listed):
        info = listed.get(sequence)
        if info is None:
            raise BundleRejected(
                f"the service's bundle index skips bundle {sequence}, which this device "
                "needs to stay complete: nothing was kept; try again later, and tell your "
                "health authority if this stays"
            )
        if full_bundles or info.index is None:
            bundle, data = _full_bundle(diary, client, info, authority, last, deadline)
            fetched.append((bundle, data))
            downloaded += len(data)
            if progress:
                progress(len(data), total)
        else:
            index, data, shards = _indexed_bundle(diary, client, config, info, tags, last, deadline)
            indexed.append((index, data, shards))
            downloaded += len(data) + sum(len(raw) for _, raw in shards)
            if progress:
                progress(len(data), total)
        last = sequence
    cutoff = now - diary.retention_days * 86400
    expired = [b for b, _ in fetched if (b.header.last_hour + 1) * 3600 <= cutoff]
    expired_indexes = [i for i, _, _ in indexed if (i.header.last_hour + 1) * 3600 <= cutoff]
    diary.add_bundles(fetched)
    for index, data, shards in indexed:
        diary.add_indexed(index, data, shards)
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
        len(fetched) + len(indexed) - len(expired) - len(expired_indexes),
        downloaded,
        new,
        withdrawn,
        warnings,
        dummy,
        len(expired) + len(expired_indexes),
        len(indexed),
        sum(len(shards) for _, _, shards in indexed),
    )


def _rejected(what: str) -> BundleRejected:
    return BundleRejected(
        f"{what} from the service failed verification (altered, replayed or signed by "
        "another key): nothing was kept"
    )


def _full_bundle(
    diary: Diary,
    client: Client,
    info: IndexRow,
    authority: crypto.AuthorityPublicKeys,
    last: int,
    deadline: float,
) -> tuple[Bundle, bytes]:
    sequence = info.sequence
    data = client.bundle(info, deadline=deadline, have=diary.bundle_file(sequence))
    try:
        if hashlib.sha256(data).hexdigest() != info.sha256.lower():
            raise crypto.VerificationError()
        bundle = Bundle.verify(data, authority, after_sequence=last)
        if bundle.header.sequence != sequence:
            raise crypto.VerificationError()
    except crypto.VerificationError:
        raise _rejected(f"bundle {sequence}") from None
    return bundle, data


def _indexed_bundle(
    diary: Diary,
    client: Client,
    config: ServiceConfig,
    info: IndexRow,
    tags: list[bytes],
    last: int,
    deadline: float,
) -> tuple[Index, bytes, list[tuple[Shard, bytes]]]:
    """Protocol §18: the verified index of bundle ``info.sequence`` and the shards to fetch."""
    sequence, row = info.sequence, info.index
    assert row is not None
    authority = config.authority
    data = client.index(sequence, row, deadline=deadline, have=diary.index_file(sequence))
    try:
        if hashlib.sha256(data).hexdigest() != row.sha256.lower():
            raise crypto.VerificationError()
        index = Index.verify(
            data, authority, after_sequence=last, shard_min_entries=config.shard_min_entries
        )
        if index.header.sequence != sequence:
            raise crypto.VerificationError()
    except crypto.VerificationError:
        raise _rejected(f"the index of bundle {sequence}") from None
    plan = _plan(diary, index, tags, config.shard_fetches)
    # a shard holds at most every entry of its bundle, each at most 185 bytes
    most = min(MAX_BUNDLE_BYTES, SHARD_OVERHEAD + index.entry_count * (c.MAX_ENTRY_BYTES + 4))
    shards = []
    for number in plan:
        raw = client.shard(sequence, number, most, deadline=deadline)
        try:
            shards.append((Shard.verify(raw, authority, index, number), raw))
        except crypto.VerificationError:
            raise _rejected(f"shard {number} of bundle {sequence}") from None
    return index, data, shards


def _plan(diary: Diary, index: Index, tags: list[bytes], fetches: int) -> list[int]:
    """The shards to fetch: those fetched of this index before, if it was (``--refetch``),
    with any new hit; else a fresh plan (protocol §18), so that fetching an index again
    never draws new decoys that a CDN could intersect with the old ones."""
    before = diary.fetched_before(index.header.sequence)
    if before is None or any(not 0 <= n < index.shard_count for n in before):
        return index.fetch_plan(tags, fetches, diary.random)
    return list(before) + [n for n in index.hits(tags) if n not in before]


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
    held: list[crypto.Published] = [*diary.bundles(), *diary.indexed()]
    held.sort(key=lambda b: b.header.sequence)
    exposures = crypto.match([s.visit for s in stored_visits], held, config.policy)
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
