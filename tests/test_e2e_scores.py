"""End to end: officials ask for scores through the sandbox; every refusal is tested."""

from __future__ import annotations

import pytest

from sandbox import SandboxUser, SentMessage
from services.access import create_grant
from services.pushes import delivery
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.score_data import add_responses

PNG = b"\x89PNG"


async def _data(h: Harness) -> None:
    """Two units with every group shown, and one unit with a too-small cell."""
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, 6, h.clock())
        await add_responses(h.engine, h.wave, "DISPENDUKCAPIL", group, 6, h.clock(), level=0.5)
        await add_responses(h.engine, h.wave, "DPUPR", group, 5, h.clock(), level=0.6)
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


async def test_leadership_gets_index_chart_with_numbers(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    assert "pimpinan" in boss.chat.messages[-1].plain_text

    await boss.command("skor")
    answer = await reply(boss)

    assert answer.photo is not None
    assert answer.photo.startswith(PNG)
    caption = answer.plain_text
    assert answer.caption is not None
    assert len(answer.caption) <= 1024
    assert "Indeks Integritas" in caption
    assert "sementara" in caption
    assert "Pegawai" in caption
    assert "Pengguna layanan" in caption
    assert "Eksper" in caption
    assert "Indeks nasional" in caption
    assert any(mark in caption for mark in ("🔴 Rentan", "🟡 Waspada", "🟢 Terjaga"))
    assert "," in caption.split("Indeks ", 2)[2][:6]  # decimal comma: "Indeks 61,23"


async def test_english_aliases_answer_in_english(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP, language="en")

    await boss.command("score")
    assert "Integrity Index" in (await reply(boss)).plain_text
    await boss.command("dimensions")
    answer = await reply(boss)
    assert answer.photo is not None
    assert "weakest first" in answer.plain_text
    before = len(boss.chat.messages)
    await boss.command("trend")
    await reply(boss)
    trend = boss.chat.messages[before:]
    assert "First wave" in trend[0].plain_text
    assert "KPK SPI results" in trend[-1].plain_text  # our published results follow the chart
    before = len(boss.chat.messages)
    await boss.command("progress")
    await reply(boss)
    # The funnel follows the chart; under load it may come after the reply has settled.
    await harness.sandbox.wait_for(
        lambda: "How the surveys go" in boss.chat.messages[-1].plain_text
    )
    progress = boss.chat.messages[before:]
    assert "of target" in progress[0].plain_text


async def test_ranking_and_full_report(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    before = len(boss.chat.messages)
    await boss.command("peringkat")
    await reply(boss)
    ranking, full = boss.chat.messages[before:]
    # Three units with an index and one line counting the other 46: short enough for a photo.
    assert ranking.photo is not None
    assert not delivery.is_tall(ranking.photo)
    assert "Peringkat unit" in ranking.plain_text
    # The text after it names every unit without a number, with the reason.
    assert "Tanpa angka (46 unit)" in full.plain_text
    assert "menunggu minimal 5 jawaban: Badan Perencanaan Pembangunan Daerah" in full.plain_text

    before = len(boss.chat.messages)
    await boss.command("laporan")

    def charts_so_far() -> list[SentMessage]:
        new = boss.chat.messages[before:]
        return [m for m in new if m.photo is not None or m.document is not None]

    # Wait for the six, not for a pause: under load a chart can take longer to draw than the
    # bot's quiet spell that `reply` takes for "settled".
    await harness.sandbox.wait_for(lambda: len(charts_so_far()) >= 6, 60, "six charts")
    await reply(boss)
    new = boss.chat.messages[before:]
    charts = charts_so_far()
    assert len(charts) == 6
    assert all(m.caption is not None and len(m.caption) <= 1024 for m in charts)
    # The progress chart lists all 49 units: a document keeps it readable (a photo is shrunk).
    assert [m.filename for m in new if m.document is not None] == ["progress.png"]


async def test_suppressed_unit_never_shows_a_number(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    await boss.command("unit", "BAPPEDA")
    caption = (await reply(boss)).plain_text
    assert "Badan Perencanaan" in caption
    assert "Pegawai: 3 jawaban diterima; ditampilkan setelah terkumpul minimal 5" in caption
    assert "Indeks: 3 jawaban diterima, belum ditampilkan" in caption


async def test_ambiguous_unit_offers_buttons(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    await boss.command("unit", "dinas")
    choice = await reply(boss)
    assert len(choice.flat_buttons) > 1
    await boss.tap(choice, text="Dinas Kesehatan")
    answer = await reply(boss)
    assert answer.photo is not None
    assert "Dinas Kesehatan" in answer.plain_text


async def test_unit_typo_and_unknown_unit(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)

    await boss.command("unit", "kesehatn")
    assert "Dinas Kesehatan" in (await reply(boss)).plain_text
    await boss.command("unit", "zzzqqq")
    assert "tidak ditemukan" in (await reply(boss)).plain_text
    await boss.command("unit")
    assert "/unit" in (await reply(boss)).plain_text


async def test_admin_from_settings_sees_scores(harness: Harness) -> None:
    await _data(harness)
    admin = harness.user("id", user_id=999)
    await admin.command("skor")
    assert (await reply(admin)).photo is not None


@pytest.mark.parametrize(
    "command", ["skor", "score", "dimensi", "peringkat", "tren", "progres", "laporan"]
)
async def test_respondent_without_role_is_refused(harness: Harness, command: str) -> None:
    citizen = harness.user()
    await citizen.command(command)
    answer = await reply(citizen)
    assert answer.photo is None
    assert "hanya dapat dilihat oleh pimpinan dan kepala unit" in answer.plain_text


async def test_respondent_without_role_is_refused_unit(harness: Harness) -> None:
    citizen = harness.user()
    await citizen.command("unit", "DINKES")
    assert "hanya dapat dilihat" in (await reply(citizen)).plain_text


async def test_unit_head_sees_own_unit_only(harness: Harness) -> None:
    await _data(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    assert "Dinas Kesehatan" in head.chat.messages[-1].plain_text

    await head.command("skor")
    own = await reply(head)
    assert own.photo is not None
    assert "Skor unit — Dinas Kesehatan" in own.plain_text

    await head.command("unit", "DISPENDUKCAPIL")
    refused = await reply(head)
    assert refused.photo is None
    assert "hanya dapat melihat skor unit Anda sendiri" in refused.plain_text

    before = len(head.chat.messages)
    await head.command("progres")
    await reply(head)
    progress = " ".join(m.plain_text for m in head.chat.messages[before:])
    assert "Dinas Kesehatan" in progress
    assert "Alur pengisian" in progress
    assert "Dinas Kependudukan" not in progress


# /tren and /laporan give a unit head their own unit's (tests/test_e2e_roles.py).
@pytest.mark.parametrize("command", ["peringkat"])
async def test_unit_head_is_refused_institution_wide_data(harness: Harness, command: str) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await head.command(command)
    answer = await reply(head)
    assert answer.photo is None
    assert "hanya untuk pimpinan" in answer.plain_text


async def test_unit_head_tapping_other_unit_button_is_refused(harness: Harness) -> None:
    await _data(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await head.command("unit", "dinas")
    choice = await reply(head)
    await head.tap(choice, text="Dinas Sosial")
    answer = await reply(head)
    assert answer.photo is None
    assert "unit Anda sendiri" in answer.plain_text


async def test_grant_link_works_once(harness: Harness) -> None:
    payload, _ = await create_grant(harness.engine, Role.LEADERSHIP, None, harness.clock())
    first, second = harness.user(), harness.user()
    await first.open_deep_link(payload)
    assert "aktif" in (await reply(first)).plain_text
    await second.open_deep_link(payload)
    assert "sudah pernah digunakan" in (await reply(second)).plain_text
    await second.command("skor")
    assert "hanya dapat dilihat" in (await reply(second)).plain_text


async def test_forged_grant_link_is_invalid(harness: Harness) -> None:
    user = harness.user()
    await user.open_deep_link("gForgedTokenThatWasNeverIssued")
    assert "tidak valid" in (await reply(user)).plain_text
    await user.command("skor")
    assert "hanya dapat dilihat" in (await reply(user)).plain_text


async def test_group_chat_asker_role_decides(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    citizen = harness.user()
    group = harness.sandbox.group(-100777, "Pimpinan Mojokerto")

    await boss.command("skor", chat=group)
    answer = await boss.wait_for_reply(chat=group)
    assert answer.photo is not None

    await citizen.command("skor", chat=group)
    refused = await citizen.wait_for_reply(chat=group)
    assert refused.photo is None
    assert "hanya dapat dilihat" in refused.plain_text


async def test_someone_else_tapping_unit_buttons_in_group_gets_alert(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    other = await _with_role(harness, Role.LEADERSHIP)
    group = harness.sandbox.group(-100778, "Pimpinan")
    await boss.command("unit", "dinas", chat=group)
    choice = await boss.wait_for_reply(chat=group)
    await other.tap(choice, text="Dinas Kesehatan", chat=group)
    await harness.sandbox.wait_for(lambda: bool(harness.sandbox.callback_answers), 5)
    assert "bukan untuk Anda" in (harness.sandbox.callback_answers[-1].text or "")
