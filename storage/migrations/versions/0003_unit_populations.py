"""Population sizes per unit for the expert and external groups (targets and margins).

Revision ID: 14_unit_populations
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "14_unit_populations"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("expert_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("service_user_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("units") as batch:
        batch.drop_column("service_user_count")
        batch.drop_column("expert_count")
