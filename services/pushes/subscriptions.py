"""Scheduled-report subscriptions of chats: who may manage them, the presets and the defaults.

Only admins and leadership may subscribe a chat, change its schedule or end it; in a group
the person typing the command or tapping the button is checked, not the group.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

import storage.subscriptions
from services.access import viewer_for
from services.context import Services
from services.pushes.cron import (
    CronError,
    TooOften,
    ZoneError,
    parse_cron,
    parse_zone,
    shortest_gap,
)
from storage.schedules import (
    Schedule,
    ScheduleKind,
    delete_schedule,
    schedules_for_chat,
    set_schedule,
)

__all__ = [
    "DAILY_DIGEST",
    "WEEKLY_REPORT",
    "ChatSchedules",
    "CronError",
    "ScheduleKind",
    "SubscribeOutcome",
    "Timing",
    "TooOften",
    "ZoneError",
    "may_manage",
    "parse_kind",
    "parse_switch",
    "schedules_of",
    "set_kind",
    "subscribe",
    "timing_of",
    "unsubscribe",
]

logger = logging.getLogger(__name__)

DAILY_DIGEST: Final = "0 7 * * *"  # 07:00 every day
WEEKLY_REPORT: Final = "0 7 * * 1"  # 07:00 every Monday (standard crontab: 1 = Monday)
PRESETS: Final = {ScheduleKind.DIGEST: DAILY_DIGEST, ScheduleKind.REPORT: WEEKLY_REPORT}
_KINDS: Final = {
    "digest": ScheduleKind.DIGEST,
    "ringkasan": ScheduleKind.DIGEST,
    "report": ScheduleKind.REPORT,
    "laporan": ScheduleKind.REPORT,
    "final": ScheduleKind.FINAL,
    "akhir": ScheduleKind.FINAL,
}
_ON: Final = ("on", "hidup", "aktif", "nyala")
_OFF: Final = ("off", "mati", "nonaktif")
_DAILY_RE: Final = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* \*$")
_WEEKLY_RE: Final = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* (1|mon)$")


class SubscribeOutcome(StrEnum):
    """What /langganan did."""

    DONE = "done"  # a new subscription, with the default schedules
    RESUMED = "resumed"  # a paused or ended one is active again
    ALREADY = "already"


class Timing(StrEnum):
    """How a schedule reads in words."""

    OFF = "off"
    FINAL = "final"
    DAILY = "daily"
    WEEKLY = "weekly"
    CRON = "cron"


@dataclass(frozen=True, slots=True)
class ChatSchedules:
    """A chat's subscription state and its schedules by kind."""

    subscribed: bool
    paused_reason: str | None
    by_kind: dict[ScheduleKind, Schedule]


async def may_manage(services: Services, user_id: int) -> bool:
    """Tell whether this person may manage scheduled reports (an admin or leadership)."""
    viewer = await viewer_for(
        services.db.engine, services.pseudonym(user_id), admin=services.is_admin(user_id)
    )
    return viewer.sees_all


def parse_kind(word: str) -> ScheduleKind | None:
    """Return the kind of push a word names (Indonesian or English), or None."""
    return _KINDS.get(word.lower())


def parse_switch(word: str) -> bool | None:
    """Return True for "on" words, False for "off" words, None for anything else."""
    lowered = word.lower()
    return True if lowered in _ON else False if lowered in _OFF else None


def timing_of(schedule: Schedule | None) -> tuple[Timing, str | None]:
    """Return how a schedule reads: its timing and, for the presets, the time as "HH:MM"."""
    if schedule is None:
        return Timing.OFF, None
    if schedule.kind is ScheduleKind.FINAL or schedule.cron is None:
        return Timing.FINAL, None
    for pattern, timing in ((_DAILY_RE, Timing.DAILY), (_WEEKLY_RE, Timing.WEEKLY)):
        if (match := pattern.match(schedule.cron)) and int(match[1]) < 60 and int(match[2]) < 24:
            return timing, f"{int(match[2]):02d}:{int(match[1]):02d}"
    return Timing.CRON, None


async def schedules_of(services: Services, chat_id: int) -> ChatSchedules:
    """Return a chat's subscription state and schedules."""
    engine = services.db.engine
    subscription = await storage.subscriptions.get_subscription(engine, chat_id)
    by_kind = {s.kind: s for s in await schedules_for_chat(engine, chat_id)}
    return ChatSchedules(
        subscribed=subscription is not None,
        paused_reason=(
            (subscription.paused_reason or "-")
            if subscription is not None and not subscription.active
            else None
        ),
        by_kind=by_kind,
    )


async def set_kind(
    services: Services,
    chat_id: int,
    kind: ScheduleKind,
    on: bool,
    cron: str | None = None,
    timezone: str | None = None,
) -> None:
    """Turn one kind of push off, or on (with `cron`, by default the kind's preset).

    Raises ZoneError for an unknown time zone, TooOften for a crontab that fires more often
    than SCHEDULE_MIN_INTERVAL_MINUTES, CronError for any other crontab that cannot be
    scheduled.
    """
    engine = services.db.engine
    if not on:
        await delete_schedule(engine, chat_id, kind)
        return
    zone = timezone or services.settings.timezone
    parse_zone(zone)
    if cron is not None:
        trigger = parse_cron(cron, zone)
        minimum = timedelta(minutes=services.settings.schedule_min_interval_minutes)
        gap = shortest_gap(trigger, services.clock())
        if gap is not None and gap < minimum:
            # A push every minute to a leadership group is noise, and bulk sends share one
            # limiter with reminders and broadcasts.
            raise TooOften(cron, gap, minimum)
    await set_schedule(
        engine,
        chat_id,
        kind,
        None if kind is ScheduleKind.FINAL else cron or PRESETS[kind],
        services.clock(),
        zone,
    )


async def subscribe(
    services: Services, chat_id: int, language: str, *, by_user: int | None = None
) -> SubscribeOutcome:
    """Subscribe a chat; a new one gets the defaults (daily digest, weekly and final report).

    `by_user` is the official doing it: their pseudonym is kept with the subscription, so
    revoking their role pauses it (`services.admin.roles.revoke`).
    """
    engine = services.db.engine
    existing = await storage.subscriptions.get_subscription(engine, chat_id)
    if existing is not None and existing.active:
        return SubscribeOutcome.ALREADY
    by = services.pseudonym(by_user) if by_user is not None else None
    await storage.subscriptions.subscribe(
        engine, chat_id, language, services.clock(), created_by=by
    )
    if not await schedules_for_chat(engine, chat_id):
        for kind in ScheduleKind:
            await set_kind(services, chat_id, kind, True)
    return SubscribeOutcome.RESUMED if existing is not None else SubscribeOutcome.DONE


async def unsubscribe(services: Services, chat_id: int) -> bool:
    """End a chat's subscription; False when it had none."""
    return await storage.subscriptions.unsubscribe(services.db.engine, chat_id)
