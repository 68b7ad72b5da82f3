"""Pictures in outreach broadcasts, roster CSVs waiting for their group, and the count of
surveys abandoned per wave, unit and group (issue 10).

Revision ID: 10_reach_extras
Revises: 13_action_reminders
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "10_reach_extras"
down_revision: str | None = "13_action_reminders"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("author", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("photo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("photo_file_id", sa.String(length=255), nullable=True))
    op.create_table(
        "roster_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_uploads")),
    )
    op.create_table(
        "dropouts",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_dropouts_unit_id_units"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_dropouts_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", "unit_id", "grp", name=op.f("pk_dropouts")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("dropouts")
    op.drop_table("roster_uploads")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("photo_file_id")
        batch.drop_column("photo")
        batch.drop_column("author")
