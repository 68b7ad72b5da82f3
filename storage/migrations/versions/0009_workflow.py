"""The officer's workflow (issue 22): where a questionnaire came from, the questionnaires a
planned wave will use, invitations issued for a planned wave, and photo evidence of actions.

Revision ID: 22_workflow
Revises: 10_reach_extras
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "22_workflow"
down_revision: str | None = "10_reach_extras"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("questionnaires") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=200), nullable=True))
    with op.batch_alter_table("wave_plans") as batch:
        batch.add_column(sa.Column("questionnaire_choice", sa.String(length=400), nullable=True))
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("evidence_kind", sa.String(length=10), nullable=True))
    op.create_table(
        "planned_invitations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("plan_name", sa.String(length=80), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'expert')", name=op.f("ck_planned_invitations_grp")
        ),
        sa.ForeignKeyConstraint(
            ["plan_name"],
            ["wave_plans.name"],
            name=op.f("fk_planned_invitations_plan_name_wave_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_planned_invitations_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_planned_invitations")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("planned_invitations")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("evidence_kind")
    with op.batch_alter_table("wave_plans") as batch:
        batch.drop_column("questionnaire_choice")
    with op.batch_alter_table("questionnaires") as batch:
        batch.drop_column("origin")
