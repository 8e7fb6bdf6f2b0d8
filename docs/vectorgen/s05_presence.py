"""§5 Presence proofs of the screen's day key."""

from __future__ import annotations

from typing import Any

from placecode.crypto import constants as c

from .common import DAY, T_1020, T_1110, Context, hexed


def build(ctx: Context) -> None:
    day_keys = ctx.venue.code_keys(c.KIND_SCREEN, DAY)
    ctx.shared["day_keys"] = day_keys
    proofs: list[dict[str, Any]] = []
    for at in (T_1020, T_1110):
        epoch = at // c.EPOCH_SECONDS
        proof = day_keys.presence_proof(epoch)
        proofs.append(
            {
                "day": DAY,
                "epoch": epoch,
                "message": hexed(c.PRESENCE_LABEL + day_keys.code_id + epoch.to_bytes(4, "big")),
                "signature": hexed(proof.signature),
            }
        )
    ctx.vectors["presence_proofs"] = proofs
