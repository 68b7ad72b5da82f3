"""Schedules of subscribed chats and the lease that makes each scheduled push exactly-once.

A schedule is a row (chat subscription, kind, crontab, time zone). Every fire time a bot
process wants to act on is first *claimed* by inserting a `scheduled_pushes` row; the unique
constraint on (schedule, fire time) lets exactly one process win, on SQLite and PostgreSQL
alike. The same rows are the log of what became of each push (sent, skipped, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import insert_ignore, upsert
from storage.errors import NotFound
from storage.metadata import metadata
from storage.subscriptions import subscriptions

__all__ = [
    "DEFAULT_TIMEZONE",
    "ChatSchedule",
    "PushClaim",
    "PushStatus",
    "Schedule",
    "ScheduleKind",
    "active_schedules",
    "claim_push",
    "delete_schedule",
    "finish_push",
    "last_fingerprint",
    "list_pushes",
    "scheduled_pushes",
    "schedules",
    "schedules_for_chat",
    "set_schedule",
]


class ScheduleKind(StrEnum):
    """What a schedule sends."""

    DIGEST = "digest"  # a one-message progress digest while a wave is open
    REPORT = "report"  # the full chart pack while a wave is open
    FINAL = "final"  # the full pack once, when a wave closes (no crontab)


class PushStatus(StrEnum):
    """What became of a claimed fire time."""

    CLAIMED = "claimed"  # being sent (or the process died while sending: never retried)
    SENT = "sent"
    UNCHANGED = "unchanged"  # a digest with nothing new (one line sent, or nothing)
    SKIPPED = "skipped"  # missed while the bot was down, and too late to send
    IDLE = "idle"  # nothing to send (no open wave, no report yet)
    PAUSED = "paused"  # Telegram refused (403): the subscription was paused
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Schedule:
    """One kind of push for one subscribed chat."""

    id: int
    subscription_id: int
    kind: ScheduleKind
    cron: str | None
    timezone: str
    since: datetime


@dataclass(frozen=True, slots=True)
class ChatSchedule:
    """A schedule of an active subscription, with where and how to send it."""

    schedule: Schedule
    chat_id: int
    language: str
    # The newest fire time already claimed (by any process), if any.
    last_fire_at: datetime | None

    @property
    def after(self) -> datetime:
        """Return the moment after which fire times are still to be acted on."""
        since = self.schedule.since
        return since if self.last_fire_at is None else max(since, self.last_fire_at)


@dataclass(frozen=True, slots=True)
class PushClaim:
    """A won lease on one fire time of one schedule."""

    id: int
    schedule_id: int
    fire_at: datetime


# What a subscribed chat receives and when: rows, turned into timers at start-up (never pickled).
schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # digest, report, final
    # A standard five-field crontab; NULL for the final report, which follows a wave's closing.
    Column("cron", String(100), nullable=True),
    Column("timezone", String(60), nullable=False, server_default="Asia/Jakarta"),
    # Fire times at or before this moment (creation or last change) are never sent.
    Column("since", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription_id", "kind"),
    CheckConstraint("kind IN ('digest', 'report', 'final')", name="kind"),
    CheckConstraint("(kind = 'final') = (cron IS NULL)", name="cron"),
)


# One row per (schedule, fire time): the lease that makes a push exactly-once across bot
# processes (only one INSERT wins the unique constraint), and the log of what became of it.
scheduled_pushes = Table(
    "scheduled_pushes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("fire_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),
    # What a digest reported (wave and submitted count), to tell "nothing new" next time.
    Column("fingerprint", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("schedule_id", "fire_at"),
    CheckConstraint(
        "status IN ('claimed', 'sent', 'unchanged', 'skipped', 'idle', 'paused', 'failed')",
        name="status",
    ),
)

DEFAULT_TIMEZONE: Final = "Asia/Jakarta"


def _schedule(row: Any) -> Schedule:
    """Build a Schedule from a schedules row."""
    return Schedule(
        id=row.id,
        subscription_id=row.subscription_id,
        kind=ScheduleKind(row.kind),
        cron=row.cron,
        timezone=row.timezone,
        since=from_db(row.since),
    )


async def set_schedule(
    engine: AsyncEngine,
    chat_id: int,
    kind: ScheduleKind,
    cron: str | None,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> Schedule:
    """Create or change a subscribed chat's schedule of this kind; fire times from now on count.

    NotFound when the chat has no subscription. The crontab is stored as given: validating it
    is the caller's job (the scheduler knows how to parse it).
    """
    if (kind is ScheduleKind.FINAL) != (cron is None):
        raise ValueError("the final report has no crontab; digests and reports need one")
    async with write_transaction(engine) as conn:
        subscription_id = (
            await conn.execute(select(subscriptions.c.id).where(subscriptions.c.chat_id == chat_id))
        ).scalar()
        if subscription_id is None:
            raise NotFound("this chat has no subscription")
        await conn.execute(
            upsert(
                conn,
                schedules,
                {
                    "subscription_id": subscription_id,
                    "kind": kind.value,
                    "cron": cron,
                    "timezone": timezone,
                    "since": utc(now),
                },
                ["subscription_id", "kind"],
                ["cron", "timezone", "since"],
            )
        )
        row = (
            await conn.execute(
                select(schedules).where(
                    schedules.c.subscription_id == subscription_id,
                    schedules.c.kind == kind.value,
                )
            )
        ).one()
    return _schedule(row)


async def delete_schedule(engine: AsyncEngine, chat_id: int, kind: ScheduleKind) -> bool:
    """Turn one kind of push off for a chat; return False if it was not on."""
    subscription = select(subscriptions.c.id).where(subscriptions.c.chat_id == chat_id)
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(schedules).where(
                schedules.c.subscription_id.in_(subscription.scalar_subquery()),
                schedules.c.kind == kind.value,
            )
        )
        return result.rowcount == 1


async def schedules_for_chat(engine: AsyncEngine, chat_id: int) -> list[Schedule]:
    """Return a chat's schedules (digest, report, final order), empty if it has none."""
    order = {kind: index for index, kind in enumerate(ScheduleKind)}
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(schedules)
            .join(subscriptions, subscriptions.c.id == schedules.c.subscription_id)
            .where(subscriptions.c.chat_id == chat_id)
        )
        found = [_schedule(row) for row in rows]
    return sorted(found, key=lambda schedule: order[schedule.kind])


