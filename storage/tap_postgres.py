"""A respondent's start, taps, typed answers and submission on PostgreSQL, at driver level.

The same transactions, guards and rows as the SQLAlchemy Core reference
(`storage.turns`, `storage.sessions`; `tests/test_storage_tap.py` runs both on one script and
compares every row), run with asyncpg on the connection SQLAlchemy's pool hands out
(`storage.onehop.on_driver`; asyncpg prepares each statement once per connection). A tap is
two statements in autocommit instead of two transactions of two to four:

- the read is one SELECT that also gathers the answers so far into two arrays;
- the move is one statement: the version-guarded UPDATE of the session, with the dropped
  answers' DELETE and the answer's upsert in data-modifying CTEs that run only for the row
  the UPDATE returned. A single statement is its own transaction; a concurrent move of the
  same session waits for the row lock and then finds the version changed, as before.

Start and submission keep their transactions, in fewer statements.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any, Final

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, utc
from storage.errors import AlreadyCompleted, InvitationTaken, NotFound, SessionExists
from storage.onehop import on_driver
from storage.paradata import DraftRow
from storage.respondents import SurveySession
from storage.tap_rows import EXTERNAL, Filing, Move, Start, Turn, completion_scope, filing
from storage.waves import WaveStatus

__all__ = ["completed", "load_turn", "move", "set_message", "start", "submit"]

_SESSION: Final = (
    "s.pseudonym, s.wave_id, s.grp, s.unit_id, s.questionnaire_id, s.invitation_id, s.step, "
    "s.question_id, s.language, s.message_id, s.version, s.started_at, s.updated_at, "
    "s.expires_on"
)


def _session(row: Any, at: int = 0) -> SurveySession:
    """Build a session from the 14 columns of `_SESSION` starting at column `at` of `row`."""
    return SurveySession(
        pseudonym=row[at],
        wave_id=row[at + 1],
        grp=row[at + 2],
        unit_id=row[at + 3],
        questionnaire_id=row[at + 4],
        invitation_id=row[at + 5],
        step=row[at + 6],
        question_id=row[at + 7],
        language=row[at + 8],
        message_id=row[at + 9],
        version=row[at + 10],
        started_at=from_db(row[at + 11]),
        updated_at=from_db(row[at + 12]),
        expires_on=row[at + 13],
    )


# -- a turn: one statement --------------------------------------------------------------------

# Answers so far as two arrays in one order (a NULL value is an item passed unanswered:
# paradata, not an answer).
_TURN: Final = (
    f"SELECT r.language, {_SESSION}, w.status, a.questions, a.answers "
    "FROM respondents AS r "
    "LEFT JOIN survey_sessions AS s ON s.pseudonym = r.pseudonym "
    "LEFT JOIN waves AS w ON w.id = s.wave_id "
    "LEFT JOIN LATERAL (SELECT array_agg(d.question_id) AS questions, "
    "array_agg(d.value) AS answers FROM draft_answers AS d "
    "WHERE d.pseudonym = s.pseudonym AND d.value IS NOT NULL) AS a ON true "
    "WHERE r.pseudonym = $1"
)


async def load_turn(engine: AsyncEngine, pseudonym: str) -> Turn:
    """Read a respondent's language, session, wave status and answers (one statement)."""
    row = await on_driver(engine, lambda db: db.fetchrow(_TURN, pseudonym))
    if row is None or row[1] is None:  # a stranger, or nobody with a session
        return Turn(None if row is None else row[0], None)
    session = _session(row, 1)
    questions, answers = row[16], row[17]
    return Turn(
        chosen_language=row[0],
        session=session,
        wave_open=row[15] == WaveStatus.OPEN,
        questionnaire_id=session.questionnaire_id,
        answers={} if questions is None else dict(zip(questions, answers, strict=True)),
    )


# -- a move: one statement ----------------------------------------------------------------------


@functools.cache
def _move_sql(columns: tuple[str, ...], drops: bool, answers: bool) -> str:
    """The guarded UPDATE setting the version, the time and `columns`, with the drops
    ($n the array of question ids) and the answer's upsert ($n to $n+3) after them."""
    names = ("version", "updated_at", *columns)
    sets = ", ".join(f"{name} = ${number}" for number, name in enumerate(names, 3))
    sql = (
        f"WITH moved AS (UPDATE survey_sessions SET {sets} "
        "WHERE pseudonym = $1 AND version = $2 RETURNING pseudonym)"
    )
    number = 3 + len(names)
    if drops:
        sql += (
            ", dropped AS (DELETE FROM draft_answers WHERE pseudonym IN "
            f"(SELECT pseudonym FROM moved) AND question_id = ANY(${number}::varchar[]))"
        )
        number += 1
    if answers:
        # Seconds add up; a settled answer (not a multiple choice being ticked) replaced by a
        # different one, a NULL included, counts as a change (`storage.answers`).
        sql += (
            ", answered AS (INSERT INTO draft_answers "
            "(pseudonym, question_id, value, seconds, changes, partial) "
            f"SELECT pseudonym, ${number}::varchar, ${number + 1}::text, ${number + 2}::integer, "
            f"0, ${number + 3}::boolean FROM moved "
            "ON CONFLICT (pseudonym, question_id) DO UPDATE SET value = excluded.value, "
            "seconds = draft_answers.seconds + excluded.seconds, "
            "changes = draft_answers.changes + CASE WHEN draft_answers.partial IS false "
            "AND draft_answers.value IS DISTINCT FROM excluded.value THEN 1 ELSE 0 END, "
            "partial = excluded.partial)"
        )
    return sql + " SELECT count(*) FROM moved"


