"""Survey waves and their calendar.

Tables `waves` (at most one open at a time), `wave_questionnaires` (each group answers one
questionnaire version), `wave_plans` (planned waves with open and close times, never
overlapping) and `planned_invitations` (invitations issued for a plan before it opens, moved
to the wave in the transaction that opens it); also reopening a closed wave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.errors import NotFound, WaveConflict
from storage.invitations import invitations
from storage.metadata import GROUPS, metadata
from storage.onehop import run_read
from storage.questionnaires import questionnaires

__all__ = [
    "NewPlannedInvitation",
    "PlanOverlap",
    "Wave",
    "WavePlan",
    "WaveStatus",
    "cancel_plan",
    "close_wave",
    "create_planned_invitations",
    "current_wave",
    "get_wave",
    "get_wave_by_id",
    "get_wave_plan",
    "list_wave_plans",
    "list_waves",
    "mark_plan_opened",
    "move_planned_invitations",
    "open_wave",
    "plan_opening_for_token",
    "plan_wave",
    "planned_invitation_counts",
    "planned_invitations",
    "questionnaire_waves",
    "reopen_wave",
    "wave_plans",
    "wave_questionnaires",
    "waves",
]


class WaveStatus(StrEnum):
    """Whether a wave takes responses."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Wave:
    """A survey round; `questionnaire_ids` maps each group to the questionnaire it answers."""

    id: int
    name: str
    status: WaveStatus
    opened_at: datetime
    closed_at: datetime | None
    questionnaire_ids: Mapping[str, int]

    @property
    def is_open(self) -> bool:
        """Tell whether the wave takes responses."""
        return self.status is WaveStatus.OPEN


@dataclass(frozen=True, slots=True)
class WavePlan:
    """A planned wave: opens (and optionally closes) at these times; `wave_id` once opened.

    `questionnaire_choice` is what `wave plan --questionnaire` chose ("external=layanan");
    groups it does not name take the default when the wave opens.
    """

    name: str
    opens_at: datetime
    closes_at: datetime | None
    wave_id: int | None
    questionnaire_choice: str | None = None


waves = Table(
    "waves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
)

# At most one open wave, enforced by the database so two admins cannot both pass the check.
Index(
    "uq_waves_one_open",
    waves.c.status,
    unique=True,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)


# Which questionnaire version each group answers in a wave.
wave_questionnaires = Table(
    "wave_questionnaires",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
)


# The wave calendar: a planned wave (a draft until it opens) with its open and close times.
wave_plans = Table(
    "wave_plans",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=True),
    # Set when the scheduler (or an admin) opened the wave; NULL while the plan is a draft.
    Column("wave_id", ForeignKey("waves.id", ondelete="SET NULL"), nullable=True),
    # The questionnaire each group answers (issue 22), as chosen at planning time:
    # "external=layanan,internal=internal@3"; a group not named takes the default when opened.
    Column("questionnaire_choice", String(400), nullable=True),
)


# Personal invitations issued for a planned wave before it opens (issue 22): like
# `invitations` (a token hash, a group and a unit; no name), moved there in the transaction
# that opens the wave. A link tapped before that is told when the survey opens.
planned_invitations = Table(
    "planned_invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("plan_name", ForeignKey("wave_plans.name", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("grp IN ('internal', 'expert')", name="grp"),
)


def _waves_sync(conn: Connection, *conditions: Any) -> list[Wave]:
    """Return the waves matching `conditions`, newest first, with their questionnaires."""
    rows = conn.execute(
        select(waves).where(*conditions).order_by(waves.c.opened_at.desc(), waves.c.id.desc())
    ).all()
    if not rows:
        return []
    links: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    for wave_id, grp, questionnaire_id in conn.execute(
        select(
            wave_questionnaires.c.wave_id,
            wave_questionnaires.c.grp,
            wave_questionnaires.c.questionnaire_id,
        ).where(wave_questionnaires.c.wave_id.in_(list(links)))
    ):
        links[wave_id][grp] = questionnaire_id
    return [
        Wave(
            id=row.id,
            name=row.name,
            status=WaveStatus(row.status),
            opened_at=from_db(row.opened_at),
            closed_at=None if row.closed_at is None else from_db(row.closed_at),
            questionnaire_ids=links[row.id],
        )
        for row in rows
    ]


