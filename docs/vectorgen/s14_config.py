"""§14 Configuration: the signed JSON a device fetches."""

from __future__ import annotations

import json

from placecode.crypto import constants as c
from placecode.crypto import sign_config

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
        "issued_at": BUNDLE_TIME,
    }
    payload = json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()
    ctx.vectors["config"] = {
        "payload": hexed(payload),
        "signed_message": hexed(c.CONFIG_LABEL + payload),
        "signature": hexed(sign_config(payload, ctx.authority.signing_key)),
    }
