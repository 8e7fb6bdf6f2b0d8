"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from placecode.service.db import alembic_config, make_engine, upgrade


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            command.check(alembic_config(connection))  # raises on any difference
    finally:
        engine.dispose()


def test_migration_0004_coarsens_the_tan_times_already_held(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0003")
            connection.execute(text("INSERT INTO tans VALUES (x'01', 1780315201)"))
            connection.execute(text("INSERT INTO tans VALUES (x'02', 1780318800)"))
            connection.execute(text("INSERT INTO tan_counts VALUES (494530, 3), (494531, 1)"))
        upgrade(engine)
        with engine.connect() as connection:
            expiries = sorted(connection.scalars(text("SELECT expires_at FROM tans")))
            counts = list(connection.execute(text("SELECT hour, issued FROM tan_counts")))
    finally:
        engine.dispose()
    assert expiries == [1780318800, 1780318800]
    assert [tuple(row) for row in counts] == [(494531, 1)]
