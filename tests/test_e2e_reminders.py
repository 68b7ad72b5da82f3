"""End to end through the sandbox: reminders to people who stopped, with a controllable clock.

The scheduler's `tick` is what APScheduler runs every minute; the tests move the harness clock
and tick by hand. The clock starts on Monday 2026-03-02 10:00 WIB.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.cli import main
from bot.runner import running
from sandbox import SandboxUser
from sandbox.demo import SANDBOX_TOKEN
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.reach import ReminderPolicy
from services.reach.reminders import CONTINUE_DATA, OPT_OUT_DATA
from services.settings import Settings
from storage.contacts import contacts, reminder_claims
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_survey import answer, open_survey, position

pytestmark = pytest.mark.e2e

START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
REMINDER = "belum selesai"
LAST_REMINDER = "Pengingat terakhir"


async def tick(h: Harness, at: datetime) -> None:
    """Move the clock and run a scheduler tick, as APScheduler would at that minute."""
    h.clock.now = at
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()
    await asyncio.sleep(0.05)


def reminders_in(user: SandboxUser, text: str = REMINDER) -> list[str]:
    return [m.plain_text for m in user.chat.messages if text in m.plain_text]


async def stopped_respondent(h: Harness, answered: int = 2) -> SandboxUser:
    """A respondent who opened an invitation, answered a few questions and stopped."""
    user = h.user()
    message = await open_survey(h, user, await h.invitation(Group.INTERNAL))
    for _ in range(answered):
        message = await answer(user, message)
    return user


async def count(h: Harness, table: object) -> int:
    async with h.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def tap_reminder(h: Harness, user: SandboxUser, data: str, replies: int) -> None:
    """Tap a button of the newest reminder and wait for the bot's `replies` new messages."""
    message = next(
        m
        for m in reversed(user.chat.messages)
        if REMINDER in m.plain_text or LAST_REMINDER in m.plain_text
    )
    assert data in [b.data for b in message.flat_buttons]
    before = len(user.chat.messages)
    await user.tap(message, data=data)
    await h.sandbox.wait_for(lambda: len(user.chat.messages) >= before + replies)
    await reply(user)


