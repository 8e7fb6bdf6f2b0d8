"""Uploads of a confirmed case's entries with a TAN, and dummy uploads."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, current_app

from placecode.crypto import DecodeError, UploadRequest
from placecode.crypto import constants as c
from placecode.crypto.rules import max_upload_entries

from .. import tans
from ..app import now, state
from ..errors import ApiError
from ..models import Entry
from ..openapi import Accepted, responses, spec
from ..storage import insert_ignoring_duplicates, utc_day
from .common import binary_body

bp = Blueprint("uploads", __name__)


@bp.post("/uploads")
@spec.validate(
    resp=responses(400, 403, 413, 422, 503, HTTP_202=Accepted),
    tags=["public"],
    skip_validation=True,
)
def upload() -> Any:
    """A real or dummy upload: both answered 202 alike, dummies discarded."""
    started = time.monotonic()
    try:
        _store(_parse())
        return {"status": "accepted"}, 202
    finally:
        floor = current_app.config["UPLOAD_FLOOR_MS"] / 1000
        time.sleep(max(0.0, started + floor - time.monotonic()))


def _parse() -> UploadRequest:
    data = binary_body(c.UPLOAD_BYTES, "malformed_upload", "an upload")
    try:
        request = UploadRequest.from_bytes(data)
    except DecodeError as e:
        raise ApiError(400, "malformed_upload", str(e)) from None
    limit = max_upload_entries(current_app.config["RETENTION_DAYS"])
    if len(request.entries) > limit:
        raise ApiError(
            422, "invalid_entries", f"{limit} entries are more than the retention period allows"
        )
    return request


def _store(request: UploadRequest) -> None:
    """Redeems the TAN and stores the entries in one transaction.

    A dummy does the same work against a TAN that cannot exist and rolls back,
    so it costs what a real upload costs and leaves nothing behind.
    """
    st = state()
    at = now()
    tan = secrets.token_hex(16) if request.dummy else request.tan
    day = utc_day(at)
    rows = [
        {"sealed": e, "tag": e[: c.TAG_BYTES], "received_day": day} for e in sorted(request.entries)
    ]
    with st.sessions() as session:
        redeemed = tans.redeem(session, st.tan_pepper, tan, at)
        if not redeemed and not request.dummy:
            session.rollback()
            raise ApiError(403, "invalid_tan", "this TAN is unknown, used or expired")
        insert_ignoring_duplicates(session, Entry, rows)
        if request.dummy:
            session.rollback()
        else:
            session.commit()
