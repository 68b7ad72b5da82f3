"""End to end through the sandbox: a roster CSV sent to the bot comes back as invitations.

The same rules as `spibot invites create` (the same service code); here what a chat adds: the
group guessed or asked with buttons, every bad line named, and every odd document answered.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

import storage.waves
from sandbox import SandboxUser
from sandbox.models import SentMessage
from storage.invitations import invitations
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_inspectorate import ADMIN

pytestmark = pytest.mark.e2e

ROSTER = "nama,unit,email\nSari,DINKES,sari@x.id\nBudi,dinkes,budi@x.id\nTono,BAPPEDA,tono@x.id\n"
CSV_TYPE = "text/csv"


async def send(
    user: SandboxUser,
    data: bytes | str,
    name: str = "daftar.csv",
    mime: str = CSV_TYPE,
    caption: str | None = None,
) -> SentMessage:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    message = await user.send_document(raw, name, mime_type=mime)
    if caption is not None:  # the sandbox's send_document has no caption: add it to the update
        message["caption"] = caption
    return await reply(user)


async def invitation_count(h: Harness, group: str | None = None) -> int:
    stmt = select(func.count()).select_from(invitations)
    if group is not None:
        stmt = stmt.where(invitations.c.grp == group)
    async with h.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


def links_in(message: SentMessage) -> list[dict[str, str]]:
    assert message.document is not None
    return list(csv.DictReader(io.StringIO(message.document.decode("utf-8"))))


async def test_a_named_roster_comes_back_with_a_link_per_line(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    answer = await send(admin, ROSTER, name="pegawai-dinkes.csv")
    assert answer.filename == "undangan-2026-S1-pegawai.csv"
    assert "3 tautan pribadi (pegawai)" in answer.plain_text
    rows = links_in(answer)
    assert [(r["nama"], r["unit"], r["email"]) for r in rows] == [
        ("Sari", "DINKES", "sari@x.id"),
        ("Budi", "DINKES", "budi@x.id"),
        ("Tono", "BAPPEDA", "tono@x.id"),
    ]
    assert all(r["link"].startswith("https://t.me/spi_sandbox_bot?start=") for r in rows)
    assert await invitation_count(harness, "internal") == 3
    # A link from the file works.
    employee = harness.user()
    await employee.open_deep_link(rows[0]["link"].split("start=", 1)[1])
    assert "Survei Penilaian Integritas — Pegawai" in (await reply(employee)).plain_text
    # The caption can name the group too.
    answer = await send(admin, ROSTER, caption="daftar eksper")
    assert answer.filename == "undangan-2026-S1-eksper.csv"
    assert await invitation_count(harness, "expert") == 3


async def test_an_unnamed_roster_asks_for_its_group_once(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    question = await send(admin, ROSTER)
    assert "3 orang, untuk gelombang 2026-S1" in question.plain_text
    assert await invitation_count(harness) == 0  # nothing before the answer
    expert = next(b.data for b in question.flat_buttons if "Eksper" in b.text)
    assert expert is not None
    await admin.tap(question, data=expert)
    answer = await reply(admin)
    assert answer.filename == "undangan-2026-S1-eksper.csv"
    assert len(links_in(answer)) == 3
    assert "Eksper" in admin.chat.message(question.message_id).plain_text
    # A double tap (the same data again) makes nothing more and says why.
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(question.message_id, expert)
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    assert "sudah diproses" in (harness.sandbox.callback_answers[before].text or "")
    assert await invitation_count(harness) == 3
    # Cancel makes nothing; forged data is refused the same way.
    question = await send(admin, ROSTER)
    cancel = next(b.data for b in question.flat_buttons if "Batal" in b.text)
    await admin.tap(question, data=cancel or "")
    await reply(admin)
    assert "Dibatalkan" in admin.chat.message(question.message_id).plain_text
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(question.message_id, "ros.i.99999")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    assert "sudah diproses" in (harness.sandbox.callback_answers[before].text or "")
    assert await invitation_count(harness) == 3


async def test_every_bad_line_is_named_and_nothing_is_made(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    bad = "nama;unit\nSari;DINKES\nBudi;DINKESS\nTono;\n\nAni;<b>X</b>\n"  # semicolons (Excel)
    answer = (await send(admin, bad, name="pegawai.csv")).plain_text
    assert "pegawai.csv tidak dapat diproses" in answer
    assert "baris 3: kode unit DINKESS tidak dikenal" in answer
    assert "baris 4: kode unit kosong" in answer
    assert "baris 6: kode unit <b>X</b> tidak dikenal" in answer  # shown, not interpreted
    assert "baris 2" not in answer
    assert await invitation_count(harness) == 0
    many = "nama,unit\n" + "".join(f"P{i},NOPE{i}\n" for i in range(14))
    answer = (await send(admin, many, name="pegawai.csv")).plain_text
    assert "baris 11: kode unit NOPE9" in answer
    assert "baris 12" not in answer
    assert "dan 4 masalah lain" in answer
    answer = (await send(admin, "nama,kantor\nSari,DINKES\n", name="pegawai.csv")).plain_text
    assert "tidak ada kolom unit" in answer
    latin = "nama,unit\nJosé,DINKES\n".encode("latin-1")
    assert "bukan teks UTF-8" in (await send(admin, latin, name="pegawai.csv")).plain_text
    assert "tidak ada baris orang" in (await send(admin, "nama,unit\n", name="a.csv")).plain_text
    assert await invitation_count(harness) == 0


async def test_odd_documents_get_a_clear_answer(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    answer = await send(admin, b"PK\x03\x04 not a csv", name="pegawai.xlsx", mime=xlsx)
    assert "CSV UTF-8" in answer.plain_text
    assert "kosong" in (await send(admin, b"", name="pegawai.csv")).plain_text
    assert "kosong" in (await send(admin, b"\n \n", name="pegawai.csv")).plain_text
    huge = "nama,unit\n" + "Seseorang Dengan Nama Panjang,DINKES\n" * 60_000  # 2.2 MB
    answer = await send(admin, huge, name="pegawai.csv")
    assert "paling besar 2 MB" in answer.plain_text
    # A CSV sent as "text/plain" by a phone is still a CSV by its name.
    answer = await send(admin, ROSTER, name="pegawai.csv", mime="text/plain")
    assert answer.filename == "undangan-2026-S1-pegawai.csv"
    await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    assert "Belum ada gelombang" in (await send(admin, ROSTER, name="pegawai.csv")).plain_text


async def test_others_are_refused_and_groups_told_to_use_a_private_chat(harness: Harness) -> None:
    stranger = harness.user()
    answer = await send(stranger, ROSTER, name="pegawai.csv")
    assert "hanya admin inspektorat" in answer.plain_text
    # Someone's other document is the survey's business, as before.
    before = len(stranger.chat.messages)
    await send(stranger, b"%PDF-1.4", name="surat.pdf", mime="application/pdf")
    answers = [m.plain_text for m in stranger.chat.messages[before:]]
    assert "teks atau tombol" in answers[0]
    assert not any("hanya admin" in text for text in answers)
    assert await invitation_count(harness) == 0
    admin = harness.user(user_id=ADMIN)
    group = harness.sandbox.group(-100_778, "Inspektorat", privacy_mode=False)
    await admin.send_document(ROSTER.encode(), "pegawai.csv", mime_type=CSV_TYPE, chat=group)
    await harness.sandbox.wait_for(lambda: group.messages)
    assert "pesan pribadi" in group.messages[-1].plain_text
    await admin.send_document(b"%PDF", "notulen.pdf", mime_type="application/pdf", chat=group)
    await admin.send_document(ROSTER.encode(), "lagi.csv", mime_type=CSV_TYPE, chat=group)
    await harness.sandbox.wait_for(lambda: len(group.messages) == 2)
    assert len(group.messages) == 2  # the PDF got no answer in the group
    assert await invitation_count(harness) == 0
