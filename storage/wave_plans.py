"""The wave calendar: planned waves with open and close times (never overlapping), the
invitations issued for a plan before it opens, and reopening a closed wave."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.errors import NotFound, WaveConflict
from storage.models import WavePlan, WaveStatus
from storage.schema import invitations, planned_invitations, wave_plans, waves

__all__ = [
    "NewPlannedInvitation",
    "PlanOverlap",
    "cancel_plan",
    "create_planned_invitations",
    "get_wave_plan",
    "list_wave_plans",
    "mark_plan_opened",
    "move_planned_invitations",
    "plan_opening_for_token",
    "plan_wave",
    "planned_invitation_counts",
    "reopen_wave",
]


class PlanOverlap(WaveConflict):
    """A plan would run at the same time as another plan or the open wave."""

    def __init__(self, other: str, opens_at: datetime, closes_at: datetime | None) -> None:
        until = "with no closing time" if closes_at is None else f"until {closes_at.isoformat()}"
        super().__init__(f"overlaps wave {other!r} ({opens_at.isoformat()} {until})")
        self.other = other
        self.opens_at = opens_at
        self.closes_at = closes_at


@dataclass(frozen=True, slots=True)
class NewPlannedInvitation:
    """A personal invitation for a planned wave: only the token's hash is stored."""

    token_hash: str
    grp: str
    unit_id: int


def _plan(row: Any) -> WavePlan:
    return WavePlan(
        row.name,
        from_db(row.opens_at),
        None if row.closes_at is None else from_db(row.closes_at),
        row.wave_id,
        row.questionnaire_choice,
    )


def _overlaps(
    opens: datetime, closes: datetime | None, other_opens: datetime, other_closes: datetime | None
) -> bool:
    """Tell whether [opens, closes) meets [other_opens, other_closes); None runs forever."""
    return (other_closes is None or opens < other_closes) and (
        closes is None or other_opens < closes
    )


async def _check_overlap(
    conn: AsyncConnection, name: str, opens: datetime, closes: datetime | None
) -> None:
    """Raise PlanOverlap when [opens, closes) meets another draft plan or the open wave's
    planned run. An open wave without a planned close is not a conflict: the plan waits."""
    open_ids = set(
        (
            await conn.execute(select(waves.c.id).where(waves.c.status == WaveStatus.OPEN.value))
        ).scalars()
    )
    for row in await conn.execute(select(wave_plans).where(wave_plans.c.name != name)):
        plan = _plan(row)
        live = plan.wave_id is None or (plan.wave_id in open_ids and plan.closes_at is not None)
        if live and _overlaps(opens, closes, plan.opens_at, plan.closes_at):
            raise PlanOverlap(plan.name, plan.opens_at, plan.closes_at)


async def plan_wave(
    engine: AsyncEngine,
    name: str,
    opens_at: datetime,
    closes_at: datetime | None,
    questionnaire_choice: str | None = None,
) -> WavePlan:
    """Plan (or re-plan) a wave that does not exist yet.

    WaveConflict if the name is taken by a wave; PlanOverlap if it would run at the same time
    as another plan or as the open wave's planned run.
    """
    if closes_at is not None and closes_at <= opens_at:
        raise ValueError("a wave must close after it opens")
    opens, closes = utc(opens_at), None if closes_at is None else utc(closes_at)
    values = {
        "name": name,
        "opens_at": opens,
        "closes_at": closes,
        "wave_id": None,
        "questionnaire_choice": questionnaire_choice,
    }
    async with write_transaction(engine) as conn:
        taken = (await conn.execute(select(waves.c.id).where(waves.c.name == name))).first()
        if taken is not None:
            raise WaveConflict(f"a wave named {name!r} already exists")
        await _check_overlap(conn, name, opens, closes)
        changed = ["opens_at", "closes_at", "questionnaire_choice"]
        await conn.execute(upsert(conn, wave_plans, values, ["name"], changed))
    return WavePlan(name, opens, closes, None, questionnaire_choice)


