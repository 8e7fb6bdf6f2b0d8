"""The bundle index and the immutable, signed bundles, their compact indexes and shards."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..context import state
from ..documents import BundleIndex, bundle_index
from ..errors import ApiError
from ..models import Bundle, IndexFile, ShardFile
from ..openapi import responses, spec
from .common import invalid

bp = Blueprint("bundles", __name__)

IMMUTABLE = "public, max-age=31536000, immutable"
MAX_SEQUENCE = 2**63 - 1
_AFTER = re.compile(r"-1|0|[1-9][0-9]{0,18}")


class AfterQuery(BaseModel):
    after: int | None = Field(None, ge=-1, le=MAX_SEQUENCE)


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
        if not _AFTER.fullmatch(raw) or int(raw) > MAX_SEQUENCE:
            raise invalid("after is a bundle sequence number, -1 or more")
        after = int(raw)
    st = state()
    with st.sessions() as session:
        return bundle_index(session, st.keys.public.key_id, after)


def _precondition(sha256: str) -> int:
    """The status RFC 9110 section 13.2.2 gives a GET of a bundle that exists
    (so whose ETag is ``sha256``): 200, 304 or 412.

    If-Match compares strongly and wins over If-None-Match only when it fails;
    If-None-Match compares weakly; ``*`` matches the bundle. Without a
    Last-Modified date the date conditions are ignored.
    """
    if_match = request.headers.get("If-Match")
    if if_match is not None and not request.if_match.contains(sha256):
        return 412
    if request.headers.get("If-None-Match") is not None and request.if_none_match.contains_weak(
        sha256
    ):
        return 304
    return 200


def _immutable(sha256: str | None, load: Callable[[], bytes], what: str) -> Response:
    """An immutable file's answer: 200 with the bytes, 304 or 412 (RFC 9110), or 404.

    ``sha256`` is its ETag (``None``: there is no such file); ``load`` reads its
    bytes, kept in the process's cache by SHA-256.
    """
    if sha256 is None:
        raise ApiError(404, "not_found", f"no such {what}")
    status = _precondition(sha256)
    if status == 412:
        raise ApiError(412, "precondition_failed", f"the {what} does not match If-Match")
    data = b""
    if status == 200:
        cache = state().bundle_cache
        cached = cache.get(sha256)
        if cached is None:
            cached = load()
            cache.put(sha256, cached)
        data = cached
    response = Response(data, status=status, mimetype="application/octet-stream")
    response.set_etag(sha256)
    response.headers["Cache-Control"] = IMMUTABLE
    if status == 304:
        del response.headers["Content-Type"]
    return response


@bp.get("/bundles/<int:sequence>")
@spec.validate(
    resp=responses(404, 412, 503, HTTP_200=None, HTTP_304=None),
    tags=["public"],
    skip_validation=True,
)
def get_bundle(sequence: int) -> Any:
    """The signed bundle bytes: immutable, revalidated by ETag."""
    if sequence > MAX_SEQUENCE:
        raise ApiError(404, "not_found", "no such bundle")
    st = state()
    with st.sessions() as session:
        sha256 = session.scalar(select(Bundle.sha256).where(Bundle.sequence == sequence))
        return _immutable(
            sha256,
            lambda: session.scalars(select(Bundle.data).where(Bundle.sequence == sequence)).one(),
            "bundle",
        )


@bp.get("/indexes/<int:sequence>")
@spec.validate(
    resp=responses(404, 412, 503, HTTP_200=None, HTTP_304=None),
    tags=["public"],
    skip_validation=True,
)
def get_index(sequence: int) -> Any:
    """The bundle's signed compact index (protocol §18): immutable, revalidated by ETag."""
    if sequence > MAX_SEQUENCE:
        raise ApiError(404, "not_found", "no such index")
    with state().sessions() as session:
        sha256 = session.scalar(select(IndexFile.sha256).where(IndexFile.sequence == sequence))
        return _immutable(
            sha256,
            lambda: session.scalars(
                select(IndexFile.data).where(IndexFile.sequence == sequence)
            ).one(),
            "index",
        )


@bp.get("/shards/<int:sequence>/<int:number>")
@spec.validate(
    resp=responses(404, 412, 503, HTTP_200=None, HTTP_304=None),
    tags=["public"],
    skip_validation=True,
)
def get_shard(sequence: int, number: int) -> Any:
    """Shard ``number`` of the bundle (protocol §18): immutable, revalidated by ETag."""
    if sequence > MAX_SEQUENCE or number >= 2**31:
        raise ApiError(404, "not_found", "no such shard")
    where = (ShardFile.sequence == sequence, ShardFile.number == number)
    with state().sessions() as session:
        sha256 = session.scalar(select(ShardFile.sha256).where(*where))
        return _immutable(
            sha256, lambda: session.scalars(select(ShardFile.data).where(*where)).one(), "shard"
        )
