"""End to end: the published numbers of a wave never move silently (issue 22.2).

An officer closes the wave (the final report is frozen and pushed), enters a correction
later (a dated revision, pushed to the subscribed group as a revision), and the Bupati's
/skor and /tren say the number was revised. Day 0 counts responses and says when they show.
"""

from __future__ import annotations

import asyncio

import pytest

from sandbox import SandboxChat, SandboxUser
from scoring import Corrections
from services.access import create_grant
from services.reports import revisions
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_901


async def _settle(chat: SandboxChat) -> None:
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


async def _tick(h: Harness) -> None:
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()


async def _leader(h: Harness) -> SandboxUser:
    payload, _ = await create_grant(h.engine, Role.LEADERSHIP, None, h.clock())
    user = h.user("id")
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def test_a_correction_after_closing_is_pushed_as_a_revision(harness: Harness) -> None:
    h = harness
    for group in Group:
        for unit in ("DINKES", "DISPENDUKCAPIL"):
            await add_responses(h.engine, h.wave, unit, group, 6, h.clock(), level=0.8)
    admin = h.user("id", user_id=ADMIN)
    group = h.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)

    # The officer closes the wave: the final report is frozen and pushed once.
    h.clock.advance(days=2)
    assert await revisions.close_wave(h.engine, h.settings, h.wave, h.clock())
    h.clock.advance(minutes=1)
    await _tick(h)
    await _settle(group)
    final = [m.plain_text for m in group.messages]
    assert any("Laporan akhir gelombang 2026-S1" in text for text in final)
    before = len(group.messages)

    # Ten days later the inspectorate enters KPK's correction (`spibot correction set`).
    h.clock.advance(days=10)
    closed = await revisions.revisions_of(h.engine, h.settings, h.wave)
    assert [r.number for r in closed] == [1]
    _, revision = await revisions.set_correction(
        h.engine, h.settings, h.wave, Corrections(3.28, 0.32, "putusan pengadilan"), h.clock()
    )
    assert revision is not None
    h.clock.advance(minutes=1)
    await _tick(h)
    await _settle(group)
    notice, chart = group.messages[before:]
    text = notice.plain_text
    assert "Revisi laporan akhir — gelombang 2026-S1" in text
    assert "Revisi 2, 14 Maret 2026" in text
    assert "Alasan: koreksi baru — putusan pengadilan" in text
    assert "Koreksi integritas: 0,00 → 3,28" in text
    assert "Indeks: " in text
    assert " → " in text.split("Indeks: ", 1)[1]
    assert chart.photo is not None
    assert "Direvisi 14 Maret 2026 (revisi 2)" in chart.plain_text

    # Told once: later ticks and a restart send nothing more.
    await h.restart()
    h.clock.advance(hours=1)
    await _tick(h)
    await _settle(group)
    assert len(group.messages) == before + 2

    # The Bupati asks: the number carries its note, and the trend says it was revised.
    boss = await _leader(h)
    await boss.command("skor")
    skor = (await reply(boss)).plain_text
    assert "final" in skor
    assert "Direvisi 14 Maret 2026 (revisi 2): koreksi baru — putusan pengadilan." in skor
    assert "Semula indeks" in skor
    assert "Koreksi: −3,28 (integritas), −0,32 (prevalensi)" in skor
    mark = len(boss.chat.messages)
    await boss.command("tren")
    await reply(boss)
    trend = boss.chat.messages[mark].plain_text
    assert "2026-S1" in trend
    assert "(direvisi 14 Maret 2026)" in trend


async def test_day_zero_counts_responses_and_says_when_they_show(harness: Harness) -> None:
    h = harness
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, 6, h.clock())
    await add_responses(h.engine, h.wave, "BAPPEDA", Group.INTERNAL, 2, h.clock())
    boss = await _leader(h)

    await boss.command("skor")
    skor = (await reply(boss)).plain_text
    assert "Indeks: 20 jawaban diterima hari ini" in skor
    assert "ditampilkan mulai besok" in skor
    assert "belum ada jawaban" not in skor
    await boss.command("unit", "BAPPEDA")
    unit = (await reply(boss)).plain_text
    assert "Pegawai: 2 jawaban diterima hari ini; ditampilkan setelah terkumpul minimal 5" in unit
    assert "Pengguna layanan: tidak berlaku" in unit  # Bappeda does not serve the public

    # The next day DINKES shows; BAPPEDA's two still wait, and say so.
    h.clock.advance(days=1)
    await boss.command("peringkat")
    await reply(boss)
    ranking = "\n".join(m.plain_text for m in boss.chat.messages[-2:])
    assert "Tanpa angka (48 unit)" in ranking
    assert "menunggu minimal 5 jawaban: Badan Perencanaan Pembangunan Daerah" in ranking
    (waiting,) = [line for line in ranking.split("\n") if line.startswith("• belum ada jawaban: ")]
    assert "Sekretariat Daerah" in waiting


async def test_a_unit_that_loses_its_number_says_why(harness: Harness) -> None:
    """Yesterday DPUPR showed; today one of its cells is hidden to protect a small one.

    Once a wave closes everything is published, and a unit cell with 3 responses is too small
    to show. Another unit's cell in the same group would then give it away (institution minus
    the shown units), so it is hidden too: both say why, neither is just missing.
    """
    h = harness
    for group in Group:
        await add_responses(h.engine, h.wave, "DPUPR", group, 6, h.clock())
    boss = await _leader(h)
    h.clock.advance(days=1)
    await boss.command("unit", "DPUPR")
    assert "Indeks " in (await reply(boss)).plain_text

    await add_responses(h.engine, h.wave, "BAPPEDA", Group.INTERNAL, 3, h.clock())
    h.clock.advance(hours=1)
    assert await revisions.close_wave(h.engine, h.settings, h.wave, h.clock())
    h.clock.advance(minutes=1)
    await boss.command("unit", "DPUPR")
    dpupr = (await reply(boss)).plain_text
    assert "Pegawai: disembunyikan untuk melindungi unit lain yang respondennya kurang dari 5" in (
        dpupr
    )
    await boss.command("unit", "BAPPEDA")
    bappeda = (await reply(boss)).plain_text
    assert "Pegawai: disembunyikan: kurang dari 5 responden, agar jawaban tidak bisa ditebak" in (
        bappeda
    )
