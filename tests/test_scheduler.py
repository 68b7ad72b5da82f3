"""Crontab parsing (standard weekday numbers) and due-time maths of the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.pushes.cron import LOOKBACK, CronError, latest_fire, parse_cron

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 07:00 WIB, a Monday


def _fires(cron: str, start: datetime, count: int, zone: str = "Asia/Jakarta") -> list[datetime]:
    trigger = parse_cron(cron, zone)
    fires, moment = [], start
    for _ in range(count):
        fire = trigger.get_next_fire_time(None, moment)
        assert fire is not None
        fires.append(fire.astimezone(UTC))
        moment = fire + timedelta(seconds=1)
    return fires


def test_weekly_monday_follows_standard_crontab_numbering() -> None:
    # APScheduler 3 numbers weekdays from Monday = 0; crontab's 1 must still mean Monday.
    (fire,) = _fires("0 7 * * 1", MONDAY - timedelta(hours=1), 1)
    assert fire == MONDAY
    assert fire.astimezone(parse_cron("0 7 * * 1", "Asia/Jakarta").timezone).hour == 7


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("1/3", ["Mon", "Thu"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("mon,wed", ["Mon", "Wed"]),
        ("0,6", ["Sun", "Sat"]),
    ],
)
def test_weekday_fields(weekday: str, expected: list[str]) -> None:
    fires = _fires(f"0 7 * * {weekday}", MONDAY - timedelta(days=1, hours=1), len(expected))
    zone = parse_cron("0 7 * * *", "Asia/Jakarta").timezone
    assert sorted(f.astimezone(zone).strftime("%a") for f in fires) == sorted(expected)


def test_time_zone_is_respected() -> None:
    (fire,) = _fires("0 7 * * *", MONDAY - timedelta(hours=5), 1, "Asia/Makassar")
    assert fire == MONDAY - timedelta(hours=1)  # 07:00 WITA is 06:00 WIB


@pytest.mark.parametrize(
    ("cron", "zone", "message"),
    [
        ("0 7 * *", "Asia/Jakarta", "needs 5 fields"),
        ("0 7 * * * *", "Asia/Jakarta", "needs 5 fields"),
        ("61 7 * * *", "Asia/Jakarta", "higher than the maximum"),
        ("0 25 * * *", "Asia/Jakarta", "higher than the maximum"),
        ("0 7 * * 8", "Asia/Jakarta", "weekday '8'"),
        ("0 7 * * 5-1", "Asia/Jakarta", "weekday '5-1'"),
        ("0 7 * * x1", "Asia/Jakarta", "weekday 'x1'"),
        ("0 7 31 2 *", "Asia/Jakarta", "never fires"),
        ("0 7 * * *", "Mars/Olympus", "unknown time zone"),
        ("abc 7 * * *", "Asia/Jakarta", "abc"),
    ],
)
def test_bad_crontabs_raise_a_clear_error(cron: str, zone: str, message: str) -> None:
    with pytest.raises(CronError, match=message.replace("*", r"\*")):
        parse_cron(cron, zone)


def test_latest_fire_coalesces_missed_fires() -> None:
    hourly = parse_cron("0 * * * *", "Asia/Jakarta")
    after = MONDAY
    now = MONDAY + timedelta(hours=3, minutes=20)
    assert latest_fire(hourly, after, now) == MONDAY + timedelta(hours=3)


def test_latest_fire_is_none_until_the_next_fire() -> None:
    daily = parse_cron("0 7 * * *", "Asia/Jakarta")
    assert latest_fire(daily, MONDAY, MONDAY + timedelta(hours=23)) is None
    assert latest_fire(daily, MONDAY, MONDAY + timedelta(days=1)) == MONDAY + timedelta(days=1)
    # A fire time exactly at `after` (already handled, or the moment of subscribing) is not due.
    assert latest_fire(daily, MONDAY, MONDAY) is None


def test_latest_fire_looks_back_a_bounded_time() -> None:
    every_minute = parse_cron("* * * * *", "Asia/Jakarta")
    now = MONDAY + timedelta(days=60)
    assert latest_fire(every_minute, MONDAY, now) == now
    yearly = parse_cron("0 7 1 1 *", "Asia/Jakarta")
    assert latest_fire(yearly, MONDAY - timedelta(days=400), MONDAY) is None
    assert timedelta(days=7) <= LOOKBACK  # a missed weekly push is still noticed and logged
