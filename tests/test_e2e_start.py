"""End to end through the sandbox: /start, /help, group chats, errors (the real Application)."""

from __future__ import annotations

import pytest

from services.respondent import RespondentFlow
from tests.e2e_fixtures import Harness, reply

pytestmark = pytest.mark.e2e


async def test_start_welcomes_in_indonesian(harness: Harness) -> None:
    user = harness.user("id")
    await user.command("start")
    await reply(user)
    texts = [m.plain_text for m in user.chat.messages]
    assert any(t.startswith("Selamat datang di SPI-Bot") for t in texts)
    assert any("anonim" in t for t in texts)


async def test_start_welcomes_in_english_and_falls_back_to_default(harness: Harness) -> None:
    english = harness.user("en-GB")
    await english.command("start")
    await reply(english)
    assert english.chat.messages[0].plain_text.startswith("Welcome to SPI-Bot")

    german = harness.user("de")
    await german.command("start")
    await reply(german)
    assert german.chat.messages[0].plain_text.startswith("Selamat datang")


async def test_plain_start_offers_public_units_page_by_page(harness: Harness) -> None:
    user = harness.user()
    await user.command("start")
    message = await reply(user)
    assert "halaman 1 dari 6" in message.plain_text  # 42 public units, 8 a page
    seen: list[str] = []
    for _ in range(6):
        seen += [b.text for b in message.flat_buttons if b.text not in ("‹", "›")]
        if not any(b.text == "›" for b in message.flat_buttons):
            break
        await user.tap(message, text="›")
        message = await reply(user)
    assert "Dinas Kependudukan dan Pencatatan Sipil" in seen
    assert "Inspektorat Daerah" not in seen  # does not serve the public
    assert len(seen) == len(set(seen)) == 42
    assert "halaman 6 dari 6" in message.plain_text


async def test_help_lists_commands_in_both_languages(harness: Harness) -> None:
    user = harness.user("id")
    await user.command("bantuan")
    text = (await reply(user)).plain_text
    for command in ("/start", "/bahasa", "/batal"):
        assert command in text
    assert "/skor" not in text  # a respondent's help: the score commands come with a role
    english = harness.user("en")
    await english.command("help")
    assert "/language" in (await reply(english)).plain_text


async def test_menu_commands_are_registered(harness: Harness) -> None:
    names = {c["command"] for c in harness.sandbox.commands()}
    assert {"start", "bahasa", "batal", "bantuan"} <= names
    english = {c["command"] for c in harness.sandbox.commands(language_code="en")}
    assert {"start", "language", "cancel", "help"} <= english


async def test_group_chat_gets_a_short_private_chat_hint(harness: Harness) -> None:
    user = harness.user()
    group = harness.sandbox.group(chat_id=-100777, title="Warga Sooko")
    await user.command("start", chat=group)
    message = await user.wait_for_reply(chat=group)
    assert "pesan pribadi" in message.plain_text
    assert "@spi_sandbox_bot" in message.plain_text
    assert not message.buttons
    assert user.chat.messages == []  # nothing was started in private either


async def test_survey_link_in_a_group_starts_no_survey(harness: Harness) -> None:
    user = harness.user()
    group = harness.sandbox.group(chat_id=-100778, title="Kantor")
    await user.command("start", harness.unit_payload(), chat=group)
    message = await user.wait_for_reply(chat=group)
    assert "pesan pribadi" in message.plain_text
    assert not message.buttons


async def test_unknown_command_is_answered(harness: Harness) -> None:
    user = harness.user()
    await user.command("abrakadabra")
    assert "tidak dikenal" in (await reply(user)).plain_text


async def test_a_failing_handler_tells_the_user_without_a_traceback(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(RespondentFlow, "start", broken)
    user = harness.user()
    await user.command("start")
    message = await reply(user)
    assert message.plain_text.startswith("Maaf, terjadi kesalahan")
    assert "Traceback" not in message.plain_text
    assert "database on fire" not in message.plain_text
    logged = [r for r in caplog.records if r.name == "handlers.common"]
    assert logged
    assert "RuntimeError" in logged[0].getMessage()
    assert str(user.id) not in logged[0].getMessage()


async def test_long_and_odd_messages_outside_a_survey(harness: Harness) -> None:
    user = harness.user()
    await user.send("x" * 5000)
    await reply(user)
    assert user.chat.messages[0].plain_text.startswith("Selamat datang")
    before = len(user.chat.messages)
    await user.send_sticker()
    await reply(user)
    assert user.chat.messages[before].plain_text.startswith("Maaf, saya hanya bisa membaca")


async def test_officials_get_the_score_commands_in_their_menu(harness: Harness) -> None:
    from handlers.commands import COMMANDS, Audience
    from services.access import create_grant
    from storage.roles import Role

    respondent_menu = {c["command"] for c in harness.sandbox.commands()}
    assert "skor" not in respondent_menu  # citizens never see commands they cannot use
    admin_menu = harness.sandbox.commands(scope={"type": "chat", "chat_id": 999})
    official = [c for c in COMMANDS if c.audience is Audience.OFFICIAL]
    # Every official command of the table, /berhenti included, is in the officials' menu.
    assert {c.name_in("id") for c in official} <= {c["command"] for c in admin_menu}
    assert {"skor", "laporan", "langganan", "jadwal", "berhenti"} <= {
        c["command"] for c in admin_menu
    }

    payload, _ = await create_grant(harness.engine, Role.LEADERSHIP, None, harness.clock())
    bupati = harness.user("en")
    await bupati.open_deep_link(payload)
    await reply(bupati)
    menu = harness.sandbox.commands(scope={"type": "chat", "chat_id": bupati.id})
    names = [c["command"] for c in menu]
    assert names[:4] == ["start", "language", "cancel", "help"]
    assert {"score", "ranking", "report", "subscribe", "schedule", "stop"} <= set(names)
    descriptions = {c["command"]: c["description"] for c in menu}
    assert descriptions["score"] == "Current integrity index"
