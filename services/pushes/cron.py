"""Crontab expressions for schedules: standard five-field crontab in a time zone.

APScheduler's `CronTrigger` does the maths; this module only translates standard weekday
numbers (Sunday = 0 or 7) and explains what cannot be scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "LOOKBACK",
    "CronError",
    "TooOften",
    "ZoneError",
    "latest_fire",
    "parse_cron",
    "parse_zone",
    "shortest_gap",
]

# How far back a fire time is looked for: enough to notice (and log) a missed weekly push,
# while bounding the work for a per-minute crontab after a long outage.
LOOKBACK: Final = timedelta(days=8)
# Standard crontab weekday numbers (0 and 7 are Sunday) as APScheduler 3 names: its own
# numbers start at Monday = 0, so "0 7 * * 1" would otherwise fire on Tuesdays.
_WEEKDAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


# Fire times looked at by `shortest_gap`. A crontab is a product of minutes × hours × days, so
# its shortest gap shows among the fires of its first hour and day (or the turn of a day or
# month right after): a handful of fires for any crontab, 500 to be generous.
_GAP_FIRES: Final = 500


class CronError(ValueError):
    """A crontab expression or time zone that cannot be scheduled; the message says why."""


class ZoneError(CronError):
    """A time zone name that is not in the time zone database."""

    def __init__(self, zone: str) -> None:
        super().__init__(f"unknown time zone {zone!r}")
        self.zone = zone


class TooOften(CronError):
    """A crontab that fires more often than allowed (/jadwal's minimum interval)."""

    def __init__(self, expression: str, gap: timedelta, minimum: timedelta) -> None:
        super().__init__(f"{expression!r} fires every {gap}; at most once every {minimum}")
        self.gap = gap
        self.minimum = minimum


def parse_zone(timezone: str) -> ZoneInfo:
    """Return the time zone of a name, or raise ZoneError."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(timezone) from None


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
    zone = parse_zone(timezone)
    fields[4] = ",".join(_weekday_part(part) for part in fields[4].split(","))
    try:
        trigger = CronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise CronError(str(exc)) from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise CronError(f"{expression!r} never fires")
    return trigger


def shortest_gap(trigger: CronTrigger, start: datetime) -> timedelta | None:
    """Return the shortest time between fire times after `start` (None: fires at most once).

    Looks at the first `_GAP_FIRES` fire times (see there why that is enough).
    """
    shortest: timedelta | None = None
    previous = trigger.get_next_fire_time(None, start)
    for _ in range(_GAP_FIRES):
        if previous is None:
            break
        fire = trigger.get_next_fire_time(None, previous + timedelta(seconds=1))
        if fire is None:
            break
        gap = fire - previous
        shortest = gap if shortest is None else min(shortest, gap)
        previous = fire
    return shortest


def latest_fire(trigger: CronTrigger, after: datetime, now: datetime) -> datetime | None:
    """Return the newest fire time in (after, now], looking back at most LOOKBACK, or None."""
    fire = trigger.get_next_fire_time(None, max(after, now - LOOKBACK))
    latest = None
    while fire is not None and fire <= now:
        if fire > after:
            latest = fire
        fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
    return None if latest is None else latest.astimezone(UTC)
