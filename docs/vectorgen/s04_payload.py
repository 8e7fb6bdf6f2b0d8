"""§4 QR payloads, and the payloads a receiver refuses."""

from __future__ import annotations

from typing import Any

import nacl.bindings

from placecode.crypto import DecodeError, VenueCode
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
    ctx.vectors["url_parsing"] = url_parsing(poster.to_url())


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
    # §2 venue keys that are not canonical encodings of prime-order points
    real_key = poster[34:66]
    for case, key in SMALL_ORDER_KEYS + [
        ("a real key plus a point of order 8 (mixed order)", _mixed(real_key)),
    ]:
        cases.append((f"venue key: {case}", poster[:34] + key + poster[66:]))
    return [
        {
            "case": case,
            "bytes": hexed(data),
            "error": "DecodeError",
            "message": _message(data),
            "asks_update": bool(data) and 2 <= data[0] <= c.MAX_KNOWN_FUTURE_VERSION,
        }
        for case, data in cases
    ]


#: §2 Encodings every receiver refuses as a venue key: small order, non-canonical, off-curve.
SMALL_ORDER_KEYS = [
    ("identity (order 1)", bytes.fromhex("01" + "00" * 31)),
    ("order 2", bytes.fromhex("ec" + "ff" * 30 + "7f")),
    ("order 4, y = 0", bytes(32)),
    ("order 4, y = 0, sign bit set", bytes(31) + b"\x80"),
    (
        "order 8",
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    ),
    (
        "order 8, sign bit set",
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    ),
    (
        "order 8, other point",
        bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    ),
    ("identity, non-canonical y = p + 1", bytes.fromhex("ee" + "ff" * 30 + "7f")),
    ("non-canonical y = p", bytes.fromhex("ed" + "ff" * 30 + "7f")),
    ("not on the curve (y = 2)", bytes.fromhex("02" + "00" * 31)),
]


def _mixed(key: bytes) -> bytes:
    """A valid key plus a small-order point: on the curve, outside the prime-order subgroup."""
    mixed: bytes = nacl.bindings.crypto_core_ed25519_add(key, SMALL_ORDER_KEYS[4][1])
    return mixed


def _message(data: bytes) -> str:
    try:
        VenueCode.from_bytes(data)
    except DecodeError as e:
        return str(e)
    raise AssertionError("a payload error vector decoded")


def url_parsing(poster_url: str) -> list[dict[str, Any]]:
    """§4 Scanned texts and what parsing them gives: the payload, or the refusal's message."""
    fragment = poster_url.partition("#")[2]
    # 83 payload bytes are 664 bits in 133 base32 characters: the last one's
    # lowest bit is unused, and a receiver ignores it
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert len(fragment) * 5 - len(fragment) * 5 // 8 * 8 == 1
    lenient = poster_url[:-1] + alphabet[alphabet.index(poster_url[-1]) | 1]
    assert lenient != poster_url
    cases = [
        ("the printed URL", poster_url),
        ("lower case throughout", poster_url.lower()),
        ("http scheme, other host and path", "http://example.org/x?y#" + fragment),
        ("ASCII white space around it", " \t\r\n" + poster_url + "\x0b\x0c "),
        ("unused bits of the last base32 character set (accepted)", lenient),
        ("no-break space around it (not ASCII white space)", "\u00a0" + poster_url),
        ("non-ASCII letter in the fragment that upper-cases to ASCII", poster_url + "\u00df"),
        ("no fragment", poster_url.partition("#")[0]),
        ("not http(s)", "ftp://x#" + fragment),
        ("padding character in the fragment", poster_url + "="),
        ("fragment of a length base32 cannot have", poster_url + "A"),
    ]
    out = []
    for case, text in cases:
        try:
            code = VenueCode.from_url(text)
            out.append({"case": case, "text": text, "bytes": hexed(code.to_bytes())})
        except DecodeError as e:
            out.append({"case": case, "text": text, "error": "DecodeError", "message": str(e)})
    return out


def _with_name(poster: bytes, at: int, name: bytes) -> bytes:
    return poster[:at] + bytes([len(name)]) + name
