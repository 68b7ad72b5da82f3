"""End to end, in the admin's and the official's shoes: roles carry a label, links expire, and a
revoke (the /akses button or `spibot grant --revoke`) ends everything the role set up at once.

The harness clock is Monday 2 March 2026, 10:00 WIB; role links live 7 days by default.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.actions
import storage.roles
import storage.subscriptions
import storage.units
from bot.cli import main
from sandbox import SandboxUser, SentMessage
from sandbox.demo import SANDBOX_TOKEN
from services.access import create_grant
from storage.roles import Role
from surveys import Group
from tests.e2e_fixtures import Harness, reply
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

ADMIN = 999
GROUP = -100_902
OTHER_GROUP = -100_903
WEDNESDAY_7_WIB = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)


async def _say(user: SandboxUser, command: str, payload: str | None = None) -> SentMessage:
    await user.command(command, payload)
    return await reply(user)


async def _tap(h: Harness, user: SandboxUser, message: SentMessage, data: str) -> str:
    """Tap a button and return the message's text once the bot has edited it."""
    before = len(h.sandbox.callback_answers)
    await user.tap(message, data=data)
    await h.sandbox.wait_for(lambda: len(h.sandbox.callback_answers) > before)
    await reply(user)
    return user.chat.message(message.message_id).plain_text


def _link(message: SentMessage) -> str:
    link = next(w for w in message.plain_text.split() if w.startswith("https://t.me/"))
    return link.split("start=", 1)[1]


def _menu(h: Harness, user: SandboxUser) -> set[str]:
    return {c["command"] for c in h.sandbox.commands(scope={"type": "chat", "chat_id": user.id})}


async def _bupati(h: Harness, admin: SandboxUser) -> tuple[SandboxUser, SentMessage]:
    """The admin makes a labelled leadership link in chat; the Bupati opens it."""
    made = await _say(admin, "akses", "pimpinan Bupati Mojokerto")
    until = (h.clock() + timedelta(days=7)).date().isoformat()
    assert f"Untuk: Bupati Mojokerto · tautan #1 · berlaku s.d. {until}" in made.plain_text
    bupati = h.user()
    await bupati.open_deep_link(_link(made))
    assert "pimpinan" in (await reply(bupati)).plain_text
    return bupati, made


async def test_akses_shows_labels_holders_and_unopened_links(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    await _bupati(harness, admin)
    kadis = await _say(admin, "akses", "unit DINKES Kadis\u202e Kesehatan")  # a bidi override
    assert "Kadis Kesehatan" in kadis.plain_text  # dropped from the label, not stored
    unlabelled = await _say(admin, "akses", "pimpinan")
    assert "tanpa label" in unlabelled.plain_text
    assert "Tip: beri label" in unlabelled.plain_text
    listing = await _say(admin, "akses")
    text = listing.plain_text
    (holder,) = await storage.roles.list_roles(harness.engine)
    assert f"• Bupati Mojokerto — pimpinan · {holder.pseudonym[:12]}" in text
    assert "Tautan yang belum dibuka" in text
    assert "• #2 Kadis Kesehatan — kepala unit Dinas Kesehatan · berlaku s.d. 2026-03-09" in text
    assert "• #3 tanpa label — pimpinan" in text
    labels = [b.text for b in listing.flat_buttons]
    assert "Cabut: Bupati Mojokerto (pimpinan)" in labels
    assert "Tarik tautan #2 (Kadis Kesehatan)" in labels
    # Withdrawing an unopened link: whoever opens it later is told it is not valid.
    assert "Tautan #2 ditarik" in await _tap(harness, admin, listing, "adm.wd.2")
    kadis_user = harness.user()
    await kadis_user.open_deep_link(_link(kadis))
    assert "tidak valid" in (await reply(kadis_user)).plain_text
    # The same withdraw button again (a double tap) is stale and says so.
    before = len(harness.sandbox.callback_answers)
    await admin.tap_raw(listing.message_id, "adm.wd.2")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > before)
    await reply(admin)
    assert "tidak berlaku" in admin.chat.message(listing.message_id).plain_text
    # Bad labels: too long is refused, nothing is created.
    too_long = await _say(admin, "akses", "pimpinan " + "x" * 81)
    assert "Label terlalu panjang" in too_long.plain_text
    assert len(await storage.roles.list_role_grants(harness.engine, include_used=True)) == 2


