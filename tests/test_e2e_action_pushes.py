"""End to end: the weekly leadership report ends with the overdue follow-up actions."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

import storage.actions
import storage.waves
from sandbox import SandboxChat
from storage.actions import ActionStatus, NewAction
from surveys import Group
from tests.e2e_fixtures import Harness
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_900
MONDAY_7_WIB = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # the harness starts on 2 March


async def _settle(chat: SandboxChat) -> None:
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


def _action(unit: str, what: str, due: date, status: ActionStatus) -> NewAction:
    return NewAction(unit, what, "Kepala Bidang", due, "procurement", status=status)


async def test_weekly_report_lists_overdue_actions(harness: Harness) -> None:
    for respondents in Group:
        await add_responses(harness.engine, harness.wave, "DINKES", respondents, 5, harness.clock())
    await storage.actions.add_actions(
        harness.engine,
        [
            _action("DINKES", "Publikasikan RUP", date(2026, 3, 5), ActionStatus.PLANNED),
            _action("DPUPR", "Audit paket tender", date(2026, 3, 1), ActionStatus.IN_PROGRESS),
            _action("DINKES", "Sudah beres", date(2026, 3, 1), ActionStatus.DONE),
            _action("DINKES", "Belum jatuh tempo", date(2026, 3, 20), ActionStatus.PLANNED),
        ],
        harness.clock(),
    )
    admin = harness.user("id", user_id=ADMIN)
    group = harness.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    before = len(group.messages)

    harness.clock.now = MONDAY_7_WIB
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()
    await _settle(group)
    sent = group.messages[before:]
    charts = [m for m in sent if m.photo is not None or m.document is not None]
    assert len(charts) == 6
    overdue = sent[-1].plain_text
    assert "Tindak lanjut lewat target: 2 aksi" in overdue
    assert "Dinas Pekerjaan Umum" in overdue
    assert "Audit paket tender (target 2026-03-01, lewat 8 hari)" in overdue
    assert "Publikasikan RUP (target 2026-03-05, lewat 4 hari)" in overdue
    assert "Sudah beres" not in overdue
    assert "Belum jatuh tempo" not in overdue


async def test_between_waves_the_weekly_report_is_the_overdue_list(harness: Harness) -> None:
    admin = harness.user("id", user_id=ADMIN)
    group = harness.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    harness.clock.advance(minutes=1)
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()  # the final report of the closed wave
    await _settle(group)

    before = len(group.messages)
    harness.clock.now = MONDAY_7_WIB
    results = await harness.app.bot_data.scheduler.tick()
    await _settle(group)
    assert len(group.messages) == before  # nothing overdue: nothing to say
    assert {r.status.value for r in results} == {"idle"}

    await storage.actions.add_actions(
        harness.engine,
        [_action("DPUPR", "Audit paket tender", date(2026, 3, 1), ActionStatus.IN_PROGRESS)],
        harness.clock(),
    )
    harness.clock.now = MONDAY_7_WIB + timedelta(days=7)
    await harness.app.bot_data.scheduler.tick()
    await _settle(group)
    (sent,) = group.messages[before:]
    assert sent.photo is None
    assert "Tindak lanjut lewat target: 1 aksi" in sent.plain_text
    assert "Audit paket tender (target 2026-03-01, lewat 15 hari)" in sent.plain_text
