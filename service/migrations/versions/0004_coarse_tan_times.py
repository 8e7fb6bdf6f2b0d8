"""coarse TAN times: expiries rounded up to the hour, only this hour's issue count

Revision ID: 0004
Revises: 0003

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade data: the schema is unchanged, the times it holds get coarser."""
    op.execute("UPDATE tans SET expires_at = (expires_at + 3599) / 3600 * 3600")
    op.execute("DELETE FROM tan_counts WHERE hour < (SELECT MAX(hour) FROM tan_counts)")


def downgrade() -> None:
    """Nothing to undo: the finer times are gone."""
