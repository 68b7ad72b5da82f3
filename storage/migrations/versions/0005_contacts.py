"""Encrypted contacts (reminders, outreach), reminder and broadcast claims, the wave calendar.

Revision ID: 10_contacts
Revises: 13_actions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "10_contacts"
down_revision: str | None = "13_actions"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "contacts",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("chat", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("purpose IN ('survey', 'outreach')", name=op.f("ck_contacts_purpose")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_contacts_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pseudonym", "purpose", name=op.f("pk_contacts")),
        # Rows stored in key order, not insertion order (see storage/schema.py).
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reminder_claims",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'gone', 'failed')",
            name=op.f("ck_reminder_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_reminder_claims_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", "wave_id", "round", name=op.f("pk_reminder_claims")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_codes", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Boolean(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "broadcast_claims",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'gone', 'failed')",
            name=op.f("ck_broadcast_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_claims_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "pseudonym", name=op.f("pk_broadcast_claims")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "wave_plans",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_wave_plans_wave_id_waves"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_wave_plans")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("wave_plans")
    op.drop_table("broadcast_claims")
    op.drop_table("broadcasts")
    op.drop_table("reminder_claims")
    op.drop_table("contacts")
