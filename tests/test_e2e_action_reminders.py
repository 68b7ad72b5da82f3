"""End to end: due-date reminders of follow-up actions to the unit head, with a controllable
clock (the harness starts on Monday 2026-03-02 10:00 WIB; tests move it and tick by hand)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import storage.actions
import storage.contacts
import storage.roles
from bot.app import build_application
from bot.runner import running
from sandbox import SandboxUser
from services.access import create_grant
from services.actions.reminders import occasion_for
from storage.action_reminders import Occasion, action_reminder_claims
from storage.actions import ActionStatus, NewAction
from storage.contacts import ContactPurpose
from storage.roles import Role
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e

DUE = date(2026, 3, 12)  # a Thursday: the first reminder is owed from Monday 9 March
REMINDER = "Pengingat tindak lanjut"
LATE = "Tindak lanjut lewat target"


def wib(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """Return a moment in March 2026 given in WIB (UTC+7)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


async def tick(h: Harness, at: datetime) -> None:
    """Move the clock and run a scheduler tick, as APScheduler would at that minute."""
    h.clock.now = at
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()
    await asyncio.sleep(0.05)


def reminders(user: SandboxUser) -> list[str]:
    return [
        m.plain_text for m in user.chat.messages if REMINDER in m.plain_text or LATE in m.plain_text
    ]


async def unit_head(h: Harness, unit: str = "DINKES") -> SandboxUser:
    payload, _ = await create_grant(h.engine, Role.UNIT_HEAD, unit, h.clock())
    user = h.user()
    await user.open_deep_link(payload)
    assert "pengingat target waktunya akan dikirim ke sini" in (await reply(user)).plain_text
    return user


async def add(
    h: Harness, what: str, status: ActionStatus = ActionStatus.PLANNED, unit: str = "DINKES"
) -> storage.actions.Action:
    new = NewAction(unit, what, "Kepala Bidang Pengadaan", DUE, "procurement", status=status)
    return await storage.actions.add_action(h.engine, new, h.clock())


async def claim_statuses(h: Harness) -> list[str]:
    async with h.engine.connect() as conn:
        return list((await conn.execute(select(action_reminder_claims.c.status))).scalars())


async def test_three_days_before_on_the_day_and_weekly_while_late(harness: Harness) -> None:
    head = await unit_head(harness)
    action = await add(harness, "Publikasikan RUP di situs web")
    for kind in (ActionStatus.DONE, ActionStatus.DROPPED):
        await add(harness, f"Aksi {kind.value}", kind)

    await tick(harness, wib(8, 10))  # Sunday, and four days before: nothing
    await tick(harness, wib(9, 6))  # the day has come, but 06:00 is quiet
    assert reminders(head) == []
    await tick(harness, wib(9, 7, 30))
    await tick(harness, wib(9, 7, 31))
    await tick(harness, wib(11, 10))  # still the same occasion
    (soon,) = reminders(head)
    assert f"Aksi #{action.id}: Publikasikan RUP di situs web" in soon
    assert "Target waktu 2026-03-12, 3 hari lagi. Status: Direncanakan." in soon

    await tick(harness, wib(12, 9))
    await tick(harness, wib(13, 9))
    assert len(reminders(head)) == 2
    assert "Target waktunya hari ini (2026-03-12)" in reminders(head)[-1]

    for day in (14, 16, 18):
        await tick(harness, wib(day, 9))
    assert len(reminders(head)) == 2
    await tick(harness, wib(19, 9))
    await tick(harness, wib(26, 9))
    late = reminders(head)[2:]
    assert [("lewat 7 hari" in t, "lewat 14 hari" in t) for t in late] == [
        (True, False),
        (False, True),
    ]
    assert not any("Aksi done" in t or "Aksi dropped" in t for t in reminders(head))

    # The reminder's button opens the action; done, it reminds no more.
    message = next(m for m in reversed(head.chat.messages) if LATE in m.plain_text)
    await head.tap(message, text=f"✏️ Perbarui aksi #{action.id}")
    detail = await reply(head)
    assert f"Aksi #{action.id}" in detail.plain_text
    await head.tap(detail, text="Selesai")
    assert "Status aksi" in (await reply(head)).plain_text
    await tick(harness, wib(2, 9, month=4))
    assert len(reminders(head)) == 4
    assert await claim_statuses(harness) == ["sent"] * 4


async def test_only_the_units_own_head_and_only_reachable_ones(harness: Harness) -> None:
    head = await unit_head(harness)
    other = await unit_head(harness, "BAPPEDA")
    await add(harness, "Audit paket tender")
    # A head from before reminders existed: no contact until they use /tindaklanjut.
    pseudonym = head_pseudonym(harness, head)
    assert await storage.contacts.delete_contact(harness.engine, pseudonym, ContactPurpose.OFFICIAL)
    await tick(harness, wib(9, 9))
    assert reminders(head) == []
    await head.command("tindaklanjut")
    await reply(head)
    await tick(harness, wib(12, 9))  # the next occasion reaches them
    assert len(reminders(head)) == 1
    assert reminders(other) == []


def head_pseudonym(h: Harness, user: SandboxUser) -> str:
    assert h.app is not None
    return h.app.bot_data.services.pseudonym(user.id)


