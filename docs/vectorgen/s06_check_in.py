"""§6 Check-in: bound keys, hour tags, entry keys, verification numbers, code ids, refusals,
and the uploaders' stays."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from placecode.crypto import (
    CodeError,
    VenueCode,
    bound_key,
    check_in,
    code_id,
    entry_key,
    hour_tag,
    verification_code,
)
from placecode.crypto import constants as c

from .common import (
    T_1020,
    T_1040,
    T_1110,
    T_1130,
    T_1210,
    Context,
    entries_json,
    hexed,
    stay,
)


def build(ctx: Context) -> None:
    poster, screen = ctx.shared["poster"], ctx.shared["screen"]
    hours = [T_1020 // 3600 - 1, T_1020 // 3600, T_1020 // 3600 + 1]
    foreign = ctx.venue.code_keys(c.KIND_POSTER, 7).public_key
    downgraded = replace(screen, kind=c.KIND_POSTER, proof=None)
    sticker = replace(poster, venue_public_key=foreign)
    bindings = [
        ("poster", poster),
        ("screen", screen),
        ("screen code re-encoded as a poster", downgraded),
        ("poster's code key under a foreign public key", sticker),
    ]
    later = ctx.venue.screen(T_1020 + 60)
    ctx.vectors["check_in"] = {
        "bound_keys": [
            {
                "case": case,
                "code_key": hexed(code.code_key),
                "kind": code.kind,
                "venue_public_key": hexed(code.venue_public_key),
                "info": hexed(c.BIND_LABEL + bytes([code.kind]) + code.venue_public_key),
                "bound_key": hexed(bound_key(code.code_key, code.kind, code.venue_public_key)),
                "hour": hours[1],
                "tag": hexed(hour_tag(code.bound_key, hours[1])),
            }
            for case, code in bindings
        ],
        "hours": [
            {
                "bound_key": hexed(code.bound_key),
                "hour": hour,
                "tag": hexed(hour_tag(code.bound_key, hour)),
                "entry_key": hexed(entry_key(code.bound_key, hour)),
            }
            for code in (poster, screen)
            for hour in hours
        ],
        "verification_codes": [
            {
                "bound_key": hexed(code.bound_key),
                "epoch": code.proof.epoch,
                "signature": hexed(code.proof.signature),
                "code": verification_code(code.bound_key, code.proof),
            }
            for code in (screen, ctx.venue.screen(T_1020 + 30), later, ctx.venue.screen(T_1110))
        ],
        "code_id": [
            {"bound_key": hexed(code.bound_key), "code_id": hexed(code_id(code.bound_key))}
            for code in (poster, screen)
        ],
        "shown_numbers": shown_numbers(screen),
        "refusals": refusals(ctx, poster, screen, downgraded, sticker),
    }


def shown_numbers(screen: VenueCode) -> list[dict[str, Any]]:
    """§6 What a device checked in at ``screen`` shows: its proof's number while fresh."""
    assert screen.proof is not None
    state = check_in(screen, T_1020)
    started = screen.proof.epoch * c.EPOCH_SECONDS
    return [
        {"code_url": screen.to_url(), "checked_in_at": T_1020, "now": now, "shows": shown}
        for now in (T_1020, started + c.MAX_CODE_AGE_SECONDS, started + c.MAX_CODE_AGE_SECONDS + 1)
        for shown in [state.verification_code(now)]
    ]


def refusals(
    ctx: Context, poster: VenueCode, screen: VenueCode, downgraded: VenueCode, sticker: VenueCode
) -> list[dict[str, Any]]:
    """§6 Check-ins and rescans a device refuses, with the CodeError's message."""
    other_day = ctx.venue.screen(T_1020 - 86400)
    forged = replace(screen, proof=replace(screen.proof, signature=bytes(c.SIGNATURE_BYTES)))
    assert screen.proof is not None
    epoch = screen.proof.epoch
    future = ctx.venue.code_keys(c.KIND_SCREEN, T_1020 // 86400).presence_proof(epoch + 2)
    cases: list[tuple[str, str | None, VenueCode, int]] = [
        ("screen code dated 60 s ahead", None, replace(screen, proof=future), T_1020),
        ("screen code 91 s old", None, screen, epoch * c.EPOCH_SECONDS + 91),
        ("screen code with a forged proof", None, forged, T_1020),
        ("rescan with another code", screen.to_url(), other_day, T_1020 + 60),
        (
            "rescan of a screen with its code re-encoded as a poster",
            screen.to_url(),
            downgraded,
            T_1020 + 60,
        ),
        ("rescan of a poster with a foreign public key", poster.to_url(), sticker, T_1020 + 60),
    ]
    out = []
    for case, checked_in_with, code, at in cases:
        try:
            if checked_in_with is None:
                check_in(code, at)
            else:
                check_in(VenueCode.from_url(checked_in_with), T_1020).rescan(code, at)
        except CodeError as e:
            out.append(
                {
                    "case": case,
                    "checked_in_with": checked_in_with,
                    "code_url": code.to_url(),
                    "at": at,
                    "error": "CodeError",
                    "message": str(e),
                }
            )
            continue
        raise AssertionError(f"{case}: accepted")
    return out


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
