"""End to end: /saran (suggestions) and /ekspor (the admin's data export) through the sandbox."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from sandbox import SandboxUser
from services.access import create_grant
from storage.roles import Role
from tests.comment_data import add_suggestions
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG"
ADMIN_ID = 999  # the harness's admin_user_ids


async def _data(h: Harness) -> None:
    """DPMPTSP: six suggestions; DINKES: two, so only ever shown pooled. Sent yesterday: an
    open wave releases whole days before today (tests/test_e2e_release.py has today's)."""
    texts = ["Antrean <panjang>", "Ada calo", "Petugas ramah", None, "Antri lama", "Pungli!"]
    yesterday = (h.clock() - timedelta(days=1)).date()
    await add_suggestions(h.engine, h.wave, "DPMPTSP", texts, h.clock(), completed_on=yesterday)
    await add_suggestions(
        h.engine,
        h.wave,
        "DINKES",
        ["Kasir Budi kasar", "Parkir"],
        h.clock(),
        completed_on=yesterday,
    )


async def _with_role(h: Harness, role: Role, unit: str | None = None) -> SandboxUser:
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user()
    await user.open_deep_link(payload)
    await reply(user)
    return user


async def _suggestions(h: Harness, user: SandboxUser, payload: str | None = None) -> None:
    """Ask /saran and wait for the keyword chart, which comes last."""
    before = len(user.chat.messages)
    await user.command("saran", payload)
    await reply(user)
    await h.sandbox.wait_for(lambda: any(m.photo for m in user.chat.messages[before:]))


async def test_leadership_reads_suggestions_with_a_keyword_chart(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    before = len(boss.chat.messages)
    await _suggestions(harness, boss)
    chart = boss.chat.messages[-1]
    assert chart.photo is not None
    assert chart.photo.startswith(PNG)
    text = "\n".join(m.plain_text for m in boss.chat.messages[before:-1])
    assert "Saran responden" in text
    assert "Antrean <panjang>" in text  # HTML-escaped on the way, shown as typed
    assert "DPMPTSP" in text
    assert "DINKES" not in text  # two respondents: under k even pooled, never shown
    assert "Kasir Budi" not in text
    assert "antrean: 2" in text


async def test_unit_head_sees_only_their_unit(harness: Harness) -> None:
    await _data(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DPMPTSP")
    await _suggestions(harness, head)
    text = "\n".join(m.plain_text for m in head.chat.messages)
    assert "Ada calo" in text
    assert "Kasir Budi" not in text
    await head.command("saran", "DINKES")
    assert "hanya dapat melihat skor unit Anda sendiri" in (await reply(head)).plain_text
    assert "Kasir Budi" not in "\n".join(m.plain_text for m in head.chat.messages)
    other = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    await other.command("saran")
    # Two responses wait for a step of k = 5 before anything of theirs is shown.
    assert "2 jawaban yang sudah masuk belum dirilis" in (await reply(other)).plain_text


async def test_suggestions_refuse_respondents_and_unknown_units(harness: Harness) -> None:
    await _data(harness)
    citizen = harness.user()
    await citizen.command("saran")
    assert "hanya dapat dilihat oleh pimpinan" in (await reply(citizen)).plain_text
    boss = await _with_role(harness, Role.LEADERSHIP)
    await boss.command("saran", "planet mars")
    assert 'Unit "planet mars" tidak ditemukan' in (await reply(boss)).plain_text


async def test_admin_gets_the_export_as_a_document(harness: Harness) -> None:
    await _data(harness)
    admin = harness.user(user_id=ADMIN_ID)
    await admin.command("ekspor")
    sent = await reply(admin)
    assert sent.document is not None
    assert sent.filename == "spi-2026-S1.xlsx"
    assert "6 respons" in sent.plain_text  # DINKES's two are under k even pooled
    book = openpyxl.load_workbook(io.BytesIO(sent.document), read_only=True)
    assert book.sheetnames == ["data", "codebook", "options"]
    rows = list(book["data"].iter_rows(values_only=True))
    header = rows[0]
    units = {r[header.index("unit")] for r in rows[1:]}
    assert units == {"DPMPTSP"}
    assert "saran" not in header  # free text never travels through chat
    await admin.command("ekspor", "2019")
    assert 'Gelombang "2019" tidak ada' in (await reply(admin)).plain_text


async def test_export_is_for_admins_in_private_chats(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    await boss.command("ekspor")
    assert "hanya untuk admin" in (await reply(boss)).plain_text
    citizen = harness.user()
    await citizen.command("export")
    assert "hanya dapat dilihat oleh pimpinan" in (await reply(citizen)).plain_text
