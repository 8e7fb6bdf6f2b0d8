"""The service's settings: one typed model, read from the environment, with
defaults that need nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from placecode.crypto import Error, checkin_url, rules
from placecode.crypto import constants as c

from .errors import AdminError

#: the message table of the configuration and of every bundle header
DEFAULT_MESSAGES = rules.DEFAULT_MESSAGES

#: environment variable -> setting
ENVIRONMENT = {
    "DATABASE_URL": "database_url",
    "PLACECODE_KEY_DIR": "key_dir",
    "PLACECODE_PUBLIC_URL": "public_url",
    "PLACECODE_WEB_DIR": "web_dir",
    "PLACECODE_RETENTION_DAYS": "retention_days",
    "PLACECODE_MIN_BUNDLE_ENTRIES": "min_bundle_entries",
    "PLACECODE_BUNDLE_DEADLINE_HOURS": "bundle_deadline_hours",
    "PLACECODE_BUILD_INTERVAL_MINUTES": "build_interval_minutes",
    "PLACECODE_TAN_RATE_PER_HOUR": "tan_rate_per_hour",
    "PLACECODE_TAN_FAILURES_PER_HOUR": "tan_failures_per_hour",
    "PLACECODE_CONSENT_PER_HOUR": "consent_per_hour",
    "PLACECODE_CONSENT_MAX_HELD": "consent_max_held",
    "PLACECODE_UPLOAD_FLOOR_MS": "upload_floor_ms",
    "PLACECODE_MIN_OVERLAP_MINUTES": "min_overlap_minutes",
    "PLACECODE_WARN_LEVELS": "warn_levels",
    "PLACECODE_BUNDLE_CACHE_MB": "bundle_cache_mb",
    "PLACECODE_SHARD_MIN_ENTRIES": "shard_min_entries",
    "PLACECODE_SHARD_FETCHES": "shard_fetches",
}


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("placecode"))


def _default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'service.db'}"


def _default_key_dir() -> Path:
    return data_dir() / "authority"


class Settings(BaseModel):
    """Everything the service and its admin commands are told."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    database_url: str = Field(default_factory=_default_database_url, min_length=1)
    key_dir: Path = Field(default_factory=_default_key_dir)
    #: where people reach the service; venue codes open its check-in path
    public_url: str | None = None
    #: the built web client (None: clients/web/dist beside the service's folder)
    web_dir: Path | None = None
    retention_days: int = Field(default=c.RETENTION_DAYS, ge=1)
    #: GAEN's key servers publish no batch below a minimum size
    min_bundle_entries: int = Field(default=200, ge=1)
    bundle_deadline_hours: int = Field(default=6, ge=0)
    build_interval_minutes: int = Field(default=60, ge=0)
    tan_rate_per_hour: int = Field(default=500, ge=1)
    #: wrong TANs the whole service answers in an hour; a tenth of it at once
    tan_failures_per_hour: int = Field(default=600, ge=1)
    #: consent messages the service takes in an hour; a tenth of it at once
    consent_per_hour: int = Field(default=1000, ge=1)
    #: consent messages held at most (about 512 bytes each)
    consent_max_held: int = Field(default=100_000, ge=1)
    #: every upload, real or dummy, is answered no sooner than this
    upload_floor_ms: int = Field(default=50, ge=0)
    min_overlap_minutes: int = Field(default=c.DEFAULT_MIN_OVERLAP_MINUTES, ge=0)
    warn_levels: tuple[int, ...] = (1, 2, 3)
    messages: tuple[str, ...] = Field(
        default=DEFAULT_MESSAGES, min_length=1, max_length=c.MAX_MESSAGES
    )
    #: k: the fewest entries of a shard of a bundle's index (protocol §18, signed in the
    #: configuration so that devices refuse smaller shards)
    shard_min_entries: int = Field(default=c.DEFAULT_SHARD_MIN_ENTRIES, ge=1, le=2**32 - 1)
    #: F: the shards a device fetches of every index, hit or not (protocol §18)
    shard_fetches: int = Field(default=c.DEFAULT_SHARD_FETCHES, ge=0, le=c.MAX_SHARD_FETCHES)
    #: bundle bytes each process keeps in memory
    bundle_cache_mb: int = Field(default=64, ge=0)
    #: the Corona-Warn-App's servers refuse requests above 100 KB
    max_content_length: int = Field(default=100 * 1024, ge=1)
    clock: Callable[[], float] = time.time

    @field_validator("warn_levels", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = tuple(int(x) for x in value.replace(",", " ").split())
            except ValueError:
                raise ValueError("lists evidence levels: 1 2 3") from None
        if not set(value) <= {1, 2, 3}:
            raise ValueError("evidence levels are 1, 2 and 3")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                checkin_url(value)
            except Error as e:
                raise ValueError(str(e)) from None
        return value

    @property
    def burst(self) -> tuple[int, int]:
        """Bucket sizes: (failed TAN redemptions, consent messages)."""
        return max(1, self.tan_failures_per_hour // 10), max(1, self.consent_per_hour // 10)

    @classmethod
    def load(
        cls, environ: Mapping[str, str], overrides: Mapping[str, Any] | Settings | None = None
    ) -> Settings:
        """The environment's settings, then ``overrides`` (by setting name, in upper
        case as in a Flask config, or a whole ``Settings``); checked."""
        if isinstance(overrides, Settings):
            return overrides
        names = {v: k for k, v in ENVIRONMENT.items()}
        values: dict[str, Any] = {
            field: environ[variable]
            for variable, field in ENVIRONMENT.items()
            if variable in environ
        }
        for key, value in (overrides or {}).items():
            if key.lower() in cls.model_fields:
                values[key.lower()] = value
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            first = e.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "settings"
            given = values.get(field)
            raise AdminError(
                f"{names.get(field, field.upper())}: {first['msg'].lower()}, not {given!r}"
            ) from None

    @classmethod
    def of(cls, given: Mapping[str, Any] | Settings) -> Settings:
        """``given`` as settings: a ``Settings``, or upper-case keys over the defaults
        (the environment is not read)."""
        return cls.load({}, given)


def defaults() -> dict[str, Any]:
    """The default settings as a Flask-style mapping (upper-case keys) to override."""
    return {name.upper(): value for name, value in Settings().model_dump().items()}


def normalise_database_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
