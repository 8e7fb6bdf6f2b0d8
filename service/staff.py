"""Staff roles and how their API tokens are stored."""

from __future__ import annotations

import hashlib

ROLES = ("tan-issuer", "publisher", "inbox", "admin")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(b"placecode/1 staff-token" + token.encode()).digest()
