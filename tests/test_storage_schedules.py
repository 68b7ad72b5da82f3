"""Schedules and the push lease on real SQLite files and real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database
from storage.errors import NotFound
from storage.schedules import (
    PushStatus,
    ScheduleKind,
    active_schedules,
    claim_push,
    delete_schedule,
    finish_push,
    last_fingerprint,
    list_pushes,
    schedules_for_chat,
    set_schedule,
)
from storage.subscriptions import pause_subscription, subscribe, unsubscribe

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
CHAT = -100_777


async def test_set_change_and_delete_schedules(db: Database) -> None:
    with pytest.raises(NotFound):
        await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    await subscribe(db.engine, CHAT, "id", NOW)
    report = await set_schedule(db.engine, CHAT, ScheduleKind.REPORT, "0 7 * * 1", NOW)
    digest = await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    final = await set_schedule(db.engine, CHAT, ScheduleKind.FINAL, None, NOW)
    assert [s.kind for s in await schedules_for_chat(db.engine, CHAT)] == [
        ScheduleKind.DIGEST,
        ScheduleKind.REPORT,
        ScheduleKind.FINAL,
    ]
    assert digest.timezone == "Asia/Jakarta"
    assert final.cron is None

    later = NOW + timedelta(hours=1)
    changed = await set_schedule(
        db.engine, CHAT, ScheduleKind.DIGEST, "30 6 * * *", later, "Asia/Makassar"
    )
    assert changed.id == digest.id  # changed in place: the push history stays with it
    assert (changed.cron, changed.timezone, changed.since) == ("30 6 * * *", "Asia/Makassar", later)

    assert await delete_schedule(db.engine, CHAT, ScheduleKind.REPORT)
    assert not await delete_schedule(db.engine, CHAT, ScheduleKind.REPORT)
    assert report.id not in {s.id for s in await schedules_for_chat(db.engine, CHAT)}


async def test_final_needs_no_cron_and_others_need_one(db: Database) -> None:
    await subscribe(db.engine, CHAT, "id", NOW)
    with pytest.raises(ValueError, match="crontab"):
        await set_schedule(db.engine, CHAT, ScheduleKind.FINAL, "0 7 * * *", NOW)
    with pytest.raises(ValueError, match="crontab"):
        await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, None, NOW)


async def test_active_schedules_skip_paused_chats_and_report_last_fire(db: Database) -> None:
    await subscribe(db.engine, CHAT, "en", NOW)
    await subscribe(db.engine, CHAT - 1, "id", NOW)
    digest = await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    await set_schedule(db.engine, CHAT - 1, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    await pause_subscription(db.engine, CHAT - 1, "Forbidden: bot was kicked")

    (only,) = await active_schedules(db.engine)
    assert (only.chat_id, only.language, only.last_fire_at, only.after) == (CHAT, "en", None, NOW)

    fire = NOW + timedelta(hours=1)
    await claim_push(db.engine, digest.id, fire, NOW, PushStatus.SKIPPED)
    (only,) = await active_schedules(db.engine)
    assert only.last_fire_at == fire
    assert only.after == fire


async def test_a_fire_time_is_claimed_once(db: Database) -> None:
    await subscribe(db.engine, CHAT, "id", NOW)
    digest = await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    fire = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    claims = await asyncio.gather(*(claim_push(db.engine, digest.id, fire, NOW) for _ in range(5)))
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1
    # The same instant in another zone is the same fire time.
    wib = fire.astimezone(ZoneInfo("Asia/Jakarta"))
    assert await claim_push(db.engine, digest.id, wib, NOW) is None

    await finish_push(db.engine, won[0], PushStatus.SENT, NOW, fingerprint="1:10")
    assert await list_pushes(db.engine, digest.id) == [(fire, PushStatus.SENT)]
    assert await last_fingerprint(db.engine, digest.id) == "1:10"


async def test_last_fingerprint_ignores_pushes_that_were_not_delivered(db: Database) -> None:
    await subscribe(db.engine, CHAT, "id", NOW)
    digest = await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    first = await claim_push(db.engine, digest.id, NOW + timedelta(days=1), NOW)
    assert first is not None
    await finish_push(db.engine, first, PushStatus.SENT, NOW, fingerprint="1:3")
    second = await claim_push(db.engine, digest.id, NOW + timedelta(days=2), NOW)
    assert second is not None
    await finish_push(db.engine, second, PushStatus.FAILED, NOW, fingerprint="1:9")
    assert await last_fingerprint(db.engine, digest.id) == "1:3"


async def test_unsubscribing_removes_schedules_and_pushes(db: Database) -> None:
    await subscribe(db.engine, CHAT, "id", NOW)
    digest = await set_schedule(db.engine, CHAT, ScheduleKind.DIGEST, "0 7 * * *", NOW)
    await claim_push(db.engine, digest.id, NOW + timedelta(days=1), NOW)
    assert await unsubscribe(db.engine, CHAT)
    assert await schedules_for_chat(db.engine, CHAT) == []
    assert await list_pushes(db.engine, digest.id) == []
