"""Frozen final reports with their dated revisions, and per-unit targets fixed at wave open
(issue 22).

Revision ID: 22_report_revisions
Revises: 20_role_lifecycle
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "22_report_revisions"
down_revision: str | None = "20_role_lifecycle"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("changes_json", sa.Text(), server_default="[]", nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('final', 'correction', 'reclosed')", name=op.f("ck_report_revisions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_report_revisions_correction_id_corrections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_report_revisions_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_revisions")),
        sa.UniqueConstraint("wave_id", "number", name=op.f("uq_report_revisions_wave_id")),
    )
    op.create_table(
        "wave_targets",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_wave_targets_grp")
        ),
        sa.CheckConstraint("needed >= 0", name=op.f("ck_wave_targets_needed")),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_wave_targets_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("wave_id", "unit_code", "grp", name=op.f("pk_wave_targets")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("wave_targets")
    op.drop_table("report_revisions")