async def test_an_expired_or_forged_role_link_gets_a_clear_answer(harness: Harness) -> None:
    payload, _ = await create_grant(harness.engine, Role.LEADERSHIP, None, harness.clock())
    harness.clock.advance(days=7, minutes=1)
    late = harness.user()
    await late.open_deep_link(payload)
    answer = (await reply(late)).plain_text
    assert "sudah kedaluwarsa" in answer
    assert "berlaku 7 hari" in answer
    assert await storage.roles.list_roles(harness.engine) == []
    assert "hanya dapat dilihat" in (await _say(late, "skor")).plain_text
    admin = harness.user(user_id=ADMIN)
    assert "kedaluwarsa (2026-03-09)" in (await _say(admin, "akses")).plain_text
    forger = harness.user()
    await forger.open_deep_link("gAAAAAAAAAAAAAAAAAAAAA")
    assert "tidak valid" in (await reply(forger)).plain_text


async def test_revoking_the_bupati_ends_everything_the_role_set_up(harness: Harness) -> None:
    for group in Group:
        await add_responses(harness.engine, harness.wave, "DINKES", group, 5, harness.clock())
    harness.clock.advance(days=1)
    admin = harness.user(user_id=ADMIN)
    # The admin's own subscription shows the tick below does push.
    other = harness.sandbox.group(OTHER_GROUP, "Inspektorat")
    await admin.command("langganan", chat=other)
    await admin.wait_for_reply(chat=other)
    bupati, _ = await _bupati(harness, admin)
    assert "skor" in _menu(harness, bupati)
    # The Bupati subscribes their own chat and the leadership group, and keeps old buttons.
    assert "berlangganan" in (await _say(bupati, "langganan")).plain_text
    group = harness.sandbox.group(GROUP, "Pimpinan")
    await bupati.command("langganan", chat=group)
    await bupati.wait_for_reply(chat=group)
    schedule = await _say(bupati, "jadwal")
    choice = await _say(bupati, "unit", "dinas")
    unit_button = next(b.data for b in choice.flat_buttons if b.text == "Dinas Kesehatan")
    assert unit_button is not None

    listing = await _say(admin, "akses")
    revoked = await _tap(harness, admin, listing, listing.flat_buttons[0].data or "")
    assert "Peran Bupati Mojokerto (pimpinan" in revoked
    assert "2 langganan laporan yang ia daftarkan dijeda" in revoked
    assert "sudah dikembalikan ke menu responden" in revoked
    # At once: both subscriptions paused, and the private chat's menu reset.
    subscriptions = {
        s.chat_id: s
        for s in await storage.subscriptions.list_subscriptions(harness.engine, active_only=False)
    }
    assert not subscriptions[bupati.id].active
    assert not subscriptions[GROUP].active
    await harness.sandbox.wait_for(lambda: not _menu(harness, bupati))
    # Nothing is pushed to them any more.
    before_private, before_group = len(bupati.chat.messages), len(group.messages)
    before_other = len(other.messages)
    harness.clock.now = WEDNESDAY_7_WIB
    assert harness.app is not None
    await harness.app.bot_data.scheduler.tick()
    await harness.sandbox.wait_for(lambda: len(other.messages) > before_other)
    assert len(bupati.chat.messages) == before_private
    assert len(group.messages) == before_group
    # Old buttons do nothing for them: the schedule preset, the unit choice.
    answers = len(harness.sandbox.callback_answers)
    await bupati.tap(schedule, data="sub:digest:on")
    await harness.sandbox.wait_for(lambda: len(harness.sandbox.callback_answers) > answers)
    assert "hanya admin dan pimpinan" in (harness.sandbox.callback_answers[-1].text or "")
    await bupati.tap(choice, data=unit_button)
    assert "hanya dapat dilihat" in (await reply(bupati)).plain_text
    assert not any(m.photo for m in bupati.chat.messages[before_private:])
    # The group's schedule says why it is paused; an admin can resume it.
    await admin.command("jadwal", chat=group)
    view = (await admin.wait_for_reply(chat=group)).plain_text
    assert "peran orang yang mendaftarkan langganan ini sudah dicabut" in view
    await admin.command("langganan", chat=group)
    assert "aktif kembali" in (await admin.wait_for_reply(chat=group)).plain_text
    resumed = await storage.subscriptions.get_subscription(harness.engine, GROUP)
    assert resumed is not None
    assert resumed.active
    assert resumed.created_by == harness.app.bot_data.services.pseudonym(ADMIN)


