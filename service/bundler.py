"""Building bundles: pending entries, topped up with decoys, sorted, signed, stored.

A bundle is published once at least ``min_entries`` entries wait, or, when
the publication deadline has passed since the last bundle, with whatever
waits topped up to ``min_entries`` by decoys (and at once when a
revocation waits): random bytes in tag groups shaped like the real entries'
(``crypto.decoy_entries``), so that neither a repeated tag nor a length tells
a real entry within a bundle. Entries the authority published itself (venue
traces, ``POST /v1/venue-entries``) go into the bundle's authority section,
uploads and decoys into its public one (protocol §8); the minimum counts the
public section only. Decoys live only in the signed bytes, never in the
entries table.

With each bundle the bundler writes its compact index and shards (protocol
§18), signed by the same key, with a fresh random salt; a bundle published
before the service made indexes gets them at the next build.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from placecode.crypto import (
    Bundle as VerifiedBundle,
)
from placecode.crypto import (
    BundleHeader,
    decoy_entries,
    sign_bundle,
    sign_index,
    tag_groups,
)
from placecode.crypto import constants as c

from .errors import AdminError
from .keys import ServiceKeys
from .models import Bundle, Entry, IndexFile, Publication, Revocation, ShardFile


@dataclass(frozen=True)
class BundlePolicy:
    min_entries: int
    deadline_hours: int
    retention_days: int
    messages: tuple[str, ...]
    #: k of protocol §18: the fewest entries of a shard
    shard_min_entries: int = c.DEFAULT_SHARD_MIN_ENTRIES


@dataclass(frozen=True)
class Built:
    sequence: int
    entries: int
    size: int


def build(
    session: Session,
    keys: ServiceKeys,
    policy: BundlePolicy,
    now: int,
    random: Callable[[int], bytes] = os.urandom,
    *,
    force: bool = False,
) -> Built | None:
    """Publishes the next bundle if one is due; returns it, or ``None``.

    ``force`` publishes whatever waits (topped up with decoys) without waiting
    for the deadline. Runs in the caller's transaction.
    """
    # the publication row serialises builds: a second build waits here, then
    # finds the entries the first one took already published
    last = session.get(Publication, 1, with_for_update=True)
    index_missing(session, keys, policy, random)
    waiting, revoked = pending_counts(session)
    if not waiting and not revoked:
        return None
    deadline_passed = last is None or now - last.created_at >= policy.deadline_hours * 3600
    # a revocation withdraws a warning that may be false: it does not wait
    if waiting < policy.min_entries and not (force or deadline_passed or revoked):
        return None
    # taking the pending rows out and writing them back sorted by tag, below,
    # matters on PostgreSQL: it keeps rows in the order they were written,
    # which for pending entries is arrival order
    taken = session.execute(
        delete(Entry)
        .where(Entry.bundle_sequence.is_(None))
        .returning(Entry.sealed, Entry.tag, Entry.received_day, Entry.authority)
    ).all()
    pending = sorted(row.sealed for row in taken if not row.authority)
    by_authority = sorted(row.sealed for row in taken if row.authority)
    shapes = tag_groups(pending) or tag_groups(
        session.scalars(select(Entry.sealed).where(Entry.authority.is_(False)).limit(1000))
    )
    revoked_tags = list(
        session.scalars(
            select(Revocation.tag).where(Revocation.bundle_sequence.is_(None)).limit(c.MAX_REVOKED)
        )
    )
    sequence = (last.sequence if last is not None else 0) + 1
    if last is None:
        session.add(Publication(id=1, sequence=sequence, created_at=now))
    else:
        last.sequence, last.created_at = sequence, now
    # the minimum batch hides uploads among uploads: the authority's entries do not count
    shortfall = max(0, policy.min_entries - len(pending))
    published = pending + decoy_entries(shortfall, shapes, random)
    header = BundleHeader(
        keys.public.key_id,
        sequence,
        now,
        max(0, now // 3600 - policy.retention_days * 24),
        now // 3600,
        policy.messages,
        tuple(sorted(revoked_tags)),
    )
    data = sign_bundle(header, published, keys.signing_key, by_authority)
    _store_index(session, keys, policy, random, header, published, by_authority)
    session.add(
        Bundle(
            sequence=sequence,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=now,
            first_hour=header.first_hour,
            last_hour=header.last_hour,
            entries=len(published) + len(by_authority),
        )
    )
    if taken:
        session.execute(
            insert(Entry),
            [
                {
                    "sealed": row.sealed,
                    "tag": row.tag,
                    "received_day": row.received_day,
                    "bundle_sequence": sequence,
                    "authority": row.authority,
                }
                for row in sorted(taken, key=lambda row: row.sealed)
            ],
        )
    for start in range(0, len(revoked_tags), 5000):
        session.execute(
            update(Revocation)
            .where(Revocation.tag.in_(revoked_tags[start : start + 5000]))
            .values(bundle_sequence=sequence)
        )
    try:
        session.flush()
    except IntegrityError:
        raise AdminError("another bundle build ran at the same time; try again") from None
    return Built(sequence, len(published) + len(by_authority), len(data))


def _store_index(
    session: Session,
    keys: ServiceKeys,
    policy: BundlePolicy,
    random: Callable[[int], bytes],
    header: BundleHeader,
    public: list[bytes],
    by_authority: list[bytes],
) -> None:
    """Signs and stores the bundle's index and shards (protocol §18), salted afresh."""
    signed = sign_index(
        header,
        public,
        keys.signing_key,
        by_authority,
        salt=random(c.SALT_BYTES),
        shard_min_entries=policy.shard_min_entries,
    )
    session.add(
        IndexFile(
            sequence=header.sequence,
            data=signed.index,
            sha256=hashlib.sha256(signed.index).hexdigest(),
            shards=len(signed.shards),
        )
    )
    session.add_all(
        ShardFile(
            sequence=header.sequence,
            number=number,
            data=shard,
            sha256=hashlib.sha256(shard).hexdigest(),
        )
        for number, shard in enumerate(signed.shards)
    )


def index_missing(
    session: Session,
    keys: ServiceKeys,
    policy: BundlePolicy,
    random: Callable[[int], bytes] = os.urandom,
) -> int:
    """Makes the index and shards of every stored bundle that has none; returns how many.

    Bundles published before the service made indexes (migration 0006) get
    theirs here, from their own verified bytes.
    """
    missing = session.scalars(
        select(Bundle.data)
        .outerjoin(IndexFile, IndexFile.sequence == Bundle.sequence)
        .where(IndexFile.sequence.is_(None))
        .order_by(Bundle.sequence)
    ).all()
    for data in missing:
        bundle = VerifiedBundle.verify(data, keys.public)
        _store_index(
            session,
            keys,
            policy,
            random,
            bundle.header,
            bundle.public_entries(),
            bundle.authority_entries(),
        )
    return len(missing)


def pending_counts(session: Session) -> tuple[int, int]:
    entries = session.scalar(
        select(func.count()).select_from(Entry).where(Entry.bundle_sequence.is_(None))
    )
    revoked = session.scalar(
        select(func.count()).select_from(Revocation).where(Revocation.bundle_sequence.is_(None))
    )
    return int(entries or 0), int(revoked or 0)
