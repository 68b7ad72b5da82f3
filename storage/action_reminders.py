"""Due-date reminders of follow-up actions: which unit heads can be reached about which open
actions, and the claims that make each reminder go out once across bot processes.

A unit head can be reached when they hold the `unit_head` role of the action's unit and have
an `official` contact (their chat id, encrypted by the caller, see `storage.contacts`). Each
(action, occasion, day the occasion began, unit head) is claimed by inserting a row whose
primary key admits one INSERT; the claim stays whatever happens next, so a reminder is sent
at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    String,
    Table,
    and_,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.actions import Action, ActionStatus, action_from_row, action_query, actions
from storage.contacts import ContactPurpose, ReminderStatus, contacts
from storage.db import read_connection, utc, write_transaction
from storage.dialects import insert_ignore
from storage.metadata import metadata
from storage.roles import Role, roles

__all__ = [
    "ActionRecipient",
    "Occasion",
    "ReminderKey",
    "action_reminder_recipients",
    "claim_action_reminder",
    "claimed_action_reminders",
    "finish_action_reminder",
    "prune_official_contacts",
]

# One row per (action, occasion, day the occasion began, unit head reminded): the claim that
# makes each due-date reminder exactly-once across bot processes, and what became of it. The
# pseudonym is an official's (a role holder), never a respondent's; no answers are near it.
action_reminder_claims = Table(
    "action_reminder_claims",
    metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("occasion", String(10), primary_key=True),
    Column("occasion_on", Date, primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("status", String(10), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("occasion IN ('soon', 'due', 'overdue')", name="occasion"),
    CheckConstraint("status IN ('claimed', 'sent', 'gone', 'failed')", name="status"),
)

_OPEN = (ActionStatus.PLANNED.value, ActionStatus.IN_PROGRESS.value)


class Occasion(StrEnum):
    """Why an action's unit head is reminded."""

    SOON = "soon"  # the due date is a few days away
    DUE = "due"  # the due date has come
    OVERDUE = "overdue"  # weekly while the action is late


@dataclass(frozen=True, slots=True)
class ReminderKey:
    """One reminder: an action, an occasion, the day the occasion began, a unit head."""

    action_id: int
    occasion: Occasion
    occasion_on: date
    pseudonym: str


@dataclass(frozen=True, slots=True)
class ActionRecipient:
    """An open action and one unit head of its unit who can be reached (chat encrypted)."""

    action: Action
    pseudonym: str
    chat: bytes
    language: str | None


async def action_reminder_recipients(
    engine: AsyncEngine, *, due_until: date
) -> list[ActionRecipient]:
    """Return the open actions due on or before `due_until`, once per reachable unit head."""
    query = (
        action_query()
        .add_columns(
            contacts.c.pseudonym.label("head"),
            contacts.c.chat.label("head_chat"),
            contacts.c.language.label("head_language"),
        )
        .join(
            roles,
            and_(roles.c.unit_id == actions.c.unit_id, roles.c.role == Role.UNIT_HEAD.value),
        )
        .join(
            contacts,
            and_(
                contacts.c.pseudonym == roles.c.pseudonym,
                contacts.c.purpose == ContactPurpose.OFFICIAL.value,
            ),
        )
        .where(actions.c.status.in_(_OPEN), actions.c.due_on <= due_until)
        .order_by(actions.c.due_on, actions.c.id, contacts.c.pseudonym)
    )
    async with read_connection(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        ActionRecipient(action_from_row(row), row.head, bytes(row.head_chat), row.head_language)
        for row in rows
    ]


async def claimed_action_reminders(
    engine: AsyncEngine, action_ids: Sequence[int]
) -> set[ReminderKey]:
    """Return the reminders already claimed for these actions (whatever became of them)."""
    if not action_ids:
        return set()
    claims = action_reminder_claims.c
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(claims.action_id, claims.occasion, claims.occasion_on, claims.pseudonym).where(
                claims.action_id.in_(sorted(set(action_ids)))
            )
        )
        return {
            ReminderKey(r.action_id, Occasion(r.occasion), r.occasion_on, r.pseudonym) for r in rows
        }


def _key_values(key: ReminderKey) -> dict[str, object]:
    return {
        "action_id": key.action_id,
        "occasion": key.occasion.value,
        "occasion_on": key.occasion_on,
        "pseudonym": key.pseudonym,
    }


async def claim_action_reminder(engine: AsyncEngine, key: ReminderKey, now: datetime) -> bool:
    """Claim one reminder; False when another process (or an earlier tick) already did."""
    values = {**_key_values(key), "status": ReminderStatus.CLAIMED.value, "claimed_at": utc(now)}
    primary = ["action_id", "occasion", "occasion_on", "pseudonym"]
    async with write_transaction(engine) as conn:
        result = await conn.execute(insert_ignore(conn, action_reminder_claims, values, primary))
        return result.rowcount == 1


async def finish_action_reminder(
    engine: AsyncEngine, key: ReminderKey, status: ReminderStatus
) -> None:
    """Record what became of a claimed reminder."""
    claims = action_reminder_claims.c
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(action_reminder_claims)
            .where(*(getattr(claims, k) == v for k, v in _key_values(key).items()))
            .values(status=status.value)
        )


async def prune_official_contacts(engine: AsyncEngine) -> int:
    """Delete the official contacts of people who no longer head a unit; return how many."""
    heads = exists().where(
        roles.c.pseudonym == contacts.c.pseudonym, roles.c.role == Role.UNIT_HEAD.value
    )
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(contacts).where(contacts.c.purpose == ContactPurpose.OFFICIAL.value, ~heads)
        )
        return int(result.rowcount)
