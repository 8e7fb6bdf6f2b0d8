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


#: path parameter -> its bounds: ASCII digits, no leading zero (``api.AsciiInteger``)
PATH_IDS = {"sequence": 2**63 - 1, "message_id": 2**31 - 1}


def document() -> dict[str, Any]:
    """The OpenAPI document, with the binary bodies SpecTree cannot describe, and
    only the error answers the service sends (SpecTree adds a 422 to every route
    it validates; here it validates nothing, the routes parse for themselves)."""
    doc: dict[str, Any] = copy.deepcopy(spec.spec)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            unanswered = operation.get("responses", {}).get("422", {})
            if "ValidationError" in str(unanswered):
                del operation["responses"]["422"]
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in PATH_IDS:
                    parameter["schema"] = {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": PATH_IDS[parameter["name"]],
                    }
    schemas = doc.get("components", {}).get("schemas", {})
    for name in [n for n in schemas if n.startswith("ValidationError")]:
        del schemas[name]
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
