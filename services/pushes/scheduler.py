"""Scheduled pushes to subscribed chats (digests, weekly and final reports and the revisions of
a final report), then reminders.

Schedules are database rows, never pickled jobs. APScheduler (memory job store, on the bot's
event loop) only drives `tick()` once a minute and once at start-up; `tick(now)` does the work:
for each schedule of an active subscription it finds the newest fire time after the last one
handled (APScheduler's `CronTrigger` does the crontab maths), claims it in the database and
delivers it. Because the due time comes from the rows and the clock rather than from an
in-memory timer, a restart catches up by itself: a push less than `SCHEDULE_CATCH_UP_HOURS`
late is sent once (several missed ones coalesce into the newest), an older one is skipped
and logged. The claim is a row with a unique key, so with several bot processes on one
database exactly one of them sends each push (see `storage.schedules`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from telegram.ext import ExtBot

import storage.waves
from services.actions import ActionReminders
from services.admin import NightlyBackup, run_calendar
from services.context import Services
from services.metrics import PUSH_OUTCOMES
from services.pushes.compose import (
    DIGEST_VIEW,
    TickData,
    digest_text,
    overdue_item,
    pack_items,
    revision_items,
)
from services.pushes.cron import CronError, latest_fire, parse_cron
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.reach import Reminders
from services.reports import Revision
from storage.schedules import (
    ChatSchedule,
    PushStatus,
    ScheduleKind,
    active_schedules,
    claim_push,
    finish_push,
    last_fingerprint,
)

__all__ = ["PushResult", "PushScheduler"]

logger = logging.getLogger(__name__)

_TICK_JOB: Final = "spibot-schedule-tick"
# A tick in flight at shutdown gets this long to finish its current chat before it is cancelled.
_STOP_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class PushResult:
    """What one tick did with one schedule's fire time."""

    schedule_id: int
    kind: ScheduleKind
    fire_at: datetime
    status: PushStatus


_STATUS: Final = {
    DeliveryOutcome.SENT: PushStatus.SENT,
    DeliveryOutcome.GONE: PushStatus.PAUSED,
    DeliveryOutcome.FAILED: PushStatus.FAILED,
}


