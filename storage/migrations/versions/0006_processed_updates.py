"""The processed-update ledger: a redelivered webhook update is handled once (issue 11).

Revision ID: 11_processed_updates
Revises: 10_contacts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "11_processed_updates"
down_revision: str | None = "10_contacts"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(
        "ix_processed_updates_claimed_at", "processed_updates", ["claimed_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_processed_updates_claimed_at", table_name="processed_updates")
    op.drop_table("processed_updates")
