"""Schedules of subscribed chats, and the per-fire-time lease/log of scheduled pushes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=60), server_default="Asia/Jakarta", nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('digest', 'report', 'final')", name=op.f("ck_schedules_kind")),
        sa.CheckConstraint("(kind = 'final') = (cron IS NULL)", name=op.f("ck_schedules_cron")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_schedules_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("subscription_id", "kind", name=op.f("uq_schedules_subscription_id")),
    )
    op.create_table(
        "scheduled_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'unchanged', 'skipped', 'idle', 'paused', 'failed')",
            name=op.f("ck_scheduled_pushes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_scheduled_pushes_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_pushes")),
        sa.UniqueConstraint("schedule_id", "fire_at", name=op.f("uq_scheduled_pushes_schedule_id")),
    )


def downgrade() -> None:
    """Revert this revision (children first, so foreign keys never dangle)."""
    op.drop_table("scheduled_pushes")
    op.drop_table("schedules")
