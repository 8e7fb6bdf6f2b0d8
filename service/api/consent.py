"""Sealed consent messages: anyone may post one; only the inbox role reads them."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy import delete, select

from placecode.crypto import constants as c

from ..app import now, state
from ..errors import ApiError
from ..models import ConsentMessage
from ..openapi import STAFF, Accepted, responses, spec
from ..storage import utc_day
from .common import binary_body, require_role

bp = Blueprint("consent", __name__)


class InboxMessage(BaseModel):
    id: int
    received_day: str
    sealed: str


class Inbox(BaseModel):
    messages: list[InboxMessage]


@bp.post("/consent")
@spec.validate(
    resp=responses(400, 413, 503, HTTP_202=Accepted), tags=["public"], skip_validation=True
)
def post_consent() -> Any:
    """A warned person's contact details, sealed to the authority."""
    sealed = binary_body(c.CONSENT_BYTES, "malformed_consent", "a consent message")
    with state().sessions.begin() as session:
        session.add(ConsentMessage(received_day=utc_day(now()), sealed=sealed))
    return {"status": "accepted"}, 202


@bp.get("/consent")
@spec.validate(
    resp=responses(401, 403, 503, HTTP_200=Inbox),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("inbox")
def read_inbox() -> Any:
    """Every sealed message held; the authority opens them offline."""
    with state().sessions() as session:
        messages = session.scalars(select(ConsentMessage).order_by(ConsentMessage.id))
        return {
            "messages": [
                {
                    "id": m.id,
                    "received_day": m.received_day.isoformat(),
                    "sealed": base64.b64encode(m.sealed).decode(),
                }
                for m in messages
            ]
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
    if message_id >= 2**31:
        raise ApiError(404, "not_found", "no such message")
    with state().sessions.begin() as session:
        deleted = session.execute(delete(ConsentMessage).where(ConsentMessage.id == message_id))
        if deleted.rowcount != 1:  # type: ignore[attr-defined]
            raise ApiError(404, "not_found", "no such message")
    return "", 204
