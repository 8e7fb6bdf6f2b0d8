"""§3 Venue keys: the venue secret and the code keys of posters and screen days."""

from __future__ import annotations

from placecode.crypto import Category, Venue
from placecode.crypto import constants as c

from .common import DAY, VENUE_NAME, VENUE_STAY, Context, hexed


def build(ctx: Context) -> None:
    venue = Venue(ctx.random(32), VENUE_NAME, Category.CAFE, VENUE_STAY)
    ctx.shared["venue"] = venue
    codes = []
    for kind, number in (
        (c.KIND_POSTER, 0),
        (c.KIND_POSTER, 1),
        (c.KIND_SCREEN, DAY - 1),
        (c.KIND_SCREEN, DAY),
    ):
        keys = venue.code_keys(kind, number)
        codes.append(
            {
                "kind": kind,
                "number": number,
                "code_key": hexed(keys.code_key),
                "signing_seed": hexed(keys.signing_seed),
                "public_key": hexed(keys.public_key),
                "bound_key": hexed(keys.bound_key),
                "code_id": hexed(keys.code_id),
            }
        )
    ctx.vectors["venue"] = {
        "secret": hexed(venue.secret),
        "name": venue.name,
        "name_utf8": hexed(venue.name.encode()),
        "category": int(venue.category),
        "stay_minutes": venue.stay_minutes,
        "codes": codes,
    }
