"""Scheduled pushes to subscribed chats: digests, weekly reports and the final report of a wave.

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
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from telegram import Bot

import storage
from services.context import Services
from services.pushes.delivery import Delivery, DeliveryOutcome, Outgoing
from services.reports import ReportBundle, is_tall, load_report, progress_digest, report_pack
from storage import (
    ChatSchedule,
    PushStatus,
    ScheduleKind,
    active_schedules,
    claim_push,
    finish_push,
    last_fingerprint,
)

__all__ = [
    "CronError",
    "PushResult",
    "PushScheduler",
    "latest_fire",
    "parse_cron",
]

logger = logging.getLogger(__name__)

# How far back a fire time is looked for: enough to notice (and log) a missed weekly push,
# while bounding the work for a per-minute crontab after a long outage.
LOOKBACK: Final = timedelta(days=8)
_TICK_JOB: Final = "spibot-schedule-tick"
# A tick in flight at shutdown gets this long to finish its current chat before it is cancelled.
_STOP_GRACE_SECONDS: Final = 10.0
# Standard crontab weekday numbers (0 and 7 are Sunday) as APScheduler 3 names: its own
# numbers start at Monday = 0, so "0 7 * * 1" would otherwise fire on Tuesdays.
_WEEKDAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class CronError(ValueError):
    """A crontab expression or time zone that cannot be scheduled; the message says why."""


def _weekday_part(part: str) -> str:
    """Translate one comma-separated part of a standard weekday field to APScheduler names."""
    if not any(ch.isdigit() for ch in part):
        return part  # "*", or names such as "mon-fri", mean the same to both
    span, slash, step_text = part.partition("/")
    low, dash, high = span.partition("-")
    problem = CronError(f"weekday {part!r}: use 0-7 (0 and 7 are Sunday) or names (mon-fri)")
    try:
        step = int(step_text) if slash else 1
        if span == "*":
            first, last = 0, 6
        else:
            first = int(low)
            last = int(high) if dash else 6 if slash else first  # "n/step" runs to Saturday
    except ValueError:
        raise problem from None
    if not 0 <= first <= last <= 7 or step < 1:
        raise problem
    days = sorted({day % 7 for day in range(first, last + 1, step)})
    return ",".join(_WEEKDAYS[day] for day in days)


def parse_cron(expression: str, timezone: str) -> CronTrigger:
    """Return the trigger of a five-field crontab in a time zone, or raise CronError."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(
            f"needs 5 fields (minute hour day month weekday), got {len(fields)}: {expression!r}"
        )
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {timezone!r}") from None
    fields[4] = ",".join(_weekday_part(part) for part in fields[4].split(","))
    try:
        trigger = CronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise CronError(str(exc)) from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise CronError(f"{expression!r} never fires")
    return trigger


def latest_fire(trigger: CronTrigger, after: datetime, now: datetime) -> datetime | None:
    """Return the newest fire time in (after, now], looking back at most LOOKBACK, or None."""
    fire = trigger.get_next_fire_time(None, max(after, now - LOOKBACK))
    latest = None
    while fire is not None and fire <= now:
        if fire > after:
            latest = fire
        fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
    return None if latest is None else latest.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What one tick did with one schedule's fire time."""

    schedule_id: int
    kind: ScheduleKind
    fire_at: datetime
    status: PushStatus


class _TickData:
    """What one tick reads or renders once and shares between chats."""

    def __init__(self, services: Services, now: datetime) -> None:
        self._services = services
        self._now = now
        self._waves: list[storage.Wave] | None = None
        self._bundles: dict[str, ReportBundle | None] = {}
        self._packs: dict[tuple[str, str], list[tuple[str, bytes, str]]] = {}

    @property
    def _engine(self) -> storage.AsyncEngine:
        return self._services.db.engine

    async def waves(self) -> list[storage.Wave]:
        if self._waves is None:
            self._waves = await storage.list_waves(self._engine)
        return self._waves

    async def open_wave(self) -> storage.Wave | None:
        return next((w for w in await self.waves() if w.is_open), None)

    async def newest_closed_wave(self) -> storage.Wave | None:
        closed = [w for w in await self.waves() if w.closed_at is not None and not w.is_open]
        return max(closed, key=lambda w: w.closed_at or w.opened_at, default=None)

    async def bundle(self, wave: storage.Wave) -> ReportBundle | None:
        if wave.name not in self._bundles:
            today = self._now.astimezone(self._services.settings.zone).date()
            self._bundles[wave.name] = await load_report(
                self._engine, self._services.settings, wave_name=wave.name, today=today
            )
        return self._bundles[wave.name]

    async def pack(self, bundle: ReportBundle, language: str) -> list[tuple[str, bytes, str]]:
        key = (bundle.wave.name, language)
        if key not in self._packs:
            # Six matplotlib drawings take about a second: keep the event loop serving updates.
            self._packs[key] = await asyncio.to_thread(report_pack, bundle, language)
        return self._packs[key]

    async def fingerprint(self, wave: storage.Wave) -> str:
        counts = await storage.response_counts(self._engine, wave.id)
        return f"{wave.id}:{sum(count.submitted for count in counts)}"


