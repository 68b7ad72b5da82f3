"""The survey flow: sessions in progress, submission and the ways a survey ends unsubmitted.

Anonymity lives here (DESIGN.md §3, issue 20). A survey in progress is a session row and its
draft answers, keyed by the person's pseudonym; there is no response yet. `submit` files the
answers under a fresh random response id and deletes the session, its drafts and its
reminder contact in the same transaction, so nothing stored while the survey ran (its key,
its exact times) survives in the submitted record: the response keeps its completion date and
its duration and pace as bands. A cancelled or expired survey leaves only counts (dropouts,
item paradata). After each of these deletes the storage scrubber wipes the deleted bytes from
the database files (`storage.anonymity`).

Starting and submitting run at driver level on a SQLite file and on PostgreSQL
(`storage.tap_sqlite`, `storage.tap_postgres`, chosen by `driver`); the SQLAlchemy Core
transactions here are the reference they are tested against (`core=True`).

The session tables and `SurveySession` are defined in `storage.respondents`, below this module
and the drivers, which all read them.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import URL, Connection, bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import tap_postgres, tap_sqlite
from storage.anonymity import survey_state_deleted
from storage.answers import answers, draft_answers, responses
from storage.db import from_db, sqlite_file, utc
from storage.errors import AlreadyCompleted, InvitationTaken, NotFound, SessionExists
from storage.funnel import tally_dropouts
from storage.invitations import invitations
from storage.onehop import run_read, run_write
from storage.paradata import DraftRow, ItemTally, add_arrival
from storage.respondents import (
    SurveySession,
    add_respondent_now,
    completions,
    survey_contacts,
    survey_sessions,
)
from storage.tap_rows import EXTERNAL, Start, TapDriver, completion_scope, filing
from storage.waves import WaveStatus, wave_questionnaires, waves

__all__ = [
    "EXTERNAL",
    "cancel_session",
    "completed_in_open_wave",
    "completion_scope",
    "driver",
    "expire_sessions",
    "get_session",
    "has_completed",
    "session_from_row",
    "start_session",
    "submit",
]

# Sessions ended per statement when many expire at once (well under SQLite's variable limit).
_CHUNK: Final = 500


def session_from_row(row: Any) -> SurveySession:
    """Build a SurveySession from a survey_sessions row."""
    return SurveySession(
        pseudonym=row.pseudonym,
        wave_id=row.wave_id,
        grp=row.grp,
        unit_id=row.unit_id,
        questionnaire_id=row.questionnaire_id,
        invitation_id=row.invitation_id,
        step=row.step,
        question_id=row.question_id,
        language=row.language,
        message_id=row.message_id,
        version=row.version,
        started_at=from_db(row.started_at),
        updated_at=from_db(row.updated_at),
        expires_on=row.expires_on,
    )


def driver(engine: AsyncEngine) -> TapDriver | None:
    """Return the driver-level respondent transactions for `engine`'s database, or None
    where only the Core ones run (an in-memory SQLite database)."""
    if engine.dialect.name == "postgresql":
        return tap_postgres
    return tap_sqlite if _on_file(engine.url) else None


@functools.cache
def _on_file(url: URL) -> bool:
    # Cached: asked on every call of the hot path, and a path is costly to build.
    return sqlite_file(url) is not None


def _completed(
    conn: Connection, pseudonym: str, wave_id: int, grp: str, unit_id: int | None
) -> bool:
    """Tell whether a completion marker covers this survey.

    For the external group a marker of scope 0 predates per-unit completions and covers
    every unit; without `unit_id` any external marker counts.
    """
    where = [
        completions.c.pseudonym == pseudonym,
        completions.c.wave_id == wave_id,
        completions.c.grp == grp,
    ]
    if grp != EXTERNAL:
        where.append(completions.c.scope == 0)
    elif unit_id is not None:
        where.append(completions.c.scope.in_((0, unit_id)))
    return bool(conn.execute(select(exists().where(*where))).scalar())


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
    core: bool = False,
) -> SurveySession:
    """Begin a survey: a session row for the pseudonym (no response exists until submission).

    Raises SessionExists if a survey is in progress, AlreadyCompleted if this pseudonym has
    submitted this survey (wave and group; for citizens, also unit), InvitationTaken if the
    personal link `invitation_id` was submitted on or has another survey in progress (the
    session is the link's claim), NotFound if the wave has no questionnaire for `grp`.
    `core` runs the SQLAlchemy Core reference.
    """
    start = Start(
        pseudonym=pseudonym,
        wave_id=wave_id,
        grp=grp,
        unit_id=unit_id,
        invitation_id=invitation_id,
        language=language,
        step=step,
        now=utc(now),
        expires_after_days=expires_after_days,
    )
    tap = None if core else driver(engine)
    if tap is not None:
        return await tap.start(engine, start)

    def write(conn: Connection) -> SurveySession:
        questionnaire_id = conn.execute(
            select(wave_questionnaires.c.questionnaire_id).where(
                wave_questionnaires.c.wave_id == wave_id, wave_questionnaires.c.grp == grp
            )
        ).scalar_one_or_none()
        if questionnaire_id is None:
            raise NotFound(f"wave {wave_id} has no questionnaire for group {grp!r}")
        if _completed(conn, pseudonym, wave_id, grp, unit_id):
            raise AlreadyCompleted("already submitted for this wave and group")
        if (
            invitation_id is not None
            and conn.execute(
                select(invitations.c.used).where(invitations.c.id == invitation_id)
            ).scalar_one_or_none()
        ):
            raise InvitationTaken("this personal link was already used")
        add_respondent_now(conn, pseudonym)
        session = start.session(questionnaire_id)
        try:
            with conn.begin_nested():
                conn.execute(survey_sessions.insert().values(asdict(session)))
        except IntegrityError as exc:
            mine = select(exists().where(survey_sessions.c.pseudonym == pseudonym))
            if conn.execute(mine).scalar():
                raise SessionExists("a survey is already in progress") from exc
            raise InvitationTaken("another survey is in progress on this link") from exc
        return session

    return await run_write(engine, write)


async def get_session(engine: AsyncEngine, pseudonym: str) -> SurveySession | None:
    """Return the respondent's survey in progress, or None."""
    statement = select(survey_sessions).where(survey_sessions.c.pseudonym == pseudonym)
    row = await run_read(engine, lambda conn: conn.execute(statement).first())
    return None if row is None else session_from_row(row)


# The session row, locked against a concurrent move or submit on PostgreSQL (SQLite's
# writers are serialised already; FOR UPDATE is left out there).
_LOCK_SESSION: Final = (
    select(survey_sessions)
    .where(survey_sessions.c.pseudonym == bindparam("pseudonym"))
    .with_for_update()
)


def _drafts(conn: Connection, pseudonyms: Sequence[str]) -> dict[str, list[DraftRow]]:
    """Return the draft answers of these sessions, by pseudonym."""
    rows = conn.execute(
        select(
            draft_answers.c.pseudonym,
            draft_answers.c.question_id,
            draft_answers.c.value,
            draft_answers.c.seconds,
            draft_answers.c.changes,
        ).where(draft_answers.c.pseudonym.in_(list(pseudonyms)))
    )
    found: dict[str, list[DraftRow]] = defaultdict(list)
    for pseudonym, question_id, value, seconds, changes in rows:
        found[pseudonym].append(DraftRow(question_id, value, int(seconds), int(changes)))
    return found


def _delete(conn: Connection, pseudonyms: Sequence[str]) -> None:
    """Delete sessions with their drafts and reminder contacts (children first, explicitly,
    rather than relying on the cascade)."""
    people = list(pseudonyms)
    conn.execute(delete(draft_answers).where(draft_answers.c.pseudonym.in_(people)))
    conn.execute(delete(survey_contacts).where(survey_contacts.c.pseudonym.in_(people)))
    conn.execute(delete(survey_sessions).where(survey_sessions.c.pseudonym.in_(people)))


def _file(
    conn: Connection, session: Any, drafts: list[DraftRow], now: datetime, today: date
) -> None:
    """Write the submitted response, its answers and the aggregates (no session data)."""
    filed = filing(session, drafts, now, today)
    conn.execute(responses.insert().values(filed.response))
    if filed.answers:
        conn.execute(
            answers.insert(),
            [
                {"response_id": filed.response_id, "question_id": q, "value": v}
                for q, v in filed.answers
            ],
        )
    filed.tally.write(conn)
    add_arrival(conn, session.wave_id, session.unit_id, session.grp, now)


async def submit(
    engine: AsyncEngine,
    pseudonym: str,
    now: datetime,
    today: date,
    *,
    expected_version: int | None = None,
    core: bool = False,
) -> bool:
    """File the survey in progress under a fresh response id and forget who gave it.

    One transaction: the completion marker, the response (completion date `today`, duration
    and pace bands), its answers, the item paradata and the arrival count are written, and the
    session with its drafts and reminder contact is deleted. Returns False when there is
    nothing to submit (no session, a concurrent submit won, or the session is no longer at
    `expected_version` when one is given). Raises AlreadyCompleted if this pseudonym has
    already submitted this survey. `core` runs the SQLAlchemy Core reference.
    """
    moment = utc(now)
    tap = None if core else driver(engine)
    if tap is not None:
        filed = await tap.submit(engine, pseudonym, moment, today, expected_version)
        if filed:
            survey_state_deleted(engine)
        return filed

    def write(conn: Connection) -> bool:
        session = conn.execute(_LOCK_SESSION, {"pseudonym": pseudonym}).first()
        if session is None:
            return False
        if expected_version is not None and session.version != expected_version:
            return False
        if _completed(conn, pseudonym, session.wave_id, session.grp, session.unit_id):
            raise AlreadyCompleted("already submitted for this wave and group")
        scope = completion_scope(session.grp, session.unit_id)
        try:
            with conn.begin_nested():
                conn.execute(
                    completions.insert().values(
                        pseudonym=pseudonym, wave_id=session.wave_id, grp=session.grp, scope=scope
                    )
                )
        except IntegrityError as exc:
            raise AlreadyCompleted("already submitted for this wave and group") from exc
        if session.invitation_id is not None:
            # The link is used now (until this moment its claim was the session itself).
            marked = conn.execute(
                update(invitations)
                .where(invitations.c.id == session.invitation_id, invitations.c.used.is_(False))
                .values(used=True)
            )
            if marked.rowcount != 1:
                raise AlreadyCompleted("a survey was already submitted on this personal link")
        _file(conn, session, _drafts(conn, [pseudonym]).get(pseudonym, []), moment, today)
        _delete(conn, [pseudonym])
        return True

    filed = await run_write(engine, write)
    if filed:
        survey_state_deleted(engine)
    return filed


def _end_unsubmitted(conn: Connection, sessions: Sequence[Any]) -> None:
    """End surveys without a submission: count them (dropouts, item paradata) and delete them
    (inside the caller's transaction); a personal link works again once its session is gone."""
    for start in range(0, len(sessions), _CHUNK):
        chunk = sessions[start : start + _CHUNK]
        people = [s.pseudonym for s in chunk]
        drafts = _drafts(conn, people)
        tally = ItemTally()
        for session in chunk:
            tally.add(
                session.wave_id,
                session.questionnaire_id,
                drafts.get(session.pseudonym, []),
                abandoned_at=session.question_id,
            )
        tally.write(conn)
        tally_dropouts(conn, Counter((s.wave_id, s.unit_id, s.grp) for s in chunk))
        _delete(conn, people)


async def cancel_session(engine: AsyncEngine, pseudonym: str) -> bool:
    """End the survey in progress without a submission; return False if there was none."""

    def write(conn: Connection) -> bool:
        session = conn.execute(_LOCK_SESSION, {"pseudonym": pseudonym}).first()
        if session is None:
            return False
        _end_unsubmitted(conn, [session])
        return True

    ended = await run_write(engine, write)
    if ended:
        survey_state_deleted(engine)
    return ended


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


async def has_completed(
    engine: AsyncEngine,
    pseudonym: str,
    wave_id: int,
    grp: str,
    unit_id: int | None = None,
    *,
    core: bool = False,
) -> bool:
    """Tell whether this pseudonym has submitted this survey: the wave and group, and for
    the external group the unit (`unit_id`; without it, any unit). Asked before every start.
    `core` runs the SQLAlchemy Core reference."""
    tap = None if core else driver(engine)
    if tap is not None:
        return await tap.completed(engine, pseudonym, wave_id, grp, unit_id)
    return await run_read(engine, lambda conn: _completed(conn, pseudonym, wave_id, grp, unit_id))


async def expire_sessions(engine: AsyncEngine, today: date) -> int:
    """End every survey in progress whose expiry date has passed; return how many.

    A survey expires at the end of its `expires_on` day.
    """

    def write(conn: Connection) -> int:
        expired = conn.execute(
            select(survey_sessions).where(survey_sessions.c.expires_on < today).with_for_update()
        ).all()
        _end_unsubmitted(conn, expired)
        return len(expired)

    count = await run_write(engine, write)
    if count:
        survey_state_deleted(engine)
    return count
