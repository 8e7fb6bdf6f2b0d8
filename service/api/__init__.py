"""One blueprint per resource, all under ``/v1`` but health, the OpenAPI document and the
web client."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from .. import web
from . import bundles, config, consent, health, revocations, tans, uploads, venue_entries


class AsciiInteger(IntegerConverter):
    """``<int:...>`` in paths: ASCII digits without leading zeros, so that one
    resource has one URL, as in a static export (werkzeug's own takes ``１``
    and ``01`` for 1)."""

    regex = r"(?:0|[1-9][0-9]*)"


def register(app: Flask) -> None:
    app.url_map.converters["int"] = AsciiInteger
    for module in (config, uploads, consent, bundles, tans, venue_entries, revocations):
        app.register_blueprint(module.bp, url_prefix="/v1")
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