async def test_revoking_a_unit_head_drops_their_draft(harness: Harness) -> None:
    admin = harness.user(user_id=ADMIN)
    made = await _say(admin, "akses", "unit DINKES Kadis Kesehatan")
    head = harness.user()
    await head.open_deep_link(_link(made))
    await reply(head)
    listing = await _say(head, "tindaklanjut")
    await head.tap(listing, text="➕ Tambah aksi")
    choose = await reply(head)
    await head.tap(choose, text="Pengelolaan PBJ")
    assert "Apa rencana aksinya?" in (await reply(head)).plain_text
    holders = await _say(admin, "akses")
    revoked = await _tap(harness, admin, holders, holders.flat_buttons[0].data or "")
    assert "draf tindak lanjutnya dihapus" in revoked
    # What they type next is no longer taken as the action's text.
    await head.send('=HYPERLINK("http://x";"klik")')
    answer = (await reply(head)).plain_text
    assert "Aksi" not in answer
    assert not await storage.actions.list_actions(harness.engine)


async def test_the_cli_lists_and_revokes_and_resets_the_menu(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = harness.settings
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL={settings.database_url}\n"
        f"SPIBOT_SECRET={settings.secret_bytes().decode()}\n"
        f"TELEGRAM_BOT_TOKEN={SANDBOX_TOKEN}\n"
        f"TELEGRAM_API_BASE_URL={settings.telegram_api_base_url}\n"
        "BOT_USERNAME=spi_sandbox_bot\n",
        encoding="utf-8",
    )

    def spibot(*args: str) -> tuple[int, str, str]:
        code = main(["--env-file", str(env), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, _ = await asyncio.to_thread(
        spibot, "grant", "--role", "leadership", "--label", "Bupati"
    )
    assert code == 0
    assert 'one-time link #1 granting leadership to "Bupati"' in out
    bupati = harness.user()
    await bupati.open_deep_link(out.split("start=", 1)[1].split()[0])
    await reply(bupati)
    await _say(bupati, "langganan")  # a private subscription: the bot knows their chat
    await asyncio.to_thread(spibot, "grant", "--role", "unit_head", "--unit", "DINKES")
    code, out, _ = await asyncio.to_thread(spibot, "grant", "--list")
    assert code == 0
    (holder,) = await storage.roles.list_roles(harness.engine)
    assert f"#1     {holder.pseudonym[:12]}  leadership" in out
    assert '"Bupati"' in out
    assert "links not opened yet: 1" in out
    assert "#2     unit head of DINKES" in out
    assert "(no label)  until 2026-" in out or "(no label)  EXPIRED" in out
    # Bad input: one line, exit 2, nothing changed.
    for bad, message in (
        (("--revoke", "#99"), "no link #99"),
        (("--revoke", "zzz"), "matches no holder"),
        (("--role", "leadership", "--label", "x" * 81), "--label: the label has 81"),
    ):
        code, _, err = await asyncio.to_thread(spibot, "grant", *bad)
        assert code == 2
        assert message in err
        assert len(err.strip().splitlines()) == 1
    code, out, _ = await asyncio.to_thread(spibot, "grant", "--revoke", "#2")
    assert "link #2 withdrawn" in out
    code, out, _ = await asyncio.to_thread(spibot, "grant", "--revoke", holder.pseudonym[:8])
    assert code == 0
    assert 'revoked leadership of "Bupati"' in out
    assert "subscriptions paused: 1" in out
    assert "their command menu is back to the respondents' one" in out
    await harness.sandbox.wait_for(lambda: not _menu(harness, bupati))
    assert await storage.roles.list_roles(harness.engine) == []
    code, _, err = await asyncio.to_thread(spibot, "grant", "--revoke", holder.pseudonym[:8])
    assert code == 2
    assert "matches no holder" in err


async def test_akses_fits_one_message_with_many_holders(harness: Harness) -> None:
    """49 unit heads with long labels and a dozen unopened links: one message, the rest named."""
    for number, unit in enumerate(await storage.units.list_units(harness.engine)):
        label = f"Kepala {unit.name} (Plt.) — nomor {number}"[:80]
        await create_grant(harness.engine, Role.UNIT_HEAD, unit.code, harness.clock(), label=label)
    # 37 of the 49 links are opened (claimed by their stored hash, as opening them would).
    async with harness.engine.connect() as conn:
        hashes = [
            row.token_hash
            for row in await conn.execute(
                storage.roles.role_grants.select().order_by(storage.roles.role_grants.c.id)
            )
        ]
    for number, token_hash in enumerate(hashes[:37]):
        await storage.roles.claim_role_grant(
            harness.engine, token_hash, f"{number:064x}", harness.clock()
        )
    admin = harness.user(user_id=ADMIN)
    listing = await _say(admin, "akses")
    assert len(listing.plain_text) <= 4096
    assert "pemegang peran lagi: spibot grant --list" in listing.plain_text
    assert "tautan lagi: spibot grant --list" in listing.plain_text
    assert len(listing.flat_buttons) < 100
