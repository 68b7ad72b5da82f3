"""Anonymity against the operator (issue 20) and per-unit completions for citizens (22.6).

A survey in progress no longer has a response: `survey_sessions` carries what the survey
needs and its answers so far live in `draft_answers` (keyed by pseudonym); its reminder
contact moves from `contacts` to `survey_contacts`, which cascades from the session.
`responses` and `answers` hold submitted data only: `status` and `expires_on` go, and the
exact `duration_seconds` becomes a `duration_band` and a `pace_band`. Every submitted
response gets a fresh random id here, so no copy taken before this upgrade (when a response
kept the id it had while in progress) links to the submitted record any more. Completions
gain a `scope` (the unit for the external group); `arrivals` and `item_paradata` are new
aggregates. A personal link is marked used only once a survey is submitted on it (its survey
in progress is its claim: one session per invitation).

SQLite: a table that others reference cannot be rebuilt in place here (with foreign keys on,
DROP TABLE deletes the referencing rows), so the data to keep is set aside in plain tables,
the tables are dropped children first and created in their new shape, and the data goes back.
The same steps run on PostgreSQL. The edges of the bands are frozen copies of
scoring.paradata's at the time of writing.

Revision ID: 20_anonymity
Revises: 22_report_revisions
Create Date: 2026-12-10
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20_anonymity"
down_revision: str | None = "22_report_revisions"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_GROUPS = "grp IN ('internal', 'external', 'expert')"
_DURATION_EDGES = (60, 180, 300, 600, 900, 1800, 3600)
_PACE_EDGES = (1, 2, 4, 8, 16, 32, 64)
_ITEM_TIME_BANDS = 5
_EXPIRY_DAYS = 14  # the default SESSION_EXPIRY_DAYS, for a session that had no response row
_SURVEY_PURPOSE = "survey"
_PURPOSES_WITH_SURVEY = "purpose IN ('survey', 'outreach', 'official')"
_PURPOSES = "purpose IN ('outreach', 'official')"
_KEPT = ("_rekey", "_responses_keep", "_answers_keep", "_completions_keep")


def _band_sql(value: str, edges: tuple[int, ...]) -> str:
    """Return a CASE expression giving the band of `value` (NULL stays NULL)."""
    whens = " ".join(f"WHEN {value} < {edge} THEN {band}" for band, edge in enumerate(edges))
    return f"CASE WHEN {value} IS NULL THEN NULL {whens} ELSE {len(edges)} END"


# -- the tables as they were (10_reach_extras) ---------------------------------------------


def _old_responses() -> list[Any]:
    return [
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
        sa.CheckConstraint(_GROUPS, name=op.f("ck_responses_grp")),
        sa.CheckConstraint(
            "status IN ('in_progress', 'submitted')", name=op.f("ck_responses_status")
        ),
        *_response_keys(),
    ]


def _old_sessions() -> list[Any]:
    return [
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
        sa.CheckConstraint(_GROUPS, name=op.f("ck_survey_sessions_grp")),
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
    ]


def _old_completions() -> list[Any]:
    return [
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.CheckConstraint(_GROUPS, name=op.f("ck_completions_grp")),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_completions_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pseudonym", "wave_id", "grp", name=op.f("pk_completions")),
    ]


# -- the tables as they are now --------------------------------------------------------------


def _response_keys() -> list[Any]:
    return [
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
    ]


def _responses() -> list[Any]:
    return [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("duration_band", sa.Integer(), nullable=True),
        sa.Column("pace_band", sa.Integer(), nullable=True),
        sa.CheckConstraint(_GROUPS, name=op.f("ck_responses_grp")),
        *_response_keys(),
    ]


def _answers() -> list[Any]:
    return [
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
    ]


def _sessions() -> list[Any]:
    return [
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.CheckConstraint(_GROUPS, name=op.f("ck_survey_sessions_grp")),
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
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_survey_sessions_questionnaire_id_questionnaires"),
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
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_sessions_invitation_id")),
    ]


def _drafts() -> list[Any]:
    return [
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("partial", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["survey_sessions.pseudonym"],
            name=op.f("fk_draft_answers_pseudonym_survey_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", "question_id", name=op.f("pk_draft_answers")),
    ]


def _survey_contacts() -> list[Any]:
    return [
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("chat", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["survey_sessions.pseudonym"],
            name=op.f("fk_survey_contacts_pseudonym_survey_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_survey_contacts")),
    ]


def _completions() -> list[Any]:
    return [
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.Integer(), server_default="0", autoincrement=False, nullable=False),
        sa.CheckConstraint(_GROUPS, name=op.f("ck_completions_grp")),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_completions_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "pseudonym", "wave_id", "grp", "scope", name=op.f("pk_completions")
        ),
    ]


def _contacts(purposes: str) -> sa.Table:
    """The contacts table as it stands, so SQLite's batch copy keeps WITHOUT ROWID."""
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


