"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command

from placecode.service.db import alembic_config, make_engine


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            command.check(alembic_config(connection))  # raises on any difference
    finally:
        engine.dispose()
