"""End to end: /simulasi (what-if) and our KPK results beside our waves in /tren."""

from __future__ import annotations

import re

from sandbox import SandboxUser
from services.access import create_grant
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.score_data import add_responses


async def _data(h: Harness) -> None:
    """One unit with every group shown, and one unit with a too-small cell."""
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, 6, h.clock())
    await add_responses(h.engine, h.wave, "BAPPEDA", Group.INTERNAL, 3, h.clock())
    # Provisional results show whole days before today (scoring/provisional.py): ask tomorrow.
    h.clock.advance(days=1)


async def _with_role(
    h: Harness, role: Role, unit: str | None = None, language: str = "id"
) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user(language)
    await user.open_deep_link(payload)
    await reply(user)
    return user


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+[.,]\d\d", text))


async def test_leadership_simulates_a_lift(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    await boss.command("simulasi", "pengadaan 5 pegawai eksper")
    text = (await reply(boss)).plain_text
    assert "Simulasi" in text
    assert "Pengelolaan PBJ" in text
    assert "naik 5,00 poin pada kelompok Pegawai, Eksper" in text
    assert "Indeks " in text
    assert "→" in text
    assert "bukan hasil survei" in text

    await boss.command("simulasi")
    plan = (await reply(boss)).plain_text
    assert "Menuju Terjaga" in plan


async def test_english_simulate(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP, language="en")
    await boss.command("simulate", "budget -3 expert")
    text = (await reply(boss)).plain_text
    assert "What-if" in text
    assert "falls by 3.00 points in the groups Expert" in text


async def test_unit_head_simulates_own_unit_only(harness: Harness) -> None:
    await _data(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")

    await head.command("simulasi", "transparansi 5")
    assert "Simulasi — Dinas Kesehatan" in (await reply(head)).plain_text
    await head.command("simulasi", "transparansi 5 unit BAPPEDA")
    refused = (await reply(head)).plain_text
    assert "hanya dapat melihat skor unit Anda sendiri" in refused
    assert not _numbers(refused)


async def test_suppressed_unit_shows_no_number(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    await boss.command("simulasi", "transparansi 5 unit bappeda")
    text = (await reply(boss)).plain_text
    assert "Badan Perencanaan" in text
    assert "data belum cukup" in text
    assert _numbers(text) == {"5,00"}  # only the lift that was asked for
    await boss.command("simulasi", "unit BAPPEDA")
    plan = (await reply(boss)).plain_text
    assert "Belum ada indeks lengkap" in plan
    assert not _numbers(plan)


async def test_confused_and_hostile_requests(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    for args, expected in [
        (("korupsi", "5"), "Dimensi “korupsi” tidak dikenal."),
        (("pengadaan", "500"), "bukan jumlah poin"),
        (("pengadaan", "5", "warga"), "Kelompok “warga” tidak dikenal."),
        (("pengadaan", "5", "unit"), "tulis kode unitnya"),
        (("pengadaan", "5", "unit", "NOPE"), "Unit “NOPE” tidak ditemukan."),
        (("<b>", "5"), "Dimensi “<b>” tidak dikenal."),  # escaped, shown as typed
    ]:
        await boss.command("simulasi", " ".join(args))
        text = (await reply(boss)).plain_text
        assert expected in text, args
        assert "Cara pakai" in text or "NOPE" in text


async def test_respondent_is_refused(harness: Harness) -> None:
    await _data(harness)
    citizen = harness.user()
    await citizen.command("simulasi", "pengadaan 5")
    text = (await reply(citizen)).plain_text
    assert "hanya dapat dilihat oleh pimpinan dan kepala unit" in text


async def test_trend_shows_our_kpk_results_and_peers(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    before = len(boss.chat.messages)
    await boss.command("tren")
    await reply(boss)
    new = boss.chat.messages[before:]
    assert new[0].photo is not None
    peers = new[-1].plain_text
    assert "Hasil SPI KPK — Kab. Mojokerto" in peers
    assert "SPI 2022: 74,00 🟡 Waspada · persentil 72 (peringkat 112 dari 410 kabupaten)" in peers
    assert "Tetangga terdekat 2025" in peers
