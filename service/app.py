"""The application factory."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import HTTPException

from . import api
from .config import Settings
from .context import BundleCache, State
from .db import make_engine
from .errors import ApiError
from .keys import load_keys
from .throttle import TokenBucket

log = logging.getLogger("placecode.service")

#: werkzeug's exception names -> the codes of docs/api.md
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "too_large",
    415: "invalid_request",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> ResponseReturnValue:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    if status == 413:
        # the body was not read: the connection cannot carry another request
        response.headers["Connection"] = "close"
    return response


def _register_errors(app: Flask, settings: Settings) -> None:
    @app.errorhandler(ApiError)
    def _api_error(e: ApiError) -> ResponseReturnValue:
        return error_response(e.status, e.code, e.message, e.headers)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> ResponseReturnValue:
        status = e.code or 500
        code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
        if status == 413:
            message = f"the request body is larger than {settings.max_content_length} bytes"
        else:
            message = e.name.lower()
        original = e.get_response().headers
        kept = {h: original[h] for h in ("Allow", "Retry-After") if h in original}
        return error_response(status, code, message, kept)

    @app.errorhandler(SQLAlchemyError)
    def _database_error(e: SQLAlchemyError) -> ResponseReturnValue:
        if isinstance(e, OperationalError | InterfaceError | PoolTimeout):
            log.warning("database unavailable: %s", type(e).__name__)
            return error_response(
                503, "database_unavailable", "the database is unavailable; nothing was stored"
            )
        log.error("database error: %s", type(e).__name__)
        return error_response(500, "internal_error", "internal error; nothing was stored")

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> ResponseReturnValue:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "internal error")


def _check_framing(limit: int) -> None:
    """Every body is declared by Content-Length and within the limit, before
    authentication and content checks: a chunked body has no length to check
    up front, so it is refused rather than read."""
    if "Transfer-Encoding" in request.headers:
        raise ApiError(411, "length_required", "send the body with a Content-Length, not chunked")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", f"the request body is larger than {limit} bytes")


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """The service: settings from the environment, overridden by ``config``."""
    settings = Settings.load(os.environ, config)
    app = Flask(__name__)
    app.config.update({name.upper(): value for name, value in settings.model_dump().items()})

    keys = load_keys(settings.key_dir)
    engine = make_engine(settings.database_url)
    pepper = hashlib.sha256(b"placecode/1 tan-pepper" + keys.sign_seed).digest()
    tan_burst, consent_burst = settings.burst
    app.extensions["placecode"] = State(
        settings,
        engine,
        sessionmaker(engine, expire_on_commit=False),
        keys,
        pepper,
        BundleCache(settings.bundle_cache_mb * 2**20),
        TokenBucket(tan_burst, settings.tan_failures_per_hour, settings.clock),
        TokenBucket(consent_burst, settings.consent_per_hour, settings.clock),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]

    _register_errors(app, settings)
    app.before_request(lambda: _check_framing(settings.max_content_length))
    api.register(app)
    return app