async def _waves(conn: AsyncConnection, *conditions: Any) -> list[Wave]:
    """`_waves_sync` on an async connection (inside a larger transaction)."""
    return await conn.run_sync(_waves_sync, *conditions)


async def _waves_now(engine: AsyncEngine, *conditions: Any) -> list[Wave]:
    """`_waves_sync` in one read of its own (one hop: the respondent path asks it)."""
    return await run_read(engine, lambda conn: _waves_sync(conn, *conditions))


async def open_wave(
    engine: AsyncEngine, name: str, questionnaire_ids: Mapping[str, int], now: datetime
) -> Wave:
    """Open a new wave in which each group answers the given questionnaire.

    Raises WaveConflict when a wave is already open or the name is taken, and NotFound for
    an unknown questionnaire id. A plan of this name is marked opened and the invitations
    issued for it become the wave's, in the same transaction.
    """
    async with write_transaction(engine) as conn:
        if await _waves(conn, waves.c.status == WaveStatus.OPEN.value):
            raise WaveConflict("a wave is already open; close it before opening another")
        if await _waves(conn, waves.c.name == name):
            raise WaveConflict(f"a wave named {name!r} already exists")
        known = set(
            (
                await conn.execute(
                    select(questionnaires.c.id).where(
                        questionnaires.c.id.in_(list(questionnaire_ids.values()))
                    )
                )
            ).scalars()
        )
        missing = sorted(set(questionnaire_ids.values()) - known)
        if missing:
            raise NotFound(f"unknown questionnaire id(s): {', '.join(map(str, missing))}")
        try:
            # The partial unique index uq_waves_one_open catches a concurrent opener.
            async with conn.begin_nested():
                wave_id = (
                    await conn.execute(
                        waves.insert()
                        .values(name=name, status=WaveStatus.OPEN.value, opened_at=utc(now))
                        .returning(waves.c.id)
                    )
                ).scalar_one()
        except IntegrityError as exc:
            raise WaveConflict("another wave was opened at the same time") from exc
        if questionnaire_ids:
            await conn.execute(
                wave_questionnaires.insert(),
                [
                    {"wave_id": wave_id, "grp": grp, "questionnaire_id": qid}
                    for grp, qid in questionnaire_ids.items()
                ],
            )
        await move_planned_invitations(conn, name, wave_id)
        return (await _waves(conn, waves.c.id == wave_id))[0]


async def close_wave(engine: AsyncEngine, wave_id: int, now: datetime) -> bool:
    """Close an open wave; return False if it was not open."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(waves)
            .where(waves.c.id == wave_id, waves.c.status == WaveStatus.OPEN.value)
            .values(status=WaveStatus.CLOSED.value, closed_at=utc(now))
        )
        return result.rowcount == 1


async def list_waves(engine: AsyncEngine) -> list[Wave]:
    """Return every wave, newest first."""
    async with read_connection(engine) as conn:
        return await _waves(conn)


async def current_wave(engine: AsyncEngine) -> Wave | None:
    """Return the open wave, or None."""
    found = await _waves_now(engine, waves.c.status == WaveStatus.OPEN.value)
    return found[0] if found else None


async def get_wave(engine: AsyncEngine, name: str) -> Wave | None:
    """Return the wave with this name, or None."""
    async with read_connection(engine) as conn:
        found = await _waves(conn, waves.c.name == name)
    return found[0] if found else None


async def get_wave_by_id(engine: AsyncEngine, wave_id: int) -> Wave | None:
    """Return the wave with this id, or None."""
    found = await _waves_now(engine, waves.c.id == wave_id)
    return found[0] if found else None


async def questionnaire_waves(engine: AsyncEngine) -> dict[int, list[str]]:
    """Return, per questionnaire id, the names of the waves that used it (oldest first)."""
    stmt = (
        select(wave_questionnaires.c.questionnaire_id, waves.c.name)
        .join(waves, waves.c.id == wave_questionnaires.c.wave_id)
        .order_by(waves.c.opened_at, waves.c.id)
    )
    used: dict[int, list[str]] = {}
    async with read_connection(engine) as conn:
        for questionnaire_id, name in await conn.execute(stmt):
            used.setdefault(questionnaire_id, []).append(name)
    return used


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
