"""published slots: digests of the venue-confirmed slots the authority published,
so that the same venue trace is not published twice

Revision ID: 0005
Revises: 0004

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "published_slots",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.Column("published_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_published_slots")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("published_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_slots_published_day"), ["published_day"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_published_slots_tag"), ["tag"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("published_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_slots_tag"))
        batch_op.drop_index(batch_op.f("ix_published_slots_published_day"))
    op.drop_table("published_slots")
