"""Answers: drafts of a survey in progress (by pseudonym), and submitted responses (by id).

The two never meet: a draft row is keyed by the person's pseudonym and lives until the survey
ends; a submitted answer is keyed by a response id drawn at submission (`storage.sessions`).
Tables `draft_answers`, `responses` and `answers`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    Insert,
    Integer,
    String,
    Table,
    Text,
    case,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection
from storage.metadata import GROUPS, metadata
from storage.onehop import run_read

__all__ = [
    "SEPARATOR",
    "Response",
    "answers",
    "draft_answers",
    "draft_value",
    "get_answers",
    "get_drafts",
    "get_response",
    "responses",
    "write_draft",
]


# Bytes that never occur in question ids and are replaced in answer values on write.
SEPARATOR: Final = "\x1f"


def draft_value(question_id: str, value: str | None) -> str | None:
    """Return an answer as a draft row stores it; refuse a question id no frame could hold."""
    if SEPARATOR in question_id:
        raise ValueError("question ids must not contain control characters")
    # answers_frame packs answers with this separator; nobody types it on purpose.
    return None if value is None else value.replace(SEPARATOR, " ")


@dataclass(frozen=True, slots=True)
class Response:
    """A submitted response: never a pseudonym, a completion date without time of day, and
    its duration and pace as bands (scoring.paradata), never seconds."""

    id: str
    wave_id: int
    grp: str
    unit_id: int
    questionnaire_id: int
    language: str
    completed_on: date
    duration_band: int | None
    pace_band: int | None


# The answers of a survey in progress, and what the person did on each item (paradata). A
# NULL value is an item shown and passed without an answer (skipped, or every option of a
# multiple choice taken off again). `seconds` adds up the time spent on the item (from the
# session's previous move to each answer), `changes` counts answers changed on coming back,
# `partial` marks a multiple choice being ticked (its ticks are not changes). Folded into
# `item_paradata` as counts when the survey ends, then deleted with the session.
draft_answers = Table(
    "draft_answers",
    metadata,
    Column(
        "pseudonym",
        ForeignKey("survey_sessions.pseudonym", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("question_id", String(60), primary_key=True),
    Column("value", Text, nullable=True),
    Column("seconds", Integer, nullable=False, server_default="0"),
    Column("changes", Integer, nullable=False, server_default="0"),
    Column("partial", Boolean, nullable=False, server_default="0"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


# Submitted responses only: a random id made at submission, no pseudonym, the completion date
# (never a time of day) and the survey's duration and pace as coarse bands
# (scoring.paradata), never seconds.
responses = Table(
    "responses",
    metadata,
    Column("id", String(32), primary_key=True),  # random hex, drawn at submission
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    Column("language", String(5), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("duration_band", Integer, nullable=True),
    Column("pace_band", Integer, nullable=True),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    sqlite_with_rowid=False,  # see the note in storage.metadata
)

Index("ix_responses_wave_id", responses.c.wave_id)


answers = Table(
    "answers",
    metadata,
    Column("response_id", ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("question_id", String(60), primary_key=True),
    Column("value", Text, nullable=False),  # option value(s), a number, or free text
    sqlite_with_rowid=False,  # see the note in storage.metadata
)


@functools.cache
def _draft_upsert(dialect: str) -> Insert:
    """Return the draft upsert, built once per dialect: the value, plus the item's paradata.

    Seconds add up. A change is counted when a settled answer (not a multiple choice being
    ticked) is replaced by a different one, a NULL (passed unanswered) included.
    """
    stmt = (
        postgresql.insert(draft_answers)
        if dialect == "postgresql"
        else sqlite.insert(draft_answers)
    )
    new, old = stmt.excluded, draft_answers.c
    changed = case(
        (old.partial.is_(False) & old["value"].is_distinct_from(new["value"]), 1), else_=0
    )
    result: Insert = stmt.on_conflict_do_update(
        index_elements=["pseudonym", "question_id"],
        set_={
            "value": new["value"],
            "seconds": old.seconds + new.seconds,
            "changes": old.changes + changed,
            "partial": new.partial,
        },
    )
    return result


def write_draft(
    conn: Connection,
    pseudonym: str,
    question_id: str,
    value: str | None,
    seconds: int,
    *,
    partial: bool = False,
) -> None:
    """Upsert one draft answer inside `move_session`'s (synchronous, one-hop) transaction."""
    conn.execute(
        _draft_upsert(conn.dialect.name),
        {
            "pseudonym": pseudonym,
            "question_id": question_id,
            "value": draft_value(question_id, value),
            "seconds": seconds,
            "changes": 0,
            "partial": partial,
        },
    )


async def get_drafts(engine: AsyncEngine, pseudonym: str) -> dict[str, str | None]:
    """Return the draft answers of a survey in progress by question id (None: passed)."""
    statement = select(draft_answers.c.question_id, draft_answers.c["value"]).where(
        draft_answers.c.pseudonym == pseudonym
    )
    rows = await run_read(engine, lambda conn: conn.execute(statement).all())
    return dict(rows)


async def get_answers(engine: AsyncEngine, response_id: str) -> dict[str, str]:
    """Return a submitted response's answers by question id."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(answers.c.question_id, answers.c.value).where(
                answers.c.response_id == response_id
            )
        )
        return dict(rows.all())


async def get_response(engine: AsyncEngine, response_id: str) -> Response | None:
    """Return a submitted response, or None."""
    async with read_connection(engine) as conn:
        row = (await conn.execute(select(responses).where(responses.c.id == response_id))).first()
    if row is None:
        return None
    return Response(
        id=row.id,
        wave_id=row.wave_id,
        grp=row.grp,
        unit_id=row.unit_id,
        questionnaire_id=row.questionnaire_id,
        language=row.language,
        completed_on=row.completed_on,
        duration_band=row.duration_band,
        pace_band=row.pace_band,
    )
