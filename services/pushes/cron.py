"""Crontab expressions for schedules: standard five-field crontab in a time zone.

APScheduler's `CronTrigger` does the maths; this module only translates standard weekday
numbers (Sunday = 0 or 7) and explains what cannot be scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

__all__ = ["LOOKBACK", "CronError", "latest_fire", "parse_cron"]

# How far back a fire time is looked for: enough to notice (and log) a missed weekly push,
# while bounding the work for a per-minute crontab after a long outage.
LOOKBACK: Final = timedelta(days=8)
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
