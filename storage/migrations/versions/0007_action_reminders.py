"""Due-date reminders of follow-up actions: unit heads' official contacts and the claims.

Revision ID: 13_action_reminders
Revises: 11_processed_updates
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "13_action_reminders"
down_revision: str | None = "11_processed_updates"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_OLD_PURPOSES = "purpose IN ('survey', 'outreach')"
_NEW_PURPOSES = "purpose IN ('survey', 'outreach', 'official')"


def _contacts(purposes: str) -> sa.Table:
    """The contacts table as it stands, so SQLite's batch copy needs no reflection (which
    would lose WITHOUT ROWID: the physical order of contacts must not tell who came when)."""
    return sa.Table(
        "contacts",
        sa.MetaData(),
        sa.Column("pseudonym", sa.String(length=64), primary_key=True),
        sa.Column("purpose", sa.String(length=10), primary_key=True),
        sa.Column("chat", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column(
            "unit_id",
            sa.Integer(),
            sa.ForeignKey("units.id", name="fk_contacts_unit_id_units", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.CheckConstraint(purposes, name="ck_contacts_purpose"),
        sa.PrimaryKeyConstraint("pseudonym", "purpose", name="pk_contacts"),
        sqlite_with_rowid=False,
    )


def _purposes(old: str, new: str) -> None:
    with op.batch_alter_table(
        "contacts", copy_from=_contacts(old), table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_constraint(op.f("ck_contacts_purpose"), type_="check")
        batch.create_check_constraint(op.f("ck_contacts_purpose"), new)


def upgrade() -> None:
    """Apply this revision."""
    _purposes(_OLD_PURPOSES, _NEW_PURPOSES)
    op.create_table(
        "action_reminder_claims",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=10), nullable=False),
        sa.Column("occasion_on", sa.Date(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "occasion IN ('soon', 'due', 'overdue')",
            name=op.f("ck_action_reminder_claims_occasion"),
        ),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'gone', 'failed')",
            name=op.f("ck_action_reminder_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_reminder_claims_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "action_id",
            "occasion",
            "occasion_on",
            "pseudonym",
            name=op.f("pk_action_reminder_claims"),
        ),
    )


def downgrade() -> None:
    """Revert this revision (official contacts go: the old check does not admit them)."""
    op.drop_table("action_reminder_claims")
    op.execute("DELETE FROM contacts WHERE purpose = 'official'")
    _purposes(_NEW_PURPOSES, _OLD_PURPOSES)
