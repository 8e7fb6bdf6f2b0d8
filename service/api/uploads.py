"""Uploads of a confirmed case's entries with a TAN, and dummy uploads."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint

from placecode.crypto import DecodeError, UploadRequest
from placecode.crypto import constants as c
from placecode.crypto.rules import max_upload_entries

from .. import tans
from ..context import now, state
from ..errors import ApiError
from ..models import Entry
from ..openapi import Accepted, responses, spec
from ..storage import insert_ignoring_duplicates, utc_day
from .common import binary_body

bp = Blueprint("uploads", __name__)


@bp.post("/uploads")
@spec.validate(
    resp=responses(400, 403, 411, 413, 422, 429, 503, HTTP_202=Accepted),
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
        floor = state().settings.upload_floor_ms / 1000
        time.sleep(max(0.0, started + floor - time.monotonic()))


def _parse() -> UploadRequest:
    data = binary_body(c.UPLOAD_BYTES, "malformed_upload", "an upload")
    try:
        request = UploadRequest.from_bytes(data)
    except DecodeError as e:
        raise ApiError(400, "malformed_upload", str(e)) from None
    limit = max_upload_entries(state().settings.retention_days)
    if len(request.entries) > limit:
        raise ApiError(
            422, "invalid_entries", f"{limit} entries are more than the retention period allows"
        )
    return request


def _store(request: UploadRequest) -> None:
    """Redeems the TAN and stores the entries in one transaction.

    A dummy does the same work against a TAN that cannot exist and rolls back,
    so it costs what a real upload costs and leaves nothing behind. While the
    failed-redemption bucket is empty, every upload, real or dummy, is refused
    before its TAN is looked at: the TAN is not redeemed and works later.
    """
    st = state()
    bucket = st.tan_failures
    if not bucket.take():
        raise ApiError(
            429,
            "rate_limited",
            "too many wrong TANs were sent to this service; your TAN is still valid, "
            "try again later",
            {"Retry-After": str(bucket.seconds_to_next())},
        )
    failed = False
    try:
        at = now()
        tan = secrets.token_hex(16) if request.dummy else request.tan
        day = utc_day(at)
        rows = [
            {"sealed": e, "tag": e[: c.TAG_BYTES], "received_day": day}
            for e in sorted(request.entries)
        ]
        with st.sessions() as session:
            redeemed = tans.redeem(session, st.tan_pepper, tan, at)
            if not redeemed and not request.dummy:
                session.rollback()
                failed = True
                raise ApiError(403, "invalid_tan", "this TAN is unknown, used or expired")
            insert_ignoring_duplicates(session, Entry, rows)
            if request.dummy:
                session.rollback()
            else:
                session.commit()
    finally:
        if not failed:
            bucket.give_back()