async def test_two_processes_send_each_reminder_once(harness: Harness) -> None:
    heads = [await unit_head(harness) for _ in range(2)]
    await add(harness, "Perbarui SOP pengadaan")
    await add(harness, "Deklarasi benturan kepentingan")
    settings, clock = harness.settings, harness.clock
    async with AsyncExitStack() as stack:
        second = await stack.enter_async_context(
            running(build_application(settings, clock=clock), polling=False)
        )
        assert harness.app is not None
        first = harness.app
        clock.now = wib(9, 9)
        await asyncio.gather(
            first.bot_data.scheduler.tick(),
            second.bot_data.scheduler.tick(),
            first.bot_data.scheduler.tick(),
            second.bot_data.scheduler.tick(),
        )
        await asyncio.sleep(0.1)
    for head in heads:
        assert len(reminders(head)) == 2  # one per action
    sent = [
        c
        for c in harness.sandbox.calls("sendMessage")
        if not c.error and REMINDER in str(c.params.get("text", ""))
    ]
    assert len(sent) == 4


async def test_a_blocked_bot_removes_the_heads_contact(harness: Harness) -> None:
    head = await unit_head(harness)
    await add(harness, "Publikasikan RUP")
    head.block_bot()
    await tick(harness, wib(9, 9))
    assert await claim_statuses(harness) == ["gone"]
    left = await storage.contacts.contact_count(harness.engine, ContactPurpose.OFFICIAL)
    assert left == 0
    head.unblock_bot()
    await tick(harness, wib(12, 9))  # nobody to reach until they come back
    assert reminders(head) == []
    assert await claim_statuses(harness) == ["gone"]


async def test_a_failed_send_is_not_repeated(harness: Harness) -> None:
    head = await unit_head(harness)
    await add(harness, "Publikasikan RUP")
    harness.sandbox.inject_fault("sendMessage", 500, chat_id=head.id, times=None)
    await tick(harness, wib(9, 9))
    harness.sandbox.clear_faults()
    await tick(harness, wib(9, 10))
    assert reminders(head) == []  # at most once: the claim stays
    assert await claim_statuses(harness) == ["failed"]


async def test_switched_off(harness: Harness) -> None:
    head = await unit_head(harness)
    await add(harness, "Publikasikan RUP")
    await harness.stop()
    harness.settings = harness.settings.model_copy(update={"action_reminders_enabled": False})
    await harness.start()
    await tick(harness, wib(9, 9))
    assert reminders(head) == []


@pytest.mark.parametrize(
    ("today", "created", "expected"),
    [
        (date(2026, 3, 8), date(2026, 3, 1), None),  # four days before
        (date(2026, 3, 9), date(2026, 3, 1), (Occasion.SOON, date(2026, 3, 9))),
        (date(2026, 3, 11), date(2026, 3, 1), (Occasion.SOON, date(2026, 3, 9))),
        (date(2026, 3, 12), date(2026, 3, 1), (Occasion.DUE, date(2026, 3, 12))),
        (date(2026, 3, 18), date(2026, 3, 1), (Occasion.DUE, date(2026, 3, 12))),
        (date(2026, 3, 19), date(2026, 3, 1), (Occasion.OVERDUE, date(2026, 3, 19))),
        (date(2026, 3, 27), date(2026, 3, 1), (Occasion.OVERDUE, date(2026, 3, 26))),
        # Added inside an occasion: that one is skipped, the next one is owed.
        (date(2026, 3, 10), date(2026, 3, 10), None),
        (date(2026, 3, 12), date(2026, 3, 10), (Occasion.DUE, date(2026, 3, 12))),
        (date(2026, 3, 12), date(2026, 3, 12), (Occasion.DUE, date(2026, 3, 12))),
        (date(2026, 4, 20), date(2026, 4, 20), None),  # imported long overdue
        (date(2026, 4, 23), date(2026, 4, 20), (Occasion.OVERDUE, date(2026, 4, 23))),
    ],
)
def test_occasions(today: date, created: date, expected: tuple[Occasion, date] | None) -> None:
    assert occasion_for(DUE, created, today) == expected


async def test_an_old_reminder_button_after_the_role_is_revoked(harness: Harness) -> None:
    head = await unit_head(harness)
    action = await add(harness, "Publikasikan RUP")
    await tick(harness, wib(9, 9))
    (message,) = [m for m in head.chat.messages if REMINDER in m.plain_text]
    # Another unit's head replaying the button's data: it is signed for this head only.
    other = await unit_head(harness, "BAPPEDA")
    data = message.flat_buttons[0].data
    assert data is not None
    own = other.chat.messages[-1]
    answers = harness.sandbox.callback_answers
    before = len(answers)
    await other.tap_raw(own.message_id, data)
    await harness.sandbox.wait_for(lambda: len(answers) > before, 5)
    assert "bukan untuk Anda" in (answers[-1].text or "")
    pseudonym = head_pseudonym(harness, head)
    assert await storage.roles.revoke_role(harness.engine, pseudonym, Role.UNIT_HEAD)
    await head.tap(message, text=f"✏️ Perbarui aksi #{action.id}")
    assert "hanya dapat dilihat oleh pimpinan" in (await reply(head)).plain_text
    await tick(harness, wib(12, 9))  # no role, no reminders (and no chat kept)
    assert len(reminders(head)) == 1
    assert (
        await storage.contacts.contact_count(harness.engine, ContactPurpose.OFFICIAL) == 1
    )  # BAPPEDA's
