"""publication counter: sequence numbers survive the purge of every bundle

Revision ID: 0002
Revises: 0001

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
    )
    op.execute(
        "INSERT INTO publication (id, sequence, created_at) "
        "SELECT 1, sequence, created_at FROM bundles ORDER BY sequence DESC LIMIT 1"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("publication")
