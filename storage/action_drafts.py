"""Follow-up dialogues in progress: where an official is in adding an action or a note.

One row per official (pseudonym), replaced at every step and deleted at the end, so a
restart or another bot process resumes the dialogue at the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, utc, write_transaction
from storage.dialects import upsert
from storage.onehop import run_read
from storage.schema import action_drafts, units

__all__ = ["ActionDraft", "delete_action_draft", "get_action_draft", "put_action_draft"]

_COLUMNS = (
    "unit_id",
    "step",
    "dimension",
    "what",
    "who",
    "action_id",
    "action_version",
    "language",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """A dialogue step: `step` is the question asked (what, who, due, note)."""

    pseudonym: str
    unit_code: str
    step: str
    language: str
    updated_at: datetime
    dimension: str | None = None
    what: str | None = None
    who: str | None = None
    action_id: int | None = None  # the action a note is for
    action_version: int | None = None


async def put_action_draft(engine: AsyncEngine, draft: ActionDraft) -> None:
    """Store (or replace) an official's dialogue state; ValueError for an unknown unit."""
    async with write_transaction(engine) as conn:
        unit_id = (
            await conn.execute(select(units.c.id).where(units.c.code == draft.unit_code))
        ).scalar()
        if unit_id is None:
            raise ValueError(f"unknown unit code {draft.unit_code!r}")
        values: dict[str, Any] = {
            "pseudonym": draft.pseudonym,
            "unit_id": unit_id,
            "step": draft.step,
            "dimension": draft.dimension,
            "what": draft.what,
            "who": draft.who,
            "action_id": draft.action_id,
            "action_version": draft.action_version,
            "language": draft.language,
            "updated_at": utc(draft.updated_at),
        }
        await conn.execute(upsert(conn, action_drafts, values, ["pseudonym"], _COLUMNS))


async def get_action_draft(engine: AsyncEngine, pseudonym: str) -> ActionDraft | None:
    """Return an official's dialogue state, or None."""
    # Asked for every private text (is a dialogue waiting for it?): one hop, not a cursor's.
    statement = (
        select(action_drafts, units.c.code.label("unit_code"))
        .join(units, units.c.id == action_drafts.c.unit_id)
        .where(action_drafts.c.pseudonym == pseudonym)
    )
    row = await run_read(engine, lambda conn: conn.execute(statement).first())
    if row is None:
        return None
    return ActionDraft(
        pseudonym=row.pseudonym,
        unit_code=row.unit_code,
        step=row.step,
        language=row.language,
        updated_at=from_db(row.updated_at),
        dimension=row.dimension,
        what=row.what,
        who=row.who,
        action_id=row.action_id,
        action_version=row.action_version,
    )


async def delete_action_draft(engine: AsyncEngine, pseudonym: str) -> bool:
    """End an official's dialogue; return False when there was none."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(action_drafts).where(action_drafts.c.pseudonym == pseudonym)
        )
        return result.rowcount == 1
