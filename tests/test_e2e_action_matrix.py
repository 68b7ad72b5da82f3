"""Follow-up actions in real use (issue 22.3): a unit head works in chat (/tindaklanjut) while
the inspectorate exports the matrix, edits it in a spreadsheet and imports it back; due date
and person in charge change in chat and by import; a photo is evidence; dates are typed the
way people type them."""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

import storage.actions
from bot.cli import main
from sandbox import SandboxUser
from services import callbacks
from services.access import create_grant
from services.security import pseudonym_for
from services.settings import Settings
from storage.roles import Role
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e


async def _with_role(h: Harness, role: Role, unit: str | None = None) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user()
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def _say(user: SandboxUser, text: str) -> str:
    await user.send(text)
    return (await reply(user)).plain_text


async def _detail(head: SandboxUser, number: int = 1) -> object:
    await head.command("tindaklanjut")
    await head.tap(await reply(head), text=f"✏️ {number}")
    return await reply(head)


@pytest.fixture
def officer(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The inspectorate's shell on the bot's database."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", harness.settings.database_url)
    monkeypatch.setenv("SPIBOT_SECRET", harness.settings.spibot_secret.get_secret_value())
    return tmp_path


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def _add_in_chat(head: SandboxUser) -> None:
    await head.command("tindaklanjut")
    await head.tap(await reply(head), text="➕ Tambah aksi")
    await head.tap(await reply(head), text="Pengelolaan PBJ")
    await reply(head)
    await _say(head, "Publikasikan RUP di situs web")
    await _say(head, "Kepala Bidang Pengadaan")
    assert "Aksi #1 tersimpan" in await _say(head, "31 Januari 2031")


