"""§8 Bundles: an earlier one that a later one revokes a tag of."""

from __future__ import annotations

import hashlib
from typing import Any

from placecode.crypto import BundleHeader, sign_bundle
from placecode.crypto import constants as c

from .common import (
    BUNDLE_TIME,
    MESSAGES,
    T_1020,
    T_1210,
    T_1400,
    T_1500,
    Context,
    entries_json,
    hexed,
    stay,
)


def build(ctx: Context) -> None:
    authority = ctx.authority
    public = authority.public
    revoked_stay, revoked_visit = stay(ctx.venue, c.KIND_POSTER, T_1400, T_1500)
    revoked_entries = entries_json(revoked_visit, ctx.random, 0)
    early_header = BundleHeader(
        public.key_id, 6, BUNDLE_TIME - 3600, T_1400 // 3600, T_1400 // 3600, MESSAGES
    )
    early_entries = [bytes.fromhex(e["entry"]) for e in revoked_entries]
    early = sign_bundle(early_header, early_entries, authority.signing_key)
    uploads = ctx.shared["uploads"]
    published = [bytes.fromhex(e["entry"]) for _, entries in uploads.values() for e in entries]
    confirmed = [entry for _, _, entry in ctx.shared["confirmed_entries"]]
    revoked_tag = revoked_visit.slots[0].tag
    header = BundleHeader(
        public.key_id,
        7,
        BUNDLE_TIME,
        T_1020 // 3600,
        T_1210 // 3600,
        MESSAGES,
        (revoked_tag,),
    )
    bundle = sign_bundle(header, published, authority.signing_key, confirmed)
    ctx.shared["bundles"] = (early, bundle)
    ctx.vectors["bundles"] = [
        bundle_json(early_header, early, early_entries),
        bundle_json(header, bundle, published, confirmed),
    ]
    ctx.vectors["revoked_stay"] = {**revoked_stay, "entries": revoked_entries}


def bundle_json(
    header: BundleHeader, data: bytes, entries: list[bytes], authority: list[bytes] | None = None
) -> dict[str, Any]:
    head = header.to_bytes()
    ordered = sorted(entries)
    by_authority = sorted(authority or [])
    body = data[: -c.SIGNATURE_BYTES]
    return {
        "key_id": hexed(header.key_id),
        "sequence": header.sequence,
        "created_at": header.created_at,
        "first_hour": header.first_hour,
        "last_hour": header.last_hour,
        "messages": list(header.messages),
        "revoked": [hexed(t) for t in header.revoked],
        "header": hexed(head),
        "authority_entries_in": [hexed(e) for e in authority or []],
        "authority_entries_sorted": [hexed(e) for e in by_authority],
        "authority_count": len(by_authority),
        "entries_in": [hexed(e) for e in entries],
        "entries_sorted": [hexed(e) for e in ordered],
        "count": len(ordered),
        "body_sha256": hexed(hashlib.sha256(body).digest()),
        "signature": hexed(data[-c.SIGNATURE_BYTES :]),
        "bytes": hexed(data),
        "length": len(data),
    }
