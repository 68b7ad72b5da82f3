"""Answers of in-progress and submitted responses, and response rows (no pseudonyms here)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_connection
from storage.dialects import prepared_upsert
from storage.frames import SEPARATOR
from storage.models import Response
from storage.schema import answers, responses

__all__ = ["get_answers", "get_response", "write_answers"]


def write_answers(conn: Connection, response_id: str, values: Mapping[str, str]) -> None:
    """Upsert answers inside `move_session`'s (synchronous, one-hop) write transaction."""
    for question_id in values:
        if SEPARATOR in question_id:
            raise ValueError("question ids must not contain control characters")
    statement = prepared_upsert(
        conn.dialect.name, answers, ("response_id", "question_id"), ("value",)
    )
    conn.execute(
        statement,
        [
            # answers_frame packs answers with this separator; nobody types it on purpose.
            {"response_id": response_id, "question_id": q, "value": v.replace(SEPARATOR, " ")}
            for q, v in values.items()
        ],
    )


async def get_answers(engine: AsyncEngine, response_id: str) -> dict[str, str]:
    """Return a response's answers by question id."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(answers.c.question_id, answers.c.value).where(
                answers.c.response_id == response_id
            )
        )
        return dict(rows.all())


async def get_response(engine: AsyncEngine, response_id: str) -> Response | None:
    """Return a response row (in progress or submitted), or None."""
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
        status=row.status,
        completed_on=row.completed_on,
        duration_seconds=row.duration_seconds,
        expires_on=row.expires_on,
    )
