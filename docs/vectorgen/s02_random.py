"""§2 The deterministic randomness every other section draws from."""

from __future__ import annotations

from .common import DRBG_SEED, Context, Drbg, hexed


def build(ctx: Context) -> None:
    probe = Drbg()
    ctx.vectors["random"] = {
        "construction": (
            "random(n) returns the first n bytes of SHA-256(seed || u32 k) || "
            "SHA-256(seed || u32 k+1) || ..., with k a counter that starts at 0 and "
            "advances by one per 32-byte block used; every call starts on a fresh "
            "block and drops the unused tail. Every input below drawn from it is "
            "also given in hex, so no implementation needs it."
        ),
        "seed": hexed(DRBG_SEED),
        "first_outputs": [hexed(probe(32)), hexed(probe(12)), hexed(probe(40))],
    }
