"""Follow-up plans (tindak lanjut): actions per unit with a due date, status and evidence.

An action is tied to a unit and to a weak dimension or a KPK recommendation. Changes carry
the version the editor saw, so two officials editing one action never overwrite each other
silently (`update_action` returns None when the version moved on).

Tables `actions` and `action_drafts`. A draft is a follow-up dialogue in progress: where an
official is in adding an action or a note, one row per official (pseudonym), replaced at
every step and deleted at the end, so a restart or another bot process resumes the dialogue
at the same question. The due-date reminders and their claims are `storage.action_reminders`
(they read `storage.roles`, which deletes an ending official's drafts here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.errors import NotFound
from storage.metadata import metadata
from storage.onehop import run_read
from storage.units import units
from storage.values import UNCHANGED, Unchanged

__all__ = [
    "Action",
    "ActionDraft",
    "ActionEdit",
    "ActionStatus",
    "NewAction",
    "action_drafts",
    "actions",
    "add_action",
    "add_actions",
    "apply_actions",
    "delete_action_draft",
    "get_action",
    "get_action_draft",
    "list_actions",
    "put_action_draft",
    "update_action",
]


# Follow-up plans (tindak lanjut, issue 13): actions per unit, tied to a weak dimension or a
# KPK recommendation. `who` is a role title ("Kepala Bidang Pengadaan"), never a person's id.
# `version` counts changes, so two officials editing one action cannot overwrite each other.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("dimension", String(40), nullable=True),
    Column("recommendation", Text, nullable=False, server_default=""),
    Column("what", Text, nullable=False),
    Column("who", String(120), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(12), nullable=False, server_default="planned"),
    Column("note", Text, nullable=False, server_default=""),
    # Telegram file id of an evidence document (a file reference, not a person).
    Column("document_file_id", String(200), nullable=True),
    # What the evidence file is (issue 22): "document" or "photo"; NULL before, a document.
    Column("evidence_kind", String(10), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('planned', 'in_progress', 'done', 'dropped')", name="status"),
)

Index("ix_actions_unit_due", actions.c.unit_id, actions.c.due_on)


# A follow-up dialogue in progress (/tindaklanjut): one row per official, deleted when the
# action is saved or the dialogue cancelled. Holds no answers; the pseudonym is an official's.
action_drafts = Table(
    "action_drafts",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(10), nullable=False),  # what, who, due, note
    Column("dimension", String(40), nullable=True),
    Column("what", Text, nullable=True),
    Column("who", String(120), nullable=True),
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), nullable=True),
    Column("action_version", Integer, nullable=True),
    Column("language", String(5), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("step IN ('what', 'who', 'due', 'note')", name="step"),
)


class ActionStatus(StrEnum):
    """Where an action stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class NewAction:
    """An action to add (the unit by code)."""

    unit_code: str
    what: str
    who: str
    due_on: date
    dimension: str | None = None
    recommendation: str = ""
    status: ActionStatus = ActionStatus.PLANNED
    note: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """A stored action with its unit."""

    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    dimension: str | None
    recommendation: str
    what: str
    who: str
    due_on: date
    status: ActionStatus
    note: str
    document_file_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    evidence_kind: str | None = None  # "document" or "photo" (None: a document, from before)


@dataclass(frozen=True, slots=True)
class ActionEdit:
    """An existing action's new fields, from an edited follow-up matrix (evidence stays)."""

    id: int
    dimension: str | None
    recommendation: str
    what: str
    who: str
    due_on: date
    status: ActionStatus
    note: str


def action_from_row(row: Any) -> Action:
    """Build an Action from an `action_query` row."""
    return Action(
        id=row.id,
        unit_id=row.unit_id,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
        dimension=row.dimension,
        recommendation=row.recommendation,
        what=row.what,
        who=row.who,
        due_on=row.due_on,
        status=ActionStatus(row.status),
        note=row.note,
        document_file_id=row.document_file_id,
        version=row.version,
        created_at=from_db(row.created_at),
        updated_at=from_db(row.updated_at),
        evidence_kind=row.evidence_kind,
    )


def action_query() -> Any:
    """Select actions with their unit code and name (storage modules build on it)."""
    return select(
        actions,
        units.c.code.label("unit_code"),
        units.c.name.label("unit_name"),
    ).join(units, units.c.id == actions.c.unit_id)


async def add_actions(
    engine: AsyncEngine, new: Sequence[NewAction], now: datetime
) -> tuple[Action, ...]:
    """Add actions in one transaction (all or none); NotFound names an unknown unit code."""
    added, _ = await apply_actions(engine, new, (), now)
    return added


