"""The administrator's verbs, called by ``placecode admin``: no printing, no exiting."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from . import web
from .bundler import Built, BundlePolicy, build, pending_counts
from .config import Settings
from .db import describe, erase_sqlite_log, explain, make_engine, schema_is_current, upgrade
from .documents import bundle_index, signed_config
from .errors import AdminError
from .keys import init_keys, load_keys, write_public_file
from .models import (
    Bundle,
    ConsentMessage,
    Entry,
    IndexFile,
    PublishedSlot,
    Revocation,
    ShardFile,
    StaffToken,
    Tan,
    TanCount,
)
from .staff import ROLES, token_hash
from .storage import utc_day

#: what the verbs take: settings, or a mapping of upper-case keys over the defaults
Given = Settings | Mapping[str, Any]


def settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the environment, then ``overrides``; checked."""
    return Settings.load(os.environ, overrides)


def _now(settings: Settings) -> int:
    return int(settings.clock())


@contextmanager
def _database(settings: Settings, *, schema: bool = True) -> Iterator[Engine]:
    """An engine on the settings' database; connection failures become one-line
    errors that say what to do. With ``schema``, the schema must be current."""
    engine = make_engine(settings.database_url)
    where = describe(settings.database_url)
    try:
        if schema and not schema_is_current(engine):
            raise AdminError(
                f"the database {where} has no current placecode schema: run `placecode admin init`"
            )
        yield engine
    except (OperationalError, InterfaceError, ProgrammingError) as e:
        raise AdminError(explain(settings.database_url, e)) from None
    finally:
        engine.dispose()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with _database(settings) as engine:
        with Session(engine, expire_on_commit=False) as session:
            yield session
        erase_sqlite_log(engine)


def check(given: Given) -> None:
    """Raises unless the database answers and carries the current schema."""
    with _database(Settings.of(given)):
        pass


@dataclass(frozen=True)
class Initialised:
    keys_written: bool
    key_dir: Path
    #: the authority's key id, which venue owners and visitors check
    key_id: str
    #: the public keys file for venue owners (``placecode venue confirm --authority``)
    public_file: Path


def init(given: Given) -> Initialised:
    """Migrates the schema to the newest version; writes authority keys if none."""
    settings = Settings.of(given)
    with _database(settings, schema=False) as engine:
        upgrade(engine)
    written = init_keys(settings.key_dir)
    public = load_keys(settings.key_dir).public
    public_file = write_public_file(settings.key_dir, public)
    return Initialised(written, settings.key_dir, public.key_id.hex(), public_file)


