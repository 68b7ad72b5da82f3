"""End to end: follow-up plans in chat (/tindaklanjut) through the sandbox."""

from __future__ import annotations

from sandbox import SandboxUser
from services import callbacks
from services.access import create_grant
from services.security import pseudonym_for
from storage.roles import Role
from tests.e2e_fixtures import Harness, reply


async def _with_role(
    h: Harness, role: Role, unit: str | None = None, language: str = "id"
) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user(language)
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def _say(user: SandboxUser, text: str) -> str:
    await user.send(text)
    return (await reply(user)).plain_text


async def _add_action(head: SandboxUser) -> None:
    await head.command("tindaklanjut")
    listing = await reply(head)
    assert "Belum ada rencana tindak lanjut." in listing.plain_text
    await head.tap(listing, text="➕ Tambah aksi")
    choose = await reply(head)
    assert "Untuk dimensi apa?" in choose.plain_text
    await head.tap(choose, text="Pengelolaan PBJ")
    assert "Apa rencana aksinya?" in (await reply(head)).plain_text
    assert "Siapa penanggung jawabnya?" in await _say(head, "Publikasikan RUP di situs web")
    assert "Kapan target waktunya?" in await _say(head, "Kepala Bidang Pengadaan")
    # Confused and past dates are asked again, nothing is lost.
    assert "“besok” bukan tanggal" in await _say(head, "besok")
    assert "sudah lewat" in await _say(head, "01/01/2020")
    assert "Aksi #1 tersimpan" in await _say(head, "30/04/2030")


async def test_unit_head_adds_and_updates_an_action(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_action(head)

    await head.command("tindaklanjut")
    listing = await reply(head)
    text = listing.plain_text
    assert "Tindak lanjut — Dinas Kesehatan" in text
    assert "Publikasikan RUP di situs web — Kepala Bidang Pengadaan, target 2030-04-30" in text
    assert "Direncanakan 1" in text
    await head.tap(listing, text="✏️ 1")
    detail = await reply(head)
    assert "Aksi #1" in detail.plain_text
    assert "Dimensi: Pengelolaan PBJ" in detail.plain_text
    await head.tap(detail, text="Berjalan")
    assert "Status aksi #1: Berjalan." in (await reply(head)).plain_text
    # The old detail's buttons carry the old version: a second tap is refused, not applied.
    await head.tap(detail, text="Selesai")
    assert "baru saja diubah orang lain" in (await reply(head)).plain_text

    await head.command("tindaklanjut")
    listing = await reply(head)
    await head.tap(listing, text="✏️ 1")
    detail = await reply(head)
    assert "⏳ Berjalan" in detail.plain_text
    await head.tap(detail, text="📝 Catatan / dokumen")
    assert "kirim dokumen atau fotonya" in (await reply(head)).plain_text
    await head.send_document(b"%PDF-1.4 bukti", "bukti.pdf", mime_type="application/pdf")
    assert "Aksi #1 diperbarui." in (await reply(head)).plain_text
    await head.tap(listing, text="✏️ 1")
    assert "📎 Dokumen bukti terlampir" in (await reply(head)).plain_text


async def test_a_dialogue_survives_a_restart_and_can_be_cancelled(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await head.command("tindaklanjut")
    await head.tap(await reply(head), text="➕ Tambah aksi")
    await head.tap(await reply(head), text="Rekomendasi KPK / lainnya")
    assert "Apa rencana aksinya?" in (await reply(head)).plain_text
    await harness.restart()
    prompt = await _say(head, "Deklarasi benturan kepentingan")
    assert "Siapa penanggung jawabnya?" in prompt
    await head.tap(head.chat.messages[-1], text="Batal")
    assert "Tidak ada yang disimpan" in (await reply(head)).plain_text
    # After the dialogue, text is the survey's business again (no dialogue answer).
    answer = await _say(head, "Kepala Dinas")
    assert "penanggung jawab" not in answer.lower()


async def test_another_units_head_is_refused(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_action(head)
    other = await _with_role(harness, Role.UNIT_HEAD, "BAPPEDA")

    await other.command("tindaklanjut")
    listing = await reply(other)
    assert "Belum ada rencana tindak lanjut." in listing.plain_text
    assert "Publikasikan RUP" not in listing.plain_text
    # A modified client signs a status change for DINKES's action with its own identity.
    secret = harness.settings.secret_bytes()
    forged = callbacks.encode(secret, pseudonym_for(secret, other.id), 1, "tlu", "1-2")
    await other.tap_raw(listing.message_id, forged)
    assert "Tombol ini bukan untuk Anda" in (await reply(other)).plain_text
    # Someone else's button (signed for another person) is refused too.
    stolen = callbacks.encode(secret, pseudonym_for(secret, head.id), 1, "tlu", "1-2")
    before = len(harness.sandbox.callback_answers)
    await other.tap_raw(listing.message_id, stolen)
    answers = harness.sandbox.callback_answers
    await harness.sandbox.wait_for(lambda: len(answers) > before, 5)
    assert "bukan untuk Anda" in (answers[-1].text or "")

    await head.command("tindaklanjut")
    assert "Direncanakan 1" in (await reply(head)).plain_text  # unchanged


async def test_leadership_sees_every_unit_and_respondents_are_refused(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_action(head)
    boss = await _with_role(harness, Role.LEADERSHIP, language="en")
    before = len(boss.chat.messages)
    await boss.command("actions")
    listing = await reply(boss)
    chart, _ = boss.chat.messages[before:]
    assert chart.photo is not None
    assert chart.photo.startswith(b"\x89PNG")
    assert chart.plain_text == "Follow-up per unit"
    assert "Follow-up of every unit" in listing.plain_text
    assert "Dinas Kesehatan" in listing.plain_text
    assert not listing.buttons  # leadership looks; unit heads act

    citizen = harness.user()
    await citizen.command("tindaklanjut")
    assert "hanya dapat dilihat oleh pimpinan" in (await reply(citizen)).plain_text
