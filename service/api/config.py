"""The authority's signed configuration: public keys and policy."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel

from placecode.crypto import constants as c
from placecode.crypto import sign_config
from placecode.crypto.rules import authority_to_json

from ..app import now, state
from ..openapi import responses, spec

bp = Blueprint("config", __name__)


class SignedConfig(BaseModel):
    payload: str
    signature: str


def payload(settings: Any, public: Any, issued_at: int) -> bytes:
    """The configuration document of docs/api.md, as the UTF-8 JSON that is signed."""
    document = {
        "protocol": c.PROTOCOL_VERSION,
        "authority": authority_to_json(public),
        "policy": {
            "warn_levels": sorted(int(level) for level in settings["WARN_LEVELS"]),
            "min_overlap_minutes": int(settings["MIN_OVERLAP_MINUTES"]),
        },
        "retention_days": int(settings["RETENTION_DAYS"]),
        "upload_bytes": c.UPLOAD_BYTES,
        "consent_bytes": c.CONSENT_BYTES,
        "messages": list(settings["MESSAGES"]),
        "public_url": settings.get("PUBLIC_URL"),
        "issued_at": issued_at,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def signed(settings: Any, keys: Any, issued_at: int) -> dict[str, str]:
    data = payload(settings, keys.public, issued_at)
    return {
        "payload": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_config(data, keys.signing_key)).decode(),
    }


@bp.get("/config")
@spec.validate(resp=responses(503, HTTP_200=SignedConfig), tags=["public"], skip_validation=True)
def get_config() -> Any:
    """Authority public keys and policy, signed with the authority's key."""
    response = current_app.json.response(signed(current_app.config, state().keys, now()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
