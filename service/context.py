"""What a request handler reaches of its application: the state and the clock.

The factory (``app.py``) builds the state; the blueprints (``api/``) read it
here, so neither imports the other's module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .keys import ServiceKeys
from .throttle import TokenBucket


class BundleCache:
    """Bundle bytes by SHA-256, least recently used first out.

    Bundles are immutable, so a cached copy is never stale; the database is
    still asked whether the bundle exists, so a purged bundle is not served.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes | None:
        with self._lock:
            data = self._items.get(sha256)
            if data is not None:
                self._items.move_to_end(sha256)
            return data

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > self._max_bytes:
            return
        with self._lock:
            if sha256 in self._items:
                return
            self._items[sha256] = data
            self._bytes += len(data)
            while self._bytes > self._max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


@dataclass(frozen=True)
class State:
    """What one application holds: its settings and what they opened."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: ServiceKeys
    tan_pepper: bytes
    bundle_cache: BundleCache
    #: failed TAN redemptions, for the whole process: no client is told apart
    tan_failures: TokenBucket
    #: consent messages taken in, for the whole process
    consent_intake: TokenBucket


def state() -> State:
    return cast(State, current_app.extensions["placecode"])


def settings() -> Settings:
    return state().settings


def now() -> int:
    """Unix seconds from the application's clock (injectable for tests)."""
    return int(state().settings.clock())
