"""§14 Configuration: the signed JSON a device fetches, and the ones it refuses."""

from __future__ import annotations

import json
from typing import Any

from placecode.crypto import DecodeError, VerificationError, read_config, sign_config
from placecode.crypto import constants as c

from .common import BUNDLE_TIME, MESSAGES, Context, b64, hexed


def build(ctx: Context) -> None:
    public = ctx.authority.public
    config = {
        "protocol": 1,
        "authority": {
            "sign_key": b64(public.sign_key),
            "seal_key": b64(public.seal_key),
            "key_id": hexed(public.key_id),
        },
        "policy": {"warn_levels": [1, 2, 3], "min_overlap_minutes": 10},
        "retention_days": c.RETENTION_DAYS,
        "upload_bytes": c.UPLOAD_BYTES,
        "consent_bytes": c.CONSENT_BYTES,
        "messages": list(MESSAGES),
        "index": {"shard_min_entries": c.DEFAULT_SHARD_MIN_ENTRIES, "shard_fetches": 4},
        "issued_at": BUNDLE_TIME,
    }
    payload = _json(config)
    ctx.vectors["config"] = {
        "payload": hexed(payload),
        "signed_message": hexed(c.CONFIG_LABEL + payload),
        "signature": hexed(sign_config(payload, ctx.authority.signing_key)),
    }
    older = {**config, "issued_at": BUNDLE_TIME - 1}
    policy: dict[str, Any] = config["policy"]  # type: ignore[assignment]
    cases: list[tuple[str, dict[str, Any], int | None]] = [
        ("held an hour before: accepted", config, BUNDLE_TIME - 3600),
        ("held at the same time: accepted", config, BUNDLE_TIME),
        ("issued a second before the one held: refused", older, BUNDLE_TIME),
        ("protocol 2: refused, asking for an update", {**config, "protocol": 2}, None),
        ("a warn level of 4: refused", {**config, "policy": {**policy, "warn_levels": [4]}}, None),
        ("issued_at missing: refused", {k: v for k, v in config.items() if k != "issued_at"}, None),
        ("issued_at a string: refused", {**config, "issued_at": str(BUNDLE_TIME)}, None),
    ]
    ctx.vectors["config_reading"] = [_read(ctx, case, doc, held) for case, doc, held in cases]


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _read(ctx: Context, case: str, doc: dict[str, Any], held: int | None) -> dict[str, Any]:
    payload = _json(doc)
    signature = sign_config(payload, ctx.authority.signing_key)
    out: dict[str, Any] = {
        "case": case,
        "payload": hexed(payload),
        "signature": hexed(signature),
        "held_issued_at": held,
    }
    try:
        read = read_config(payload, signature, ctx.authority.public, held_issued_at=held)
    except DecodeError as e:
        return {**out, "error": "DecodeError", "message": str(e)}
    except VerificationError:
        return {**out, "error": "VerificationError"}
    return {**out, "issued_at": read.issued_at}