async def active_schedules(engine: AsyncEngine) -> list[ChatSchedule]:
    """Return the schedules of active subscriptions with their newest claimed fire time."""
    last = (
        select(
            scheduled_pushes.c.schedule_id,
            func.max(scheduled_pushes.c.fire_at).label("last_fire_at"),
        )
        .group_by(scheduled_pushes.c.schedule_id)
        .subquery()
    )
    stmt = (
        select(schedules, subscriptions.c.chat_id, subscriptions.c.language, last.c.last_fire_at)
        .join(subscriptions, subscriptions.c.id == schedules.c.subscription_id)
        .outerjoin(last, last.c.schedule_id == schedules.c.id)
        .where(subscriptions.c.active.is_(True))
        .order_by(schedules.c.id)
    )
    async with read_connection(engine) as conn:
        rows = list(await conn.execute(stmt))
    return [
        ChatSchedule(
            schedule=_schedule(row),
            chat_id=row.chat_id,
            language=row.language,
            last_fire_at=None if row.last_fire_at is None else _aware(row.last_fire_at),
        )
        for row in rows
    ]


def _aware(value: datetime | str) -> datetime:
    """Return a MAX() of timestamps as aware UTC (SQLite's MAX() loses the column type)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return from_db(value)


async def claim_push(
    engine: AsyncEngine,
    schedule_id: int,
    fire_at: datetime,
    now: datetime,
    status: PushStatus = PushStatus.CLAIMED,
) -> PushClaim | None:
    """Claim one fire time of a schedule; None when another process (or a tick) already did.

    This INSERT is the lease: the unique constraint on (schedule_id, fire_at) admits one row,
    so of several bot processes on one database exactly one gets a claim back.
    """
    values = {
        "schedule_id": schedule_id,
        "fire_at": utc(fire_at),
        "status": status.value,
        "claimed_at": utc(now),
        "finished_at": None if status is PushStatus.CLAIMED else utc(now),
    }
    async with write_transaction(engine) as conn:
        stmt = insert_ignore(conn, scheduled_pushes, values, ["schedule_id", "fire_at"])
        push_id = (await conn.execute(stmt.returning(scheduled_pushes.c.id))).scalar()
    if push_id is None:
        return None
    return PushClaim(id=push_id, schedule_id=schedule_id, fire_at=utc(fire_at))


async def finish_push(
    engine: AsyncEngine,
    claim: PushClaim,
    status: PushStatus,
    now: datetime,
    fingerprint: str | None = None,
) -> None:
    """Record what became of a claimed push."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(scheduled_pushes)
            .where(scheduled_pushes.c.id == claim.id)
            .values(status=status.value, fingerprint=fingerprint, finished_at=utc(now))
        )


async def last_fingerprint(engine: AsyncEngine, schedule_id: int) -> str | None:
    """Return what the newest delivered push of a schedule reported, or None."""
    delivered = (PushStatus.SENT.value, PushStatus.UNCHANGED.value)
    async with read_connection(engine) as conn:
        return (
            await conn.execute(
                select(scheduled_pushes.c.fingerprint)
                .where(
                    scheduled_pushes.c.schedule_id == schedule_id,
                    scheduled_pushes.c.status.in_(delivered),
                    scheduled_pushes.c.fingerprint.is_not(None),
                )
                .order_by(scheduled_pushes.c.fire_at.desc())
                .limit(1)
            )
        ).scalar()


async def list_pushes(engine: AsyncEngine, schedule_id: int) -> list[tuple[datetime, PushStatus]]:
    """Return (fire time, status) of a schedule's pushes, oldest first (for admins and tests)."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(scheduled_pushes.c.fire_at, scheduled_pushes.c.status)
            .where(scheduled_pushes.c.schedule_id == schedule_id)
            .order_by(scheduled_pushes.c.fire_at)
        )
        return [(from_db(row.fire_at), PushStatus(row.status)) for row in rows]
