"""End to end through the sandbox: the inspectorate's in-bot admin and every refusal."""

from __future__ import annotations

import pytest

import storage.contacts
import storage.roles
import storage.waves
from sandbox import SandboxUser
from sandbox.models import SentMessage
from storage.contacts import ContactPurpose
from surveys import Group
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e

ADMIN = 999  # the harness's configured admin


async def say(user: SandboxUser, command: str, payload: str | None = None) -> SentMessage:
    await user.command(command, payload)
    return await reply(user)


async def tap(h: Harness, user: SandboxUser, message: SentMessage, index: int = 0) -> str:
    """Tap a button of a message and return the message's text once the bot has edited it."""
    before = h.sandbox.callback_answers[:]
    data = [b.data for b in message.flat_buttons][index]
    assert data is not None
    await user.tap(message, data=data)
    await h.sandbox.wait_for(lambda: len(h.sandbox.callback_answers) > len(before))
    await reply(user)
    return user.chat.message(message.message_id).plain_text


@pytest.mark.parametrize(
    "command",
    ["gelombang", "wave", "akses", "access", "undangan", "invites", "siaran", "broadcast"],
)
async def test_every_admin_command_is_refused_to_others(harness: Harness, command: str) -> None:
    stranger = harness.user()
    assert "hanya untuk admin" in (await say(stranger, command)).plain_text
    assert "hanya untuk admin" in (await say(stranger, command, "tutup")).plain_text
    assert (await storage.waves.current_wave(harness.engine)) is not None


async def test_admin_buttons_are_refused_to_others_and_forged_ones_explained(
    harness: Harness,
) -> None:
    admin = harness.user(user_id=ADMIN)
    confirm = await say(admin, "gelombang", "tutup")
    stranger = harness.user()
    # A stranger replays the admin's button data from their own chat.
    message = await say(stranger, "bantuan")
    before = len(harness.sandbox.callback_answers)
    await stranger.tap_raw(message.message_id, next(b.data for b in confirm.flat_buttons) or "")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    answer = harness.sandbox.callback_answers[before]
    assert answer.text is not None
    assert "hanya untuk admin" in answer.text
    assert (await storage.waves.current_wave(harness.engine)) is not None
    # The admin's own forged data is explained, and changes nothing.
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(confirm.message_id, "adm.wc.notanumber")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    await reply(admin)
    assert "tidak berlaku" in admin.chat.message(confirm.message_id).plain_text


async def test_wave_status_close_and_open_with_confirmation(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    status = await say(admin, "gelombang")
    assert "2026-S1: dibuka" in status.plain_text
    assert "Sudah ada gelombang" in (await say(admin, "gelombang", "buka 2026-S2")).plain_text
    confirm = await say(admin, "gelombang", "tutup")
    assert "Tutup gelombang 2026-S1?" in confirm.plain_text
    assert "Dibatalkan" in await tap(harness, admin, confirm, 1)
    assert (await storage.waves.current_wave(harness.engine)) is not None
    confirm = await say(admin, "gelombang", "tutup")
    assert "ditutup" in await tap(harness, admin, confirm, 0)
    assert (await storage.waves.current_wave(harness.engine)) is None
    assert "Tidak ada gelombang" in (await say(admin, "gelombang", "tutup")).plain_text
    assert "sudah dipakai" in (await say(admin, "gelombang", "buka 2026-S1")).plain_text
    assert "Nama gelombang" in (await say(admin, "gelombang", "buka bad/name")).plain_text
    assert "Perintah:" in (await say(admin, "gelombang", "hapus semua")).plain_text
    confirm = await say(admin, "gelombang", "buka 2026-S2")
    assert "dibuka" in await tap(harness, admin, confirm, 0)
    wave = await storage.waves.current_wave(harness.engine)
    assert wave is not None
    assert wave.name == "2026-S2"
    # One wave open at a time.
    assert "Sudah ada gelombang" in (await say(admin, "gelombang", "buka 2026-S3")).plain_text


async def test_access_link_holders_and_revoke(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    assert "Belum ada pemegang peran" in (await say(admin, "akses")).plain_text
    assert "tidak dikenal" in (await say(admin, "akses", "unit NOPE")).plain_text
    assert "Perintah:" in (await say(admin, "akses", "raja")).plain_text
    link_message = await say(admin, "akses", "unit DINKES")
    assert "kepala unit" in link_message.plain_text
    link = next(w for w in link_message.plain_text.split() if w.startswith("https://t.me/"))
    head = harness.user()
    await head.open_deep_link(link.split("start=", 1)[1])
    await reply(head)
    (holder,) = await storage.roles.list_roles(harness.engine)
    holders = await say(admin, "akses")
    assert holder.pseudonym[:12] in holders.plain_text
    assert str(head.id) not in holders.plain_text
    # The unit head's chat is kept (encrypted) for due-date reminders while the role lasts.
    assert await storage.contacts.contact_count(harness.engine, ContactPurpose.OFFICIAL) == 1
    # The unit head's chat had the officials' menu since the link was claimed.
    head_scope = {"type": "chat", "chat_id": head.id}
    assert "progres" in {c["command"] for c in harness.sandbox.commands(scope=head_scope)}
    revoked = await tap(harness, admin, holders, 0)
    assert "dicabut" in revoked
    assert await storage.roles.list_roles(harness.engine) == []
    assert await storage.contacts.contact_count(harness.engine, ContactPurpose.OFFICIAL) == 0
    # Their chat is known (the due-date contact): the menu goes at the revoke, not later.
    assert "sudah dikembalikan ke menu responden" in revoked
    await harness.sandbox.wait_for(lambda: not harness.sandbox.commands(scope=head_scope))
    # Revoked at once: the former unit head's next score command is refused.
    assert "hanya dapat dilihat oleh pimpinan" in (await say(head, "progres")).plain_text
    # The revoke button again (a double tap) changes nothing and says so.
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(holders.message_id, holders.flat_buttons[0].data or "")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    await reply(admin)
    assert "tidak berlaku" in admin.chat.message(holders.message_id).plain_text
    leadership = await say(admin, "access", "leadership")
    assert "pimpinan" in leadership.plain_text


async def test_uptake_per_unit(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    assert "Belum ada undangan" in (await say(admin, "undangan")).plain_text
    for _ in range(3):
        await harness.invitation(Group.INTERNAL, "DINKES")
    payload = await harness.invitation(Group.EXPERT, "INSPEKTORAT")
    employee = harness.user()
    await employee.open_deep_link(payload)
    await reply(employee)
    text = (await say(admin, "undangan")).plain_text
    assert "(pegawai): 3 / 0 / 0" in text
    assert "(eksper): 1 / 1 / 0" in text
    assert "Total: 4 / 1 / 0" in text
