"""TAN issuing for authority staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from pydantic import BaseModel, Field

from .. import tans
from ..context import now, state
from ..openapi import STAFF, responses, spec
from .common import Strict, parse_json, require_role

bp = Blueprint("tans", __name__)


class TanRequest(Strict):
    count: int = Field(1, ge=1, le=100)
    valid_hours: int = Field(72, ge=1, le=168)


class IssuedTan(BaseModel):
    tan: str
    expires_at: int


class IssuedTans(BaseModel):
    tans: list[IssuedTan]


@bp.post("/tans")
@spec.validate(
    json=TanRequest,
    resp=responses(400, 401, 403, 411, 413, 429, 503, HTTP_201=IssuedTans),
    tags=["staff"],
    security=STAFF,
    skip_validation=True,
)
@require_role("tan-issuer")
def issue() -> Any:
    """One-time TANs, shown once; the service keeps only their keyed hashes."""
    wanted = TanRequest.model_validate({}) if not request.content_length else parse_json(TanRequest)
    st = state()
    with st.sessions.begin() as session:
        issued = tans.issue(
            session,
            st.tan_pepper,
            count=wanted.count,
            valid_hours=wanted.valid_hours,
            now=now(),
            rate_per_hour=st.settings.tan_rate_per_hour,
        )
    response = current_app.json.response(
        {"tans": [{"tan": t.tan, "expires_at": t.expires_at} for t in issued]}
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
