"""Roles end cleanly (issue 20): role links and holders carry the label the admin gave them,
a holder remembers the link it came from, and a subscription remembers who set it up, so
revoking a role pauses what that person subscribed.

Revision ID: 20_role_lifecycle
Revises: 22_workflow
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "20_role_lifecycle"
down_revision: str | None = "22_workflow"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("role_grants") as batch:
        batch.add_column(sa.Column("label", sa.String(length=80), nullable=True))
    with op.batch_alter_table("roles") as batch:
        batch.add_column(sa.Column("label", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("grant_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("created_by")
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("grant_id")
        batch.drop_column("label")
    with op.batch_alter_table("role_grants") as batch:
        batch.drop_column("label")