async def move(engine: AsyncEngine, move: Move) -> bool:
    """Apply `move` if the session is still at its version (one statement)."""
    sql = _move_sql(tuple(move.changes), bool(move.dropped), move.answer is not None)
    params: list[Any] = [
        move.pseudonym,
        move.expected_version,
        move.version,
        move.updated_at,
        *move.changes.values(),
    ]
    if move.dropped:
        params.append(list(move.dropped))
    if move.answer is not None:
        params += [*move.answer, move.seconds, move.partial]
    # Optimistic concurrency: of two taps on the same screen only one finds the old version.
    moved = await on_driver(engine, lambda db: db.fetchval(sql, *params))
    return bool(moved == 1)


async def set_message(engine: AsyncEngine, pseudonym: str, message_id: int) -> None:
    """Remember which message carries the session's live buttons (no version bump)."""
    sql = "UPDATE survey_sessions SET message_id = $2 WHERE pseudonym = $1"
    await on_driver(engine, lambda db: db.execute(sql, pseudonym, message_id))


# -- a start ------------------------------------------------------------------------------------


def _covered(grp: str, unit_id: int | None, number: int) -> tuple[str, tuple[Any, ...]]:
    """The completion markers that cover a survey (see `storage.sessions`), as a WHERE
    clause on `completions` after pseudonym, wave and group; `number` is the next $n."""
    if grp != EXTERNAL:
        return " AND scope = 0", ()
    if unit_id is not None:
        return f" AND scope IN (0, ${number})", (unit_id,)
    return "", ()


async def completed(
    engine: AsyncEngine, pseudonym: str, wave_id: int, grp: str, unit_id: int | None
) -> bool:
    """Tell whether a completion marker covers this survey (one statement)."""
    covered, extra = _covered(grp, unit_id, 4)
    sql = (
        "SELECT EXISTS (SELECT 1 FROM completions WHERE pseudonym = $1 AND wave_id = $2 "
        f"AND grp = $3{covered})"
    )
    found = await on_driver(engine, lambda db: db.fetchval(sql, pseudonym, wave_id, grp, *extra))
    return bool(found)


async def _start(db: Any, start: Start) -> SurveySession:
    covered, extra = _covered(start.grp, start.unit_id, 5)
    # The three checks in one read, answered in the reference's order.
    found = await db.fetchrow(
        "SELECT (SELECT questionnaire_id FROM wave_questionnaires "
        "WHERE wave_id = $1 AND grp = $2), "
        "EXISTS (SELECT 1 FROM completions WHERE pseudonym = $3 AND wave_id = $1 "
        f"AND grp = $2{covered}), "
        "(SELECT used FROM invitations WHERE id = $4)",
        start.wave_id,
        start.grp,
        start.pseudonym,
        start.invitation_id,
        *extra,
    )
    questionnaire_id, completed, used = found
    if questionnaire_id is None:
        raise NotFound(f"wave {start.wave_id} has no questionnaire for group {start.grp!r}")
    if completed:
        raise AlreadyCompleted("already submitted for this wave and group")
    if used:
        raise InvitationTaken("this personal link was already used")
    await db.execute(
        "INSERT INTO respondents (pseudonym) VALUES ($1) ON CONFLICT (pseudonym) DO NOTHING",
        start.pseudonym,
    )
    s = start.session(questionnaire_id)
    try:
        # Either key taken (this person's session, or another one on the same link) inserts
        # nothing, and the transaction can still ask which.
        inserted = await db.fetchval(
            "INSERT INTO survey_sessions (pseudonym, wave_id, grp, unit_id, questionnaire_id, "
            "invitation_id, step, question_id, language, message_id, version, started_at, "
            "updated_at, expires_on) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            *(s.pseudonym, s.wave_id, s.grp, s.unit_id, s.questionnaire_id, s.invitation_id),
            *(s.step, s.question_id, s.language, s.message_id, s.version),
            *(s.started_at, s.updated_at, s.expires_on),
        )
    except asyncpg.IntegrityConstraintViolationError as exc:
        # Any other constraint: no session of this person could be behind it.
        raise InvitationTaken("another survey is in progress on this link") from exc
    if inserted is None:
        mine = await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM survey_sessions WHERE pseudonym = $1)", s.pseudonym
        )
        if mine:
            raise SessionExists("a survey is already in progress")
        raise InvitationTaken("another survey is in progress on this link")
    return s


