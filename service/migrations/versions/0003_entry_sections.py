"""entry sections: the authority's own entries apart from public uploads (protocol §8)

Revision ID: 0003
Revises: 0002

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # a plain ADD COLUMN: SQLite supports it with a constant default, and a batch
    # copy would lose the table's WITHOUT ROWID
    op.add_column(
        "entries",
        sa.Column("authority", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("entries", "authority")
