"""A respondent's start, taps, typed answers and submission on SQLite, at driver level.

The same transactions, guards and rows as the SQLAlchemy Core reference
(`storage.turns`, `storage.sessions`; `tests/test_storage_tap.py` runs both on one script and
compares every row), run with the `sqlite3` module on the connection SQLAlchemy's pool hands
out (`storage.onehop.run_read_driver`, `run_write_driver`): no statement compilation, no
result objects, no execution events. Most of a tap's storage cost was that layer, not SQLite.

Values are stored as SQLAlchemy's SQLite types store them: timestamps as
`YYYY-MM-DD HH:MM:SS.ffffff` text in UTC, dates as `YYYY-MM-DD`, booleans as 0 and 1.
"""

from __future__ import annotations

import functools
import sqlite3
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, utc
from storage.errors import AlreadyCompleted, InvitationTaken, NotFound, SessionExists
from storage.onehop import run_read_driver, run_write_driver
from storage.paradata import DraftRow
from storage.respondents import SurveySession
from storage.tap_rows import EXTERNAL, Filing, Move, Start, Turn, completion_scope, filing
from storage.waves import WaveStatus

__all__ = ["completed", "load_turn", "move", "set_message", "start", "submit"]


def _text(moment: datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite DateTime stores it (UTC, microseconds, no zone)."""
    return utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")


def _moment(stored: str) -> datetime:
    return from_db(datetime.fromisoformat(stored))


_SESSION: Final = (
    "s.pseudonym, s.wave_id, s.grp, s.unit_id, s.questionnaire_id, s.invitation_id, s.step, "
    "s.question_id, s.language, s.message_id, s.version, s.started_at, s.updated_at, "
    "s.expires_on"
)


def _session(row: Any) -> SurveySession:
    """Build a session from the 14 columns of `_SESSION` at the start of `row`."""
    return SurveySession(
        pseudonym=row[0],
        wave_id=row[1],
        grp=row[2],
        unit_id=row[3],
        questionnaire_id=row[4],
        invitation_id=row[5],
        step=row[6],
        question_id=row[7],
        language=row[8],
        message_id=row[9],
        version=row[10],
        started_at=_moment(row[11]),
        updated_at=_moment(row[12]),
        expires_on=date.fromisoformat(row[13]),
    )


# -- a turn: one statement --------------------------------------------------------------------

# The respondent's language, session and wave, and one row per answer so far (a NULL value is
# an item passed unanswered: paradata, not an answer). One statement is one consistent read.
_TURN: Final = (
    f"SELECT r.language, {_SESSION}, w.status, d.question_id, d.value "
    "FROM respondents AS r "
    "LEFT JOIN survey_sessions AS s ON s.pseudonym = r.pseudonym "
    "LEFT JOIN waves AS w ON w.id = s.wave_id "
    "LEFT JOIN draft_answers AS d ON d.pseudonym = s.pseudonym AND d.value IS NOT NULL "
    "WHERE r.pseudonym = ?"
)


def _load_turn(db: sqlite3.Connection, pseudonym: str) -> Turn:
    rows = db.execute(_TURN, (pseudonym,)).fetchall()
    if not rows or rows[0][1] is None:  # a stranger, or nobody with a session
        return Turn(rows[0][0] if rows else None, None)
    first = rows[0]
    session = _session(first[1:])
    return Turn(
        chosen_language=first[0],
        session=session,
        wave_open=first[15] == WaveStatus.OPEN,
        questionnaire_id=session.questionnaire_id,
        answers={row[16]: row[17] for row in rows if row[16] is not None},
    )


async def load_turn(engine: AsyncEngine, pseudonym: str) -> Turn:
    """Read a respondent's language, session, wave status and answers (one statement)."""
    return await run_read_driver(engine, lambda db: _load_turn(db, pseudonym))


# -- a move: the version-guarded update, the drops and the draft answer -----------------------


@functools.cache
def _move_sql(columns: tuple[str, ...]) -> str:
    """The guarded UPDATE setting the version, the time and `columns`."""
    sets = ", ".join(f"{name} = ?" for name in ("version", "updated_at", *columns))
    return f"UPDATE survey_sessions SET {sets} WHERE pseudonym = ? AND version = ?"


@functools.cache
def _drop_sql(count: int) -> str:
    marks = ", ".join("?" * count)
    return f"DELETE FROM draft_answers WHERE pseudonym = ? AND question_id IN ({marks})"


# Seconds add up; a settled answer (not a multiple choice being ticked) replaced by a
# different one, a NULL included, counts as a change (`storage.answers`).
_DRAFT: Final = (
    "INSERT INTO draft_answers (pseudonym, question_id, value, seconds, changes, partial) "
    "VALUES (?, ?, ?, ?, 0, ?) "
    "ON CONFLICT (pseudonym, question_id) DO UPDATE SET value = excluded.value, "
    "seconds = draft_answers.seconds + excluded.seconds, "
    "changes = draft_answers.changes + CASE WHEN draft_answers.partial IS 0 "
    "AND draft_answers.value IS NOT excluded.value THEN 1 ELSE 0 END, "
    "partial = excluded.partial"
)


def _bind(value: object) -> object:
    return _text(value) if isinstance(value, datetime) else value


def _move(db: sqlite3.Connection, move: Move) -> bool:
    values = (move.version, _text(move.updated_at), *map(_bind, move.changes.values()))
    moved = db.execute(
        _move_sql(tuple(move.changes)), (*values, move.pseudonym, move.expected_version)
    )
    # Optimistic concurrency: of two taps on the same screen only one finds the old version.
    if moved.rowcount != 1:
        return False
    if move.dropped:
        db.execute(_drop_sql(len(move.dropped)), (move.pseudonym, *move.dropped))
    if move.answer is not None:
        question_id, value = move.answer
        db.execute(_DRAFT, (move.pseudonym, question_id, value, move.seconds, move.partial))
    return True


async def move(engine: AsyncEngine, move: Move) -> bool:
    """Apply `move` in one write transaction if the session is still at its version."""
    return await run_write_driver(engine, lambda db: _move(db, move))


async def set_message(engine: AsyncEngine, pseudonym: str, message_id: int) -> None:
    """Remember which message carries the session's live buttons (no version bump)."""
    sql = "UPDATE survey_sessions SET message_id = ? WHERE pseudonym = ?"
    await run_write_driver(engine, lambda db: db.execute(sql, (message_id, pseudonym)))


# -- a start -------------------------------------------------------------------------------------


def _completed(
    db: sqlite3.Connection, pseudonym: str, wave_id: int, grp: str, unit_id: int | None
) -> bool:
    """Tell whether a completion marker covers this survey (see `storage.sessions`)."""
    sql = "SELECT EXISTS (SELECT 1 FROM completions WHERE pseudonym = ? AND wave_id = ? AND grp = ?"
    params: tuple[Any, ...] = (pseudonym, wave_id, grp)
    if grp != EXTERNAL:
        sql += " AND scope = 0"
    elif unit_id is not None:
        sql += " AND scope IN (0, ?)"
        params += (unit_id,)
    return bool(db.execute(sql + ")", params).fetchone()[0])


async def completed(
    engine: AsyncEngine, pseudonym: str, wave_id: int, grp: str, unit_id: int | None
) -> bool:
    """Tell whether a completion marker covers this survey (one statement)."""
    return await run_read_driver(
        engine, lambda db: _completed(db, pseudonym, wave_id, grp, unit_id)
    )


_INSERT_SESSION: Final = (
    "INSERT INTO survey_sessions (pseudonym, wave_id, grp, unit_id, questionnaire_id, "
    "invitation_id, step, question_id, language, message_id, version, started_at, "
    "updated_at, expires_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _start(db: sqlite3.Connection, start: Start) -> SurveySession:
    found = db.execute(
        "SELECT questionnaire_id FROM wave_questionnaires WHERE wave_id = ? AND grp = ?",
        (start.wave_id, start.grp),
    ).fetchone()
    if found is None:
        raise NotFound(f"wave {start.wave_id} has no questionnaire for group {start.grp!r}")
    if _completed(db, start.pseudonym, start.wave_id, start.grp, start.unit_id):
        raise AlreadyCompleted("already submitted for this wave and group")
    if start.invitation_id is not None:
        used = db.execute("SELECT used FROM invitations WHERE id = ?", (start.invitation_id,))
        row = used.fetchone()
        if row is not None and row[0]:
            raise InvitationTaken("this personal link was already used")
    db.execute(
        "INSERT INTO respondents (pseudonym) VALUES (?) ON CONFLICT (pseudonym) DO NOTHING",
        (start.pseudonym,),
    )
    session = start.session(found[0])
    s = session
    try:
        # A failed INSERT undoes itself only (SQLite's ABORT): the transaction goes on.
        db.execute(
            _INSERT_SESSION,
            (
                *(s.pseudonym, s.wave_id, s.grp, s.unit_id, s.questionnaire_id),
                *(s.invitation_id, s.step, s.question_id, s.language, s.message_id, s.version),
                *(_text(s.started_at), _text(s.updated_at), s.expires_on.isoformat()),
            ),
        )
    except sqlite3.IntegrityError as exc:
        mine = db.execute(
            "SELECT EXISTS (SELECT 1 FROM survey_sessions WHERE pseudonym = ?)", (s.pseudonym,)
        )
        if mine.fetchone()[0]:
            raise SessionExists("a survey is already in progress") from exc
        raise InvitationTaken("another survey is in progress on this link") from exc
    return session


async def start(engine: AsyncEngine, start: Start) -> SurveySession:
    """Begin a survey in one write transaction (see `storage.sessions.start_session`)."""
    return await run_write_driver(engine, lambda db: _start(db, start))


# -- a submission ----------------------------------------------------------------------------


def _file(db: sqlite3.Connection, pseudonym: str, filed: Filing) -> None:
    """Write the response, its answers and the aggregates; delete the survey's state."""
    r = filed.response
    db.execute(
        "INSERT INTO responses (id, wave_id, grp, unit_id, questionnaire_id, language, "
        "completed_on, duration_band, pace_band) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *(r["id"], r["wave_id"], r["grp"], r["unit_id"], r["questionnaire_id"]),
            *(r["language"], r["completed_on"].isoformat(), r["duration_band"], r["pace_band"]),
        ),
    )
    db.executemany(
        "INSERT INTO answers (response_id, question_id, value) VALUES (?, ?, ?)",
        [(filed.response_id, question_id, value) for question_id, value in filed.answers],
    )
    _tally(db, filed)
    db.execute(
        "INSERT INTO arrivals (wave_id, unit_id, grp, hour, count) VALUES (?, ?, ?, ?, 1) "
        "ON CONFLICT (wave_id, unit_id, grp, hour) DO UPDATE "
        "SET count = arrivals.count + excluded.count",
        (r["wave_id"], r["unit_id"], r["grp"], _text(filed.arrival_hour)),
    )
    # Children first, explicitly, rather than relying on the cascade.
    for table in ("draft_answers", "survey_contacts", "survey_sessions"):
        db.execute(f"DELETE FROM {table} WHERE pseudonym = ?", (pseudonym,))


def _tally(db: sqlite3.Connection, filed: Filing) -> None:
    """Add the drafts' counts to item_paradata."""
    rows = filed.tally.in_key_order()
    if not rows:
        return
    counts = tuple(rows[0][1])
    columns = ", ".join(("wave_id", "questionnaire_id", "question_id", *counts))
    marks = ", ".join("?" * (3 + len(counts)))
    adds = ", ".join(f"{name} = item_paradata.{name} + excluded.{name}" for name in counts)
    db.executemany(
        f"INSERT INTO item_paradata ({columns}) VALUES ({marks}) "
        f"ON CONFLICT (wave_id, questionnaire_id, question_id) DO UPDATE SET {adds}",
        [(*key, *(row[name] for name in counts)) for key, row in rows],
    )


def _submit(
    db: sqlite3.Connection, pseudonym: str, now: datetime, today: date, expected: int | None
) -> bool:
    found = db.execute(
        f"SELECT {_SESSION} FROM survey_sessions AS s WHERE s.pseudonym = ?",
        (pseudonym,),
    ).fetchone()
    if found is None:
        return False
    session = _session(found)
    if expected is not None and session.version != expected:
        return False
    if _completed(db, pseudonym, session.wave_id, session.grp, session.unit_id):
        raise AlreadyCompleted("already submitted for this wave and group")
    scope = completion_scope(session.grp, session.unit_id)
    try:
        db.execute(
            "INSERT INTO completions (pseudonym, wave_id, grp, scope) VALUES (?, ?, ?, ?)",
            (pseudonym, session.wave_id, session.grp, scope),
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadyCompleted("already submitted for this wave and group") from exc
    if session.invitation_id is not None:
        # The link is used now (until this moment its claim was the session itself).
        marked = db.execute(
            "UPDATE invitations SET used = 1 WHERE id = ? AND used IS 0", (session.invitation_id,)
        )
        if marked.rowcount != 1:
            raise AlreadyCompleted("a survey was already submitted on this personal link")
    drafts = [
        DraftRow(question_id, value, int(seconds), int(changes))
        for question_id, value, seconds, changes in db.execute(
            "SELECT question_id, value, seconds, changes FROM draft_answers WHERE pseudonym = ?",
            (pseudonym,),
        )
    ]
    _file(db, pseudonym, filing(session, drafts, now, today))
    return True


async def submit(
    engine: AsyncEngine, pseudonym: str, now: datetime, today: date, expected: int | None
) -> bool:
    """File the survey in progress in one write transaction (see `storage.sessions.submit`)."""
    return await run_write_driver(
        engine, lambda db: _submit(db, pseudonym, utc(now), today, expected)
    )
