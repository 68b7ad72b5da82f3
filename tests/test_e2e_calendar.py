"""End to end: planned waves open and close on the scheduler's tick (the final report follows
the planned close); old and new posters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import storage.errors
import storage.waves
from surveys import Group
from tests.e2e_fixtures import Harness, action_buttons, reply
from tests.score_data import add_responses
from tests.test_e2e_subscriptions import _settle, _subscribed_group

pytestmark = pytest.mark.e2e

TUESDAY_7_WIB = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


async def tick(h: Harness, at: datetime) -> None:
    h.clock.now = at
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()


async def opens_survey(h: Harness, payload: str) -> str:
    """Open a poster link as a new person; return the bot's first answer."""
    user = h.user()
    await user.open_deep_link(payload)
    message = await reply(user)
    return "survey" if action_buttons(message, "el") else message.plain_text


async def test_planned_wave_opens_and_closes_and_posters_follow(harness: Harness) -> None:
    engine = harness.engine
    old_poster = harness.unit_payload(bound=True)  # printed for 2026-S1
    new_poster = harness.unit_payload()  # every wave
    await storage.waves.plan_wave(
        engine, "2026-S2", TUESDAY_7_WIB, TUESDAY_7_WIB + timedelta(days=1)
    )
    await tick(harness, TUESDAY_7_WIB)  # 2026-S1 is still open: the plan waits
    wave = await storage.waves.current_wave(engine)
    assert wave is not None
    assert wave.name == "2026-S1"
    assert await opens_survey(harness, old_poster) == "survey"
    assert await opens_survey(harness, new_poster) == "survey"

    await storage.waves.close_wave(engine, harness.wave.id, TUESDAY_7_WIB)
    await tick(harness, TUESDAY_7_WIB + timedelta(minutes=1))
    wave = await storage.waves.current_wave(engine)
    assert wave is not None
    assert wave.name == "2026-S2"
    assert await opens_survey(harness, new_poster) == "survey"  # the same print, a new wave
    assert await opens_survey(harness, old_poster) != "survey"  # 2026-S1 is over

    await tick(harness, TUESDAY_7_WIB + timedelta(days=1))
    assert await storage.waves.current_wave(engine) is None
    assert "belum ada survei yang dibuka" in await opens_survey(harness, new_poster)
    (plan,) = await storage.waves.list_wave_plans(engine)
    assert plan.wave_id == wave.id
    # Later ticks do nothing more; a closed wave can be reopened by hand.
    await tick(harness, TUESDAY_7_WIB + timedelta(days=2))
    assert await storage.waves.current_wave(engine) is None
    assert await storage.waves.reopen_wave(engine, wave.id)
    with pytest.raises(storage.errors.WaveConflict):
        await storage.waves.reopen_wave(engine, harness.wave.id)


async def test_a_planned_close_posts_the_final_report_on_the_same_tick(harness: Harness) -> None:
    engine = harness.engine
    await storage.waves.close_wave(engine, harness.wave.id, harness.clock())
    closes = TUESDAY_7_WIB + timedelta(days=1)
    await storage.waves.plan_wave(engine, "2026-S2", TUESDAY_7_WIB, closes)
    await tick(harness, TUESDAY_7_WIB)
    wave = await storage.waves.current_wave(engine)
    assert wave is not None
    assert wave.name == "2026-S2"
    for group in Group:
        await add_responses(engine, wave, "DINKES", group, 5, harness.clock())
    _admin, chat = await _subscribed_group(harness)
    before = len(chat.messages)
    await tick(harness, closes - timedelta(minutes=1))  # not yet
    await _settle(chat)
    assert not any("Laporan akhir" in m.plain_text for m in chat.messages[before:])
    await tick(harness, closes)
    await _settle(chat)
    assert await storage.waves.current_wave(engine) is None
    sent = chat.messages[before:]
    assert any("Laporan akhir gelombang 2026-S2" in m.plain_text for m in sent)
    assert any("Gelombang 2026-S2 · final" in m.plain_text for m in sent)
