"""initial schema

Revision ID: 0001
Revises:

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "bundles",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("first_hour", sa.BigInteger(), nullable=False),
        sa.Column("last_hour", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_bundles")),
    )
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundles_created_at"), ["created_at"], unique=False)

    op.create_table(
        "consent_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_day", sa.Date(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_messages")),
    )
    with op.batch_alter_table("consent_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_messages_received_day"), ["received_day"], unique=False
        )

    op.create_table(
        "entries",
        sa.Column("sealed", sa.LargeBinary(length=255), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.Column("received_day", sa.Date(), nullable=False),
        sa.Column("bundle_sequence", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("sealed", name=op.f("pk_entries")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entries_bundle_sequence"), ["bundle_sequence"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entries_received_day"), ["received_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_entries_tag"), ["tag"], unique=False)

    op.create_table(
        "revocations",
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.Column("revoked_day", sa.Date(), nullable=False),
        sa.Column("bundle_sequence", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tag", name=op.f("pk_revocations")),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revocations_revoked_day"), ["revoked_day"], unique=False
        )

    op.create_table(
        "staff_tokens",
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_staff_tokens")),
    )
    op.create_table(
        "tan_counts",
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_tan_counts")),
    )
    op.create_table(
        "tans",
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_tans")),
    )
    with op.batch_alter_table("tans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tans_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tans_expires_at"))

    op.drop_table("tans")
    op.drop_table("tan_counts")
    op.drop_table("staff_tokens")
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocations_revoked_day"))

    op.drop_table("revocations")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_tag"))
        batch_op.drop_index(batch_op.f("ix_entries_received_day"))
        batch_op.drop_index(batch_op.f("ix_entries_bundle_sequence"))

    op.drop_table("entries")
    with op.batch_alter_table("consent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_messages_received_day"))

    op.drop_table("consent_messages")
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundles_created_at"))

    op.drop_table("bundles")