async def start(engine: AsyncEngine, start: Start) -> SurveySession:
    """Begin a survey in one transaction (see `storage.sessions.start_session`)."""

    async def work(db: Any) -> SurveySession:
        async with db.transaction():
            return await _start(db, start)

    return await on_driver(engine, work)


# -- a submission ----------------------------------------------------------------------------


async def _file(db: Any, pseudonym: str, filed: Filing) -> None:
    """Write the response, its answers and the aggregates; delete the survey's state."""
    r = filed.response
    await db.execute(
        "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
        "completed_on, duration_band, pace_band) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        *(r["id"], r["wave_id"], r["grp"], r["unit_id"], r["questionnaire_id"]),
        *(r["language"], r["completed_on"], r["duration_band"], r["pace_band"]),
    )
    if filed.answers:
        await db.execute(
            "INSERT INTO answers (response_id, question_id, value) "
            "SELECT $1::varchar, question_id, value FROM unnest($2::varchar[], $3::text[]) "
            "AS given (question_id, value)",
            filed.response_id,
            [question_id for question_id, _ in filed.answers],
            [value for _, value in filed.answers],
        )
    await _tally(db, filed)
    await db.execute(
        "INSERT INTO arrivals (wave_id, unit_id, grp, hour, count) VALUES ($1, $2, $3, $4, 1) "
        "ON CONFLICT (wave_id, unit_id, grp, hour) DO UPDATE "
        "SET count = arrivals.count + excluded.count",
        *(r["wave_id"], r["unit_id"], r["grp"], filed.arrival_hour),
    )
    # Children first, explicitly, rather than relying on the cascade.
    for table in ("draft_answers", "survey_contacts", "survey_sessions"):
        await db.execute(f"DELETE FROM {table} WHERE pseudonym = $1", pseudonym)


async def _tally(db: Any, filed: Filing) -> None:
    """Add the drafts' counts to item_paradata, every item in one statement."""
    rows = filed.tally.in_key_order()  # one lock order for every submission
    if not rows:
        return
    counts = tuple(rows[0][1])
    columns = ("wave_id", "questionnaire_id", "question_id", *counts)
    arrays = ", ".join(
        f"${number}::{'varchar' if name == 'question_id' else 'integer'}[]"
        for number, name in enumerate(columns, 1)
    )
    adds = ", ".join(f"{name} = item_paradata.{name} + excluded.{name}" for name in counts)
    names = ", ".join(columns)
    await db.execute(
        f"INSERT INTO item_paradata ({names}) SELECT {names} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS given ({names}, n) ORDER BY n "
        f"ON CONFLICT (wave_id, questionnaire_id, question_id) DO UPDATE SET {adds}",
        *([key[index] for key, _ in rows] for index in range(3)),
        *([row[name] for _, row in rows] for name in counts),
    )


async def _submit(
    db: Any, pseudonym: str, now: datetime, today: date, expected: int | None
) -> bool:
    # The session row, locked against a concurrent move or submit.
    found = await db.fetchrow(
        f"SELECT {_SESSION} FROM survey_sessions AS s WHERE s.pseudonym = $1 FOR UPDATE",
        pseudonym,
    )
    if found is None:
        return False
    session = _session(found)
    if expected is not None and session.version != expected:
        return False
    # The marker, unless one covers this survey already (read after the lock, as the
    # reference reads it).
    covered, extra = _covered(session.grp, session.unit_id, 5)
    try:
        marked = await db.fetchval(
            "INSERT INTO completions (pseudonym, wave_id, grp, scope) "
            "SELECT $1::varchar, $2::integer, $3::varchar, $4::integer "
            "WHERE NOT EXISTS (SELECT 1 FROM completions "
            f"WHERE pseudonym = $1 AND wave_id = $2 AND grp = $3{covered}) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            pseudonym,
            session.wave_id,
            session.grp,
            completion_scope(session.grp, session.unit_id),
            *extra,
        )
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise AlreadyCompleted("already submitted for this wave and group") from exc
    if marked is None:
        raise AlreadyCompleted("already submitted for this wave and group")
    if session.invitation_id is not None:
        # The link is used now (until this moment its claim was the session itself).
        status = await db.execute(
            "UPDATE invitations SET used = true WHERE id = $1 AND used IS false",
            session.invitation_id,
        )
        if status != "UPDATE 1":
            raise AlreadyCompleted("a survey was already submitted on this personal link")
    drafts = [
        DraftRow(row[0], row[1], int(row[2]), int(row[3]))
        for row in await db.fetch(
            "SELECT question_id, value, seconds, changes FROM draft_answers WHERE pseudonym = $1",
            pseudonym,
        )
    ]
    await _file(db, pseudonym, filing(session, drafts, now, today))
    return True


async def submit(
    engine: AsyncEngine, pseudonym: str, now: datetime, today: date, expected: int | None
) -> bool:
    """File the survey in progress in one transaction (see `storage.sessions.submit`)."""
    moment = utc(now)

    async def work(db: Any) -> bool:
        async with db.transaction():
            return await _submit(db, pseudonym, moment, today, expected)

    return await on_driver(engine, work)
