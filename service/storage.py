"""Small storage helpers shared by the routes, the bundler and the admin commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Base


def utc_day(unix: int) -> dt.date:
    """The UTC day of a Unix time: the finest time the service keeps of an arrival."""
    return dt.datetime.fromtimestamp(unix, dt.UTC).date()


def dialect_insert(session: Session, model: type[Base]) -> Any:
    """An INSERT that can say ON CONFLICT, in this session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def insert_ignoring_duplicates(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]]
) -> None:
    if rows:
        session.execute(dialect_insert(session, model).on_conflict_do_nothing(), list(rows))
