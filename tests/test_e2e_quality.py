"""End to end through the sandbox: /kualitas for the inspectorate (issue 24).

A simulated wave (a coached unit, a rushing one, honest ones) is written at the people's own
times; then the admin reads the findings, excludes the coached unit's burst in a dialogue
(reason, confirmation), the Bupati's /skor says so, and the admin restores it. Everyone else
is refused, and every confused or hostile input gets a clear answer and changes nothing.
"""

from __future__ import annotations

import pytest

import storage.waves
from sandbox import SandboxUser
from sandbox.integrity_sim import play_wave, simulate_wave
from sandbox.models import SentMessage
from services.access import create_grant
from storage import integrity as stored
from storage.roles import Role
from tests.e2e_fixtures import Harness, reply
from tests.integrity_data import PLANS

pytestmark = pytest.mark.e2e

ADMIN = 999


async def _with_role(h: Harness, role: Role, unit: str | None = None) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user()
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def _wave(h: Harness) -> None:
    """Play the simulated people into the harness's open wave; then it is eleven days on."""
    await play_wave(h.engine, h.wave, simulate_wave(PLANS, seed=7, opens=h.clock(), briefing_day=3))
    h.clock.advance(days=11)


async def _ask(user: SandboxUser, payload: str | None = None) -> list[SentMessage]:
    before = len(user.chat.messages)
    await user.command("kualitas", payload)
    await reply(user)
    return user.chat.messages[before:]


async def _tap(h: Harness, user: SandboxUser, message: SentMessage, data: str) -> SentMessage:
    before = len(h.sandbox.callback_answers)
    await user.tap_raw(message.message_id, data)
    await h.sandbox.wait_for(lambda: len(h.sandbox.callback_answers) > before)
    return await reply(user)


def _button(messages: list[SentMessage], label: str) -> tuple[SentMessage, str]:
    for message in messages:
        for button in message.flat_buttons:
            if button.text.startswith(label) and button.data:
                return message, button.data
    raise AssertionError(f"no button {label!r}")


