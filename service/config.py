"""Settings from the environment, with defaults that need nothing else."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from placecode.crypto import Error, checkin_url, rules
from placecode.crypto import constants as c

from .errors import ServiceError

#: the message table of the configuration and of every bundle header
DEFAULT_MESSAGES = rules.DEFAULT_MESSAGES

#: environment variable -> (config key, type)
_ENVIRONMENT: dict[str, tuple[str, type]] = {
    "DATABASE_URL": ("DATABASE_URL", str),
    "PLACECODE_KEY_DIR": ("KEY_DIR", str),
    "PLACECODE_PUBLIC_URL": ("PUBLIC_URL", str),
    "PLACECODE_WEB_DIR": ("WEB_DIR", str),
    "PLACECODE_RETENTION_DAYS": ("RETENTION_DAYS", int),
    "PLACECODE_MIN_BUNDLE_ENTRIES": ("MIN_BUNDLE_ENTRIES", int),
    "PLACECODE_BUNDLE_DEADLINE_HOURS": ("BUNDLE_DEADLINE_HOURS", int),
    "PLACECODE_BUILD_INTERVAL_MINUTES": ("BUILD_INTERVAL_MINUTES", int),
    "PLACECODE_TAN_RATE_PER_HOUR": ("TAN_RATE_PER_HOUR", int),
    "PLACECODE_UPLOAD_FLOOR_MS": ("UPLOAD_FLOOR_MS", int),
    "PLACECODE_MIN_OVERLAP_MINUTES": ("MIN_OVERLAP_MINUTES", int),
    "PLACECODE_WARN_LEVELS": ("WARN_LEVELS", str),
    "PLACECODE_BUNDLE_CACHE_MB": ("BUNDLE_CACHE_MB", int),
}


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("placecode"))


def defaults() -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{data_dir() / 'service.db'}",
        "KEY_DIR": str(data_dir() / "authority"),
        # where people reach the service; venue codes open its check-in path
        "PUBLIC_URL": None,
        # the built web client (None: clients/web/dist beside the service's folder)
        "WEB_DIR": None,
        "RETENTION_DAYS": c.RETENTION_DAYS,
        # GAEN's key servers publish no batch below a minimum size
        "MIN_BUNDLE_ENTRIES": 200,
        "BUNDLE_DEADLINE_HOURS": 6,
        "BUILD_INTERVAL_MINUTES": 60,
        "TAN_RATE_PER_HOUR": 500,
        # every upload, real or dummy, is answered no sooner than this
        "UPLOAD_FLOOR_MS": 50,
        "MIN_OVERLAP_MINUTES": c.DEFAULT_MIN_OVERLAP_MINUTES,
        "WARN_LEVELS": (1, 2, 3),
        "MESSAGES": DEFAULT_MESSAGES,
        # bundle bytes each process keeps in memory
        "BUNDLE_CACHE_MB": 64,
        # the Corona-Warn-App's servers refuse requests above 100 KB
        "MAX_CONTENT_LENGTH": 100 * 1024,
        "CLOCK": time.time,
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings: the defaults, overridden by whatever the environment sets."""
    settings = defaults()
    for variable, (key, kind) in _ENVIRONMENT.items():
        if variable not in environ:
            continue
        raw = environ[variable]
        if key == "WARN_LEVELS":
            try:
                settings[key] = tuple(int(x) for x in raw.replace(",", " ").split())
            except ValueError:
                raise ServiceError(f"{variable} lists evidence levels: 1 2 3") from None
            continue
        try:
            settings[key] = kind(raw)
        except ValueError:
            raise ServiceError(f"{variable} must be an integer, not {raw!r}") from None
    return settings


def check(settings: Mapping[str, Any]) -> None:
    """Refuses settings the service cannot run with."""
    positive = ("RETENTION_DAYS", "MIN_BUNDLE_ENTRIES", "TAN_RATE_PER_HOUR")
    for key in positive:
        if int(settings[key]) < 1:
            raise ServiceError(f"{key} must be at least 1")
    for key in (
        "BUNDLE_DEADLINE_HOURS",
        "UPLOAD_FLOOR_MS",
        "MIN_OVERLAP_MINUTES",
        "BUNDLE_CACHE_MB",
    ):
        if int(settings[key]) < 0:
            raise ServiceError(f"{key} must not be negative")
    if not set(settings["WARN_LEVELS"]) <= {1, 2, 3}:
        raise ServiceError("evidence levels are 1, 2 and 3")
    if settings.get("PUBLIC_URL") is not None:
        try:
            checkin_url(settings["PUBLIC_URL"])
        except Error as e:
            raise ServiceError(f"PLACECODE_PUBLIC_URL: {e}") from None
    if not 1 <= len(settings["MESSAGES"]) <= c.MAX_MESSAGES:
        raise ServiceError(f"the message table holds 1 to {c.MAX_MESSAGES} messages")


def normalise_database_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_sqlite_dir(url: str) -> None:
    """The default SQLite file lives in a directory that may not exist yet."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
