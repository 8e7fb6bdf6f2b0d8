"""§10 Consent: a warned visitor's contact details sealed to the authority."""

from __future__ import annotations

import nacl.bindings

from placecode.crypto import constants as c

from .common import CONTACT, Context, hexed, sealed_box


def build(ctx: Context) -> None:
    exposed = ctx.shared["visits"][0].slots[0]
    consent_plain = (
        bytes([c.PROTOCOL_VERSION])
        + exposed.tag
        + exposed.hour.to_bytes(4, "big")
        + bytes([exposed.start_minute, exposed.end_minute])
        + len(CONTACT.encode()).to_bytes(2, "big")
        + CONTACT.encode()
    ).ljust(c.CONSENT_PLAINTEXT_BYTES, b"\0")
    ephemeral = ctx.random(32)
    ctx.vectors["consent"] = {
        "tag": hexed(exposed.tag),
        "hour": exposed.hour,
        "start_minute": exposed.start_minute,
        "end_minute": exposed.end_minute,
        "contact": CONTACT,
        "plaintext": hexed(consent_plain),
        "ephemeral_secret": hexed(ephemeral),
        "ephemeral_public": hexed(nacl.bindings.crypto_scalarmult_base(ephemeral)),
        "sealed": hexed(sealed_box(consent_plain, ctx.authority.public.seal_key, ephemeral)),
    }
