"""Engines, sessions and migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from .config import normalise_database_url
from .errors import AdminError

MIGRATIONS = Path(__file__).parent / "migrations"


#: what DATABASE_URL may name
EXAMPLES = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"


def describe(url: str) -> str:
    """The URL as an error message may show it: no password."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return repr(url)


def explain(url: str, error: DBAPIError) -> str:
    """A one-line error about a database that failed, saying what to do."""
    said = " ".join(str(error.orig).split()) or type(error.orig).__name__
    parsed = make_url(url)
    if "does not exist" in said and f'database "{parsed.database}"' in said:
        return (
            f"the database {parsed.database!r} does not exist on {parsed.host}: create it "
            f"(createdb {parsed.database}), then run `placecode admin init`"
        )
    if "connection refused" in said.lower() or "could not connect" in said.lower():
        return (
            f"no database server answers at {parsed.host}:{parsed.port or 5432}: is it "
            "running, and is DATABASE_URL right?"
        )
    return f"cannot use the database {describe(url)}: {said}"


def _create_sqlite_file(path: str) -> None:
    """The database file and its directory, readable by their owner alone; SQLite
    gives its -wal and -shm files the database file's mode."""
    if path in ("", ":memory:"):
        return
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
    if file.stat().st_mode & 0o077:
        file.chmod(0o600)


def make_engine(url: str) -> Engine:
    """An engine for SQLite or PostgreSQL; any other URL is refused in one line."""
    try:
        parsed = make_url(normalise_database_url(url))
    except ArgumentError:
        raise AdminError(f"DATABASE_URL {url!r} is not a database URL: use {EXAMPLES}") from None
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.drivername != "sqlite":
        raise AdminError(
            f"DATABASE_URL {describe(url)}: placecode runs on SQLite or PostgreSQL, "
            f"not {parsed.drivername}; use {EXAMPLES}"
        )
    _create_sqlite_file(parsed.database or "")
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy, not pysqlite, decide where transactions begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # deleted rows (redeemed TANs, purged entries) are overwritten, not left in free pages
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # a deferred transaction that reads and then writes fails at once when
        # another writer holds the lock; an immediate one waits its turn
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def erase_sqlite_log(engine: Engine) -> None:
    """Empties SQLite's write-ahead log into the database file.

    Until then the log holds each transaction's pages in arrival order, so a
    copy of it would group the entries of one upload; the admin commands
    (bundle builds, purges) call this when they finish.
    """
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_is_current(engine: Engine) -> bool:
    """Whether the database carries the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def upgrade(engine: Engine) -> None:
    """Brings the schema to the newest migration."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
