"""Sealed consent messages: anyone may post one; only the inbox role reads them.

The service cannot tell junk from sealed contact details, so it bounds what a
flood costs: a service-wide intake rate (a token bucket, keyed by nothing) and
a cap on the messages held. A genuine message refused by either keeps its
place on the device, which sends it again later; the messages held before a
flood stay first in the inbox, which is read a page at a time, oldest first.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from flask import Blueprint, request
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select

from placecode.crypto import constants as c

from ..context import now, state
from ..errors import ApiError
from ..models import ConsentMessage
from ..openapi import STAFF, Accepted, responses, spec
from ..storage import utc_day
from .common import binary_body, invalid, require_role

bp = Blueprint("consent", __name__)

#: messages in one page of the inbox, by default and at most
PAGE = 100
MAX_PAGE = 1000
MAX_ID = 2**31 - 1
_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}")


class InboxMessage(BaseModel):
    id: int
    received_day: str
    sealed: str


class Inbox(BaseModel):
    messages: list[InboxMessage]
    #: the ``after`` of the next page, or null on the last page
    next_after: int | None


class InboxQuery(BaseModel):
    after: int = Field(0, ge=0, le=MAX_ID)
    limit: int = Field(PAGE, ge=1, le=MAX_PAGE)


@bp.post("/consent")
@spec.validate(
    resp=responses(400, 411, 413, 429, 503, HTTP_202=Accepted),
    tags=["public"],
    skip_validation=True,
)
def post_consent() -> Any:
    """A warned person's contact details, sealed to the authority."""
    sealed = binary_body(c.CONSENT_BYTES, "malformed_consent", "a consent message")
    st = state()
    if not st.consent_intake.take():
        raise ApiError(
            429,
            "rate_limited",
            "the service takes in few messages a minute at the moment; send it again later",
            {"Retry-After": str(st.consent_intake.seconds_to_next())},
        )
    with st.sessions.begin() as session:
        held = session.scalar(select(func.count()).select_from(ConsentMessage)) or 0
        if held >= st.settings.consent_max_held:
            raise ApiError(
                429,
                "rate_limited",
                "the inbox is full until the authority reads it; send it again later",
                {"Retry-After": "3600"},
            )
        session.add(ConsentMessage(received_day=utc_day(now()), sealed=sealed))
    return {"status": "accepted"}, 202


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise invalid(f"{name} is an integer from {low} to {high}")
    return int(raw)


@bp.get("/consent")
@spec.validate(
    query=InboxQuery,
    resp=responses(400, 401, 403, 503, HTTP_200=Inbox),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("inbox")
def read_inbox() -> Any:
    """The sealed messages held, oldest first, a page after the id ``after``;
    the authority opens them offline."""
    unknown = set(request.args) - {"after", "limit"}
    if unknown:
        raise invalid(f"unknown query parameter {sorted(unknown)[0]!r}")
    after = _number("after", 0, 0, MAX_ID)
    limit = _number("limit", PAGE, 1, MAX_PAGE)
    with state().sessions() as session:
        page = list(
            session.scalars(
                select(ConsentMessage)
                .where(ConsentMessage.id > after)
                .order_by(ConsentMessage.id)
                .limit(limit + 1)
            )
        )
    more = len(page) > limit
    page = page[:limit]
    return {
        "messages": [
            {
                "id": m.id,
                "received_day": m.received_day.isoformat(),
                "sealed": base64.b64encode(m.sealed).decode(),
            }
            for m in page
        ],
        "next_after": page[-1].id if more else None,
    }


@bp.delete("/consent/<int:message_id>")
@spec.validate(
    resp=responses(401, 403, 404, 503, HTTP_204=None),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("inbox")
def delete_message(message_id: int) -> Any:
    """Deletes a message once the authority has it."""
    if message_id > MAX_ID:
        raise ApiError(404, "not_found", "no such message")
    with state().sessions.begin() as session:
        deleted = session.execute(delete(ConsentMessage).where(ConsentMessage.id == message_id))
        if deleted.rowcount != 1:  # type: ignore[attr-defined]
            raise ApiError(404, "not_found", "no such message")
    return "", 204