async def apply_actions(
    engine: AsyncEngine, new: Sequence[NewAction], edits: Sequence[ActionEdit], now: datetime
) -> tuple[tuple[Action, ...], tuple[Action, ...]]:
    """Add `new` and change `edits` in one transaction (all or none); return both as stored.

    NotFound names an unknown unit code or action number. An edit bumps the version, so a
    dialogue that started before it is told the action changed.
    """
    async with write_transaction(engine) as conn:
        codes = sorted({a.unit_code for a in new})
        rows = await conn.execute(select(units.c.code, units.c.id).where(units.c.code.in_(codes)))
        found: dict[str, int] = {row.code: row.id for row in rows}
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(f"unknown unit code {missing[0]!r}")
        ids = []
        for a in new:
            result = await conn.execute(
                insert(actions)
                .values(
                    unit_id=found[a.unit_code],
                    dimension=a.dimension,
                    recommendation=a.recommendation,
                    what=a.what,
                    who=a.who,
                    due_on=a.due_on,
                    status=a.status.value,
                    note=a.note,
                    created_at=utc(now),
                    updated_at=utc(now),
                )
                .returning(actions.c.id)
            )
            ids.append(result.scalar_one())
        for edit in edits:
            changed = await conn.execute(
                update(actions)
                .where(actions.c.id == edit.id)
                .values(
                    dimension=edit.dimension,
                    recommendation=edit.recommendation,
                    what=edit.what,
                    who=edit.who,
                    due_on=edit.due_on,
                    status=edit.status.value,
                    note=edit.note,
                    version=actions.c.version + 1,
                    updated_at=utc(now),
                )
            )
            if changed.rowcount != 1:
                raise NotFound(f"no action {edit.id}")
        wanted = [*ids, *(e.id for e in edits)]
        stored = (await conn.execute(action_query().where(actions.c.id.in_(wanted)))).all()
    by_id = {row.id: action_from_row(row) for row in stored}
    return tuple(by_id[i] for i in ids), tuple(by_id[e.id] for e in edits)


async def add_action(engine: AsyncEngine, new: NewAction, now: datetime) -> Action:
    """Add one action (NotFound for an unknown unit code)."""
    (added,) = await add_actions(engine, [new], now)
    return added


async def get_action(engine: AsyncEngine, action_id: int) -> Action | None:
    """Return one action, or None."""
    async with read_connection(engine) as conn:
        row = (await conn.execute(action_query().where(actions.c.id == action_id))).first()
    return None if row is None else action_from_row(row)


async def list_actions(
    engine: AsyncEngine,
    *,
    unit_code: str | None = None,
    statuses: Sequence[ActionStatus] | None = None,
    due_before: date | None = None,
) -> tuple[Action, ...]:
    """Return actions (one unit's, or all), soonest due first, then by unit and id."""
    query = action_query()
    conditions = []
    if unit_code is not None:
        conditions.append(units.c.code == unit_code)
    if statuses is not None:
        conditions.append(actions.c.status.in_([s.value for s in statuses]))
    if due_before is not None:
        conditions.append(actions.c.due_on < due_before)
    if conditions:
        query = query.where(and_(*conditions))
    query = query.order_by(actions.c.due_on, units.c.code, actions.c.id)
    async with read_connection(engine) as conn:
        return tuple(action_from_row(row) for row in (await conn.execute(query)).all())


async def update_action(
    engine: AsyncEngine,
    action_id: int,
    *,
    version: int,
    now: datetime,
    status: ActionStatus | Unchanged = UNCHANGED,
    note: str | Unchanged = UNCHANGED,
    document_file_id: str | Unchanged | None = UNCHANGED,
    due_on: date | Unchanged = UNCHANGED,
    who: str | Unchanged = UNCHANGED,
    evidence_kind: str | Unchanged | None = UNCHANGED,
) -> Action | None:
    """Change an action if it is still at `version`; return it, or None when someone else
    changed it first. NotFound when there is no such action."""
    values: dict[str, Any] = {"version": actions.c.version + 1, "updated_at": utc(now)}
    if not isinstance(status, Unchanged):
        values["status"] = status.value
    if not isinstance(note, Unchanged):
        values["note"] = note
    if not isinstance(document_file_id, Unchanged):
        values["document_file_id"] = document_file_id
    if not isinstance(due_on, Unchanged):
        values["due_on"] = due_on
    if not isinstance(who, Unchanged):
        values["who"] = who
    if not isinstance(evidence_kind, Unchanged):
        values["evidence_kind"] = evidence_kind
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(actions)
            .where(actions.c.id == action_id, actions.c.version == version)
            .values(**values)
        )
        if result.rowcount != 1:
            exists = (
                await conn.execute(select(func.count()).where(actions.c.id == action_id))
            ).scalar_one()
            if not exists:
                raise NotFound(f"no action {action_id}")
            return None
        row = (await conn.execute(action_query().where(actions.c.id == action_id))).one()
    return action_from_row(row)


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
