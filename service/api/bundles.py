"""The bundle index and the immutable, signed bundles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel
from sqlalchemy import func, select

from ..app import state
from ..errors import ApiError
from ..models import Bundle
from ..openapi import responses, spec
from .common import invalid

bp = Blueprint("bundles", __name__)

IMMUTABLE = "public, max-age=31536000, immutable"


class BundleInfo(BaseModel):
    sequence: int
    url: str
    size: int
    sha256: str
    created_at: int
    first_hour: int
    last_hour: int
    entries: int


class BundleIndex(BaseModel):
    key_id: str
    bundles: list[BundleInfo]


class AfterQuery(BaseModel):
    after: int | None = None


def bundle_url(sequence: int) -> str:
    return f"/v1/bundles/{sequence}"


def index(session: Any, key_id: bytes, after: int | None = None) -> dict[str, Any]:
    """The index document; the export writes the same one."""
    query = select(
        Bundle.sequence,
        Bundle.sha256,
        Bundle.created_at,
        Bundle.first_hour,
        Bundle.last_hour,
        Bundle.entries,
        func.length(Bundle.data).label("size"),
    ).order_by(Bundle.sequence)
    if after is not None:
        query = query.where(Bundle.sequence > after)
    return {
        "key_id": key_id.hex(),
        "bundles": [
            {
                "sequence": row.sequence,
                "url": bundle_url(row.sequence),
                "size": row.size,
                "sha256": row.sha256,
                "created_at": row.created_at,
                "first_hour": row.first_hour,
                "last_hour": row.last_hour,
                "entries": row.entries,
            }
            for row in session.execute(query)
        ],
    }


@bp.get("/bundles")
@spec.validate(
    query=AfterQuery,
    resp=responses(400, 503, HTTP_200=BundleIndex),
    tags=["public"],
    skip_validation=True,
)
def list_bundles() -> Any:
    """Published bundles, ascending by sequence; only those above ``after`` if given."""
    unknown = set(request.args) - {"after"}
    if unknown:
        raise invalid(f"unknown query parameter {sorted(unknown)[0]!r}")
    after = None
    if "after" in request.args:
        raw = request.args["after"]
        if not raw.lstrip("-").isdigit() or not raw.isascii() or not -1 <= int(raw) < 2**63:
            raise invalid("after is a bundle sequence number")
        after = int(raw)
    st = state()
    with st.sessions() as session:
        return index(session, st.keys.public.key_id, after)


@bp.get("/bundles/<int:sequence>")
@spec.validate(
    resp=responses(404, 503, HTTP_200=None, HTTP_304=None), tags=["public"], skip_validation=True
)
def get_bundle(sequence: int) -> Any:
    """The signed bundle bytes: immutable, revalidated by ETag."""
    if sequence >= 2**63:
        raise ApiError(404, "not_found", "no such bundle")
    st = state()
    with st.sessions() as session:
        sha256 = session.scalar(select(Bundle.sha256).where(Bundle.sequence == sequence))
        if sha256 is None:
            raise ApiError(404, "not_found", "no such bundle")
        data = st.bundle_cache.get(sha256)
        if data is None and request.if_none_match.contains(sha256):
            data = b""  # answered 304 below, without reading the bytes
        elif data is None:
            data = session.scalars(select(Bundle.data).where(Bundle.sequence == sequence)).one()
            st.bundle_cache.put(sha256, data)
    response = Response(data, mimetype="application/octet-stream")
    response.set_etag(sha256)
    response.headers["Cache-Control"] = IMMUTABLE
    return response.make_conditional(request)
