"""Schedules of subscribed chats and the lease that makes each scheduled push exactly-once.

A schedule is a row (chat subscription, kind, crontab, time zone). Every fire time a bot
process wants to act on is first *claimed* by inserting a `scheduled_pushes` row; the unique
constraint on (schedule, fire time) lets exactly one process win, on SQLite and PostgreSQL
alike. The same rows are the log of what became of each push (sent, skipped, ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import insert_ignore, upsert
from storage.errors import NotFound
from storage.models import ChatSchedule, PushClaim, PushStatus, Schedule, ScheduleKind
from storage.schema import scheduled_pushes, schedules, subscriptions

__all__ = [
    "DEFAULT_TIMEZONE",
    "active_schedules",
    "claim_push",
    "delete_schedule",
    "finish_push",
    "last_fingerprint",
    "list_pushes",
    "schedules_for_chat",
    "set_schedule",
]

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