async def list_wave_plans(engine: AsyncEngine) -> list[WavePlan]:
    """Return every plan, soonest first."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(select(wave_plans).order_by(wave_plans.c.opens_at))
        return [_plan(row) for row in rows]


async def get_wave_plan(engine: AsyncEngine, name: str) -> WavePlan | None:
    """Return the plan with this name, or None."""
    async with read_connection(engine) as conn:
        row = (await conn.execute(select(wave_plans).where(wave_plans.c.name == name))).first()
    return None if row is None else _plan(row)


async def cancel_plan(engine: AsyncEngine, name: str) -> int:
    """Delete a plan that has not opened, with its invitations; return how many there were.

    NotFound when there is no such plan; WaveConflict when it has opened already.
    """
    async with write_transaction(engine) as conn:
        row = (await conn.execute(select(wave_plans).where(wave_plans.c.name == name))).first()
        if row is None:
            raise NotFound(f"no planned wave named {name!r}")
        if row.wave_id is not None:
            raise WaveConflict(f"wave {name!r} has opened already; close it instead")
        dropped = await conn.execute(
            delete(planned_invitations).where(planned_invitations.c.plan_name == name)
        )
        await conn.execute(delete(wave_plans).where(wave_plans.c.name == name))
        return int(dropped.rowcount or 0)


async def mark_plan_opened(engine: AsyncEngine, name: str, wave_id: int) -> None:
    """Record that a planned wave was opened."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(wave_plans).where(wave_plans.c.name == name).values(wave_id=wave_id)
        )


async def create_planned_invitations(
    engine: AsyncEngine, plan_name: str, new: Iterable[NewPlannedInvitation], now: datetime
) -> int:
    """Store invitations (token hashes only) for a plan that has not opened; return how many.

    NotFound when there is no such plan; WaveConflict when it has opened (issue them for the
    wave then).
    """
    rows = [
        {
            "token_hash": item.token_hash,
            "plan_name": plan_name,
            "grp": item.grp,
            "unit_id": item.unit_id,
            "created_at": utc(now),
        }
        for item in new
    ]
    async with write_transaction(engine) as conn:
        plan = (
            await conn.execute(select(wave_plans).where(wave_plans.c.name == plan_name))
        ).first()
        if plan is None:
            raise NotFound(f"no planned wave named {plan_name!r}")
        if plan.wave_id is not None:
            raise WaveConflict(f"wave {plan_name!r} has opened already")
        for start in range(0, len(rows), 1000):  # well under SQLite's variable limit
            await conn.execute(insert(planned_invitations), rows[start : start + 1000])
    return len(rows)


async def planned_invitation_counts(engine: AsyncEngine) -> dict[str, int]:
    """Return, per plan name, the invitations issued for it that wait for it to open."""
    stmt = select(planned_invitations.c.plan_name, func.count()).group_by(
        planned_invitations.c.plan_name
    )
    async with read_connection(engine) as conn:
        return {name: int(count) for name, count in await conn.execute(stmt)}


async def plan_opening_for_token(engine: AsyncEngine, token_hash: str) -> datetime | None:
    """Return when the planned wave of a not-yet-valid invitation opens (None: no such link)."""
    stmt = (
        select(wave_plans.c.opens_at)
        .join(planned_invitations, planned_invitations.c.plan_name == wave_plans.c.name)
        .where(planned_invitations.c.token_hash == token_hash)
    )
    async with read_connection(engine) as conn:
        opens = (await conn.execute(stmt)).scalar()
    return None if opens is None else from_db(opens)


async def move_planned_invitations(conn: AsyncConnection, plan_name: str, wave_id: int) -> None:
    """Turn a plan's invitations into the opened wave's (inside the opening transaction)."""
    pending: Sequence[Any] = (
        await conn.execute(
            select(planned_invitations).where(planned_invitations.c.plan_name == plan_name)
        )
    ).all()
    rows = [
        {
            "token_hash": row.token_hash,
            "wave_id": wave_id,
            "grp": row.grp,
            "unit_id": row.unit_id,
            "created_at": row.created_at,
            "used": False,
        }
        for row in pending
    ]
    for start in range(0, len(rows), 1000):
        await conn.execute(insert(invitations), rows[start : start + 1000])
    await conn.execute(
        delete(planned_invitations).where(planned_invitations.c.plan_name == plan_name)
    )
    await conn.execute(
        update(wave_plans).where(wave_plans.c.name == plan_name).values(wave_id=wave_id)
    )


async def reopen_wave(engine: AsyncEngine, wave_id: int) -> bool:
    """Open a closed wave again; False if it was not closed, WaveConflict if another is open."""
    try:
        async with write_transaction(engine) as conn:
            result = await conn.execute(
                update(waves)
                .where(waves.c.id == wave_id, waves.c.status == WaveStatus.CLOSED.value)
                .values(status=WaveStatus.OPEN.value, closed_at=None)
            )
            return result.rowcount == 1
    except IntegrityError as exc:
        raise WaveConflict("another wave is open; close it first") from exc
