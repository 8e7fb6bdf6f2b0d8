"""§4 QR payloads, and the payloads a receiver refuses."""

from __future__ import annotations

from typing import Any

from placecode.crypto import constants as c

from .common import T_1020, Context, hexed


def build(ctx: Context) -> None:
    poster = ctx.venue.poster(0)
    screen = ctx.venue.screen(T_1020)
    ctx.shared["poster"] = poster
    ctx.shared["screen"] = screen
    ctx.vectors["payloads"] = [
        {
            "kind": code.kind,
            "at": at,
            "code_key": hexed(code.code_key),
            "venue_public_key": hexed(code.venue_public_key),
            "name": code.name,
            "category": code.category,
            "stay_minutes": code.stay_minutes,
            "proof": None
            if code.proof is None
            else {"epoch": code.proof.epoch, "signature": hexed(code.proof.signature)},
            "bytes": hexed(code.to_bytes()),
            "length": len(code.to_bytes()),
            "url": code.to_url(),
        }
        for code, at in ((poster, None), (screen, T_1020))
    ]
    ctx.vectors["payload_errors"] = payload_errors(poster.to_bytes())


def payload_errors(poster: bytes) -> list[dict[str, Any]]:
    """Payloads a receiver refuses, and the error it raises (§4)."""
    name_len_at = 1 + 1 + 32 + 32 + 1 + 2
    cases = [
        ("empty payload", b""),
        ("version 0: not a placecode", b"\x00" + poster[1:]),
        ("unknown version 2: the message asks to update", b"\x02" + poster[1:]),
        ("unknown version 15: the message asks to update", b"\x0f" + poster[1:]),
        ("version 16: not a placecode", b"\x10" + poster[1:]),
        ("unknown kind 3", poster[:1] + b"\x03" + poster[2:]),
        ("one trailing byte", poster + b"\x00"),
        ("truncated by one byte", poster[:-1]),
        ("stay of 0 minutes", poster[: name_len_at - 2] + b"\x00\x00" + poster[name_len_at:]),
        ("stay of 721 minutes", poster[: name_len_at - 2] + b"\x02\xd1" + poster[name_len_at:]),
        ("name longer than 40 bytes", _with_name(poster, name_len_at, b"x" * 41)),
        ("name not UTF-8", _with_name(poster, name_len_at, b"\xff")),
    ]
    return [
        {
            "case": case,
            "bytes": hexed(data),
            "error": "DecodeError",
            "asks_update": bool(data) and 2 <= data[0] <= c.MAX_KNOWN_FUTURE_VERSION,
        }
        for case, data in cases
    ]


def _with_name(poster: bytes, at: int, name: bytes) -> bytes:
    return poster[:at] + bytes([len(name)]) + name
