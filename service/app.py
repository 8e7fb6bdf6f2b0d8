"""The application factory."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import config as settings_
from .db import make_engine
from .errors import ApiError
from .keys import ServiceKeys, load_keys

log = logging.getLogger("placecode.service")

#: werkzeug's exception names -> the codes of docs/api.md
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "invalid_request",
    429: "rate_limited",
}


@dataclass(frozen=True)
class State:
    """What one application holds besides its configuration."""

    engine: Engine
    sessions: sessionmaker[Session]
    keys: ServiceKeys
    tan_pepper: bytes
    bundle_cache: BundleCache


class BundleCache:
    """Bundle bytes by SHA-256, least recently used first out.

    Bundles are immutable, so a cached copy is never stale; the database is
    still asked whether the bundle exists, so a purged bundle is not served.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes | None:
        with self._lock:
            data = self._items.get(sha256)
            if data is not None:
                self._items.move_to_end(sha256)
            return data

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > self._max_bytes:
            return
        with self._lock:
            if sha256 in self._items:
                return
            self._items[sha256] = data
            self._bytes += len(data)
            while self._bytes > self._max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


def state() -> State:
    return cast(State, current_app.extensions["placecode"])


def now() -> int:
    """Unix seconds from the application's clock (injectable for tests)."""
    return int(current_app.config["CLOCK"]())


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    return jsonify({"error": {"code": code, "message": message}}), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(e: ApiError) -> ResponseReturnValue:
        return error_response(e.status, e.code, e.message)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> ResponseReturnValue:
        status = e.code or 500
        code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
        message = "the request body is larger than 100 KiB" if status == 413 else e.name.lower()
        body = jsonify({"error": {"code": code, "message": message}})
        body.status_code = status
        for header in ("Allow", "Retry-After"):
            if header in e.get_response().headers:
                body.headers[header] = e.get_response().headers[header]
        return body

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


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The service: settings from the environment, overridden by ``config``."""
    app = Flask(__name__)
    app.config.update(settings_.from_environment(os.environ))
    if config:
        app.config.update(config)
    settings_.check(app.config)

    keys = load_keys(Path(app.config["KEY_DIR"]))
    engine = make_engine(app.config["DATABASE_URL"])
    pepper = hashlib.sha256(b"placecode/1 tan-pepper" + keys.sign_seed).digest()
    app.extensions["placecode"] = State(
        engine,
        sessionmaker(engine, expire_on_commit=False),
        keys,
        pepper,
        BundleCache(int(app.config["BUNDLE_CACHE_MB"]) * 2**20),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]

    _register_errors(app)

    @app.before_request
    def _refuse_large_bodies() -> None:
        # before authentication and content checks, so every oversized body is a 413
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()

    from .api import register

    register(app)
    return app
