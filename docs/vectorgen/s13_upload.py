"""§13 Uploads: the uploaders' entries with a TAN, and a dummy upload."""

from __future__ import annotations

from placecode.crypto import UploadRequest
from placecode.crypto import constants as c

from .common import TAN, Context, upload_json


def build(ctx: Context) -> None:
    uploads = ctx.shared["uploads"]
    ctx.vectors["uploads"] = [
        upload_json(UploadRequest(TAN, tuple(bytes.fromhex(e["entry"]) for e in entries)))
        for _, entries in uploads.values()
    ] + [upload_json(UploadRequest("DUMMY", (ctx.random(c.MIN_ENTRY_BYTES),), dummy=True))]
