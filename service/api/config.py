"""The authority's signed configuration: public keys and policy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from ..context import now, state
from ..documents import SignedConfig, signed_config
from ..openapi import responses, spec

bp = Blueprint("config", __name__)


@bp.get("/config")
@spec.validate(resp=responses(HTTP_200=SignedConfig), tags=["public"], skip_validation=True)
def get_config() -> Any:
    """Authority public keys and policy, signed with the authority's key."""
    st = state()
    response = current_app.json.response(signed_config(st.settings, st.keys, now()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
