"""End to end: when a wave closes, its final report puts each unit's dimension changes since
the previous closed wave beside the follow-up actions done there."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta

import pytest

import storage.actions
import storage.waves
from sandbox import SandboxChat
from scoring import Report
from services.numbers import format_delta, format_number
from services.reports import load_report
from storage.actions import ActionStatus, NewAction
from surveys import Dimension, Group
from tests.e2e_fixtures import Harness
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_913
S1_CLOSED = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # Monday 07:00 WIB
S2_OPENS = S1_CLOSED + timedelta(days=1)
S2_CLOSES = S1_CLOSED + timedelta(days=30)
TITLE = "Tindak lanjut dan perubahan dimensi — gelombang 2026-S2"


async def _settle(chat: SandboxChat) -> None:
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.05)
        if chat.last_bot_activity == stamp:
            return


async def _tick(h: Harness, at: datetime) -> None:
    h.clock.now = at
    assert h.app is not None
    await h.app.bot_data.scheduler.tick()


async def _wave_data(h: Harness, wave: storage.waves.Wave, level: float, seed: int) -> None:
    now = h.clock()
    for group in Group:
        for unit in ("DINKES", "BAPPEDA"):
            await add_responses(h.engine, wave, unit, group, 6, now, level=level, seed=seed)
        # DPUPR: two people per group, below k = 5: every number of that unit is hidden.
        await add_responses(h.engine, wave, "DPUPR", group, 2, now, seed=seed)


async def _done(h: Harness, unit: str, what: str, dimension: str | None, at: datetime) -> None:
    new = NewAction(
        unit, what, "Kepala Bidang", date(2026, 3, 20), dimension, status=ActionStatus.DONE
    )
    await storage.actions.add_actions(h.engine, [new], at)


def _change(before: float, after: float) -> str:
    return (
        f"{format_number(before, 'id')} → {format_number(after, 'id')} "
        f"({format_delta(round(after, 2) - round(before, 2), 'id')})"
    )


async def test_the_final_report_shows_dimension_changes_beside_actions_done(
    harness: Harness,
) -> None:
    await _wave_data(harness, harness.wave, 0.45, seed=1)
    await storage.waves.close_wave(harness.engine, harness.wave.id, S1_CLOSED)
    harness.clock.now = S1_CLOSED + timedelta(hours=1)
    admin = harness.user("id", user_id=ADMIN)
    group = harness.sandbox.group(GROUP, "Pimpinan")
    await admin.command("langganan", chat=group)
    await admin.wait_for_reply(chat=group)

    day = timedelta(days=1)
    await _done(
        harness, "BAPPEDA", "Selesai sebelum gelombang lalu ditutup", "procurement", S1_CLOSED - day
    )
    await _done(harness, "DINKES", "Publikasikan RUP di situs web", "procurement", S1_CLOSED + day)
    await _done(harness, "DINKES", "Audit paket tender", "procurement", S1_CLOSED + 2 * day)
    await _done(harness, "DINKES", "Deklarasi benturan kepentingan", None, S1_CLOSED + 3 * day)
    await _done(harness, "DPUPR", "Standar pelayanan terbit", "transparency", S1_CLOSED + day)
    planned = NewAction(
        "DINKES", "Belum selesai", "Kepala Bidang", date(2026, 4, 1), "hr_management"
    )
    await storage.actions.add_actions(harness.engine, [planned], S1_CLOSED + day)

    await storage.waves.plan_wave(harness.engine, "2026-S2", S2_OPENS, S2_CLOSES)
    await _tick(harness, S2_OPENS)
    s2 = await storage.waves.current_wave(harness.engine)
    assert s2 is not None
    assert s2.name == "2026-S2"
    await _wave_data(harness, s2, 0.8, seed=2)
    await _settle(group)
    before = len(group.messages)

    await _tick(harness, S2_CLOSES)  # closes 2026-S2; its final report follows in this tick
    await _settle(group)
    sent = [m.plain_text for m in group.messages[before:]]
    assert any("Laporan akhir gelombang 2026-S2" in text for text in sent)
    (outcomes,) = [text for text in sent if TITLE in text]
    assert "sejak gelombang 2026-S1 ditutup" in outcomes

    settings = harness.settings
    old = await load_report(harness.engine, settings, wave_name="2026-S1")
    new = await load_report(harness.engine, settings, wave_name="2026-S2")
    assert old is not None
    assert new is not None

    def score(report: Report, dimension: Dimension) -> float:
        found = next(d for d in report.unit("DINKES").dimensions if d.dimension is dimension)
        assert found.score is not None
        return found.score

    procurement = _change(
        score(old.report, Dimension.PROCUREMENT), score(new.report, Dimension.PROCUREMENT)
    )
    dinkes = outcomes[outcomes.index("Dinas Kesehatan") :].split("\n\n")[0].split("\n")
    assert [line.strip() for line in dinkes[1:]] == [
        f"• Pengelolaan PBJ: {procurement}",
        "✅ Publikasikan RUP di situs web",
        "✅ Audit paket tender",
        "• Rekomendasi KPK / lainnya",
        "✅ Deklarasi benturan kepentingan",
    ]
    # A unit whose cells are suppressed on both sides: words, never a number.
    dpupr = outcomes[outcomes.index("Dinas Pekerjaan Umum") :].split("\n\n")[0]
    assert "• Transparansi: data belum cukup → data belum cukup" in dpupr
    assert "✅ Standar pelayanan terbit" in dpupr
    assert not re.search(r"\d", dpupr)
    # Done before the previous wave closed, or not done: not in this report.
    assert "Selesai sebelum gelombang lalu" not in outcomes
    assert "Belum selesai" not in outcomes
    assert "Badan Perencanaan" not in outcomes
