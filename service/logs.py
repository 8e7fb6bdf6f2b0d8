"""Logging that records no IP address, user agent or request timing."""

from __future__ import annotations

import logging
import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger("placecode.service")

#: no time, no address: a log line says what happened, never when or from where
FORMAT = "%(levelname)s %(name)s: %(message)s"


class NoAddress(logging.Filter):
    """Takes the client address out of the lines gunicorn writes about a
    malformed request ("Invalid request from ip=ADDRESS: ..."), keeping the rest."""

    _FROM = re.compile(r"Invalid request from ip=\S*?: ")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._FROM.sub("Invalid request: ", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, without its access log line (client IP, time, request)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type if type in ("info", "warning", "error") else "info")(message, *args)


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT, force=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
