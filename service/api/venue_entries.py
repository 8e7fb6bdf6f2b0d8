"""Venue-confirmed entries, sealed by the authority from an owner's trace."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, Field

from placecode.crypto import constants as c

from ..context import now, state
from ..models import Entry
from ..openapi import STAFF, responses, spec
from ..storage import insert_ignoring_duplicates, utc_day
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


class VenueEntries(Strict):
    entries: list[Base64Entry] = Field(min_length=1, max_length=c.MAX_UPLOAD_ENTRIES)


class AcceptedCount(BaseModel):
    accepted: int


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
    resp=responses(400, 401, 403, 411, 413, 503, HTTP_201=AcceptedCount),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("publisher")
def submit() -> Any:
    """Entries the next bundle publishes in its authority section."""
    entries = sorted({decode_entry(e) for e in parse_json(VenueEntries).entries})
    day = utc_day(now())
    # the authority's own entries: the only ones a bundle carries in its authority
    # section, where alone a venue-confirmed entry warns (protocol §8)
    rows = [
        {"sealed": e, "tag": e[: c.TAG_BYTES], "received_day": day, "authority": True}
        for e in entries
    ]
    with state().sessions.begin() as session:
        insert_ignoring_duplicates(session, Entry, rows)
    return {"accepted": len(entries)}, 201
