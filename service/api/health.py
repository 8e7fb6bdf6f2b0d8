"""Liveness with a database check, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy import text

from ..context import state
from ..openapi import document, responses, spec

bp = Blueprint("health", __name__)


class Health(BaseModel):
    status: str


@bp.get("/healthz")
@spec.validate(resp=responses(503, HTTP_200=Health), tags=["public"], skip_validation=True)
def healthz() -> dict[str, str]:
    """Whether the service and its database answer."""
    with state().engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    return document()
