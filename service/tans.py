"""TANs: issued to confirmed cases, stored only as keyed hashes, redeemed once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from placecode.crypto import DecodeError
from placecode.crypto.rules import random_tan, tan_digits

from .errors import ApiError
from .models import Tan, TanCount
from .storage import dialect_insert


@dataclass(frozen=True)
class IssuedTan:
    tan: str
    expires_at: int


def normalise(tan: str) -> str:
    """The TAN as hashed: its 12 digits, read as the clients read it (``placecode.crypto.rules``).

    Text that is no TAN stays as it is: it matches no issued TAN.
    """
    try:
        return tan_digits(tan)
    except DecodeError:
        return tan


def tan_hash(pepper: bytes, tan: str) -> bytes:
    """HMAC with a pepper derived from the signing key: a copy of the database alone
    does not let anyone test guesses."""
    return hmac.new(pepper, normalise(tan).encode(), hashlib.sha256).digest()


def generate() -> str:
    return random_tan(secrets.token_bytes)


def expiry(now: int, valid_hours: int) -> int:
    """When a TAN issued at ``now`` expires: ``valid_hours`` later, rounded up to the hour."""
    return -(-(now + valid_hours * 3600) // 3600) * 3600


def issue(
    session: Session,
    pepper: bytes,
    *,
    count: int,
    valid_hours: int,
    now: int,
    rate_per_hour: int,
) -> list[IssuedTan]:
    """Issues ``count`` TANs within the hourly limit; raises 429 past it.

    The service keeps only what the limit needs: this hour's count (earlier
    hours are deleted), and each TAN's expiry rounded up to the hour, so
    neither tells the second a TAN was issued.
    """
    hour = now // 3600
    upsert = dialect_insert(session, TanCount).values(hour=hour, issued=count)
    upsert = upsert.on_conflict_do_update(
        index_elements=[TanCount.hour],
        set_={"issued": TanCount.issued + count},
        where=TanCount.issued + count <= rate_per_hour,
    )
    if count > rate_per_hour or session.execute(upsert.returning(TanCount.hour)).first() is None:
        raise ApiError(429, "rate_limited", f"at most {rate_per_hour} TANs an hour")
    session.execute(delete(TanCount).where(TanCount.hour < hour))
    expires_at = expiry(now, valid_hours)
    issued = [IssuedTan(generate(), expires_at) for _ in range(count)]
    session.add_all(Tan(hash=tan_hash(pepper, t.tan), expires_at=t.expires_at) for t in issued)
    return issued


def redeem(session: Session, pepper: bytes, tan: str, now: int) -> bool:
    """Deletes the TAN if it is known and unexpired: one redemption, ever.

    Run it in the transaction that stores the upload, so a failure anywhere
    rolls the redemption back and the TAN can be used again.
    """
    result = session.execute(
        delete(Tan).where(Tan.hash == tan_hash(pepper, tan), Tan.expires_at > now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
