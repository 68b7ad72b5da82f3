"""Everything one respondent move needs, read in one transaction.

A tap or a typed answer needs the person's chosen language, their session, whether its wave
still takes answers, the questionnaire version and the answers so far. Reading them in one
consistent read (instead of five round trips) is most of the work per tap; the move itself is
then one write (`storage.move_session`). Both run whole in one hop (`storage.onehop`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import SurveySession, WaveStatus
from storage.onehop import run_read
from storage.schema import answers, respondents, responses, survey_sessions, waves
from storage.sessions import session_from_row

__all__ = ["Turn", "load_turn"]


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


# Built once: a tap runs them, and building a statement costs more than running it.
_LANGUAGE: Final = select(respondents.c.language).where(
    respondents.c.pseudonym == bindparam("pseudonym")
)
_SESSION: Final = (
    select(
        survey_sessions,
        waves.c.status.label("wave_status"),
        responses.c.questionnaire_id.label("turn_questionnaire_id"),
    )
    .select_from(
        survey_sessions.outerjoin(waves, waves.c.id == survey_sessions.c.wave_id).outerjoin(
            responses, responses.c.id == survey_sessions.c.response_id
        )
    )
    .where(survey_sessions.c.pseudonym == bindparam("pseudonym"))
)
_ANSWERS: Final = select(answers.c.question_id, answers.c.value).where(
    answers.c.response_id == bindparam("response_id")
)


def _load_turn(conn: Connection, *, pseudonym: str) -> Turn:
    language = conn.execute(_LANGUAGE, {"pseudonym": pseudonym}).scalar_one_or_none()
    row = conn.execute(_SESSION, {"pseudonym": pseudonym}).first()
    if row is None:
        return Turn(language, None)
    given: dict[str, str] = {}
    if row.response_id is not None:
        given = dict(conn.execute(_ANSWERS, {"response_id": row.response_id}).all())
    return Turn(
        chosen_language=language,
        session=session_from_row(row),
        wave_open=row.wave_status == WaveStatus.OPEN,
        questionnaire_id=row.turn_questionnaire_id,
        answers=given,
    )
