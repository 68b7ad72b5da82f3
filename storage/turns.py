"""A respondent's move: everything it needs, read in one transaction, and the move, one write.

A tap or a typed answer needs the person's chosen language, their session, whether its wave
still takes answers, the questionnaire version and the answers so far. Reading them in one
consistent read (instead of five round trips) is most of the work per tap; the move itself is
then one write (`move_session`), guarded by the session's version. Both run whole in one hop
(`storage.onehop`).

The answers so far are draft rows keyed by the person's pseudonym (`draft_answers`; no
response exists before submission). The answer's upsert also keeps the item's paradata, in
the same statement: the seconds since the session's previous move are added to the item's
time, and an answer replaced on coming back counts as a change.

On a SQLite file and on PostgreSQL both run at driver level (`storage.tap_sqlite`,
`storage.tap_postgres`: a tap's storage cost was mostly SQLAlchemy's execution layer); the
SQLAlchemy Core statements here are the reference they are tested against (`core=True`), and
what runs on an in-memory SQLite database.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.answers import draft_answers, write_draft
from storage.onehop import run_read, run_write
from storage.respondents import SurveySession, respondents, survey_sessions
from storage.sessions import driver, session_from_row
from storage.tap_rows import Move, Turn, plan_move
from storage.values import UNCHANGED, Unchanged
from storage.waves import WaveStatus, waves

__all__ = ["Turn", "load_turn", "move_session", "set_session_message"]


async def load_turn(engine: AsyncEngine, pseudonym: str, *, core: bool = False) -> Turn:
    """Read a respondent's language, session, wave status, questionnaire and answers.

    `core` runs the SQLAlchemy Core reference instead of the driver-level statements.
    """
    tap = None if core else driver(engine)
    if tap is not None:
        return await tap.load_turn(engine, pseudonym)
    return await run_read(engine, functools.partial(_load_turn, pseudonym=pseudonym))


# Built once: a tap runs them, and building a statement costs more than running it. A
# session row always has its respondent row (a foreign key), so one outer join from the
# respondent reads the language and the session together.
_RESPONDENT: Final = (
    select(
        respondents.c.language.label("chosen_language"),
        survey_sessions,
        waves.c.status.label("wave_status"),
    )
    .select_from(
        respondents.outerjoin(
            survey_sessions, survey_sessions.c.pseudonym == respondents.c.pseudonym
        ).outerjoin(waves, waves.c.id == survey_sessions.c.wave_id)
    )
    .where(respondents.c.pseudonym == bindparam("pseudonym"))
)
# Answers so far; a NULL value is an item passed without an answer (paradata, not an answer).
_ANSWERS: Final = select(draft_answers.c.question_id, draft_answers.c.value).where(
    draft_answers.c.pseudonym == bindparam("pseudonym"), draft_answers.c.value.is_not(None)
)


def _load_turn(conn: Connection, *, pseudonym: str) -> Turn:
    row = conn.execute(_RESPONDENT, {"pseudonym": pseudonym}).first()
    if row is None or row.pseudonym is None:  # a stranger, or nobody with a session
        return Turn(None if row is None else row.chosen_language, None)
    given = dict(conn.execute(_ANSWERS, {"pseudonym": pseudonym}).all())
    return Turn(
        chosen_language=row.chosen_language,
        session=session_from_row(row),
        wave_open=row.wave_status == WaveStatus.OPEN,
        questionnaire_id=row.questionnaire_id,
        answers=given,
    )


# -- the move: one write ------------------------------------------------------------------

# Built once (a tap runs it); the columns to set are given at execution.
_MOVE: Final = update(survey_sessions).where(
    survey_sessions.c.pseudonym == bindparam("where_pseudonym"),
    survey_sessions.c.version == bindparam("where_version"),
)
_BIND_MESSAGE: Final = (
    update(survey_sessions)
    .where(survey_sessions.c.pseudonym == bindparam("where_pseudonym"))
    .values(message_id=bindparam("message_id"))
)


def _move(conn: Connection, move: Move) -> bool:
    """Apply a move if the session is still at its expected version (the Core reference)."""
    # Optimistic concurrency: of two taps on the same screen only one finds the old version.
    result = conn.execute(
        _MOVE,
        {"where_pseudonym": move.pseudonym, "where_version": move.expected_version} | move.values(),
    )
    if result.rowcount != 1:
        return False
    if move.dropped:
        conn.execute(
            delete(draft_answers).where(
                draft_answers.c.pseudonym == move.pseudonym,
                draft_answers.c.question_id.in_(move.dropped),
            )
        )
    if move.answer is not None:
        question_id, value = move.answer
        write_draft(conn, move.pseudonym, question_id, value, move.seconds, partial=move.partial)
    return True


async def move_session(
    engine: AsyncEngine,
    session: SurveySession,
    *,
    now: datetime,
    step: str | Unchanged = UNCHANGED,
    question_id: str | Unchanged | None = UNCHANGED,
    language: str | Unchanged = UNCHANGED,
    answer: tuple[str, str | None] | None = None,
    partial: bool = False,
    drop_answers: Iterable[str] = (),
    message_id: int | Unchanged | None = UNCHANGED,
    core: bool = False,
) -> SurveySession | None:
    """Move the session and record an answer in one transaction, if nobody moved it first.

    `answer` is (question_id, value), value None for an item passed without an answer;
    `partial` marks a multiple choice being ticked (not yet confirmed, so not a change);
    `drop_answers` are answers a changed branch no longer asks; `message_id` is the message
    that will show the new step's buttons. Returns the moved session, or None when `session`
    is stale (a double tap). `core` runs the SQLAlchemy Core reference.
    """
    move = plan_move(
        session,
        now,
        {"step": step, "question_id": question_id, "language": language, "message_id": message_id},
        answer,
        partial,
        drop_answers,
    )
    tap = None if core else driver(engine)
    if tap is not None:
        moved = await tap.move(engine, move)
    else:
        moved = await run_write(engine, functools.partial(_move, move=move))
    return move.moved(session) if moved else None


async def set_session_message(
    engine: AsyncEngine, pseudonym: str, message_id: int, *, core: bool = False
) -> None:
    """Remember which message carries the session's live buttons (no version bump)."""
    tap = None if core else driver(engine)
    if tap is not None:
        await tap.set_message(engine, pseudonym, message_id)
        return
    values = {"where_pseudonym": pseudonym, "message_id": message_id}
    await run_write(engine, lambda conn: conn.execute(_BIND_MESSAGE, values))
