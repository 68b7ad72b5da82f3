"""A respondent's move: everything it needs, read in one transaction, and the move, one write.

A tap or a typed answer needs the person's chosen language, their session, whether its wave
still takes answers, the questionnaire version and the answers so far. Reading them in one
consistent read (instead of five round trips) is most of the work per tap; the move itself is
then one write (`move_session`), guarded by the session's version. Both run whole in one hop
(`storage.onehop`), with statements built once.

The answers so far are draft rows keyed by the person's pseudonym (`draft_answers`; no
response exists before submission). The answer's upsert also keeps the item's paradata, in
the same statement: the seconds since the session's previous move are added to the item's
time, and an answer replaced on coming back counts as a change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.answers import write_draft
from storage.db import from_db, utc
from storage.models import UNCHANGED, SurveySession, Unchanged, WaveStatus
from storage.onehop import run_read, run_write
from storage.schema import draft_answers, respondents, survey_sessions, waves
from storage.sessions import session_from_row

__all__ = ["Turn", "load_turn", "move_session", "set_session_message"]


@dataclass(frozen=True, slots=True)
class Turn:
    """A respondent's state at the start of a move."""

    chosen_language: str | None  # chosen with /bahasa; None: follow Telegram's
    session: SurveySession | None
    wave_open: bool = False  # whether the session's wave still takes answers
    questionnaire_id: int | None = None
    answers: dict[str, str] = field(default_factory=dict)


async def load_turn(engine: AsyncEngine, pseudonym: str) -> Turn:
    """Read a respondent's language, session, wave status, questionnaire and answers."""
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

# A draft's seconds on an item stop growing at a day (the histogram's top band starts far below).
_MAX_SECONDS: Final = 86_400


def _moves(
    now: datetime,
    expected_version: int,
    changes: Mapping[str, object],
) -> dict[str, Any]:
    """Return the column values of a session move (unchanged fields left out)."""
    values: dict[str, Any] = {"version": expected_version + 1, "updated_at": utc(now)}
    values.update({k: v for k, v in changes.items() if not isinstance(v, Unchanged)})
    return values


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


def _move(conn: Connection, pseudonym: str, expected_version: int, values: Any) -> bool:
    """Apply a move if the session is still at `expected_version`."""
    # Optimistic concurrency: of two taps on the same screen only one finds the old version.
    result = conn.execute(
        _MOVE, {"where_pseudonym": pseudonym, "where_version": expected_version, **values}
    )
    return result.rowcount == 1


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
) -> SurveySession | None:
    """Move the session and record an answer in one transaction, if nobody moved it first.

    `answer` is (question_id, value), value None for an item passed without an answer;
    `partial` marks a multiple choice being ticked (not yet confirmed, so not a change);
    `drop_answers` are answers a changed branch no longer asks; `message_id` is the message
    that will show the new step's buttons. Returns the moved session, or None when `session`
    is stale (a double tap).
    """
    values = _moves(
        now,
        session.version,
        {
            "step": step,
            "question_id": question_id,
            "language": language,
            "message_id": message_id,
        },
    )
    dropped = [q for q in drop_answers if answer is None or q != answer[0]]
    # Time on the item: since the previous move showed it (a day's pause counts as a day).
    seconds = min(
        _MAX_SECONDS,
        max(0, int((values["updated_at"] - from_db(session.updated_at)).total_seconds())),
    )

    def write(conn: Connection) -> bool:
        if not _move(conn, session.pseudonym, session.version, values):
            return False
        if dropped:
            conn.execute(
                delete(draft_answers).where(
                    draft_answers.c.pseudonym == session.pseudonym,
                    draft_answers.c.question_id.in_(dropped),
                )
            )
        if answer is not None:
            write_draft(conn, session.pseudonym, answer[0], answer[1], seconds, partial=partial)
        return True

    if not await run_write(engine, write):
        return None
    return replace(
        session,
        version=values["version"],
        updated_at=values["updated_at"],
        **{
            k: v
            for k, v in values.items()
            if k in ("step", "question_id", "language", "message_id")
        },
    )


async def set_session_message(engine: AsyncEngine, pseudonym: str, message_id: int) -> None:
    """Remember which message carries the session's live buttons (no version bump)."""
    values = {"where_pseudonym": pseudonym, "message_id": message_id}
    await run_write(engine, lambda conn: conn.execute(_BIND_MESSAGE, values))
