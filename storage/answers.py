"""Answers: drafts of a survey in progress (by pseudonym), and submitted responses (by id).

The two never meet: a draft row is keyed by the person's pseudonym and lives until the survey
ends; a submitted answer is keyed by a response id drawn at submission (`storage.sessions`).
"""

from __future__ import annotations

import functools

from sqlalchemy import Connection, Insert, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection
from storage.models import Response
from storage.onehop import run_read
from storage.schema import answers, draft_answers, responses
from storage.tap_rows import draft_value

__all__ = ["get_answers", "get_drafts", "get_response", "write_draft"]


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
