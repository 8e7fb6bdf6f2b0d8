"""The web client's static files, served from the API's own origin.

The page at ``/`` and at the check-in path (``/C``, protocol §4) is the same
``index.html``: a venue code opens it with its payload in the URL fragment,
which the browser never sends, so the service learns nothing of the venue.
"""

from __future__ import annotations

import mimetypes
import re
import shutil
from pathlib import Path

from flask import Blueprint, Response, request

from placecode.crypto import constants as c

from . import context
from .config import Settings
from .errors import ApiError

bp = Blueprint("web", __name__)
mimetypes.add_type("application/manifest+json", ".webmanifest")

#: where ``make install`` builds the web client (clients/web, by esbuild)
DEFAULT_WEB_DIR = Path(__file__).resolve().parent.parent / "clients" / "web" / "dist"
INDEX = "index.html"
#: file names the web client consists of: no folders, nothing hidden
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
#: the client loads nothing from elsewhere and talks only to this origin
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # revalidated every time, so a new release reaches the service worker at once
    "Cache-Control": "no-cache",
}


def web_dir(settings: Settings) -> Path:
    return settings.web_dir or DEFAULT_WEB_DIR


def _send(name: str) -> Response:
    directory = web_dir(context.settings())
    if not _FILE_NAME.match(name) or not (directory / name).is_file():
        if name == INDEX:
            raise ApiError(404, "not_found", "the web client is not built here: run `make install`")
        raise ApiError(404, "not_found", "not found")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    response = Response((directory / name).read_bytes(), content_type=kind)
    response.headers.update(SECURITY_HEADERS)
    response.add_etag()
    response.make_conditional(request)
    return response


@bp.get("/")
@bp.get(c.CHECKIN_PATH)
def index() -> Response:
    return _send(INDEX)


@bp.get("/<name>")
def static_file(name: str) -> Response:
    return _send(name)


def export(settings: Settings, directory: Path) -> int:
    """Copies the web client into ``directory``, with ``index.html`` also as the
    check-in path's file; returns the number of files written."""
    source = web_dir(settings)
    if not (source / INDEX).is_file():
        raise FileNotFoundError(source / INDEX)
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.iterdir()):
        if path.is_file() and _FILE_NAME.match(path.name):
            shutil.copyfile(path, directory / path.name)
            count += 1
    shutil.copyfile(source / INDEX, directory / c.CHECKIN_PATH.lstrip("/"))
    return count + 1
