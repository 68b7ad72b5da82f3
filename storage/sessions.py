"""The survey flow: in-progress sessions, their answers, submission and expiry.

Anonymity lives here (DESIGN.md §3): a session row is the only link between a pseudonym
and a response id, and `submit` deletes it in the same transaction that files the response.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.contacts import forget_survey_contact
from storage.db import from_db, utc, write_transaction
from storage.errors import AlreadyCompleted, NotFound, SessionExists
from storage.funnel import tally_dropouts
from storage.models import SurveySession, WaveStatus
from storage.onehop import run_read, run_write
from storage.respondents import add_respondent_now
from storage.schema import (
    answers,
    completions,
    invitations,
    responses,
    survey_sessions,
    wave_questionnaires,
    waves,
)

__all__ = [
    "cancel_session",
    "completed_in_open_wave",
    "expire_sessions",
    "get_session",
    "has_completed",
    "start_session",
    "submit",
]

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"


def session_from_row(row: Any) -> SurveySession:
    """Build a SurveySession from a survey_sessions row."""
    return SurveySession(
        pseudonym=row.pseudonym,
        response_id=row.response_id,
        wave_id=row.wave_id,
        grp=row.grp,
        unit_id=row.unit_id,
        invitation_id=row.invitation_id,
        step=row.step,
        question_id=row.question_id,
        language=row.language,
        message_id=row.message_id,
        version=row.version,
        started_at=from_db(row.started_at),
        updated_at=from_db(row.updated_at),
    )


def _completed(conn: Connection, pseudonym: str, wave_id: int, grp: str) -> bool:
    """Tell whether a completion marker exists."""
    return bool(
        conn.execute(
            select(
                exists().where(
                    completions.c.pseudonym == pseudonym,
                    completions.c.wave_id == wave_id,
                    completions.c.grp == grp,
                )
            )
        ).scalar()
    )


async def start_session(
    engine: AsyncEngine,
    pseudonym: str,
    wave_id: int,
    grp: str,
    unit_id: int,
    invitation_id: int | None,
    language: str,
    step: str,
    now: datetime,
    *,
    expires_after_days: int = 14,
) -> SurveySession:
    """Create a response (random id) and the session linking the pseudonym to it.

    Raises SessionExists if a survey is in progress, AlreadyCompleted if this pseudonym has
    submitted for the wave and group, NotFound if the wave has no questionnaire for `grp`.
    """
    now = utc(now)
    response_id = secrets.token_hex(16)
    session = SurveySession(
        pseudonym=pseudonym,
        response_id=response_id,
        wave_id=wave_id,
        grp=grp,
        unit_id=unit_id,
        invitation_id=invitation_id,
        step=step,
        question_id=None,
        language=language,
        message_id=None,
        version=0,
        started_at=now,
        updated_at=now,
    )

    def write(conn: Connection) -> None:
        questionnaire_id = conn.execute(
            select(wave_questionnaires.c.questionnaire_id).where(
                wave_questionnaires.c.wave_id == wave_id, wave_questionnaires.c.grp == grp
            )
        ).scalar_one_or_none()
        if questionnaire_id is None:
            raise NotFound(f"wave {wave_id} has no questionnaire for group {grp!r}")
        if _completed(conn, pseudonym, wave_id, grp):
            raise AlreadyCompleted("already submitted for this wave and group")
        add_respondent_now(conn, pseudonym)
        conn.execute(
            responses.insert().values(
                id=response_id,
                wave_id=wave_id,
                grp=grp,
                unit_id=unit_id,
                questionnaire_id=questionnaire_id,
                language=language,
                status=IN_PROGRESS,
                expires_on=now.date() + timedelta(days=expires_after_days),
            )
        )
        try:
            with conn.begin_nested():
                conn.execute(survey_sessions.insert().values(asdict(session)))
        except IntegrityError as exc:
            raise SessionExists("a survey is already in progress") from exc

    await run_write(engine, write)
    return session


async def get_session(engine: AsyncEngine, pseudonym: str) -> SurveySession | None:
    """Return the respondent's in-progress session, or None."""
    statement = select(survey_sessions).where(survey_sessions.c.pseudonym == pseudonym)
    row = await run_read(engine, lambda conn: conn.execute(statement).first())
    return None if row is None else session_from_row(row)


