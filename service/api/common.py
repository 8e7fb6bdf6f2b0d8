"""What every blueprint shares: strict JSON bodies, staff roles, binary bodies."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from ..context import state
from ..errors import ApiError
from ..models import StaffToken
from ..staff import token_hash

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


class Strict(BaseModel):
    """A request body: unknown fields refused, no coercion of types."""

    model_config = ConfigDict(extra="forbid", strict=True)


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def parse_json(model: type[M]) -> M:
    """The request's JSON body as ``model``; anything else is a 400.

    A key given twice is refused: parsers disagree on which one wins, so a
    body that means two things to two readers is not taken.
    """
    if request.mimetype != "application/json":
        raise invalid("send the body as application/json")
    data = request.get_data(cache=False)
    try:
        json.loads(data, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as e:
        raise invalid(f"the key {str(e)!r} occurs twice") from None
    except ValueError:
        pass  # malformed: pydantic says how, below
    try:
        return model.model_validate_json(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid(f"{where}: {first['msg']}") from None


def binary_body(size: int, code: str, what: str) -> bytes:
    """A fixed-size ``application/octet-stream`` body."""
    if request.mimetype != "application/octet-stream":
        raise ApiError(400, code, f"send {what} as application/octet-stream")
    data = request.get_data(cache=False)
    if len(data) != size:
        raise ApiError(400, code, f"{what} is exactly {size} bytes, not {len(data)}")
    return data


def require_role(role: str) -> Callable[[F], F]:
    """Staff only: a bearer token of ``role`` (or ``admin``)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token or not token.isascii():
                raise ApiError(401, "unauthorized", "send Authorization: Bearer TOKEN")
            wanted = token_hash(token)
            with state().sessions() as session:
                found = session.scalars(
                    select(StaffToken).where(StaffToken.hash == wanted)
                ).one_or_none()
            if found is None or not hmac.compare_digest(found.hash, wanted):
                raise ApiError(401, "unauthorized", "this token is unknown")
            if found.role not in (role, "admin"):
                raise ApiError(403, "forbidden", f"this call needs the {role} role")
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate
