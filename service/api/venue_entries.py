"""Venue-confirmed entries, sealed by the authority from an owner's trace.

Each entry comes with a digest of the confirmed slot it was sealed from. The
entries themselves cannot tell a second publication of the same trace: every
sealing draws a fresh nonce. The digests can: a slot is published once, and a
publication of slots that were all published already is refused (409).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, Field

from placecode.crypto import constants as c

from ..context import now, state
from ..errors import ApiError
from ..models import Entry, PublishedSlot
from ..openapi import STAFF, responses, spec
from ..storage import dialect_insert, insert_ignoring_duplicates, utc_day
from .common import Strict, invalid, parse_json, require_role

bp = Blueprint("venue_entries", __name__)


#: an entry in standard base64: 48 to 185 bytes are 64 to 248 characters
Base64Entry = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        min_length=4 * -(-c.MIN_ENTRY_BYTES // 3),
        max_length=4 * -(-c.MAX_ENTRY_BYTES // 3),
    ),
]


#: SHA-256 of a confirmed slot, in lowercase hex (clients/authority.py ``slot_digest``)
HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", min_length=64, max_length=64)]


class VenueEntries(Strict):
    entries: list[Base64Entry] = Field(min_length=1, max_length=c.MAX_UPLOAD_ENTRIES)
    #: ``slots[i]`` is the digest of the slot ``entries[i]`` was sealed from
    slots: list[HexDigest] = Field(min_length=1, max_length=c.MAX_UPLOAD_ENTRIES)


class AcceptedCount(BaseModel):
    accepted: int
    already_published: int


def decode_entry(text: str) -> bytes:
    try:
        entry = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("an entry is not standard base64") from None
    if not c.MIN_ENTRY_BYTES <= len(entry) <= c.MAX_ENTRY_BYTES:
        raise invalid(f"an entry is {c.MIN_ENTRY_BYTES} to {c.MAX_ENTRY_BYTES} bytes")
    return entry


@bp.post("/venue-entries")
@spec.validate(
    json=VenueEntries,
    resp=responses(400, 401, 403, 409, 411, 413, 503, HTTP_201=AcceptedCount),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("publisher")
def submit() -> Any:
    """Entries the next bundle publishes in its authority section; a slot is published once."""
    body = parse_json(VenueEntries)
    if len(body.slots) != len(body.entries):
        raise invalid("send one slot digest per entry: slots[i] is the slot of entries[i]")
    by_slot: dict[bytes, bytes] = {}
    for slot, text in zip(body.slots, body.entries, strict=True):
        by_slot.setdefault(bytes.fromhex(slot), decode_entry(text))
    day = utc_day(now())
    with state().sessions.begin() as session:
        # the slots not published before: inserting them is what claims them, so
        # of two publications of one slot at once exactly one gets it
        claimed = session.scalars(
            dialect_insert(session, PublishedSlot)
            .values(
                [
                    {"digest": d, "tag": e[: c.TAG_BYTES], "published_day": day}
                    for d, e in sorted(by_slot.items())
                ]
            )
            .on_conflict_do_nothing()
            .returning(PublishedSlot.digest)
        ).all()
        if not claimed:
            raise ApiError(
                409,
                "already_published",
                "every slot of this publication was published already: to publish them "
                "again (another message, say), revoke their tags first",
            )
        # the authority's own entries: the only ones a bundle carries in its authority
        # section, where alone a venue-confirmed entry warns (protocol §8)
        rows = [
            {"sealed": e, "tag": e[: c.TAG_BYTES], "received_day": day, "authority": True}
            for e in sorted(by_slot[d] for d in claimed)
        ]
        insert_ignoring_duplicates(session, Entry, rows)
    return {"accepted": len(claimed), "already_published": len(by_slot) - len(claimed)}, 201
