"""Revoking published entries by tag."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, Field
from sqlalchemy import delete

from placecode.crypto import constants as c

from ..context import now, state
from ..models import Entry, PublishedSlot, Revocation
from ..openapi import STAFF, responses, spec
from ..storage import insert_ignoring_duplicates, utc_day
from .common import Strict, parse_json, require_role

bp = Blueprint("revocations", __name__)

#: a tag: lowercase hex, as docs/api.md writes it
TAG_HEX = rf"^[0-9a-f]{{{2 * c.TAG_BYTES}}}$"


class RevocationRequest(Strict):
    tags: list[Annotated[str, Field(pattern=TAG_HEX)]] = Field(
        min_length=1, max_length=c.MAX_REVOKED
    )


class Revoked(BaseModel):
    revoked: int


@bp.post("/revocations")
@spec.validate(
    json=RevocationRequest,
    resp=responses(400, 401, 403, 411, 413, 503, HTTP_200=Revoked),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("publisher")
def revoke() -> Any:
    """Deletes the entries of these tags; the next bundle's header revokes them.

    The service forgets that it published their slots, so they can be published
    again."""
    tags = sorted({bytes.fromhex(t) for t in parse_json(RevocationRequest).tags})
    day = utc_day(now())
    revoked = 0
    with state().sessions.begin() as session:
        for start in range(0, len(tags), 5000):
            chunk = tags[start : start + 5000]
            result = session.execute(delete(Entry).where(Entry.tag.in_(chunk)))
            revoked += result.rowcount  # type: ignore[attr-defined]
            # a revoked slot may be published again (with another message, say)
            session.execute(delete(PublishedSlot).where(PublishedSlot.tag.in_(chunk)))
        insert_ignoring_duplicates(
            session, Revocation, [{"tag": t, "revoked_day": day} for t in tags]
        )
    return {"revoked": revoked}
