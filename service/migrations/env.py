"""Alembic environment: run programmatically with a connection from ``service.db``."""

from alembic import context

from placecode.service.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("placecode migrations run through service.db.upgrade")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
