"""§7 Exposure entries: one of each level from explicit inputs, and proof coverage."""

from __future__ import annotations

from placecode.crypto import (
    EntryContent,
    EvidenceLevel,
    PresenceProof,
    entry_key,
    hour_tag,
    proof_coverage,
    seal_entry,
)
from placecode.crypto import constants as c

from .common import T_1020, Context, content_json, fake_proofs, hexed


def build(ctx: Context) -> None:
    screen, day_keys = ctx.shared["screen"], ctx.shared["day_keys"]
    proofs = ctx.vectors["presence_proofs"]
    hour = T_1020 // 3600
    tag, key = hour_tag(screen.bound_key, hour), entry_key(screen.bound_key, hour)
    sig = day_keys.sign(c.CONFIRM_LABEL + tag + bytes([30, 60]))
    samples = [
        EntryContent(EvidenceLevel.VENUE_CONFIRMED, 30, 60, 1, sig),
        EntryContent(
            EvidenceLevel.PRESENCE_PROVEN,
            20,
            60,
            0,
            None,
            tuple(PresenceProof(p["epoch"], bytes.fromhex(p["signature"])) for p in proofs),
        ),
        EntryContent(EvidenceLevel.SELF_REPORTED, 20, 60, 0),
    ]
    entries = []
    for content in samples:
        nonce = ctx.random(c.NONCE_BYTES)
        sealed = seal_entry(tag, key, content, nonce)
        entries.append(
            {
                "tag": hexed(tag),
                "key": hexed(key),
                "nonce": hexed(nonce),
                "content": content_json(content),
                "entry": hexed(sealed),
                "length": len(sealed),
            }
        )
    ctx.vectors["entries"] = entries

    e0 = T_1020 // 30
    ctx.vectors["proof_coverage"] = [
        {"epochs": epochs, "minutes": list(proof_coverage(fake_proofs(epochs)))}
        for epochs in ([e0], [e0, e0 + 100], [e0 + 100, e0, e0 + 3], [e0, e0])
    ]