async def submit(
    engine: AsyncEngine,
    pseudonym: str,
    today: date,
    duration_seconds: int | None,
    *,
    expected_version: int | None = None,
) -> bool:
    """File the in-progress response and forget who gave it, in one transaction.

    Marks the response submitted (completion date only), records the completion marker and
    deletes the session, the only pseudonym-to-response link. Returns False when there is
    nothing to submit (no session, a concurrent submit won, or the session is no longer at
    `expected_version` when one is given). Raises AlreadyCompleted if this pseudonym
    already submitted for the wave and group.
    """
    async with write_transaction(engine) as conn:
        session = (
            await conn.execute(
                select(
                    survey_sessions.c.response_id,
                    survey_sessions.c.wave_id,
                    survey_sessions.c.grp,
                    survey_sessions.c.version,
                ).where(survey_sessions.c.pseudonym == pseudonym)
            )
        ).first()
        if session is None or session.response_id is None:
            return False
        if expected_version is not None and session.version != expected_version:
            return False
        filed = await conn.execute(
            update(responses)
            .where(responses.c.id == session.response_id, responses.c.status == IN_PROGRESS)
            .values(
                status=SUBMITTED,
                completed_on=today,
                duration_seconds=duration_seconds,
                expires_on=None,
            )
        )
        if filed.rowcount != 1:
            return False
        try:
            async with conn.begin_nested():
                await conn.execute(
                    completions.insert().values(
                        pseudonym=pseudonym, wave_id=session.wave_id, grp=session.grp
                    )
                )
        except IntegrityError as exc:
            raise AlreadyCompleted("already submitted for this wave and group") from exc
        await conn.execute(delete(survey_sessions).where(survey_sessions.c.pseudonym == pseudonym))
        await forget_survey_contact(conn, pseudonym)  # nobody to remind any more
    return True


async def _discard(
    conn: AsyncConnection, response_ids: list[str], invitation_ids: list[int]
) -> None:
    """Delete partial responses (answers and sessions cascade) and free their invitations."""
    if invitation_ids:
        # The person never finished: let the same personal link start the survey again.
        await conn.execute(
            update(invitations).where(invitations.c.id.in_(invitation_ids)).values(used=False)
        )
    if response_ids:
        await tally_dropouts(conn, response_ids)  # /progres counts them as abandoned
        await conn.execute(delete(answers).where(answers.c.response_id.in_(response_ids)))
        await conn.execute(
            delete(survey_sessions).where(survey_sessions.c.response_id.in_(response_ids))
        )
        await conn.execute(
            delete(responses).where(
                responses.c.id.in_(response_ids), responses.c.status == IN_PROGRESS
            )
        )
        await forget_survey_contact(conn)  # their surveys ended: nobody to remind


async def cancel_session(engine: AsyncEngine, pseudonym: str) -> bool:
    """Delete the session, its partial response and answers; return False if none existed."""
    async with write_transaction(engine) as conn:
        row = (
            await conn.execute(
                select(survey_sessions.c.response_id, survey_sessions.c.invitation_id).where(
                    survey_sessions.c.pseudonym == pseudonym
                )
            )
        ).first()
        if row is None:
            return False
        await conn.execute(delete(survey_sessions).where(survey_sessions.c.pseudonym == pseudonym))
        await _discard(
            conn,
            [] if row.response_id is None else [row.response_id],
            [] if row.invitation_id is None else [row.invitation_id],
        )
    return True


async def completed_in_open_wave(engine: AsyncEngine, pseudonym: str) -> bool:
    """Tell whether this pseudonym has submitted a survey of the open wave (any group)."""
    statement = select(
        exists().where(
            completions.c.pseudonym == pseudonym,
            completions.c.wave_id == waves.c.id,
            waves.c.status == WaveStatus.OPEN.value,
        )
    )
    return bool(await run_read(engine, lambda conn: conn.execute(statement).scalar()))


async def has_completed(engine: AsyncEngine, pseudonym: str, wave_id: int, grp: str) -> bool:
    """Tell whether this pseudonym has submitted for the wave and group."""
    return await run_read(engine, lambda conn: _completed(conn, pseudonym, wave_id, grp))


async def expire_sessions(engine: AsyncEngine, today: date) -> int:
    """Delete partial responses whose expiry date has passed, with their sessions.

    A response expires at the end of its `expires_on` day. Returns how many were deleted.
    """
    async with write_transaction(engine) as conn:
        expired = list(
            (
                await conn.execute(
                    select(responses.c.id).where(
                        responses.c.status == IN_PROGRESS, responses.c.expires_on < today
                    )
                )
            ).scalars()
        )
        if not expired:
            return 0
        invitation_ids = [
            invitation_id
            for invitation_id in (
                await conn.execute(
                    select(survey_sessions.c.invitation_id).where(
                        survey_sessions.c.response_id.in_(expired)
                    )
                )
            ).scalars()
            if invitation_id is not None
        ]
        await _discard(conn, expired, invitation_ids)
    return len(expired)
