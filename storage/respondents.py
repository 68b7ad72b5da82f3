"""Respondents: the pseudonyms that have talked to the bot and the language each chose.

A respondent row holds a pseudonym (never a Telegram id) and nothing that links it to answers.

The tables keyed by pseudonym live here too, below the modules that run the survey flow
(`storage.sessions`, `storage.turns` and the drivers, which all read them): `survey_sessions`
(a survey in progress, `SurveySession`), `survey_contacts` (its reminder contact) and
`completions` (has taken part). The survey's answers are `storage.answers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection, write_transaction
from storage.dialects import insert_ignore, upsert
from storage.metadata import GROUPS, metadata
from storage.onehop import run_write

__all__ = [
    "SurveySession",
    "add_respondent_now",
    "completions",
    "ensure_respondent",
    "get_respondent_language",
    "respondents",
    "set_respondent_language",
    "survey_contacts",
    "survey_sessions",
]


@dataclass(frozen=True, slots=True)
class SurveySession:
    """A respondent's place in an in-progress survey; `version` bumps on every move."""

    pseudonym: str
    wave_id: int
    grp: str
    unit_id: int
    questionnaire_id: int
    invitation_id: int | None
    step: str
    question_id: str | None
    language: str
    message_id: int | None
    version: int
    started_at: datetime
    updated_at: datetime
    expires_on: date  # discarded after this day if not submitted


# Everyone who has talked to the bot, by pseudonym only.
respondents = Table(
    "respondents",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("language", String(5), nullable=True),  # chosen with /bahasa; None = Telegram's
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# A survey in progress (issue 20): everything the survey needs, keyed by the person's
# pseudonym, and no response id. Its answers so far are `draft_answers`; at submission the
# answers move to a fresh random response id and this row, its drafts and its contact are
# deleted in the same transaction, so nothing stored while the survey ran survives in the
# submitted record. Also deleted when the survey is cancelled or expires.
survey_sessions = Table(
    "survey_sessions",
    metadata,
    Column("pseudonym", ForeignKey("respondents.pseudonym", ondelete="CASCADE"), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    Column("invitation_id", ForeignKey("invitations.id"), nullable=True),
    # consent, eligibility, language, question, review
    Column("step", String(20), nullable=False),
    Column("question_id", String(60), nullable=True),
    Column("language", String(5), nullable=False),
    Column("message_id", BigInteger, nullable=True),  # the message edited in place
    Column("version", Integer, nullable=False, server_default="0"),  # bumps on every move
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # An unfinished survey past this date is discarded; it never counts.
    Column("expires_on", Date, nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    # A personal link's survey in progress is the claim on it: one at a time. The link is
    # marked used only when that survey is submitted, so a backup (which holds no survey in
    # progress) never shows who had begun, and after a restore the link works again.
    UniqueConstraint("invitation_id"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# The chat id (encrypted, like `contacts`) of a person whose survey is in progress, for
# reminders. Lives exactly as long as the session (cascade), and backups leave it out.
survey_contacts = Table(
    "survey_contacts",
    metadata,
    Column(
        "pseudonym",
        ForeignKey("survey_sessions.pseudonym", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("chat", LargeBinary, nullable=False),  # 12-byte nonce + ciphertext + tag
    Column("language", String(5), nullable=True),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# "Has taken part" markers: stop double voting, and nothing else. No date, no response id.
# `scope` is the unit for the external group (a citizen may rate every service they used,
# once each per wave; issue 22.6) and 0 for the others (one survey per wave and group). A
# scope of 0 in the external group predates per-unit completions and stands for every unit.
completions = Table(
    "completions",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("scope", Integer, primary_key=True, autoincrement=False, server_default="0"),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


def add_respondent_now(conn: Connection, pseudonym: str) -> None:
    """Insert the respondent row if it is missing (inside a one-hop write)."""
    conn.execute(insert_ignore(conn, respondents, {"pseudonym": pseudonym}, ["pseudonym"]))


async def ensure_respondent(engine: AsyncEngine, pseudonym: str) -> None:
    """Record that this pseudonym has talked to the bot (idempotent)."""
    await run_write(engine, lambda conn: add_respondent_now(conn, pseudonym))


async def set_respondent_language(
    engine: AsyncEngine, pseudonym: str, language: str | None
) -> None:
    """Store the respondent's chosen language (None: follow Telegram's)."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            upsert(
                conn,
                respondents,
                {"pseudonym": pseudonym, "language": language},
                ["pseudonym"],
                ["language"],
            )
        )


async def get_respondent_language(engine: AsyncEngine, pseudonym: str) -> str | None:
    """Return the respondent's chosen language, or None."""
    async with read_connection(engine) as conn:
        return (
            await conn.execute(
                select(respondents.c.language).where(respondents.c.pseudonym == pseudonym)
            )
        ).scalar_one_or_none()