def _create(name: str, parts: list[Any]) -> sa.Table:
    """Create a table in key order on SQLite (see storage/schema.py) and return it."""
    table: sa.Table = op.create_table(name, *parts, sqlite_with_rowid=False)
    return table


def _table(name: str, parts: list[Any]) -> sa.Table:
    """Return a typed handle on a table (for reads and writes in Python), without creating it."""
    columns = [sa.Column(p.name, p.type) for p in parts if isinstance(p, sa.Column)]
    return sa.Table(name, sa.MetaData(), *columns)


def _drop_kept(bind: sa.Connection) -> None:
    for name in _KEPT:
        bind.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    # 1. Set aside what survives. Submitted responses get fresh random ids.
    _drop_kept(bind)
    rekey = op.create_table(
        "_rekey",
        sa.Column("old_id", sa.String(32), primary_key=True),
        sa.Column("new_id", sa.String(32), nullable=False),
    )
    submitted = [
        row[0]
        for row in bind.execute(sa.text("SELECT id FROM responses WHERE status = 'submitted'"))
    ]
    if submitted:
        bind.execute(
            rekey.insert(), [{"old_id": old, "new_id": secrets.token_hex(16)} for old in submitted]
        )
    answered = "(SELECT count(*) FROM answers a WHERE a.response_id = r.id)"
    pace = f"(r.duration_seconds * 1.0 / NULLIF({answered}, 0))"
    bind.execute(
        sa.text(
            "CREATE TABLE _responses_keep AS SELECT k.new_id AS id, r.wave_id, r.grp, r.unit_id, "
            "r.questionnaire_id, r.language, r.completed_on, "
            f"{_band_sql('r.duration_seconds', _DURATION_EDGES)} AS duration_band, "
            f"{_band_sql(pace, _PACE_EDGES)} AS pace_band "
            "FROM responses r JOIN _rekey k ON k.old_id = r.id"
        )
    )
    bind.execute(
        sa.text(
            "CREATE TABLE _answers_keep AS SELECT k.new_id AS response_id, a.question_id, a.value "
            "FROM answers a JOIN _rekey k ON k.old_id = a.response_id"
        )
    )
    bind.execute(
        sa.text("CREATE TABLE _completions_keep AS SELECT pseudonym, wave_id, grp FROM completions")
    )
    # Surveys in progress (few rows): their response becomes the session's questionnaire and
    # expiry, its answers become drafts, its contact a survey contact.
    old_sessions = _table("survey_sessions", _old_sessions())
    old_responses = _table("responses", _old_responses())
    answers = _table("answers", _answers())
    wave_questionnaires = sa.Table(
        "wave_questionnaires",
        sa.MetaData(),
        sa.Column("wave_id", sa.Integer()),
        sa.Column("grp", sa.String(10)),
        sa.Column("questionnaire_id", sa.Integer()),
    )
    sessions = [
        dict(row._mapping)
        for row in bind.execute(
            sa.select(
                *(c for c in old_sessions.c if c.name != "response_id"),
                sa.func.coalesce(
                    old_responses.c.questionnaire_id, wave_questionnaires.c.questionnaire_id
                ).label("questionnaire_id"),
                old_responses.c.expires_on,
            ).select_from(
                old_sessions.outerjoin(
                    old_responses, old_responses.c.id == old_sessions.c.response_id
                ).outerjoin(
                    wave_questionnaires,
                    sa.and_(
                        wave_questionnaires.c.wave_id == old_sessions.c.wave_id,
                        wave_questionnaires.c.grp == old_sessions.c.grp,
                    ),
                )
            )
        )
    ]
    for session in sessions:
        if session["expires_on"] is None:
            started: date = session["started_at"].date()
            session["expires_on"] = started + timedelta(days=_EXPIRY_DAYS)
    sessions = [s for s in sessions if s["questionnaire_id"] is not None]
    kept = {s["pseudonym"] for s in sessions}
    drafts = [
        {"pseudonym": row.pseudonym, "question_id": row.question_id, "value": row.value}
        for row in bind.execute(
            sa.select(old_sessions.c.pseudonym, answers.c.question_id, answers.c.value).join(
                answers, answers.c.response_id == old_sessions.c.response_id
            )
        )
        if row.pseudonym in kept
    ]
    old_contacts = _contacts(_PURPOSES_WITH_SURVEY)
    survey_contacts = [
        {"pseudonym": row.pseudonym, "chat": row.chat, "language": row.language}
        for row in bind.execute(
            sa.select(old_contacts.c.pseudonym, old_contacts.c.chat, old_contacts.c.language).where(
                old_contacts.c.purpose == _SURVEY_PURPOSE
            )
        )
        if row.pseudonym in kept
    ]

    # 2. Drop the old tables, children first, and create them anew.
    op.drop_table("survey_sessions")
    op.drop_table("answers")
    op.drop_index("ix_responses_wave_status", table_name="responses")
    op.drop_table("responses")
    op.drop_table("completions")
    _create("responses", _responses())
    op.create_index("ix_responses_wave_id", "responses", ["wave_id"])
    columns = "id, wave_id, grp, unit_id, questionnaire_id, language, completed_on"
    bind.execute(
        sa.text(
            f"INSERT INTO responses ({columns}, duration_band, pace_band) "
            f"SELECT {columns}, duration_band, pace_band FROM _responses_keep"
        )
    )
    _create("answers", _answers())
    bind.execute(
        sa.text(
            "INSERT INTO answers (response_id, question_id, value) "
            "SELECT response_id, question_id, value FROM _answers_keep"
        )
    )
    _create("completions", _completions())
    bind.execute(
        sa.text(
            "INSERT INTO completions (pseudonym, wave_id, grp, scope) "
            "SELECT pseudonym, wave_id, grp, 0 FROM _completions_keep"
        )
    )
    new_sessions = _create("survey_sessions", _sessions())
    new_drafts = _create("draft_answers", _drafts())
    new_contacts = _create("survey_contacts", _survey_contacts())
    if sessions:
        bind.execute(new_sessions.insert(), sessions)
    # A link is "used" once a survey was submitted on it; one in progress is its session.
    bind.execute(
        sa.text(
            "UPDATE invitations SET used = :no WHERE id IN "
            "(SELECT invitation_id FROM survey_sessions WHERE invitation_id IS NOT NULL)"
        ),
        {"no": False},
    )
    if drafts:
        bind.execute(new_drafts.insert(), drafts)
    if survey_contacts:
        bind.execute(new_contacts.insert(), survey_contacts)
    bind.execute(old_contacts.delete().where(old_contacts.c.purpose == _SURVEY_PURPOSE))
    _purposes(_PURPOSES_WITH_SURVEY, _PURPOSES)

    # 3. The new aggregates.
    _create(
        "arrivals",
        [
            sa.Column("wave_id", sa.Integer(), nullable=False),
            sa.Column("unit_id", sa.Integer(), nullable=False),
            sa.Column("grp", sa.String(length=10), nullable=False),
            sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["unit_id"],
                ["units.id"],
                name=op.f("fk_arrivals_unit_id_units"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["wave_id"],
                ["waves.id"],
                name=op.f("fk_arrivals_wave_id_waves"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("wave_id", "unit_id", "grp", "hour", name=op.f("pk_arrivals")),
        ],
    )
    counts = ("shown", "answered", "changed", "skipped", "abandoned")
    _create(
        "item_paradata",
        [
            sa.Column("wave_id", sa.Integer(), nullable=False),
            sa.Column("questionnaire_id", sa.Integer(), nullable=False),
            sa.Column("question_id", sa.String(length=60), nullable=False),
            *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in counts),
            *(
                sa.Column(f"time_band_{band}", sa.Integer(), server_default="0", nullable=False)
                for band in range(_ITEM_TIME_BANDS)
            ),
            sa.ForeignKeyConstraint(
                ["questionnaire_id"],
                ["questionnaires.id"],
                name=op.f("fk_item_paradata_questionnaire_id_questionnaires"),
            ),
            sa.ForeignKeyConstraint(
                ["wave_id"],
                ["waves.id"],
                name=op.f("fk_item_paradata_wave_id_waves"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(
                "wave_id", "questionnaire_id", "question_id", name=op.f("pk_item_paradata")
            ),
        ],
    )
    _drop_kept(bind)


def downgrade() -> None:
    """Revert this revision: surveys in progress get an in-progress response again."""
    bind = op.get_bind()
    _drop_kept(bind)
    sessions_table = _table("survey_sessions", _sessions())
    sessions = [dict(row._mapping) for row in bind.execute(sa.select(sessions_table))]
    drafts_table = _table("draft_answers", _drafts())
    drafts = list(
        bind.execute(
            sa.select(
                drafts_table.c.pseudonym, drafts_table.c.question_id, drafts_table.c.value
            ).where(drafts_table.c.value.is_not(None))
        )
    )
    contacts_table = _table("survey_contacts", _survey_contacts())
    survey_contacts = [dict(row._mapping) for row in bind.execute(sa.select(contacts_table))]
    bind.execute(
        sa.text(
            "CREATE TABLE _responses_keep AS SELECT id, wave_id, grp, unit_id, questionnaire_id, "
            "language, completed_on FROM responses"
        )
    )
    bind.execute(
        sa.text("CREATE TABLE _answers_keep AS SELECT response_id, question_id, value FROM answers")
    )
    # One survey per wave and group again: a citizen's several units keep one marker.
    bind.execute(
        sa.text(
            "CREATE TABLE _completions_keep AS SELECT pseudonym, wave_id, grp FROM completions "
            "GROUP BY pseudonym, wave_id, grp"
        )
    )
    for name in ("survey_contacts", "draft_answers", "survey_sessions", "arrivals"):
        op.drop_table(name)
    op.drop_table("item_paradata")
    op.drop_table("answers")
    op.drop_index("ix_responses_wave_id", table_name="responses")
    op.drop_table("responses")
    op.drop_table("completions")

    responses = _create("responses", _old_responses())
    op.create_index("ix_responses_wave_status", "responses", ["wave_id", "status"])
    columns = "id, wave_id, grp, unit_id, questionnaire_id, language, completed_on"
    bind.execute(
        sa.text(
            f"INSERT INTO responses ({columns}, status) "
            f"SELECT {columns}, 'submitted' FROM _responses_keep"
        )
    )
    answers = _create("answers", _answers())
    bind.execute(
        sa.text(
            "INSERT INTO answers (response_id, question_id, value) "
            "SELECT response_id, question_id, value FROM _answers_keep"
        )
    )
    _create("completions", _old_completions())
    bind.execute(
        sa.text(
            "INSERT INTO completions (pseudonym, wave_id, grp) "
            "SELECT pseudonym, wave_id, grp FROM _completions_keep"
        )
    )
    old_sessions = op.create_table("survey_sessions", *_old_sessions())
    response_of: dict[str, str] = {}
    for session in sessions:
        response_id = response_of[session["pseudonym"]] = secrets.token_hex(16)
        bind.execute(
            responses.insert().values(
                id=response_id,
                wave_id=session["wave_id"],
                grp=session["grp"],
                unit_id=session["unit_id"],
                questionnaire_id=session["questionnaire_id"],
                language=session["language"],
                status="in_progress",
                expires_on=session["expires_on"],
            )
        )
        values = {k: v for k, v in session.items() if k not in ("questionnaire_id", "expires_on")}
        bind.execute(old_sessions.insert().values(response_id=response_id, **values))
        if session["invitation_id"] is not None:  # before: a link in use was marked used
            bind.execute(
                sa.text("UPDATE invitations SET used = :yes WHERE id = :id"),
                {"yes": True, "id": session["invitation_id"]},
            )
    rows = [
        {"response_id": response_of[d.pseudonym], "question_id": d.question_id, "value": d.value}
        for d in drafts
        if d.pseudonym in response_of
    ]
    if rows:
        bind.execute(answers.insert(), rows)
    _purposes(_PURPOSES, _PURPOSES_WITH_SURVEY)
    old_contacts = _contacts(_PURPOSES_WITH_SURVEY)
    if survey_contacts:
        bind.execute(
            old_contacts.insert(),
            [{**c, "purpose": _SURVEY_PURPOSE, "unit_id": None} for c in survey_contacts],
        )
    _drop_kept(bind)
