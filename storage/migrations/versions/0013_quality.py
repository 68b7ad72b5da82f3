"""Survey integrity (issue 24): the inspectorate's exclusions of flagged responses, and
report revisions made by an exclusion or a restore.

Revision ID: 24_quality
Revises: 20_anonymity
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "24_quality"
down_revision: str | None = "20_anonymity"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_OLD_KINDS = "kind IN ('final', 'correction', 'reclosed')"
_NEW_KINDS = "kind IN ('final', 'correction', 'reclosed', 'exclusion', 'restored')"


def _revision_kinds(kinds: str) -> None:
    with op.batch_alter_table("report_revisions") as batch:
        batch.drop_constraint(op.f("ck_report_revisions_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_report_revisions_kind"), kinds)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "integrity_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_by", sa.String(length=80), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restore_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_integrity_exclusions_grp")
        ),
        sa.CheckConstraint(
            "kind IN ('burst', 'uniform', 'rushing', 'contradiction')",
            name=op.f("ck_integrity_exclusions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'restored')",
            name=op.f("ck_integrity_exclusions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_integrity_exclusions_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_integrity_exclusions_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_exclusions")),
    )
    op.create_index(
        "ix_integrity_exclusions_wave_id", "integrity_exclusions", ["wave_id"], unique=False
    )
    op.create_table(
        "excluded_responses",
        sa.Column("exclusion_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["exclusion_id"],
            ["integrity_exclusions.id"],
            name=op.f("fk_excluded_responses_exclusion_id_integrity_exclusions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_excluded_responses_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exclusion_id", "response_id", name=op.f("pk_excluded_responses")),
        sqlite_with_rowid=False,
    )
    _revision_kinds(_NEW_KINDS)


def downgrade() -> None:
    """Revert this revision (revisions made by exclusions or restores go with them)."""
    op.execute("DELETE FROM report_revisions WHERE kind IN ('exclusion', 'restored')")
    _revision_kinds(_OLD_KINDS)
    op.drop_table("excluded_responses")
    op.drop_index("ix_integrity_exclusions_wave_id", table_name="integrity_exclusions")
    op.drop_table("integrity_exclusions")
