"""The public documents the service serves and ``placecode admin export`` writes
alike: the bundle index and the signed configuration."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placecode.crypto import constants as c
from placecode.crypto import sign_config
from placecode.crypto.rules import authority_to_json

from .config import Settings
from .keys import ServiceKeys
from .models import Bundle, IndexFile


class IndexInfo(BaseModel):
    """Where a bundle's compact index is (protocol §18), how big, and its shard count."""

    url: str
    size: int
    sha256: str
    shards: int


class BundleInfo(BaseModel):
    """One row of the bundle index."""

    sequence: int
    url: str
    size: int
    sha256: str
    created_at: int
    first_hour: int
    last_hour: int
    entries: int
    #: the bundle's compact index; null until the bundler has made it
    index: IndexInfo | None


class BundleIndex(BaseModel):
    key_id: str
    bundles: list[BundleInfo]


class SignedConfig(BaseModel):
    payload: str
    signature: str


def bundle_url(sequence: int) -> str:
    return f"/v1/bundles/{sequence}"


def index_url(sequence: int) -> str:
    return f"/v1/indexes/{sequence}"


def shard_url(sequence: int, number: int) -> str:
    return f"/v1/shards/{sequence}/{number}"


def bundle_index(session: Session, key_id: bytes, after: int | None = None) -> dict[str, Any]:
    """The index document, ascending by sequence; only bundles above ``after`` if given."""
    query = select(
        Bundle.sequence,
        Bundle.sha256,
        Bundle.created_at,
        Bundle.first_hour,
        Bundle.last_hour,
        Bundle.entries,
        func.length(Bundle.data).label("size"),
        IndexFile.sha256.label("index_sha256"),
        IndexFile.shards.label("index_shards"),
        func.length(IndexFile.data).label("index_size"),
    )
    query = query.outerjoin(IndexFile, IndexFile.sequence == Bundle.sequence).order_by(
        Bundle.sequence
    )
    if after is not None:
        query = query.where(Bundle.sequence > after)
    rows = [
        BundleInfo(
            sequence=row.sequence,
            url=bundle_url(row.sequence),
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            first_hour=row.first_hour,
            last_hour=row.last_hour,
            entries=row.entries,
            index=None
            if row.index_sha256 is None
            else IndexInfo(
                url=index_url(row.sequence),
                size=row.index_size,
                sha256=row.index_sha256,
                shards=row.index_shards,
            ),
        )
        for row in session.execute(query)
    ]
    return BundleIndex(key_id=key_id.hex(), bundles=rows).model_dump()


def config_payload(settings: Settings, keys: ServiceKeys, issued_at: int) -> bytes:
    """The configuration document of docs/api.md, as the UTF-8 JSON that is signed."""
    public = keys.public
    document = {
        "protocol": c.PROTOCOL_VERSION,
        "authority": authority_to_json(public),
        "policy": {
            "warn_levels": sorted(settings.warn_levels),
            "min_overlap_minutes": settings.min_overlap_minutes,
        },
        "retention_days": settings.retention_days,
        "upload_bytes": c.UPLOAD_BYTES,
        "consent_bytes": c.CONSENT_BYTES,
        "messages": list(settings.messages),
        "index": {
            "shard_min_entries": settings.shard_min_entries,
            "shard_fetches": settings.shard_fetches,
        },
        "public_url": settings.public_url,
        "issued_at": issued_at,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def signed_config(settings: Settings, keys: ServiceKeys, issued_at: int) -> dict[str, str]:
    data = config_payload(settings, keys, issued_at)
    return SignedConfig(
        payload=base64.b64encode(data).decode(),
        signature=base64.b64encode(sign_config(data, keys.signing_key)).decode(),
    ).model_dump()
