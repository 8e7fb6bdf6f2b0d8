"""§9 Authority keys."""

from __future__ import annotations

from placecode.crypto import AuthorityKeys

from .common import Context, hexed


def build(ctx: Context) -> None:
    authority = AuthorityKeys(ctx.random(32), ctx.random(32))
    ctx.shared["authority"] = authority
    public = authority.public
    ctx.vectors["authority"] = {
        "sign_seed": hexed(authority.sign_seed),
        "seal_secret": hexed(authority.seal_secret),
        "sign_key": hexed(public.sign_key),
        "seal_key": hexed(public.seal_key),
        "key_id": hexed(public.key_id),
    }