_STATUS: Final = {
    DeliveryOutcome.SENT: PushStatus.SENT,
    DeliveryOutcome.GONE: PushStatus.PAUSED,
    DeliveryOutcome.FAILED: PushStatus.FAILED,
}


class PushScheduler:
    """Turns schedule rows into pushes; APScheduler calls `tick` every minute."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self.delivery = Delivery(bot, services)
        self._lock = asyncio.Lock()  # one tick at a time per process (the claim covers others)
        self._aps: AsyncIOScheduler | None = None
        self._ticks: set[asyncio.Task[object]] = set()

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
            data = _TickData(self._services, moment)
            results: list[PushResult] = []
            for chat_schedule in await active_schedules(self._services.db.engine):
                try:
                    result = await self._run(chat_schedule, moment, data)
                except Exception:  # one chat's failure must not stop the others
                    logger.exception(
                        "schedule %d (%s) failed",
                        chat_schedule.schedule.id,
                        chat_schedule.schedule.kind.value,
                    )
                    continue
                if result is not None:
                    results.append(result)
            return results

    async def _due(
        self, chat_schedule: ChatSchedule, now: datetime, data: _TickData
    ) -> tuple[datetime, storage.Wave | None] | None:
        """Return the fire time to act on (and the closed wave, for a final report), or None."""
        schedule = chat_schedule.schedule
        if schedule.kind is ScheduleKind.FINAL:
            wave = await data.newest_closed_wave()
            if wave is None or wave.closed_at is None or wave.closed_at > now:
                return None
            return (wave.closed_at, wave) if wave.closed_at > chat_schedule.after else None
        if schedule.cron is None:  # pragma: no cover - the table's check constraint forbids it
            return None
        try:
            trigger = parse_cron(schedule.cron, schedule.timezone)
        except CronError as exc:
            logger.error("schedule %d has an unusable crontab: %s", schedule.id, exc)
            return None
        fire = latest_fire(trigger, chat_schedule.after, now)
        return None if fire is None else (fire, None)

    async def _run(
        self, chat_schedule: ChatSchedule, now: datetime, data: _TickData
    ) -> PushResult | None:
        """Claim and deliver (or skip) one schedule's due push, if it has one."""
        due = await self._due(chat_schedule, now, data)
        if due is None:
            return None
        fire_at, closed_wave = due
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
            status, fingerprint = await self._push(chat_schedule, closed_wave, data)
        except BaseException:
            await finish_push(engine, claim, PushStatus.FAILED, self._services.clock())
            raise
        await finish_push(engine, claim, status, self._services.clock(), fingerprint)
        return PushResult(schedule.id, schedule.kind, fire_at, status)

    async def _push(
        self, chat_schedule: ChatSchedule, closed_wave: storage.Wave | None, data: _TickData
    ) -> tuple[PushStatus, str | None]:
        """Build and send one push; return its status and, for digests, what it reported."""
        kind = chat_schedule.schedule.kind
        if kind is ScheduleKind.FINAL:
            assert closed_wave is not None
            return await self._send_pack(chat_schedule, closed_wave, data, final=True), None
        wave = await data.open_wave()
        if wave is None:
            return PushStatus.IDLE, None  # digests and weekly reports follow an open wave
        if kind is ScheduleKind.REPORT:
            return await self._send_pack(chat_schedule, wave, data, final=False), None
        return await self._send_digest(chat_schedule, wave, data)

    async def _send_digest(
        self, chat_schedule: ChatSchedule, wave: storage.Wave, data: _TickData
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
        text = progress_digest(bundle, language)
        outcome = await self.delivery.send(chat_schedule.chat_id, Outgoing(text=text))
        status = _STATUS[outcome]
        return status, fingerprint if status is PushStatus.SENT else None

    async def _send_pack(
        self, chat_schedule: ChatSchedule, wave: storage.Wave, data: _TickData, *, final: bool
    ) -> PushStatus:
        """Send the full chart pack (after a heading for a wave's final report)."""
        bundle = await data.bundle(wave)
        if bundle is None:
            return PushStatus.IDLE
        language = chat_schedule.language
        items: list[Outgoing] = []
        if final:
            heading = self._services.messages.t(
                language, "sub_final_heading", wave=html.escape(wave.name)
            )
            items.append(Outgoing(text=heading))
        pack = await data.pack(bundle, language)
        items += [
            Outgoing(document=png, caption=caption, filename=f"{name}.png")
            if is_tall(png)
            else Outgoing(photo=png, caption=caption, filename=f"{name}.png")
            for name, png, caption in pack
        ]
        return _STATUS[await self.delivery.send_all(chat_schedule.chat_id, items)]


def _rounded(delta: timedelta) -> timedelta:
    """Return a duration to the minute, for log lines."""
    return timedelta(minutes=round(delta.total_seconds() / 60))
