"""Follow-up plans (tindak lanjut): actions per unit and dialogues in progress (issue 13).

Revision ID: 13_actions
Revises: 14_unit_populations
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "13_actions"
down_revision: str | None = "14_unit_populations"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("recommendation", sa.Text(), server_default="", nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=120), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="planned", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("document_file_id", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'dropped')",
            name=op.f("ck_actions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_actions_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    op.create_index("ix_actions_unit_due", "actions", ["unit_id", "due_on"])
    op.create_table(
        "action_drafts",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("what", sa.Text(), nullable=True),
        sa.Column("who", sa.String(length=120), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("action_version", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "step IN ('what', 'who', 'due', 'note')", name=op.f("ck_action_drafts_step")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_drafts_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_action_drafts_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_action_drafts")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("action_drafts")
    op.drop_index("ix_actions_unit_due", table_name="actions")
    op.drop_table("actions")
