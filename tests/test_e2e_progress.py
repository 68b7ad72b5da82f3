"""End to end: /progres follows its chart with started / stopped / completed and invitation
uptake per unit; a unit head sees their own unit's, and nobody else gets any."""

from __future__ import annotations

import random

import pytest

from sandbox import SandboxUser
from sandbox.models import SentMessage
from sandbox.simulation import Outcome, Persona, simulate_respondent
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_scores import _with_role
from tests.test_e2e_survey import answer, open_survey, tap_action

pytestmark = pytest.mark.e2e


async def progress(user: SandboxUser, command: str = "progres") -> list[SentMessage]:
    before = len(user.chat.messages)
    await user.command(command)
    await reply(user, timeout=15)
    return user.chat.messages[before:]


async def scenario(h: Harness) -> None:
    """DINKES employees: 4 invitations; one completes, one stops, one cancels (which frees
    its link: 2 of 4 in use). DISPENDUKCAPIL citizens: one completes, one is answering now."""
    done = h.user()
    outcome, _ = await simulate_respondent(
        done, await h.invitation(Group.INTERNAL, "DINKES"), Persona(0.5, random.Random(1))
    )
    assert outcome is Outcome.COMPLETED
    stopped = h.user()
    await answer(stopped, await open_survey(h, stopped, await h.invitation(Group.INTERNAL)))
    quitter = h.user()
    await answer(quitter, await open_survey(h, quitter, await h.invitation(Group.INTERNAL)))
    await quitter.command("batal")
    await reply(quitter)
    assert "dibatalkan" in (await tap_action(quitter, "cx", 0)).plain_text
    await h.invitation(Group.INTERNAL, "DINKES")  # issued, never opened
    citizen = h.user()
    outcome, _ = await simulate_respondent(
        citizen, h.unit_payload("DISPENDUKCAPIL"), Persona(0.5, random.Random(2))
    )
    assert outcome is Outcome.COMPLETED
    h.clock.advance(hours=25)  # the stopped employee has been idle past the first reminder
    busy = h.user()
    await answer(busy, await open_survey(h, busy, h.unit_payload("DISPENDUKCAPIL")))


async def test_leadership_gets_the_funnel_after_the_chart(harness: Harness) -> None:
    await scenario(harness)
    boss = await _with_role(harness, Role.LEADERSHIP)
    chart, *rest = await progress(boss)
    assert chart.document is not None or chart.photo is not None
    (funnel,) = rest
    text = funnel.plain_text
    assert "Alur pengisian gelombang 2026-S1" in text
    assert "• Pegawai: 3 mulai · 2 berhenti · 1 selesai; undangan 2/4 dibuka" in text
    assert "• Pengguna layanan: 2 mulai · 0 berhenti · 1 selesai" in text
    assert "Eksper" not in text.split("Per unit")[0]  # nothing in that group: no line
    units = text.split("Per unit (paling banyak berhenti dulu):")[1].strip().splitlines()
    assert units[0] == "• Dinas Kesehatan: 3 mulai · 2 berhenti · 1 selesai; undangan 2/4 dibuka"
    assert units[1].startswith("• Dinas Kependudukan dan Pencatatan Sipil: 2 mulai · 0 berhenti")
    assert "47 unit lain: belum ada yang mulai" in text
    assert "berhenti: tidak bergerak 24 jam atau lebih" in text
    # In English too.
    english = await _with_role(harness, Role.LEADERSHIP, language="en")
    funnel = (await progress(english, "progress"))[-1].plain_text
    assert "• Employees: 3 started · 2 stopped · 1 completed; invitations 2/4 opened" in funnel


async def test_a_unit_head_sees_only_their_unit(harness: Harness) -> None:
    await scenario(harness)
    head = await _with_role(harness, Role.UNIT_HEAD, "DINKES")
    texts = [m.plain_text for m in await progress(head)]
    funnel = texts[-1]
    assert "Alur pengisian gelombang 2026-S1 — Dinas Kesehatan" in funnel
    assert "• Pegawai: 3 mulai · 2 berhenti · 1 selesai; undangan 2/4 dibuka" in funnel
    assert not any("Kependudukan" in text for text in texts)
    quiet = await _with_role(harness, Role.UNIT_HEAD, "BAPPEDA")
    funnel = (await progress(quiet))[-1].plain_text
    assert "— Badan Perencanaan" in funnel
    assert "Belum ada yang mulai mengisi" in funnel


async def test_nobody_else_sees_the_funnel(harness: Harness) -> None:
    await scenario(harness)
    citizen = harness.user()
    (answer_,) = await progress(citizen)
    assert "Alur pengisian" not in answer_.plain_text
    assert "mulai" not in answer_.plain_text