async def test_export_edit_import_updates_the_same_actions(
    harness: Harness, officer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_in_chat(head)
    before_import = await _detail(head)

    assert await cli("actions", "export", "matriks.xlsx") == 0
    book = load_workbook(officer / "matriks.xlsx")
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("No", "Kode unit", "Unit")
    no, code, _unit, dimension, _rec, what, who, due, status, _note = rows[1]
    assert (no, code, dimension, what, who) == (
        1,
        "DINKES",
        "Pengelolaan PBJ",
        "Publikasikan RUP di situs web",
        "Kepala Bidang Pengadaan",
    )
    assert due.date() == date(2031, 1, 31)
    assert status == "Direncanakan"
    # The officer edits in the spreadsheet: a new status, due date and person in charge, in
    # the words people write, and a new action for another unit (no number).
    sheet["G2"] = "Sekretaris Dinas"
    sheet["H2"] = "30/06/2031"
    sheet["I2"] = "  berjalan "
    new_row = [None, "BAPPEDA", None, "transparansi", "", "Umumkan SOP", "Sekretaris"]
    sheet.append([*new_row, "31 Jan 2031", "Selesai", "SOP di papan informasi"])
    book.save(officer / "matriks.xlsx")
    capsys.readouterr()
    assert await cli("actions", "import", "matriks.xlsx") == 0
    assert "actions: 1 added, 1 updated, 0 unchanged" in capsys.readouterr().out

    assert await cli("actions", "export", "lagi.csv") == 0
    again = list(csv.reader((officer / "lagi.csv").open(encoding="utf-8")))
    assert [r[0] for r in again[1:]] == ["2", "1"]  # soonest due first; no duplicate
    mine = next(r for r in again if r[0] == "1")
    assert mine[6:9] == ["Sekretaris Dinas", "2031-06-30", "Berjalan"]
    added = next(r for r in again if r[0] == "2")
    assert added[3] == "Transparansi"
    assert added[8] == "Selesai"
    capsys.readouterr()
    assert await cli("actions", "import", "lagi.csv") == 0  # the same file again: no change
    assert "actions: 0 added, 0 updated, 2 unchanged" in capsys.readouterr().out

    # In chat the head sees the imported change, and a button from before it is stale.
    detail = (await _detail(head)).plain_text
    assert "Penanggung jawab: Sekretaris Dinas" in detail
    assert "⏳ Berjalan" in detail
    await head.tap(before_import, text="Selesai")
    assert "baru saja diubah orang lain" in (await reply(head)).plain_text


async def test_a_matrix_with_unknown_labels_names_every_line_and_imports_nothing(
    harness: Harness, officer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_in_chat(head)
    header = ["No", "Kode unit", "Dimensi", "Rencana aksi", "Penanggung jawab"]
    header += ["Target waktu", "Status"]
    rows = [
        header,
        ["1", "DINKES", "Pengelolaan PBJ", "RUP", "Kabid", "31/12/2031", "Sudah"],
        ["", "BAPPEDA", "Korupsi", "SOP", "Sekretaris", "31/02/2031", "Direncanakan"],
        ["99", "DINKES", "", "Pakta integritas", "Kadis", "2031-03-01", ""],
        ["1", "BAPPEDA", "sdm", "Mutasi terbuka", "Kabid", "1 Mei 2031", "Berjalan"],
        ["", "DINASX", "anggaran", "Honor", "Bendahara", "minggu depan", "selesai"],
    ]
    with (officer / "salah.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    capsys.readouterr()
    assert await cli("actions", "import", "salah.csv") == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 2: Unknown status “Sudah”" in err
    assert "line 3: Unknown dimension “Korupsi”" in err
    assert "line 3: “31/02/2031” is not on the calendar" in err
    assert "line 6: “minggu depan” is not a date" in err
    assert len(err.strip().splitlines()) == 5, err  # the first line and the four above

    # The labels right, the numbers are checked: one that does not exist, one of another unit.
    rows[1][6], rows[2][2], rows[2][5], rows[5][5] = "Berjalan", "sdm", "28/02/2031", "1/6/2031"
    with (officer / "salah.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    assert await cli("actions", "import", "salah.csv") == 2
    err = capsys.readouterr().err
    assert "line 4: there is no action No 99" in err
    assert "line 5: No 1 (2) appears twice" in err
    assert "line 6: unknown unit code “DINASX”" in err
    assert (await storage.actions.get_action(harness.engine, 1)) is not None
    assert len(await storage.actions.list_actions(harness.engine)) == 1  # nothing was imported


async def test_due_date_person_and_photo_evidence_change_in_chat(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_in_chat(head)
    detail = await _detail(head)
    assert "Target: 2031-01-31" in detail.plain_text

    await head.tap(detail, text="📅 Ubah target")
    prompt = (await reply(head)).plain_text
    assert "Target baru untuk aksi #1 (sekarang 31 Januari 2031)" in prompt
    assert "tidak ada di kalender" in await _say(head, "31/02/2031")
    assert "“akhir tahun” bukan tanggal" in await _say(head, "akhir tahun")
    assert "sudah lewat" in await _say(head, "1 January 2020")
    saved = await _say(head, "December 31, 2031")
    assert "Aksi #1 diperbarui: target 31 Desember 2031" in saved

    # The detail shown before that change is stale now: its buttons are refused.
    await head.tap(detail, text="👤 Ubah penanggung jawab")
    assert "baru saja diubah orang lain" in (await reply(head)).plain_text
    detail = await _detail(head)
    await head.tap(detail, text="👤 Ubah penanggung jawab")
    assert "sekarang Kepala Bidang Pengadaan" in (await reply(head)).plain_text
    assert "penanggung jawab Sekretaris Dinas" in await _say(head, "Sekretaris  Dinas")

    detail = await _detail(head)
    await head.tap(detail, text="📝 Catatan / dokumen")
    await reply(head)
    await head.send_photo(caption="kuitansi pengumuman RUP")
    assert "Aksi #1 diperbarui." in (await reply(head)).plain_text
    detail = await _detail(head)
    assert "📷 Foto bukti terlampir" in detail.plain_text
    assert "Target: 2031-12-31" in detail.plain_text
    action = await storage.actions.get_action(harness.engine, 1)
    assert action is not None
    assert action.evidence_kind == "photo"
    assert action.document_file_id

    # A photo with no question waiting is not evidence: it goes on to the survey as before.
    await head.send_photo()
    assert "Foto bukti" not in (await reply(head)).plain_text


async def test_forged_and_foreign_edit_buttons_change_nothing(harness: Harness) -> None:
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await _add_in_chat(head)
    other = await _with_role(harness, Role.UNIT_HEAD, "BAPPEDA")
    await other.command("tindaklanjut")
    listing = await reply(other)
    secret = harness.settings.secret_bytes()
    # Signed with the other head's own identity, for DINKES's action: not theirs to change.
    forged = callbacks.encode(secret, pseudonym_for(secret, other.id), 1, "tlt", "1")
    await other.tap_raw(listing.message_id, forged)
    assert "Tombol ini bukan untuk Anda" in (await reply(other)).plain_text
    # Data that was never signed at all.
    await other.tap_raw(listing.message_id, "1.tlp.1.AAAAAAAAAA")
    answers = harness.sandbox.callback_answers
    await harness.sandbox.wait_for(lambda: "bukan untuk Anda" in (answers[-1].text or ""), 5)
    assert "tanggal" not in (await _say(other, "31/12/2031"))  # no dialogue was started
    action = await storage.actions.get_action(harness.engine, 1)
    assert action is not None
    assert action.due_on == date(2031, 1, 31)
    assert action.version == 1
