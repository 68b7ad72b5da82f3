"""End to end: the Bupati asks for the rakor PDF in Telegram (issue 22.7), and what goes wrong.

The PDF is opened (pypdf): its pages are counted and the cover's index is the number /skor
shows; page 1 is rendered to a picture (pypdfium2) to check it is an A4 landscape page with
something on it. Bad input: no role, a group, a wave with no responses, an unknown wave.
"""

from __future__ import annotations

import io
import re

import pypdf
import pypdfium2
import pytest

from sandbox import SandboxUser, SentMessage
from services.access import create_grant
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

PDF_TIMEOUT = 60.0  # 49 unit pages are laid out in a worker thread on a busy test machine
GROUP = -100_902


async def _data(h: Harness) -> None:
    for group in Group:
        await add_responses(h.engine, h.wave, "DINKES", group, 6, h.clock(), level=0.8)
        await add_responses(h.engine, h.wave, "DISPENDUKCAPIL", group, 6, h.clock(), level=0.5)
    await add_responses(h.engine, h.wave, "BAPPEDA", Group.INTERNAL, 3, h.clock())
    h.clock.advance(days=1)  # provisional results show whole days before today


async def _with_role(h: Harness, role: Role, unit: str | None = None, lang: str = "id"):
    payload, _ = await create_grant(h.engine, role, unit, h.clock())
    user = h.user(lang)
    await user.open_deep_link(payload)
    await reply(user)
    return user


def _text(pdf: pypdf.PdfReader, page: int) -> str:
    return " ".join(pdf.pages[page].extract_text().split())


async def _pdf(user: SandboxUser, *args: str, chat=None) -> SentMessage:
    name = "laporan" if user.language_code != "en" else "report"
    await user.command(name, " ".join(["pdf", *args]), chat=chat)
    return await reply(user, timeout=PDF_TIMEOUT) if chat is None else await _in_group(user, chat)


async def _in_group(user: SandboxUser, chat) -> SentMessage:
    await user.wait_for_reply(chat=chat, timeout=PDF_TIMEOUT)
    message = chat.last_message
    assert message is not None
    return message


async def test_the_bupati_gets_the_rakor_pdf_with_the_bots_numbers(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    await boss.command("skor")
    skor = (await reply(boss)).plain_text
    index = re.search(r"Indeks (\d+,\d\d)", skor)
    assert index is not None

    sent = await _pdf(boss)
    assert sent.document is not None
    assert sent.filename == "laporan-2026-S1.pdf"
    caption = sent.plain_text
    pages = int(re.search(r"(\d+) halaman", caption).group(1))  # type: ignore[union-attr]
    pdf = pypdf.PdfReader(io.BytesIO(sent.document))
    assert len(pdf.pages) == pages
    assert pages >= 49 + 4  # cover, dimensions, units at a glance, a page per unit, method
    cover = _text(pdf, 0)
    assert "Laporan Survei Penilaian Integritas" in cover
    assert "Pemerintah Kabupaten Mojokerto" in cover
    assert index.group(1) in cover  # the same number as /skor
    assert "Pembanding" in cover
    assert "SEMENTARA" in cover
    every = [_text(pdf, i) for i in range(pages)]
    dinkes = next(
        t for t in every if t.startswith("Pemerintah") and "Dinas Kesehatan Perangkat" in t
    )
    assert "Dimensi terlemah" in dinkes
    assert "Tindak lanjut" in dinkes
    bappeda = next(t for t in every if "Badan Perencanaan Pembangunan Daerah Perangkat" in t)
    assert "kurang dari 5" in bappeda or "diterima" in bappeda  # a hidden cell says why
    assert "Metode" in every[-1] or "Metode" in every[-2]

    # Page 1 as a picture: A4 landscape, and not blank.
    document = pypdfium2.PdfDocument(sent.document)
    image = document[0].render(scale=0.5).to_pil().convert("L")
    width, height = image.size
    assert abs(width / height - 297 / 210) < 0.01
    assert image.getextrema()[0] < 80  # dark ink on the page


async def test_a_unit_head_gets_their_own_units_pages(harness: Harness) -> None:
    await _data(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES", lang="en")
    sent = await _pdf(head)
    assert sent.document is not None
    assert sent.filename == "laporan-2026-S1-DINKES.pdf"
    pdf = pypdf.PdfReader(io.BytesIO(sent.document))
    text = " ".join(_text(pdf, i) for i in range(len(pdf.pages)))
    assert "Dinas Kesehatan" in text
    assert "Weakest dimension" in text
    assert "Method" in text
    assert "Dinas Kependudukan" not in text  # no other unit
    assert "Benchmarks" not in text  # no institution cover


async def test_no_role_no_pdf(harness: Harness) -> None:
    await _data(harness)
    citizen = harness.user("id")
    await citizen.command("laporan", "pdf")
    answer = await reply(citizen)
    assert answer.document is None
    assert "hanya dapat dilihat oleh pimpinan" in answer.plain_text


async def test_in_a_group_the_askers_role_decides(harness: Harness) -> None:
    await _data(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    stranger = harness.user("id")
    group = harness.sandbox.group(GROUP, "Rakor OPD")
    await stranger.command("laporan", "pdf", chat=group)
    refused = await _in_group(stranger, group)
    assert refused.document is None
    assert "hanya dapat dilihat oleh pimpinan" in refused.plain_text
    sent = await _pdf(boss, chat=group)
    assert sent.document is not None
    assert sent.filename == "laporan-2026-S1.pdf"


async def test_a_wave_without_responses_and_an_unknown_wave(harness: Harness) -> None:
    boss = await _with_role(harness, Role.LEADERSHIP)
    empty = await _pdf(boss)
    assert empty.document is None
    assert "belum punya jawaban sama sekali" in empty.plain_text
    unknown = await _pdf(boss, "1999-X")
    assert unknown.document is None
    assert "“1999-X” tidak ditemukan" in unknown.plain_text
    long = await _pdf(boss, "x" * 5000)  # a 5,000-character "wave": cut, answered, no crash
    assert long.document is None
    assert "tidak ditemukan" in long.plain_text
