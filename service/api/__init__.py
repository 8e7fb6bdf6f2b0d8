"""One blueprint per resource, all under ``/v1`` but health, the OpenAPI document and the
web client."""

from __future__ import annotations

from flask import Flask

from .. import web
from . import bundles, config, consent, health, revocations, tans, uploads, venue_entries


def register(app: Flask) -> None:
    for module in (config, uploads, consent, bundles, tans, venue_entries, revocations):
        app.register_blueprint(module.bp, url_prefix="/v1")
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