async def test_stopped_respondent_is_reminded_once_and_the_tap_resumes(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    await tick(harness, START + timedelta(hours=23))
    assert reminders_in(user) == []
    await tick(harness, START + timedelta(hours=25))
    await tick(harness, START + timedelta(hours=25, minutes=1))
    assert len(reminders_in(user)) == 1
    await tap_reminder(harness, user, CONTINUE_DATA, 1)
    assert "Melanjutkan" in user.chat.messages[-1].plain_text  # the note and the question
    assert position(user.chat.messages[-1]) == 3
    # The reminder's buttons are gone: it has done its job.
    reminder = next(m for m in user.chat.messages if REMINDER in m.plain_text)
    assert not reminder.flat_buttons


async def test_second_round_then_no_more(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    await tick(harness, START + timedelta(days=1, hours=1))
    await tick(harness, START + timedelta(days=2, hours=1))  # round 2 needs 3 days idle
    assert len(reminders_in(user)) == 1
    await tick(harness, START + timedelta(days=3, hours=1))
    assert len(reminders_in(user, LAST_REMINDER)) == 1
    for days in (4, 6, 9):
        await tick(harness, START + timedelta(days=days, hours=1))
    assert len(reminders_in(user)) + len(reminders_in(user, LAST_REMINDER)) == 2


async def test_no_reminder_in_quiet_hours_it_waits_for_the_morning(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    await tick(harness, START + timedelta(days=1, hours=11))  # Tuesday 21:00 WIB
    await tick(harness, START + timedelta(days=1, hours=20))  # Wednesday 06:00 WIB
    assert reminders_in(user) == []
    await tick(harness, START + timedelta(days=1, hours=21, minutes=30))  # 07:30
    assert len(reminders_in(user)) == 1


async def test_no_reminder_after_finishing(harness: Harness) -> None:
    user = harness.user()
    payload = await harness.invitation(Group.INTERNAL)
    outcome, _ = await simulate_respondent(user, payload, Persona(0.5, random.Random(3)))
    assert outcome is Outcome.COMPLETED
    assert await count(harness, contacts) == 0
    await tick(harness, START + timedelta(days=1, hours=1))
    await tick(harness, START + timedelta(days=3, hours=1))
    assert reminders_in(user) == []


async def test_opt_out_stops_further_reminders(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    await tick(harness, START + timedelta(days=1, hours=1))
    await tap_reminder(harness, user, OPT_OUT_DATA, 1)
    assert "tidak akan menerima pengingat lagi" in user.chat.messages[-1].plain_text
    assert await count(harness, contacts) == 0
    await tick(harness, START + timedelta(days=3, hours=1))
    assert reminders_in(user, LAST_REMINDER) == []
    # The survey itself is still there: /start resumes it.
    await user.command("start")
    await reply(user)
    assert position(user.chat.messages[-1]) == 3


async def test_a_blocked_bot_removes_the_contact(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    user.block_bot()
    await tick(harness, START + timedelta(days=1, hours=1))
    assert await count(harness, contacts) == 0
    async with harness.engine.connect() as conn:
        status = (await conn.execute(select(reminder_claims.c.status))).scalar_one()
    assert status == "gone"


async def test_a_failed_first_send_is_not_repeated_by_the_next_tick(harness: Harness) -> None:
    user = await stopped_respondent(harness)
    harness.sandbox.inject_fault("sendMessage", 500, chat_id=user.id, times=None)
    await tick(harness, START + timedelta(days=1, hours=1))
    harness.sandbox.clear_faults()
    await tick(harness, START + timedelta(days=1, hours=2))
    assert reminders_in(user) == []  # at most once: the claim stays


async def test_two_processes_send_each_reminder_once(harness: Harness) -> None:
    people = [await stopped_respondent(harness, answered=1) for _ in range(4)]
    settings, clock = harness.settings, harness.clock
    async with AsyncExitStack() as stack:
        second = await stack.enter_async_context(
            running(build_application(settings, clock=clock), polling=False)
        )
        assert harness.app is not None
        first = harness.app
        clock.now = START + timedelta(days=1, hours=1)
        await asyncio.gather(
            first.bot_data.scheduler.tick(),
            second.bot_data.scheduler.tick(),
            first.bot_data.scheduler.tick(),
            second.bot_data.scheduler.tick(),
        )
        await asyncio.sleep(0.1)
    for person in people:
        assert len(reminders_in(person)) == 1
    sent = [
        c
        for c in harness.sandbox.calls("sendMessage")
        if not c.error and REMINDER in str(c.params.get("text", ""))
    ]
    assert len(sent) == 4


def test_quiet_hours_and_sundays() -> None:
    from zoneinfo import ZoneInfo

    policy = ReminderPolicy(delays=(timedelta(days=1),), zone=ZoneInfo("Asia/Jakarta"))
    wib = ZoneInfo("Asia/Jakarta")
    monday = datetime(2026, 3, 2, tzinfo=wib)
    assert not policy.is_quiet(monday.replace(hour=7))
    assert not policy.is_quiet(monday.replace(hour=19, minute=59))
    assert policy.is_quiet(monday.replace(hour=20))
    assert policy.is_quiet(monday.replace(hour=6, minute=59))
    assert policy.is_quiet(datetime(2026, 3, 8, 10, tzinfo=wib))  # Sunday
    daytime = ReminderPolicy((), wib, quiet_start_hour=12, quiet_end_hour=14, quiet_sunday=False)
    assert daytime.is_quiet(monday.replace(hour=13))
    assert not daytime.is_quiet(datetime(2026, 3, 8, 10, tzinfo=wib))


async def test_spibot_remind_sends_a_round_now(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`spibot remind` from another process (here: a thread) on the same database."""
    user = await stopped_respondent(harness)  # idle since March: due by the real clock
    settings = harness.settings
    assert settings.spibot_secret is not None
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    environment = {
        "DATABASE_URL": settings.database_url,
        "SPIBOT_SECRET": settings.spibot_secret.get_secret_value(),
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
        # The real clock decides here: no quiet time, whatever the hour of the test run.
        "REMINDER_QUIET_START_HOUR": "0",
        "REMINDER_QUIET_END_HOUR": "0",
        "REMINDER_QUIET_SUNDAY": "false",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["remind", "--dry-run"]) == 0
    assert "would remind (round 1: 1, round 2: 0)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["remind"]) == 0
    assert "sent 1," in capsys.readouterr().out
    await harness.sandbox.wait_for(lambda: reminders_in(user))
    assert await asyncio.to_thread(main, ["remind"]) == 0
    assert "sent 0," in capsys.readouterr().out
    assert len(reminders_in(user)) == 1
