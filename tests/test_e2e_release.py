"""End to end, in an official's shoes: a lone response submitted today shows in no output of the
bot while its wave is open (the one release rule, services.release), and what respondents
typed never reaches a group chat.

The harness clock is Monday 2 March 2026, 10:00 WIB. DPMPTSP's five service users answered on
Saturday (one step of k = 5, released); one more answered this morning with a suggestion that
names a counter clerk: the adversary is an official who reads every output right after.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from sandbox import SandboxChat, SandboxUser
from services.access import create_grant
from storage.roles import Role
from tests.comment_data import add_suggestions
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_901
LONE = "Petugas loket 3 minta Rp50rb, pungli"
BACKGROUND = ["Antrean panjang", "Ada calo", "Petugas ramah", "Ruang tunggu panas", "Parkir"]
MONDAY_7_WIB = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


async def _data(h: Harness) -> None:
    saturday = (h.clock() - timedelta(days=2)).date()
    await add_suggestions(h.engine, h.wave, "DPMPTSP", BACKGROUND, h.clock(), completed_on=saturday)
    await add_suggestions(h.engine, h.wave, "DPMPTSP", [LONE], h.clock())  # today


async def _leader(h: Harness, language: str = "id") -> SandboxUser:
    payload, _ = await create_grant(h.engine, Role.LEADERSHIP, None, h.clock(), label="Bupati")
    user = h.user(language)
    await user.open_deep_link(payload)
    await reply(user)
    return user


def _texts(chat: SandboxChat, since: int = 0) -> str:
    return "\n".join(m.plain_text for m in chat.messages[since:])


async def _settle(chat: SandboxChat) -> None:
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


async def test_todays_lone_suggestion_is_in_no_output_for_an_official(harness: Harness) -> None:
    await _data(harness)
    boss = await _leader(harness)
    before = len(boss.chat.messages)
    await boss.command("saran")
    await reply(boss)
    await harness.sandbox.wait_for(lambda: any(m.photo for m in boss.chat.messages[before:]))
    text = _texts(boss.chat, before)
    assert all(suggestion in text for suggestion in BACKGROUND)
    assert "loket 3" not in text
    assert "5 saran" in text
    assert "pungli" not in text  # the keyword count (and the chart drawn from it) leaves it out
    assert "28.02" not in text  # no dates beside suggestions
    assert "02.03" not in text
    assert "tanpa tanggal dan urut abjad" in text
    shown = [line.removeprefix("• ") for line in text.splitlines() if line.startswith("• ")]
    suggestions = [s for s in shown if s in BACKGROUND]
    assert suggestions == sorted(suggestions, key=str.casefold)

    await boss.command("unit", "DPMPTSP")
    unit = (await reply(boss)).plain_text
    assert "(n=5)" in unit
    assert "(n=6)" not in unit

    admin = harness.user(user_id=ADMIN)
    await admin.command("ekspor")
    sent = await reply(admin)
    assert sent.document is not None
    rows = list(
        openpyxl.load_workbook(io.BytesIO(sent.document), read_only=True)["data"].iter_rows(
            values_only=True
        )
    )
    assert len(rows) == 1 + 5
    header = rows[0]
    assert "completed_on" not in header
    assert "duration_seconds" not in header
    assert "5 respons" in sent.plain_text


async def test_a_closed_wave_is_released_whole(harness: Harness) -> None:
    await _data(harness)
    boss = await _leader(harness)
    admin = harness.user(user_id=ADMIN)
    await admin.command("gelombang", "tutup")
    confirm = await reply(admin)
    await admin.tap(confirm, data=f"adm.wc.{harness.wave.id}")
    await reply(admin)
    before = len(boss.chat.messages)
    await boss.command("saran")
    await reply(boss)
    await harness.sandbox.wait_for(lambda: any(m.photo for m in boss.chat.messages[before:]))
    text = _texts(boss.chat, before)
    assert "loket 3" in text
    assert "6 saran" in text
    assert "mulai besok" not in text  # the provisional note is for open waves only


async def test_suggestions_are_never_shown_in_a_group(harness: Harness) -> None:
    await _data(harness)
    harness.clock.advance(days=1)  # everything of yesterday is released by now
    boss = await _leader(harness)
    group = harness.sandbox.group(GROUP, "Pimpinan")
    for command in ("saran", "suggestions"):
        await boss.command(command, "DPMPTSP", chat=group)
        answer = await boss.wait_for_reply(chat=group)
        assert "hanya ditampilkan di obrolan pribadi" in answer.plain_text
    assert not any(m.photo for m in group.messages)
    assert not any(s in _texts(group) for s in [*BACKGROUND, LONE])


async def test_pushes_to_a_group_carry_no_free_text(harness: Harness) -> None:
    await _data(harness)
    admin = harness.user("id", user_id=ADMIN)
    group = harness.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    harness.clock.now = MONDAY_7_WIB  # the weekly report and the daily digest are both due
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()
    await harness.sandbox.wait_for(lambda: sum(1 for m in group.messages if m.photo) >= 3)
    await _settle(group)
    pushed = _texts(group)
    assert not any(s in pushed for s in [*BACKGROUND, LONE])
    assert "(n=5)" in pushed  # the report pushed is the released one: today's lone one waits
    assert "(n=6)" not in pushed
    assert "saran" not in {m.filename for m in group.messages if m.filename}
