"""The OpenAPI document, generated from the routes and their pydantic models.

SpecTree describes the routes; the service parses request bodies itself
(``api.common.parse_json``), strictly, so that malformed JSON is refused
rather than read as an empty object.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from spectree import Response, SpecTree
from spectree.models import SecureType, SecurityScheme, SecuritySchemeData

spec = SpecTree(
    "flask",
    mode="strict",
    annotations=False,
    title="placecode exposure service",
    version="1",
    description="The contract is docs/api.md; this document is generated from the code.",
    security_schemes=[
        SecurityScheme(
            name="staff", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
)

STAFF: dict[str, list[str]] = {"staff": []}


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorBody


class Accepted(BaseModel):
    status: str


def responses(*codes: int, **models: Any) -> Response:
    """A SpecTree response table: models by status, plus error statuses."""
    table: dict[str, Any] = {f"HTTP_{code}": ErrorResponse for code in codes}
    table.update(models)
    return Response(**table)


#: (path, method) -> media type of a binary request body
BINARY_BODIES = {
    ("/v1/uploads", "post"): "exactly 65,536 bytes: a crypto.UploadRequest",
    ("/v1/consent", "post"): "exactly 512 bytes: a sealed crypto.ConsentMessage",
}


def document() -> dict[str, Any]:
    """The OpenAPI document, with the binary bodies SpecTree cannot describe."""
    doc: dict[str, Any] = copy.deepcopy(spec.spec)
    for (path, method), description in BINARY_BODIES.items():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation["requestBody"] = {
                "required": True,
                "description": description,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
    return doc
