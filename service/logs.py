"""Logging that records no IP address, user agent or request timing."""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger("placecode.service")

#: no time, no address: a log line says what happened, never when or from where
FORMAT = "%(levelname)s %(name)s: %(message)s"


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, without its access log line (client IP, time, request)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type if type in ("info", "warning", "error") else "info")(message, *args)


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT, force=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
