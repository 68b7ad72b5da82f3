"""Initial schema: everything `storage/schema.py` describes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "institution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), server_default="kabupaten", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
    )
    op.create_table(
        "questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("source_yaml", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_questionnaires_grp")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaires")),
        sa.UniqueConstraint("key", "version", name="key_version"),
    )
    op.create_table(
        "respondents",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_respondents")),
        # Rows stored in key order, not insertion order (see storage/schema.py).
        sqlite_with_rowid=False,
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("paused_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_subscriptions_chat_id")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("serves_public", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('opd', 'service', 'kecamatan')", name=op.f("ck_units_kind")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    op.create_table(
        "waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_waves_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves")),
        sa.UniqueConstraint("name", name=op.f("uq_waves_name")),
    )
    op.create_index(
        "uq_waves_one_open",
        "waves",
        ["status"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "completions",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_completions_grp")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_completions_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pseudonym", "wave_id", "grp", name=op.f("pk_completions")),
        # Rows stored in key order, not insertion order (see storage/schema.py).
        sqlite_with_rowid=False,
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("integrity", sa.Float(), nullable=False),
        sa.Column("prevalence", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "integrity >= 0 AND prevalence >= 0", name=op.f("ck_corrections_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_corrections_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint("grp IN ('internal', 'expert')", name=op.f("ck_invitations_grp")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_invitations_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_invitations_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="in_progress", nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_responses_grp")
        ),
        sa.CheckConstraint(
            "status IN ('in_progress', 'submitted')", name=op.f("ck_responses_status")
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_responses_questionnaire_id_questionnaires"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_responses_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_responses_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        # Rows stored in key order, not insertion order (see storage/schema.py).
        sqlite_with_rowid=False,
    )
    op.create_index("ix_responses_wave_status", "responses", ["wave_id", "status"])
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint("role IN ('leadership', 'unit_head')", name=op.f("ck_role_grants_role")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_role_grants_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_role_grants_token_hash")),
    )
    op.create_table(
        "roles",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('leadership', 'unit_head')", name=op.f("ck_roles_role")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_roles_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pseudonym", "role", name=op.f("pk_roles")),
    )
    op.create_table(
        "wave_questionnaires",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_wave_questionnaires_grp")
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_wave_questionnaires_questionnaire_id_questionnaires"),
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_wave_questionnaires_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("wave_id", "grp", name=op.f("pk_wave_questionnaires")),
    )
    op.create_table(
        "answers",
        sa.Column("response_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "question_id", name=op.f("pk_answers")),
        # Rows stored in key order, not insertion order (see storage/schema.py).
        sqlite_with_rowid=False,
    )
    op.create_table(
        "survey_sessions",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("response_id", sa.String(length=32), nullable=True),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grp IN ('internal', 'external', 'expert')", name=op.f("ck_survey_sessions_grp")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_survey_sessions_invitation_id_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["respondents.pseudonym"],
            name=op.f("fk_survey_sessions_pseudonym_respondents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_survey_sessions_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_survey_sessions_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
            name=op.f("fk_survey_sessions_wave_id_waves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_survey_sessions")),
    )


def downgrade() -> None:
    """Revert this revision (children first, so foreign keys never dangle)."""
    op.drop_table("survey_sessions")
    op.drop_table("answers")
    op.drop_table("wave_questionnaires")
    op.drop_table("roles")
    op.drop_table("role_grants")
    op.drop_table("responses")
    op.drop_table("invitations")
    op.drop_table("corrections")
    op.drop_table("completions")
    op.drop_table("waves")
    op.drop_table("units")
    op.drop_table("subscriptions")
    op.drop_table("respondents")
    op.drop_table("questionnaires")
    op.drop_table("institution")
