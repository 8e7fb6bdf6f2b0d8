"""§11 Venue confirmation of 10:30-11:15 under poster 0 and the screen's day codes."""

from __future__ import annotations

from placecode.crypto import confirm_window
from placecode.crypto import constants as c

from .common import T_1030, T_1115, Context, hexed, sealed_box


def build(ctx: Context) -> None:
    confirmed = confirm_window(ctx.venue, T_1030, T_1115)
    confirmed_entries = []
    for slot in confirmed:
        nonce = ctx.random(c.NONCE_BYTES)
        confirmed_entries.append((slot, nonce, slot.seal(1, nonce)))
    ctx.shared["confirmed_entries"] = confirmed_entries
    trace_plain = bytes([c.PROTOCOL_VERSION]) + b"".join(s.to_bytes() for s in confirmed)
    trace_ephemeral = ctx.random(32)
    ctx.vectors["venue_confirmation"] = {
        "start": T_1030,
        "end": T_1115,
        "posters": [0],
        "screen": True,
        "slots": [
            {
                "tag": hexed(s.tag),
                "key": hexed(s.key),
                "hour": s.hour,
                "start_minute": s.start_minute,
                "end_minute": s.end_minute,
                "signature": hexed(s.signature),
                "bytes": hexed(s.to_bytes()),
                "message_id": 1,
                "nonce": hexed(nonce),
                "entry": hexed(entry),
            }
            for s, nonce, entry in confirmed_entries
        ],
        "trace_plaintext": hexed(trace_plain),
        "trace_ephemeral_secret": hexed(trace_ephemeral),
        "trace_sealed": hexed(
            sealed_box(trace_plain, ctx.authority.public.seal_key, trace_ephemeral)
        ),
    }
    # §11 traces open_trace refuses with VerificationError, sealed like the one above
    refused = [
        ("no slot", bytes([c.PROTOCOL_VERSION])),
        ("empty plaintext", b""),
        ("version 2", bytes([2]) + trace_plain[1:]),
        ("half a slot", trace_plain[: 1 + c.CONFIRMED_SLOT_BYTES // 2]),
    ]
    ctx.vectors["trace_errors"] = [
        {
            "case": case,
            "plaintext": hexed(plain),
            "sealed": hexed(sealed_box(plain, ctx.authority.public.seal_key, trace_ephemeral)),
            "error": "VerificationError",
        }
        for case, plain in refused
    ]