async def test_the_inspectorate_excludes_a_coached_burst_and_restores_it(harness: Harness) -> None:
    h = harness
    await _wave(h)
    admin = h.user(user_id=ADMIN)

    found = await _ask(admin)
    text = "\n".join(m.plain_text for m in found)
    assert "Kualitas survei — gelombang 2026-S1" in text
    assert "Dinas Kesehatan — Pegawai (12 jawaban)" in text
    assert "Lonjakan: " in text
    assert "masuk dalam satu jam pada 5 Maret 2026 (08:00–09:00)" in text
    assert "Seragam: " in text
    assert "Dinas Kependudukan dan Pencatatan Sipil — Pegawai" in text
    assert "lebih cepat dari 2 detik per pertanyaan" in text
    assert "Tanpa 10 jawaban ini: indeks unit" in text
    for honest in ("Badan Perencanaan", "Sekretariat Daerah"):
        assert honest not in text  # honest units are checked, never flagged

    # The admin taps "Kecualikan: Lonjakan" and is asked for a reason.
    message, data = _button(found, "Kecualikan: Lonjakan")
    asked = await _tap(h, admin, message, data)
    assert "Tulis alasannya dalam satu pesan" in asked.plain_text
    # A sticker, and a 5,000-character message, are answered and change nothing.
    await admin.send_sticker()
    assert "Kirim alasannya sebagai teks" in (await reply(admin)).plain_text
    await admin.send("x" * 5000)
    assert "Alasan ini 5000 karakter; paling banyak 500" in (await reply(admin)).plain_text
    await admin.send("Pengarahan setelah apel pagi, dikonfirmasi kunjungan lapangan")
    confirm = await reply(admin)
    assert "Kecualikan 10 jawaban Dinas Kesehatan — Pegawai (Lonjakan) dari indeks?" in (
        confirm.plain_text
    )
    assert "Akibatnya: indeks unit" in confirm.plain_text
    assert "indeks institusi" in confirm.plain_text
    yes = next(b.data for b in confirm.flat_buttons if b.text == "Ya, kecualikan")
    assert yes is not None
    # A stranger replaying the admin's button is refused, and nothing is decided.
    stranger = h.user()
    await stranger.command("bantuan")
    note = await reply(stranger)
    before = len(h.sandbox.callback_answers)
    await stranger.tap_raw(note.message_id, yes)
    await h.sandbox.wait_for(lambda: len(h.sandbox.callback_answers) > before)
    assert "hanya untuk admin" in (h.sandbox.callback_answers[before].text or "")
    assert await stored.active_exclusions(h.engine, h.wave.id) == []

    done = await _tap(h, admin, confirm, yes)
    assert "Dikecualikan (#" in done.plain_text
    assert "10 jawaban DINKES — Pegawai" in done.plain_text
    (active,) = await stored.active_exclusions(h.engine, h.wave.id)
    assert active.exclusion.reason.startswith("Pengarahan setelah apel pagi")
    assert active.exclusion.created_by.startswith("admin:")
    # A double tap: already decided. A forged number and a forged action: not valid.
    assert "sudah diambil" in (await _tap(h, admin, done, yes)).plain_text
    assert "tidak berlaku lagi" in (await _tap(h, admin, done, "kua.y.9999")).plain_text
    assert "tidak berlaku lagi" in (await _tap(h, admin, asked, "kua.zz.1")).plain_text
    # The old uniform button of the same unit: that set changed (its burst day is out).
    message, data = _button(found, "Kecualikan: Seragam")
    assert "sudah berubah" in (await _tap(h, admin, message, data)).plain_text

    # The Bupati's /skor says what the inspectorate left out, and why.
    boss = await _with_role(h, Role.LEADERSHIP)
    await boss.command("skor")
    skor = (await reply(boss)).plain_text
    assert "Dikecualikan inspektorat: 10 jawaban (Dinas Kesehatan pegawai, Pengarahan" in skor
    # Leadership reads the findings and the decision, without buttons.
    seen = await _ask(boss)
    assert "Keputusan inspektorat" in seen[0].plain_text
    assert "oleh admin " in seen[0].plain_text
    assert all(not m.buttons for m in seen)
    assert any("Hanya admin yang dapat" in m.plain_text for m in seen)

    # The admin restores it: a confirmation, then the responses count again.
    again = await _ask(admin)
    message, data = _button(again, "Pulihkan #")
    ask = await _tap(h, admin, message, data)
    assert "kembali ke indeks?" in ask.plain_text
    restore = next(b.data for b in ask.flat_buttons if b.text == "Ya, pulihkan")
    assert restore is not None
    assert "Dipulihkan" in (await _tap(h, admin, ask, restore)).plain_text
    assert await stored.active_exclusions(h.engine, h.wave.id) == []
    assert "sudah diambil" in (await _tap(h, admin, ask, restore)).plain_text


async def test_kualitas_is_refused_to_others_in_groups_and_with_bad_arguments(
    harness: Harness,
) -> None:
    h = harness
    respondent = h.user()
    assert "hanya untuk inspektorat (admin) dan pimpinan" in (await _ask(respondent))[0].plain_text
    head = await _with_role(h, Role.UNIT_HEAD, "DINKES")
    assert "bukan untuk unit yang dinilai" in (await _ask(head))[0].plain_text
    admin = h.user(user_id=ADMIN)
    group = h.sandbox.group(-100_424, "Pimpinan")
    await admin.command("kualitas", chat=group)
    assert "pesan pribadi" in (await admin.wait_for_reply(chat=group)).plain_text
    assert "Perintah: /kualitas" in (await _ask(admin, "satu dua tiga"))[0].plain_text
    assert "Perintah: /kualitas" in (await _ask(admin, "../etc"))[0].plain_text
    unknown = (await _ask(admin, "2030-X"))[0].plain_text
    assert "Tidak ada gelombang 2030-X. Gelombang yang ada: 2026-S1." in unknown
    # Nothing answered yet: checked, nothing flagged.
    empty = (await _ask(admin))[0].plain_text
    assert "Diperiksa: 0 unit × kelompok" in empty
    assert "Tidak ada sinyal" in empty
    # Per-item data waits for the wave to close, and says why.
    items = (await _ask(admin, "butir"))[0].plain_text
    assert "setelah gelombang ditutup" in items
    # A reason typed with no dialogue open is not taken for one: the survey answers it.
    await admin.send("alasan tanpa dialog")
    assert "alasan" not in (await reply(admin)).plain_text.lower()
    assert await storage.waves.list_waves(h.engine)
