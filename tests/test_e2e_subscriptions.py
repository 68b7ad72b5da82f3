"""End to end: subscribed leadership chats receive scheduled pushes through the sandbox.

Time is the harness's controllable clock: a test moves it to a fire time and calls the
scheduler's `tick` (what APScheduler does every minute), or restarts the bot and lets the
start-up tick catch up. Delivery goes over real HTTP to the sandbox Bot API.
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.db
import storage.subscriptions
import storage.waves
from bot.app import build_application
from bot.runner import running, sandbox_bot
from sandbox import SandboxChat, SandboxServer, SandboxUser, SentMessage
from sandbox.demo import DemoOptions, open_sample_wave, run_demo, sandbox_settings
from scoring.charts import CHART_NAMES
from services.access import create_grant
from storage.roles import Role
from storage.schedules import (
    PushStatus,
    ScheduleKind,
    list_pushes,
    schedules_for_chat,
    set_schedule,
)
from surveys import Group
from tests.e2e_fixtures import Clock, Harness, reply
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_900
PNG = b"\x89PNG"
# The harness clock starts on Monday 2 March 2026, 10:00 WIB.
TUESDAY_7_WIB = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
MONDAY_7_WIB = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


async def _data(h: Harness, count: int = 5) -> None:
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, count, h.clock())


async def _subscribed_group(h: Harness) -> tuple[SandboxUser, SandboxChat]:
    """Have the configured admin subscribe the "Pimpinan" group."""
    admin = h.user("id", user_id=ADMIN)
    group = h.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)
    return admin, group


async def _tick(h: Harness, at: datetime) -> None:
    """Move the clock to `at` and run a scheduler tick, as APScheduler would at that minute."""
    h.clock.now = at
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()


async def _settle(chat: SandboxChat) -> None:
    """Let in-flight sends land (a background tick may be the one sending)."""
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


def _photos(chat: SandboxChat) -> list[SentMessage]:
    """Charts the chat received: photos, and tall charts sent as documents."""
    return [m for m in chat.messages if m.photo is not None or m.document is not None]


async def test_admin_subscribes_a_group_with_the_default_schedule(harness: Harness) -> None:
    _, group = await _subscribed_group(harness)
    text = group.messages[-1].plain_text
    assert "sekarang berlangganan" in text
    assert "Ringkasan progres: setiap hari pukul 07.00 (Asia/Jakarta)" in text
    assert "Laporan lengkap: setiap Senin pukul 07.00" in text
    assert "Laporan akhir gelombang: saat gelombang survei ditutup" in text
    kinds = [s.kind for s in await schedules_for_chat(harness.engine, GROUP)]
    assert kinds == [ScheduleKind.DIGEST, ScheduleKind.REPORT, ScheduleKind.FINAL]


async def test_leadership_subscribes_a_private_chat_in_english(harness: Harness) -> None:
    payload, _ = await create_grant(harness.engine, Role.LEADERSHIP, None, harness.clock())
    boss = harness.user("en")
    await boss.open_deep_link(payload)
    await reply(boss)
    await boss.command("subscribe")
    assert "This chat is now subscribed" in (await reply(boss)).plain_text
    await boss.command("subscribe")
    assert "already subscribed" in (await reply(boss)).plain_text
    subscription = await storage.subscriptions.get_subscription(harness.engine, boss.id)
    assert subscription is not None
    assert subscription.language == "en"


async def test_unauthorised_people_are_refused_politely(harness: Harness) -> None:
    citizen = harness.user()
    group = harness.sandbox.group(GROUP, "Pimpinan")
    for command in ("langganan", "jadwal", "berhenti"):
        await citizen.command(command, chat=group)
        refused = await citizen.wait_for_reply(chat=group)
        assert "hanya admin dan pimpinan" in refused.plain_text
    await citizen.command("langganan")
    assert "hanya admin dan pimpinan" in (await reply(citizen)).plain_text
    assert await storage.subscriptions.list_subscriptions(harness.engine) == []


async def test_schedule_presets_cron_and_bad_input(harness: Harness) -> None:
    admin, group = await _subscribed_group(harness)

    await admin.command("jadwal", "digest 30 6 * * 1-5", chat=group)
    changed = (await admin.wait_for_reply(chat=group)).plain_text
    assert "Jadwal diperbarui" in changed
    assert "Ringkasan progres: 30 6 * * 1-5 (Asia/Jakarta)" in changed
    await admin.command("jadwal", "report 0 8 * * 1 Asia/Makassar", chat=group)
    assert (
        "setiap Senin pukul 08.00 (Asia/Makassar)"
        in (await admin.wait_for_reply(chat=group)).plain_text
    )

    await admin.command("jadwal", "digest 61 7 * * *", chat=group)
    bad = (await admin.wait_for_reply(chat=group)).plain_text
    assert "61 7 * * * tidak dapat dipakai" in bad
    assert "lima kolom" in bad
    await admin.command("jadwal", "digest 0 7 * * * Mars/Olympus", chat=group)
    zone = (await admin.wait_for_reply(chat=group)).plain_text
    assert zone.startswith("Zona waktu Mars/Olympus tidak dikenal")
    assert len(zone.splitlines()) == 1  # one clear line, not the crontab lesson
    # A schedule that would push to the group more often than once an hour is refused.
    for too_often in ("*/5 * * * *", "0,30 7 * * *", "* 7 * * 1"):
        await admin.command("jadwal", f"digest {too_often}", chat=group)
        refused = (await admin.wait_for_reply(chat=group)).plain_text
        assert f"{too_often} terlalu sering" in refused
        assert "sekali setiap jam" in refused
    await admin.command("jadwal", "report 0 7,8 * * 1", chat=group)  # hourly is the limit
    assert "Jadwal diperbarui" in (await admin.wait_for_reply(chat=group)).plain_text
    await admin.command("jadwal", "report 0 8 * * 1 Asia/Makassar", chat=group)
    await admin.wait_for_reply(chat=group)
    await admin.command("jadwal", "digest 0 7 * *", chat=group)
    assert "Format:" in (await admin.wait_for_reply(chat=group)).plain_text
    await admin.command("jadwal", "weekly 0 7 * * *", chat=group)
    assert "Format:" in (await admin.wait_for_reply(chat=group)).plain_text
    digest = next(s for s in await schedules_for_chat(harness.engine, GROUP) if s.kind == "digest")
    assert digest.cron == "30 6 * * 1-5"  # bad input changed nothing

    await admin.command("jadwal", chat=group)
    view = await admin.wait_for_reply(chat=group)
    await admin.tap(view, data="sub:digest:off", chat=group)
    edited = await admin.wait_for_reply(chat=group)
    assert "Ringkasan progres: mati" in edited.plain_text
    await admin.tap(view, data="sub:digest:on", chat=group)
    assert "setiap hari pukul 07.00" in (await admin.wait_for_reply(chat=group)).plain_text

    citizen = harness.user()
    answered = len(harness.sandbox.callback_answers)
    await citizen.tap(view, data="sub:report:off", chat=group)
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > answered)
    answer = harness.sandbox.callback_answers[-1]
    assert answer.show_alert
    assert "hanya admin dan pimpinan" in (answer.text or "")
    assert len(await schedules_for_chat(harness.engine, GROUP)) == 3


async def test_a_scheduled_digest_fires_once(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = len(group.messages)

    await _tick(harness, TUESDAY_7_WIB - timedelta(minutes=1))
    await _settle(group)
    assert len(group.messages) == before  # not yet due

    await _tick(harness, TUESDAY_7_WIB)
    await _tick(harness, TUESDAY_7_WIB + timedelta(seconds=30))
    await _settle(group)
    sent = group.messages[before:]
    assert len(sent) == 1  # the weekly report is for Mondays
    assert "Pegawai" in sent[0].plain_text
    assert "2026-03-03" in sent[0].plain_text


async def test_digest_with_nothing_new_says_so_or_is_skipped(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = len(group.messages)
    await _tick(harness, TUESDAY_7_WIB)
    await _tick(harness, TUESDAY_7_WIB + timedelta(days=1))
    await _settle(group)
    first, second = group.messages[before:]
    assert "Pegawai" in first.plain_text
    assert (
        second.plain_text == "Ringkasan 2026-S1: belum ada respons baru sejak ringkasan terakhir."
    )

    # New responses: a full digest again.
    await add_responses(harness.engine, harness.wave, "DPUPR", Group.INTERNAL, 2, harness.clock())
    await _tick(harness, TUESDAY_7_WIB + timedelta(days=2))
    await _settle(group)
    assert "Pegawai" in group.messages[-1].plain_text

    harness.settings = harness.settings.model_copy(update={"digest_skip_unchanged": True})
    await harness.restart()
    count = len(group.messages)
    await _tick(harness, TUESDAY_7_WIB + timedelta(days=3))
    await _settle(group)
    assert len(group.messages) == count
    (digest,) = [s for s in await schedules_for_chat(harness.engine, GROUP) if s.kind == "digest"]
    statuses = [status for _, status in await list_pushes(harness.engine, digest.id)]
    assert statuses == [
        PushStatus.SENT,
        PushStatus.UNCHANGED,
        PushStatus.SENT,
        PushStatus.UNCHANGED,
    ]


async def test_weekly_report_survives_429s_that_escape_the_rate_limiter(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    # Three 429s in a row: PTB's limiter retries twice, then delivery waits and retries.
    harness.sandbox.inject_fault(method="sendPhoto", status=429, retry_after=1, times=3)
    await _tick(harness, MONDAY_7_WIB)
    await _settle(group)
    photos = _photos(group)
    assert len(photos) == 6
    assert all((p.photo or p.document or b"").startswith(PNG) for p in photos)
    assert "Indeks Integritas" in photos[0].plain_text
    rate_limited = [c for c in harness.sandbox.calls("sendPhoto") if c.error]
    assert len(rate_limited) == 3


async def test_403_pauses_the_subscription_and_tells_the_admins(harness: Harness) -> None:
    await _data(harness)
    admin, group = await _subscribed_group(harness)
    group.kick_bot()
    await _tick(harness, TUESDAY_7_WIB)
    subscription = await storage.subscriptions.get_subscription(harness.engine, GROUP)
    assert subscription is not None
    assert not subscription.active
    assert "kicked" in (subscription.paused_reason or "")
    notice = await admin.wait_for_reply(chat=admin.chat)
    assert f"{GROUP}" in notice.plain_text
    assert "dijeda" in notice.plain_text

    # Paused chats get nothing (not even an attempt), and the scheduler keeps going.
    attempts = len([c for c in harness.sandbox.sent if c.chat_id == GROUP])
    await _tick(harness, TUESDAY_7_WIB + timedelta(days=1))
    assert len([c for c in harness.sandbox.sent if c.chat_id == GROUP]) == attempts

    group.add_bot()
    await admin.command("langganan", chat=group)
    assert "aktif kembali" in (await admin.wait_for_reply(chat=group)).plain_text
    subscription = await storage.subscriptions.get_subscription(harness.engine, GROUP)
    assert subscription is not None
    assert subscription.active


async def test_a_missed_push_is_sent_once_at_start_up(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = len(group.messages)
    await harness.stop()
    harness.clock.now = TUESDAY_7_WIB + timedelta(hours=2)  # the bot was down at 07:00
    await harness.start()
    # No explicit tick: the scheduler's start-up tick catches up by itself.
    await harness.sandbox.wait_for(lambda: len(group.messages) > before, 10)
    await _settle(group)
    assert len(group.messages) == before + 1
    assert "Pegawai" in group.messages[-1].plain_text

    await harness.restart()
    await _tick(harness, TUESDAY_7_WIB + timedelta(hours=2, minutes=1))
    await _settle(group)
    assert len(group.messages) == before + 1


async def test_a_push_missed_by_more_than_six_hours_is_skipped(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = len(group.messages)
    await harness.stop()
    harness.clock.now = TUESDAY_7_WIB + timedelta(hours=6, minutes=1)
    await harness.start()
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()
    await _settle(group)
    assert len(group.messages) == before
    (digest,) = [s for s in await schedules_for_chat(harness.engine, GROUP) if s.kind == "digest"]
    assert await list_pushes(harness.engine, digest.id) == [(TUESDAY_7_WIB, PushStatus.SKIPPED)]


async def test_final_report_when_the_wave_closes(harness: Harness) -> None:
    await _data(harness)
    _, group = await _subscribed_group(harness)
    before = len(group.messages)
    harness.clock.advance(hours=2)
    # What `spibot wave close` does: it only sets the status; the scheduler notices.
    assert await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    harness.clock.advance(minutes=1)
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()
    await _settle(group)
    sent = group.messages[before:]
    assert "Laporan akhir gelombang 2026-S1" in sent[0].plain_text
    assert len([m for m in sent if m.photo or m.document]) == 6
    assert "Gelombang 2026-S1 · final" in sent[1].plain_text  # no longer provisional
    # Then what was done about it: no follow-up action was done in this first wave.
    assert "Tindak lanjut dan perubahan dimensi" in sent[-1].plain_text
    assert "Belum ada aksi tindak lanjut yang selesai" in sent[-1].plain_text

    # Once per chat per wave: later ticks and a restart send nothing more; and with the
    # wave closed, digests stop.
    await harness.restart()
    await _tick(harness, TUESDAY_7_WIB)
    await _settle(group)
    assert len(group.messages) == before + 8


async def test_stop_ends_the_subscription(harness: Harness) -> None:
    await _data(harness)
    admin, group = await _subscribed_group(harness)
    await admin.command("berhenti", chat=group)
    assert "Langganan dihentikan" in (await admin.wait_for_reply(chat=group)).plain_text
    count = len(group.messages)
    await _tick(harness, TUESDAY_7_WIB)
    await _settle(group)
    assert len(group.messages) == count
    await admin.command("berhenti", chat=group)
    assert "belum berlangganan" in (await admin.wait_for_reply(chat=group)).plain_text


# -- two bot processes on one database -------------------------------------------------------


async def test_two_processes_on_one_database_send_each_push_once(db: storage.db.Database) -> None:
    """Exactly-once: two Applications, each with its own engine and scheduler, same rows."""
    clock = Clock()
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(
            sandbox, db.url, secrets.token_urlsafe(32), admin_user_ids=str(ADMIN)
        )
        wave = await open_sample_wave(db.engine, "2026-S1", clock())
        for group_name in Group:
            await add_responses(db.engine, wave, "DINKES", group_name, 5, clock())
        group = sandbox.group(GROUP, "Pimpinan")
        await storage.subscriptions.subscribe(db.engine, GROUP, "id", clock())
        await set_schedule(db.engine, GROUP, ScheduleKind.DIGEST, "* * * * *", clock())

        async with AsyncExitStack() as stack:
            first = await stack.enter_async_context(
                running(build_application(settings, clock=clock), polling=False)
            )
            second = await stack.enter_async_context(
                running(build_application(settings, clock=clock), polling=False)
            )
            for minute in range(1, 4):
                clock.now = datetime(2026, 3, 2, 3, minute, tzinfo=UTC)
                await asyncio.gather(
                    first.bot_data.scheduler.tick(),
                    second.bot_data.scheduler.tick(),
                    first.bot_data.scheduler.tick(),
                    second.bot_data.scheduler.tick(),
                )
            await _settle(group)

        sent = [c for c in sandbox.calls("sendMessage") if c.chat_id == GROUP and not c.error]
        assert len(sent) == 3  # one per minute, whichever process won each
        assert len(group.messages) == 3


async def test_demo_ends_with_the_leadership_group_receiving_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_demo(DemoOptions(out=tmp_path, respondents=3, seed=7), sandbox_bot) == 0
    charts = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert charts == sorted(f"{name}.png" for name in CHART_NAMES)
    assert all((tmp_path / "charts" / name).read_bytes().startswith(PNG) for name in charts)
    assert "'Pimpinan' received the final report, 6 charts" in capsys.readouterr().out
