"""A token bucket: the service-wide limit on failed TAN redemptions.

Like Let's Encrypt's Boulder, which limits failed validations rather than
requests, only failures cost a token: a case with a valid TAN never spends
one. The bucket is one per process and keyed by nothing, because the service
keeps no IP address: while it is empty, every upload is refused before its TAN
is looked at, so the TAN stays unredeemed and works once tokens are back.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable


class TokenBucket:
    """``capacity`` tokens, refilled at ``per_hour`` a hour, read from ``clock``."""

    def __init__(self, capacity: int, per_hour: int, clock: Callable[[], float]) -> None:
        self._capacity = float(capacity)
        self._rate = per_hour / 3600
        self._clock = clock
        self._tokens = float(capacity)
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        at = self._clock()
        self._tokens = min(self._capacity, self._tokens + max(0.0, at - self._at) * self._rate)
        self._at = at

    def take(self) -> bool:
        """Takes a token if there is one."""
        with self._lock:
            self._refill()
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def give_back(self) -> None:
        """Returns a token taken for an attempt that did not fail."""
        with self._lock:
            self._tokens = min(self._capacity, self._tokens + 1)

    def seconds_to_next(self) -> int:
        """Whole seconds until a token is back (at least 1)."""
        with self._lock:
            self._refill()
            missing = max(0.0, 1 - self._tokens)
            if self._rate == 0:
                return 3600
            return max(1, math.ceil(missing / self._rate))
