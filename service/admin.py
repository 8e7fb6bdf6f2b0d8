"""The administrator's verbs, called by ``placecode admin``: no printing, no exiting."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import config as settings_
from . import web
from .api.bundles import index
from .api.common import ROLES, token_hash
from .api.config import signed
from .bundler import Built, BundlePolicy, build, pending_counts
from .db import erase_sqlite_log, make_engine, upgrade
from .errors import ServiceError
from .keys import init_keys, load_keys, write_public_file
from .models import Bundle, ConsentMessage, Entry, Revocation, StaffToken, Tan, TanCount
from .storage import utc_day


def settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Settings from the environment, then ``overrides``; checked."""
    result = settings_.from_environment(os.environ)
    result.update(overrides or {})
    settings_.check(result)
    return result


def _now(settings: Mapping[str, Any]) -> int:
    return int(settings.get("CLOCK", time.time)())


@contextmanager
def _session(settings: Mapping[str, Any]) -> Iterator[Session]:
    engine = make_engine(settings["DATABASE_URL"])
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
        erase_sqlite_log(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Initialised:
    keys_written: bool
    key_dir: Path
    #: the authority's key id, which venue owners and visitors check
    key_id: str
    #: the public keys file for venue owners (``placecode venue confirm --authority``)
    public_file: Path


def init(settings: Mapping[str, Any]) -> Initialised:
    """Migrates the schema to the newest version; writes authority keys if none."""
    key_dir = Path(settings["KEY_DIR"])
    written = init_keys(key_dir)
    public = load_keys(key_dir).public
    public_file = write_public_file(key_dir, public)
    engine = make_engine(settings["DATABASE_URL"])
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return Initialised(written, key_dir, public.key_id.hex(), public_file)


def create_token(settings: Mapping[str, Any], role: str, label: str = "") -> str:
    """A new staff token of ``role``; only its hash is stored, so show it now."""
    if role not in ROLES:
        raise ServiceError(f"a role is one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    with _session(settings) as session, session.begin():
        session.add(StaffToken(hash=token_hash(token), role=role, label=label[:100]))
    return token


def bundle_policy(settings: Mapping[str, Any]) -> BundlePolicy:
    return BundlePolicy(
        min_entries=int(settings["MIN_BUNDLE_ENTRIES"]),
        deadline_hours=int(settings["BUNDLE_DEADLINE_HOURS"]),
        retention_days=int(settings["RETENTION_DAYS"]),
        messages=tuple(settings["MESSAGES"]),
    )


def build_bundles(settings: Mapping[str, Any], *, force: bool = False) -> Built | None:
    """Publishes the next bundle if one is due (or, with ``force``, whatever waits)."""
    keys = load_keys(Path(settings["KEY_DIR"]))
    with _session(settings) as session, session.begin():
        return build(session, keys, bundle_policy(settings), _now(settings), force=force)


def _write(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def export(settings: Mapping[str, Any], directory: Path) -> int:
    """Writes ``v1/bundles/SEQ``, ``v1/bundles/index.json`` and ``v1/config`` under
    ``directory``, byte-identical to what the service serves, and the web client's files
    when it is built (``web_client_built``); returns the bundle count.

    Bundle files no longer in the index (purged) are removed.
    """
    keys = load_keys(Path(settings["KEY_DIR"]))
    bundles_dir = directory / "v1" / "bundles"
    bundles_dir.mkdir(parents=True, exist_ok=True)
    with _session(settings) as session:
        document = index(session, keys.public.key_id)
        kept = set()
        for info in document["bundles"]:
            name = str(info["sequence"])
            kept.add(name)
            if not (bundles_dir / name).exists():
                data = session.scalars(
                    select(Bundle.data).where(Bundle.sequence == info["sequence"])
                ).one()
                _write(bundles_dir / name, data)
    for stale in bundles_dir.iterdir():
        if stale.name.isdigit() and stale.name not in kept:
            stale.unlink()
    _write(bundles_dir / "index.json", json.dumps(document).encode())
    _write(directory / "v1" / "config", json.dumps(signed(settings, keys, _now(settings))).encode())
    if web_client_built(settings):
        web.export(settings, directory)
    return len(kept)


def web_client_built(settings: Mapping[str, Any]) -> bool:
    return (web.web_dir(settings) / web.INDEX).is_file()


def purge(settings: Mapping[str, Any]) -> dict[str, int]:
    """Deletes everything past retention; returns how many rows of each kind.

    Retention counts whole UTC days, the finest time kept of an arrival: on day
    D the service keeps what arrived on days D - RETENTION_DAYS to D.
    """
    now = _now(settings)
    days = int(settings["RETENTION_DAYS"])
    first_day = utc_day(now) - dt.timedelta(days=days)
    statements = {
        "entries": delete(Entry).where(Entry.received_day < first_day),
        "bundles": delete(Bundle).where(Bundle.created_at < (now // 86400 - days) * 86400),
        "revocations": delete(Revocation).where(Revocation.revoked_day < first_day),
        "consent_messages": delete(ConsentMessage).where(ConsentMessage.received_day < first_day),
        "tans": delete(Tan).where(Tan.expires_at <= now),
        "tan_counts": delete(TanCount).where(TanCount.hour < now // 3600 - 24),
    }
    with _session(settings) as session, session.begin():
        return {
            name: int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
            for name, statement in statements.items()
        }


def stats(settings: Mapping[str, Any]) -> dict[str, int]:
    """Counts: what waits, what is published, what is held."""

    def count(session: Session, model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    with _session(settings) as session:
        pending, revocations = pending_counts(session)
        return {
            "entries_pending": pending,
            "entries_published": count(session, Entry, Entry.bundle_sequence.is_not(None)),
            "revocations_pending": revocations,
            "bundles": count(session, Bundle),
            "latest_sequence": int(session.scalar(select(func.max(Bundle.sequence))) or 0),
            "consent_messages": count(session, ConsentMessage),
            "tans_outstanding": count(session, Tan, Tan.expires_at > _now(settings)),
            "staff_tokens": count(session, StaffToken),
        }