class PushScheduler:
    """Turns schedule rows into pushes; APScheduler calls `tick` every minute."""

    def __init__(self, services: Services, bot: ExtBot[Any]) -> None:
        self._services = services
        self.delivery = Delivery(bot, services)
        self.reminders = Reminders(services, self.delivery)
        self.action_reminders = ActionReminders(services, self.delivery)
        self._lock = asyncio.Lock()  # one tick at a time per process (the claim covers others)
        self._aps: AsyncIOScheduler | None = None
        self._ticks: set[asyncio.Task[object]] = set()
        self.backup = NightlyBackup(services.settings)

    @property
    def catch_up(self) -> timedelta:
        """Return how late a missed push may still be sent."""
        return timedelta(hours=self._services.settings.schedule_catch_up_hours)

    def start(self) -> None:
        """Tick now (start-up catch-up) and then at the start of every minute, on this loop."""
        if self._aps is not None:
            return
        self._aps = AsyncIOScheduler(timezone=UTC)  # memory job store: nothing is pickled
        self._aps.add_job(
            self._scheduled_tick,
            CronTrigger(second=0, timezone=UTC),
            id=_TICK_JOB,
            next_run_time=datetime.now(UTC),
            # A late or overlapping tick is one tick: `tick` itself works out what is due.
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._aps.start()
        logger.info("scheduler started")

    async def stop(self) -> None:
        """Stop ticking; give a tick in flight a moment to finish its chat, then cancel it."""
        if self._aps is None:
            return
        self._aps.shutdown(wait=False)
        self._aps = None
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a callback on this loop
        if self._ticks:
            _done, pending = await asyncio.wait(self._ticks, timeout=_STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _scheduled_tick(self) -> None:
        """Run a tick for APScheduler; log instead of raising so the next tick still comes."""
        task = asyncio.current_task()
        if task is not None:
            self._ticks.add(task)
        try:
            await self.tick()
        except Exception:
            logger.exception("schedule tick failed")
        finally:
            if task is not None:
                self._ticks.discard(task)

    async def tick(self, now: datetime | None = None) -> list[PushResult]:
        """Act on every push due at `now` (default: the clock); return what was done here."""
        async with self._lock:
            moment = now or self._services.clock()
            try:  # first: a wave closed now gets its final report in this same tick
                await run_calendar(self._services, moment)
            except Exception:
                logger.exception("wave calendar failed")
            data = TickData(self._services, moment)
            results: list[PushResult] = []
            for chat_schedule in await active_schedules(self._services.db.engine):
                try:
                    result = await self._run(chat_schedule, moment, data)
                except Exception:  # one chat's failure must not stop the others
                    PUSH_OUTCOMES.labels(chat_schedule.schedule.kind.value, "error").inc()
                    logger.exception(
                        "schedule %d (%s) failed",
                        chat_schedule.schedule.id,
                        chat_schedule.schedule.kind.value,
                    )
                    continue
                if result is not None:
                    PUSH_OUTCOMES.labels(result.kind.value, result.status.value).inc()
                    results.append(result)
            if self.backup.enabled:
                # After the pushes: a backup of a large database takes a while.
                try:
                    await self.backup.tick(moment)
                except Exception:  # a full disk must not stop tomorrow's pushes
                    logger.exception("nightly backup failed")
            if self._services.settings.reminders_enabled:
                try:  # after the pushes: a long reminder round must not delay a report
                    await self.reminders.run(moment)
                except Exception:
                    logger.exception("reminder round failed")
            if self._services.settings.action_reminders_enabled:
                try:  # due-date reminders to unit heads: a handful of messages a day
                    await self.action_reminders.run(moment)
                except Exception:
                    logger.exception("action reminders failed")
            return results

    async def _due(
        self, chat_schedule: ChatSchedule, now: datetime, data: TickData
    ) -> tuple[datetime, storage.waves.Wave | None, Revision | None] | None:
        """Return the fire time to act on (and the closed wave, for a final report or a
        revision of one), or None."""
        schedule = chat_schedule.schedule
        if schedule.kind is ScheduleKind.FINAL:
            # The final report when a wave closes, then each later revision of a final report
            # (a correction), oldest first: one per tick, each claimed at its own moment.
            due: list[tuple[datetime, storage.waves.Wave | None, Revision | None]] = []
            wave = await data.newest_closed_wave()
            closed_at = None if wave is None else wave.closed_at
            if closed_at is not None and chat_schedule.after < closed_at <= now:
                due.append((closed_at, wave, None))
            for revised, revision, at in await data.revisions_after(chat_schedule.after):
                if at <= now:
                    due.append((at, revised, revision))
            return min(due, key=lambda d: d[0]) if due else None
        if schedule.cron is None:  # pragma: no cover - the table's check constraint forbids it
            return None
        try:
            trigger = parse_cron(schedule.cron, schedule.timezone)
        except CronError as exc:
            logger.error("schedule %d has an unusable crontab: %s", schedule.id, exc)
            return None
        fire = latest_fire(trigger, chat_schedule.after, now)
        return None if fire is None else (fire, None, None)

    async def _run(
        self, chat_schedule: ChatSchedule, now: datetime, data: TickData
    ) -> PushResult | None:
        """Claim and deliver (or skip) one schedule's due push, if it has one."""
        due = await self._due(chat_schedule, now, data)
        if due is None:
            return None
        fire_at, closed_wave, revision = due
        schedule = chat_schedule.schedule
        engine = self._services.db.engine
        late = now - fire_at
        if late > self.catch_up:
            if await claim_push(engine, schedule.id, fire_at, now, PushStatus.SKIPPED) is None:
                return None
            logger.warning(
                "schedule %d (%s): push due %s is %s late, past the %s catch-up window; skipped",
                schedule.id,
                schedule.kind.value,
                fire_at.isoformat(timespec="minutes"),
                _rounded(late),
                _rounded(self.catch_up),
            )
            return PushResult(schedule.id, schedule.kind, fire_at, PushStatus.SKIPPED)
        claim = await claim_push(engine, schedule.id, fire_at, now)
        if claim is None:
            return None  # another process (or an earlier tick) has this one
        if late > timedelta(minutes=2):
            logger.info("schedule %d: catching up a push %s late", schedule.id, _rounded(late))
        try:
            status, fingerprint = await self._push(chat_schedule, closed_wave, revision, data)
        except BaseException:
            await finish_push(engine, claim, PushStatus.FAILED, self._services.clock())
            raise
        await finish_push(engine, claim, status, self._services.clock(), fingerprint)
        return PushResult(schedule.id, schedule.kind, fire_at, status)

    async def _push(
        self,
        chat_schedule: ChatSchedule,
        closed_wave: storage.waves.Wave | None,
        revision: Revision | None,
        data: TickData,
    ) -> tuple[PushStatus, str | None]:
        """Build and send one push; return its status and, for digests, what it reported."""
        kind = chat_schedule.schedule.kind
        if kind is ScheduleKind.FINAL and revision is not None:
            assert closed_wave is not None
            bundle = await data.bundle(closed_wave)
            if bundle is None:
                return PushStatus.IDLE, None
            items = await revision_items(data, bundle, revision, chat_schedule.language)
            return _STATUS[await self.delivery.send_all(chat_schedule.chat_id, items)], None
        if kind is ScheduleKind.FINAL:
            assert closed_wave is not None
            return await self._send_pack(chat_schedule, closed_wave, data, final=True), None
        wave = await data.open_wave()
        if wave is None and kind is ScheduleKind.REPORT:
            # Between waves the weekly report is the overdue follow-up actions alone: that is
            # when most of them are carried out.
            late = await overdue_item(data, chat_schedule.language)
            if late is None:
                return PushStatus.IDLE, None
            return _STATUS[await self.delivery.send(chat_schedule.chat_id, late)], None
        if wave is None:
            return PushStatus.IDLE, None  # digests follow an open wave
        if kind is ScheduleKind.REPORT:
            return await self._send_pack(chat_schedule, wave, data, final=False), None
        return await self._send_digest(chat_schedule, wave, data)

    async def _send_digest(
        self, chat_schedule: ChatSchedule, wave: storage.waves.Wave, data: TickData
    ) -> tuple[PushStatus, str | None]:
        """Send the progress digest, or one "nothing new" line (or nothing) when unchanged."""
        fingerprint = await data.fingerprint(wave)
        previous = await last_fingerprint(self._services.db.engine, chat_schedule.schedule.id)
        language = chat_schedule.language
        if previous == fingerprint:
            if self._services.settings.digest_skip_unchanged:
                return PushStatus.UNCHANGED, fingerprint
            line = self._services.messages.t(
                language, "sub_digest_unchanged", wave=html.escape(wave.name)
            )
            outcome = await self.delivery.send(chat_schedule.chat_id, Outgoing(text=line))
            status = PushStatus.UNCHANGED if outcome is DeliveryOutcome.SENT else _STATUS[outcome]
            return status, fingerprint if status is PushStatus.UNCHANGED else None
        bundle = await data.bundle(wave)
        if bundle is None:
            return PushStatus.IDLE, None
        text = digest_text(bundle, language, data.dashboard_line(language, DIGEST_VIEW))
        outcome = await self.delivery.send(chat_schedule.chat_id, Outgoing(text=text))
        status = _STATUS[outcome]
        return status, fingerprint if status is PushStatus.SENT else None

    async def _send_pack(
        self, chat_schedule: ChatSchedule, wave: storage.waves.Wave, data: TickData, *, final: bool
    ) -> PushStatus:
        """Send the full chart pack (after a heading for a wave's final report)."""
        bundle = await data.bundle(wave)
        if bundle is None:
            return PushStatus.IDLE
        items = await pack_items(data, bundle, chat_schedule.language, final=final)
        return _STATUS[await self.delivery.send_all(chat_schedule.chat_id, items)]


def _rounded(delta: timedelta) -> timedelta:
    """Return a duration to the minute, for log lines."""
    return timedelta(minutes=round(delta.total_seconds() / 60))
