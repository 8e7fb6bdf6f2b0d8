"""§6 Check-in: hour tags, entry keys, verification codes, code ids, and the uploaders' stays."""

from __future__ import annotations

from placecode.crypto import code_id, entry_key, hour_tag, verification_code
from placecode.crypto import constants as c

from .common import T_1020, T_1040, T_1110, T_1130, T_1210, Context, entries_json, hexed, stay


def build(ctx: Context) -> None:
    poster, screen = ctx.shared["poster"], ctx.shared["screen"]
    hours = [T_1020 // 3600 - 1, T_1020 // 3600, T_1020 // 3600 + 1]
    ctx.vectors["check_in"] = {
        "hours": [
            {
                "code_key": hexed(code.code_key),
                "hour": hour,
                "tag": hexed(hour_tag(code.code_key, hour)),
                "entry_key": hexed(entry_key(code.code_key, hour)),
            }
            for code in (poster, screen)
            for hour in hours
        ],
        "verification_codes": [
            {
                "code_key": hexed(screen.code_key),
                "epoch": epoch,
                "code": verification_code(screen.code_key, epoch),
            }
            for epoch in (T_1020 // 30, T_1020 // 30 + 1, T_1110 // 30, 0, 2**32 - 1)
        ],
        "code_id": [
            {"code_key": hexed(code.code_key), "code_id": hexed(code_id(code.code_key))}
            for code in (poster, screen)
        ],
    }


def build_uploader_stays(ctx: Context) -> None:
    """§6 Stays of uploaders and §7 their entries."""
    venue, random = ctx.venue, ctx.random
    screen_step, screen_visit = stay(venue, c.KIND_SCREEN, T_1020, T_1110, rescan_at=T_1110)
    one_step, one_visit = stay(venue, c.KIND_SCREEN, T_1020, T_1210)
    poster_step, poster_visit = stay(venue, c.KIND_POSTER, T_1040, T_1130)
    uploads = {
        "screen_with_exit_proof": (screen_step, entries_json(screen_visit, random, 0)),
        "screen_single_proof": (one_step, entries_json(one_visit, random, 0)),
        "poster": (poster_step, entries_json(poster_visit, random, 0)),
    }
    ctx.shared["uploads"] = uploads
    ctx.vectors["uploader_stays"] = {
        name: {**step, "entries": entries} for name, (step, entries) in uploads.items()
    }
