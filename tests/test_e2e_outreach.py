"""End to end through the sandbox: outreach opt-in on the thank-you screen, and broadcasts."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from sandbox import SandboxUser
from sandbox.models import SentMessage
from sandbox.simulation import Outcome, Persona, simulate_respondent
from services.reach.outreach import OPT_OUT_DATA
from storage.contacts import contacts
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.test_e2e_inspectorate import ADMIN, say, tap

pytestmark = pytest.mark.e2e

NEWS = "Sosialisasi gratifikasi"


async def completed(h: Harness, group: Group, unit: str, seed: int) -> SandboxUser:
    user = h.user()
    payload = await h.invitation(group, unit) if group is not Group.EXTERNAL else h.unit_payload()
    outcome, _ = await simulate_respondent(user, payload, Persona(0.5, random.Random(seed)))
    assert outcome is Outcome.COMPLETED
    return user


async def opt_in(h: Harness, user: SandboxUser) -> None:
    thanks = user.chat.messages[-1]
    assert thanks.plain_text.startswith("Terima kasih!")
    (button,) = thanks.flat_buttons
    before = len(user.chat.messages)
    await user.tap(thanks, data=button.data)
    await h.sandbox.wait_for(lambda: len(user.chat.messages) > before)
    assert "info sosialisasi" in user.chat.messages[-1].plain_text


async def outreach_contacts(h: Harness) -> int:
    async with h.engine.connect() as conn:
        stmt = select(func.count()).select_from(contacts).where(contacts.c.purpose == "outreach")
        return int((await conn.execute(stmt)).scalar_one())


def news(user: SandboxUser) -> list[SentMessage]:
    return [m for m in user.chat.messages if NEWS in m.plain_text]


async def broadcast(h: Harness, admin: SandboxUser, body: str, people: int) -> SentMessage:
    preview = await say(admin, "siaran", body)
    assert f"untuk {people} orang" in preview.plain_text
    before = len(admin.chat.messages)
    assert "sedang dikirim" in await tap(h, admin, preview, 0)
    await h.sandbox.wait_for(lambda: len(admin.chat.messages) > before, timeout=10)
    await asyncio.sleep(0.1)
    return preview


async def test_opt_in_broadcast_once_each_and_opt_out(harness: Harness) -> None:
    dinkes = await completed(harness, Group.INTERNAL, "DINKES", 1)
    other = await completed(harness, Group.INTERNAL, "BAPPEDA", 2)
    citizen = await completed(harness, Group.EXTERNAL, "DISPENDUKCAPIL", 3)
    assert citizen.chat.messages[-1].flat_buttons == []  # outreach is for employees only
    await opt_in(harness, dinkes)
    await opt_in(harness, other)
    assert await outreach_contacts(harness) == 2

    admin = harness.user(user_id=ADMIN)
    assert "Perintah:" in (await say(admin, "siaran")).plain_text
    assert "tidak dapat dibuat" in (await say(admin, "siaran", "unit=NOPE halo")).plain_text
    preview = await broadcast(harness, admin, f"<b>{NEWS}</b> & Anda", people=2)
    assert "Siaran selesai: 2 terkirim" in admin.chat.messages[-1].plain_text
    for person in (dinkes, other):
        (message,) = news(person)
        assert message.plain_text == f"<b>{NEWS}</b> & Anda"  # the admin's words, not markup
    # The same confirmation again sends nothing more.
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(preview.message_id, f"adm.bc.{preview_id(preview)}")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    await reply(admin)
    assert "sudah dikirim" in admin.chat.message(preview.message_id).plain_text
    assert [len(news(p)) for p in (dinkes, other)] == [1, 1]

    # Some units only; and the opt-out button under every broadcast.
    await broadcast(harness, admin, f"unit=DINKES {NEWS} 2", people=1)
    assert [len(news(p)) for p in (dinkes, other)] == [2, 1]
    latest = news(dinkes)[-1]
    assert [b.data for b in latest.flat_buttons] == [OPT_OUT_DATA]
    before = len(dinkes.chat.messages)
    await dinkes.tap(latest, data=OPT_OUT_DATA)
    await harness.sandbox.wait_for(lambda: len(dinkes.chat.messages) > before)
    assert "tidak akan menerima info sosialisasi" in dinkes.chat.messages[-1].plain_text
    other.block_bot()
    await broadcast(harness, admin, f"{NEWS} 3", people=1)
    assert len(news(dinkes)) == 2
    assert await outreach_contacts(harness) == 0  # opted out, and blocked


def preview_id(preview: SentMessage) -> str:
    """Return the broadcast id carried by a preview's confirm button (kept before the edit)."""
    data = next(b.data for b in preview.flat_buttons if b.data and b.data.startswith("adm.bc."))
    return data.removeprefix("adm.bc.")