def create_token(given: Given, role: str, label: str = "") -> str:
    """A new staff token of ``role``; only its hash is stored, so show it now."""
    if role not in ROLES:
        raise AdminError(f"a role is one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    with _session(Settings.of(given)) as session, session.begin():
        session.add(StaffToken(hash=token_hash(token), role=role, label=label[:100]))
    return token


def bundle_policy(settings: Settings) -> BundlePolicy:
    return BundlePolicy(
        min_entries=settings.min_bundle_entries,
        deadline_hours=settings.bundle_deadline_hours,
        retention_days=settings.retention_days,
        messages=settings.messages,
        shard_min_entries=settings.shard_min_entries,
    )


def build_bundles(given: Given, *, force: bool = False) -> Built | None:
    """Publishes the next bundle if one is due (or, with ``force``, whatever waits)."""
    settings = Settings.of(given)
    keys = load_keys(settings.key_dir)
    with _session(settings) as session, session.begin():
        return build(session, keys, bundle_policy(settings), _now(settings), force=force)


def _write(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def export(given: Given, directory: Path) -> int:
    """Writes ``v1/bundles/SEQ``, ``v1/bundles/index.json``, each bundle's compact index
    ``v1/indexes/SEQ`` and shards ``v1/shards/SEQ/N`` (protocol §18) and ``v1/config``
    under ``directory``, byte-identical to what the service serves, and the web client's
    files when it is built (``web_client_built``); returns the bundle count.

    Bundle, index and shard files no longer in the index (purged) are removed.
    """
    settings = Settings.of(given)
    keys = load_keys(settings.key_dir)
    bundles_dir = directory / "v1" / "bundles"
    bundles_dir.mkdir(parents=True, exist_ok=True)
    with _session(settings) as session:
        document = bundle_index(session, keys.public.key_id)
        kept = set()
        for info in document["bundles"]:
            name = str(info["sequence"])
            kept.add(name)
            if not (bundles_dir / name).exists():
                data = session.scalars(
                    select(Bundle.data).where(Bundle.sequence == info["sequence"])
                ).one()
                _write(bundles_dir / name, data)
        indexed = _export_indexes(session, directory / "v1")
    for stale in bundles_dir.iterdir():
        if stale.name.isdigit() and stale.name not in kept:
            stale.unlink()
    _remove_stale(directory / "v1", indexed)
    _write(bundles_dir / "index.json", json.dumps(document).encode())
    config = signed_config(settings, keys, _now(settings))
    _write(directory / "v1" / "config", json.dumps(config).encode())
    if web_client_built(settings):
        web.export(settings, directory)
    return len(kept)


def _export_indexes(session: Session, v1: Path) -> set[str]:
    """Writes every index and its shards that are not yet there; returns their sequences."""
    indexes_dir, shards_dir = v1 / "indexes", v1 / "shards"
    indexes_dir.mkdir(parents=True, exist_ok=True)
    shards_dir.mkdir(parents=True, exist_ok=True)
    kept = set()
    for sequence, count in session.execute(select(IndexFile.sequence, IndexFile.shards)):
        name = str(sequence)
        kept.add(name)
        if not (indexes_dir / name).exists():
            index = session.scalars(select(IndexFile.data).where(IndexFile.sequence == sequence))
            _write(indexes_dir / name, index.one())
        folder = shards_dir / name
        folder.mkdir(exist_ok=True)
        if len([p for p in folder.iterdir() if p.name.isdigit()]) == count:
            continue
        rows = session.execute(
            select(ShardFile.number, ShardFile.data).where(ShardFile.sequence == sequence)
        )
        for number, shard in rows:
            _write(folder / str(number), shard)
    return kept


def _remove_stale(v1: Path, kept: set[str]) -> None:
    for stale in (v1 / "indexes").iterdir():
        if stale.name.isdigit() and stale.name not in kept:
            stale.unlink()
    for folder in (v1 / "shards").iterdir():
        if folder.name.isdigit() and folder.name not in kept:
            for shard in folder.iterdir():
                shard.unlink()
            folder.rmdir()


def web_client_built(given: Given) -> bool:
    return (web.web_dir(Settings.of(given)) / web.INDEX).is_file()


def purge(given: Given) -> dict[str, int]:
    """Deletes everything past retention; returns how many rows of each kind.

    Retention counts whole UTC days, the finest time kept of an arrival: on day
    D the service keeps what arrived on days D - RETENTION_DAYS to D.
    """
    settings = Settings.of(given)
    now = _now(settings)
    days = settings.retention_days
    first_day = utc_day(now) - dt.timedelta(days=days)
    statements = {
        "entries": delete(Entry).where(Entry.received_day < first_day),
        "published_slots": delete(PublishedSlot).where(PublishedSlot.published_day < first_day),
        "bundles": delete(Bundle).where(Bundle.created_at < (now // 86400 - days) * 86400),
        # after the bundles: an index or shard goes with its bundle
        "bundle_indexes": delete(IndexFile).where(
            IndexFile.sequence.not_in(select(Bundle.sequence))
        ),
        "shards": delete(ShardFile).where(ShardFile.sequence.not_in(select(Bundle.sequence))),
        "revocations": delete(Revocation).where(Revocation.revoked_day < first_day),
        "consent_messages": delete(ConsentMessage).where(ConsentMessage.received_day < first_day),
        "tans": delete(Tan).where(Tan.expires_at <= now),
        "tan_counts": delete(TanCount).where(TanCount.hour < now // 3600),
    }
    with _session(settings) as session, session.begin():
        return {
            name: int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
            for name, statement in statements.items()
        }


def stats(given: Given) -> dict[str, int]:
    """Counts: what waits, what is published, what is held."""
    settings = Settings.of(given)

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
