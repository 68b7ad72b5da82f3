"""The sandbox Bot API, exercised through PTB's real Bot and Application over loopback HTTP."""

from __future__ import annotations

import ast
import asyncio
import datetime as dtm
import html
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.helpers import escape_markdown

from sandbox import Button, SandboxError, SandboxServer
from sandbox.actors import TINY_PNG
from sandbox.markup import visible_text
from sandbox.models import SandboxClock
from sandbox.rules import check_entities
from sandbox.webhook import SECRET_HEADER, DeliveryPolicy

TOKEN = "123456:TEST-token_abc"


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as client:
        yield client


def yes_no(prefix: str = "q1") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ya", callback_data=f"{prefix}:yes"),
                InlineKeyboardButton("Tidak", callback_data=f"{prefix}:no"),
            ]
        ]
    )


async def test_get_me_describes_the_configured_bot(bot: Bot) -> None:
    assert bot.username == "spi_sandbox_bot"
    assert bot.id == 123456
    assert bot.bot.is_bot


async def test_send_message_is_recorded_with_buttons(server: SandboxServer, bot: Bot) -> None:
    user = server.user(1001, "Sari")

    sent = await bot.send_message(
        user.id, "<b>Halo</b> Sari", parse_mode="HTML", reply_markup=yes_no()
    )

    assert sent.text == "Halo Sari"  # Telegram answers with the parsed text.
    assert sent.from_user is not None
    assert sent.from_user.username == "spi_sandbox_bot"
    assert sent.chat.type == "private"
    stored = user.chat.last_message
    assert stored is not None
    assert stored.message_id == sent.message_id
    assert stored.text == "<b>Halo</b> Sari"
    assert stored.parse_mode == "HTML"
    assert stored.plain_text == "Halo Sari"
    assert stored.buttons == [[Button("Ya", "q1:yes"), Button("Tidak", "q1:no")]]
    assert server.calls("sendMessage")[0].params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Ya",
        "callback_data": "q1:yes",
    }


async def test_message_ids_are_shared_by_user_and_bot(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    first = await user.send("halo")
    reply = await bot.send_message(user.id, "hai")
    second = await user.send("apa kabar")

    assert [first["message_id"], reply.message_id, second["message_id"]] == [1, 2, 3]


async def test_a_user_cancelled_as_the_bot_replies_stops_waiting(
    server: SandboxServer, bot: Bot
) -> None:
    """A closed-loop benchmark cancels users who may be woken by the bot at that very moment:
    the cancel must win (Python 3.11's wait_for would swallow it and the user would run on)."""
    user = server.user()
    await bot.send_message(user.id, "hai")
    await user.send("halo")
    rounds = 0

    async def closed_loop() -> None:
        nonlocal rounds
        while True:
            await user.wait_for_reply(timeout=5)
            rounds += 1

    task = asyncio.create_task(closed_loop())
    await asyncio.sleep(0.05)  # the user waits
    shown = user.chat.last_message
    assert shown is not None
    user.chat.put_bot_message(shown)  # the bot acts (as an edit would)...
    task.cancel()  # ...and the benchmark stops the user, in the same instant
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rounds == 0


async def test_edit_applies_and_identical_edit_is_rejected(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "Pertanyaan 1", reply_markup=yes_no())

    await bot.edit_message_text("Pertanyaan 1 ✅", user.id, sent.message_id, reply_markup=yes_no())
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Pertanyaan 1 ✅", user.id, sent.message_id, reply_markup=yes_no()
        )

    (message,) = user.chat.messages
    assert message.text == "Pertanyaan 1 ✅"
    assert message.edit_count == 1


async def test_edit_without_markup_removes_the_keyboard(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "Pilih", reply_markup=yes_no())

    await bot.edit_message_text("Terima kasih", user.id, sent.message_id)

    assert user.chat.message(sent.message_id).buttons == []
    with pytest.raises(SandboxError, match="no button"):
        await user.tap(sent.message_id, text="Ya")


async def test_edit_reply_markup_and_delete(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "Pilih", reply_markup=yes_no())

    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=yes_no("q2"))
    assert user.chat.message(sent.message_id).flat_buttons[0].data == "q2:yes"

    assert await bot.delete_message(user.id, sent.message_id)
    assert user.chat.messages == []
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", user.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_bot_cannot_edit_a_user_message(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    message = await user.send("halo")

    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", user.id, message["message_id"])


async def test_photo_and_document_bytes_are_kept(server: SandboxServer, bot: Bot) -> None:
    user = server.user()

    photo = await bot.send_photo(user.id, TINY_PNG, caption="Grafik", filename="chart.png")
    document = await bot.send_document(user.id, b"unit,skor\nA,80\n", filename="laporan.csv")

    assert (photo.photo[-1].width, photo.photo[-1].height) == (1, 1)
    assert photo.caption == "Grafik"
    assert document.document is not None
    assert document.document.file_name == "laporan.csv"
    assert document.document.mime_type == "text/csv"
    photo_message, document_message = user.chat.messages
    assert photo_message.photo == TINY_PNG
    assert document_message.document == b"unit,skor\nA,80\n"
    assert document_message.filename == "laporan.csv"

    telegram_file = await bot.get_file(document.document.file_id)
    assert await telegram_file.download_as_bytearray() == bytearray(b"unit,skor\nA,80\n")
    # Re-sending by file_id reuses the stored file, as on Telegram.
    again = await bot.send_photo(user.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id


async def test_non_image_photo_is_rejected(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.id, b"not an image")


async def test_get_updates_long_polls_text_and_taps(server: SandboxServer, bot: Bot) -> None:
    user = server.user(1001, "Sari", language_code="id")
    question = await bot.send_message(user.id, "Setuju?", reply_markup=yes_no())

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # It waits for something to happen...
    started = time.monotonic()
    await user.send("halo")
    (update,) = await poll
    assert time.monotonic() - started < 1  # ...and returns as soon as it does.
    assert update.message is not None
    assert update.message.text == "halo"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "id"

    await user.tap(question, text="Tidak")
    updates = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert [u.update_id for u in updates] == [update.update_id + 1]
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "q1:no"
    assert query.message is not None
    assert query.message.message_id == question.message_id

    await query.answer("Tersimpan", show_alert=True)
    assert [(a.text, a.show_alert) for a in server.callback_answers] == [("Tersimpan", True)]
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await query.answer()

    assert server.pending_updates == 1
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert server.pending_updates == 0


async def test_get_updates_times_out_empty(server: SandboxServer, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.2)) == ()
    assert 0.15 < time.monotonic() - started < 1.5


async def test_stop_releases_pending_long_polls() -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    client = Bot(TOKEN, base_url=sandbox.base_url)
    async with client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await sandbox.stop()
        assert await poll == ()
        assert time.monotonic() - started < 2


async def test_429_raises_retry_after(
    server: SandboxServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns (an error under our filterwarnings) when retry_after is read as an int.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    user = server.user()
    server.inject_fault("sendMessage", 429, retry_after=3)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(user.id, "halo")
    assert raised.value.retry_after == dtm.timedelta(seconds=3)

    await bot.send_message(user.id, "halo")  # The fault fired only once.
    assert [call.error for call in server.calls("sendMessage")] == [
        "Too Many Requests: retry after 3",
        None,
    ]


@pytest.mark.parametrize("status", [500, 502])
async def test_5xx_raises_network_error(server: SandboxServer, bot: Bot, status: int) -> None:
    user = server.user()
    server.inject_fault("sendMessage", status, chat_id=user.id)

    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "halo")
    assert user.chat.messages == []


async def test_delay_fault_slows_a_call(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    server.inject_fault("sendMessage", delay=0.3)

    started = time.monotonic()
    await bot.send_message(user.id, "halo")
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "   "}, "message text is empty"),
        ({"text": "a < b", "parse_mode": "HTML"}, "Unsupported start tag"),
        ({"text": "<b>tebal", "parse_mode": "HTML"}, "Can't find end tag"),
        ({"text": "Skor 1.5", "parse_mode": "MarkdownV2"}, "Character '.' is reserved"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("x", callback_data="d" * 65)]]
                ),
            },
            "BUTTON_DATA_INVALID",
        ),
        (
            {"text": "x", "reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("x")]])},
            "can't parse inline keyboard button",
        ),
    ],
)
async def test_invalid_messages_are_rejected(
    server: SandboxServer, bot: Bot, kwargs: dict[str, object], error: str
) -> None:
    user = server.user()
    with pytest.raises(BadRequest, match=rf"(?i){error}"):
        await bot.send_message(user.id, **kwargs)  # type: ignore[arg-type]
    assert user.chat.messages == []


async def test_text_limit_counts_visible_characters(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    await bot.send_message(user.id, f"<b>{'x' * 4096}</b>", parse_mode="HTML")


@given(st.text())
def test_escaped_user_text_always_parses(text: str) -> None:
    # What the bot must do with user input: escape it, and it is accepted and shown verbatim.
    for escaped, mode in ((html.escape(text), "HTML"), (escape_markdown(text, 2), "MarkdownV2")):
        check_entities(escaped, mode)
        assert visible_text(escaped, mode) == text


async def test_long_caption_and_unknown_chat_are_rejected(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(user.id, TINY_PNG, caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "halo")


async def test_tapping_a_missing_button_raises_but_raw_taps_go_through(
    server: SandboxServer, bot: Bot
) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "Setuju?", reply_markup=yes_no())
    message = user.chat.message(sent.message_id)

    with pytest.raises(SandboxError, match="offers: 'Ya'"):
        await user.tap(message, text="Mungkin")
    with pytest.raises(SandboxError, match="no bot message 99"):
        await user.tap_raw(99, "q1:yes")

    query = await user.tap_raw(sent.message_id, "q9:forged")
    assert query["data"] == "q9:forged"
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "q9:forged"


async def test_blocked_user_and_kicked_group_are_forbidden(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    group = server.group(-100123, "Pimpinan")
    user.block_bot()
    group.kick_bot()

    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(user.id, "pengingat")
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat"):
        await bot.send_message(group.id, "laporan")

    await user.open_deep_link("abc")  # Pressing Start again unblocks the bot.
    await bot.send_message(user.id, "halo lagi")


async def test_group_privacy_mode_delivers_only_commands(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    group = server.group(-100123, "Pimpinan")

    await user.send("halo semua", chat=group)
    await user.command("laporan", chat=group)

    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/laporan@spi_sandbox_bot"
    assert update.message.chat.type == "group"
    assert update.message.chat.title == "Pimpinan"


async def test_deep_link_sends_start_with_payload(server: SandboxServer, bot: Bot) -> None:
    user = server.user()

    await user.open_deep_link("inv_AbC-123")
    with pytest.raises(SandboxError, match="payload"):
        await user.open_deep_link("bad payload!")

    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/start inv_AbC-123"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")


async def test_non_text_messages(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    await user.send_sticker()
    await user.send_photo(caption="foto")
    await user.send_voice()

    sticker, photo, voice = (u.message for u in await bot.get_updates())
    assert sticker is not None
    assert sticker.sticker is not None
    assert photo is not None
    assert photo.caption == "foto"
    photo_file = await bot.get_file(photo.photo[-1].file_id)
    assert await photo_file.download_as_bytearray() == bytearray(TINY_PNG)
    assert voice is not None
    assert voice.voice is not None


async def test_commands_unknown_methods_and_webhook_conflict(
    server: SandboxServer, bot: Bot
) -> None:
    await bot.set_my_commands([("start", "Mulai survei"), ("bantuan", "Bantuan")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "bantuan"]
    assert server.commands()[0] == {"command": "start", "description": "Mulai survei"}

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")

    await bot.set_webhook("https://example.invalid/hook")
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_raw_http_bodies_and_error_shapes(server: SandboxServer) -> None:
    user = server.user()
    url = f"{server.base_url}{TOKEN}"
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    server.inject_fault("sendMessage", 429, retry_after=7)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/sendMessage", json={"chat_id": user.id}) as response:
            assert response.status == 429
            assert await response.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            }
        body = {"chat_id": user.id, "text": "hi", "reply_markup": keyboard}
        async with session.post(f"{url}/sendMessage", json=body) as response:
            assert (await response.json())["result"]["reply_markup"] == keyboard
        form = {"chat_id": str(user.id), "text": "x" * 4097}
        async with session.post(f"{url}/SENDMESSAGE", data=form) as response:
            assert response.status == 400
            assert await response.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message is too long",
            }
        async with session.get(f"{url}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert user.chat.last_message is not None
    assert user.chat.last_message.buttons == [[Button("A", "a")]]


async def test_wait_for_explains_a_timeout(server: SandboxServer) -> None:
    user = server.user()
    with pytest.raises(TimeoutError, match="the bot to reply to Sari"):
        await user.wait_for_reply(timeout=0.1)
    with pytest.raises(TimeoutError, match="nothing_happens"):
        await server.wait_for(lambda: False, timeout=0.1, description="nothing_happens")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the /start payload with a yes/no keyboard."""
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    await update.effective_message.reply_text(f"echo {payload}", reply_markup=yes_no())


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge a tap and show the choice in place of the keyboard."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Dipilih: {query.data}")


async def test_real_application_polls_and_replies(server: SandboxServer) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        user = server.user()
        await user.open_deep_link("abc")
        reply = await user.wait_for_reply()
        assert reply.text == "echo abc"

        await user.tap(reply, text="Ya")
        edited = await user.wait_for_reply()
        assert edited.message_id == reply.message_id
        assert edited.text == "Dipilih: q1:yes"
        assert edited.buttons == []
        assert len(server.callback_answers) == 1
    finally:
        started = time.monotonic()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert time.monotonic() - started < 2
    assert server.pending_updates == 0


# -- structure ---------------------------------------------------------------------------------

SANDBOX_DIR = Path(__file__).resolve().parent.parent / "sandbox"


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_chats_and_users_do_not_import_the_world() -> None:
    # The world owns chats and users; they reach it only through the protocols they declare.
    for name in ("actors.py", "chats.py", "models.py"):
        assert "sandbox.world" not in _imports(SANDBOX_DIR / name), name


def test_sandbox_modules_stay_small() -> None:
    sizes = {
        p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in SANDBOX_DIR.glob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


# -- callback queries expire -------------------------------------------------------------------

QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def _one_query(server: SandboxServer, bot: Bot) -> tuple[Update, int]:
    user = server.user()
    sent = await bot.send_message(user.id, "Setuju?", reply_markup=yes_no())
    await user.tap(sent, text="Ya")
    (update,) = await bot.get_updates(timeout=1)
    return update, update.update_id


async def test_a_callback_query_expires_after_its_ttl(server: SandboxServer, bot: Bot) -> None:
    assert server.callback_query_ttl == 15.0  # Telegram's window by default
    update, _ = await _one_query(server, bot)
    assert update.callback_query is not None

    server.advance_time(15.5)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer()
    # PTB rewrites the case of the text it raises; the wire carries Telegram's exact words.
    assert server.calls("answerCallbackQuery")[-1].error == QUERY_TOO_OLD
    assert server.callback_answers == []
    # The message can still be edited: only the answer window closed.
    message = update.callback_query.message
    assert message is not None
    await bot.edit_message_text("Terlambat, tapi tersimpan", message.chat.id, message.message_id)


async def test_a_callback_query_within_its_ttl_is_answered_once(
    server: SandboxServer, bot: Bot
) -> None:
    server.callback_query_ttl = 2.0
    update, _ = await _one_query(server, bot)
    assert update.callback_query is not None
    server.advance_time(1.9)
    await update.callback_query.answer("ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer("lagi")


async def test_a_custom_clock_drives_query_age() -> None:
    now = [100.0]
    async with SandboxServer(clock=lambda: now[0], callback_query_ttl=5.0) as server:
        with pytest.raises(SandboxError, match="advance that one"):
            server.advance_time(1)
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            update, _ = await _one_query(server, bot)
            assert update.callback_query is not None
            now[0] += 6
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await update.callback_query.answer()


def test_sandbox_clock_only_moves_forward() -> None:
    clock = SandboxClock(base=lambda: 10.0)
    clock.advance(2.5)
    assert clock() == 12.5
    with pytest.raises(SandboxError):
        clock.advance(-1)


# -- probabilistic faults, timeouts, dropped connections ---------------------------------------


async def _failure_pattern(seed: int) -> list[bool]:
    async with SandboxServer(seed=seed) as server:
        user = server.user()
        server.inject_fault(("sendMessage", "editMessageText"), 502, probability=0.3, times=None)
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            pattern = []
            for index in range(40):
                try:
                    await bot.send_message(user.id, f"pesan {index}")
                    pattern.append(False)
                except NetworkError:
                    pattern.append(True)
            await bot.send_chat_action(user.id, "typing")  # not a chosen method: never hit
        return pattern


async def test_probabilistic_faults_repeat_with_the_seed() -> None:
    first, again, other = await asyncio.gather(
        _failure_pattern(7), _failure_pattern(7), _failure_pattern(8)
    )
    assert first == again
    assert first != other
    assert 4 <= sum(first) <= 20  # ~30% of 40


async def test_fault_times_counts_hits_not_matching_calls(server: SandboxServer, bot: Bot) -> None:
    user = server.user()
    fault = server.inject_fault("sendMessage", 500, probability=0.5, times=3)
    outcomes = []
    for _ in range(30):
        try:
            await bot.send_message(user.id, "x")
            outcomes.append("ok")
        except NetworkError:
            outcomes.append("fail")
    assert outcomes.count("fail") == 3
    assert fault.hits == 3


async def test_a_held_request_times_out_but_still_takes_effect(
    server: SandboxServer, bot: Bot
) -> None:
    user = server.user()
    server.inject_fault("sendMessage", delay=0.4)

    with pytest.raises(TimedOut):
        await bot.send_message(user.id, "terlambat", read_timeout=0.1)
    # The client gave up; the server did not: the message shows up once the delay is over.
    message = await server.wait_for(lambda: user.chat.last_message, timeout=2)
    assert message is not None
    assert message.text == "terlambat"


@pytest.mark.parametrize(("drop", "delivered"), [("before", False), ("after", True)])
async def test_a_dropped_connection_hides_whether_the_call_happened(
    server: SandboxServer, bot: Bot, drop: str, delivered: bool
) -> None:
    user = server.user()
    server.inject_fault("sendMessage", drop=drop)  # type: ignore[arg-type]

    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "halo")
    assert (user.chat.last_message is not None) is delivered
    await bot.send_message(user.id, "lagi")  # one hit only


async def test_retry_after_and_status_faults_on_several_methods(
    server: SandboxServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    user = server.user()
    sent = await bot.send_message(user.id, "Pilih", reply_markup=yes_no())
    server.inject_fault(("editMessageText", "sendMessage"), 429, retry_after=2, times=2)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("x", user.id, sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "y")
    await bot.edit_message_text("x", user.id, sent.message_id)


# -- holding updates back ----------------------------------------------------------------------


async def test_held_taps_arrive_late_in_one_batch_and_their_queries_are_too_old(
    server: SandboxServer, bot: Bot
) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "Setuju?", reply_markup=yes_no())
    server.hold_updates()
    await user.tap(sent, text="Ya")
    await user.tap(sent, text="Tidak")
    await user.send("halo?")
    assert await bot.get_updates(timeout=0) == ()
    assert server.held_updates == 3

    server.advance_time(20)  # the outage lasts longer than the answer window
    assert server.release_updates() == 3
    updates = await bot.get_updates(timeout=0)
    assert [bool(u.callback_query) for u in updates] == [True, True, False]
    for update in updates[:2]:
        assert update.callback_query is not None
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await update.callback_query.answer()
    assert server.held_updates == 0


async def test_holding_one_chat_lets_the_others_through_and_loses_nothing(
    server: SandboxServer, bot: Bot
) -> None:
    held, free = server.user(1001, "Sari"), server.user(1002, "Budi")
    server.hold_updates(held)
    await held.send("satu")
    await free.send("dua")
    (first,) = await bot.get_updates(timeout=0)
    assert first.message is not None
    assert first.message.text == "dua"
    # The bot confirms past "dua" before "satu" is released: "satu" must still arrive.
    await bot.get_updates(offset=first.update_id + 1, timeout=0)
    assert server.release_updates(held) == 1
    (late,) = await bot.get_updates(offset=first.update_id + 1, timeout=0)
    assert late.message is not None
    assert late.message.text == "satu"
    assert late.update_id > first.update_id


# -- a poison update ---------------------------------------------------------------------------


async def test_a_poison_update_is_valid_json_that_ptb_cannot_decode(
    server: SandboxServer, bot: Bot
) -> None:
    user = server.user()
    poison = server.inject_poison_update(user)
    await user.send("halo")

    url = f"{server.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session, session.post(url, json={}) as response:
        body = await response.json()
    assert body["ok"] is True
    assert [u["update_id"] for u in body["result"]] == [
        poison["update_id"],
        poison["update_id"] + 1,
    ]
    with pytest.raises(TypeError):
        Update.de_json(body["result"][0], bot)
    with pytest.raises(TypeError):
        await bot.get_updates()  # What stalls a PTB updater that does not skip it.
    # Skipping past it (offset) serves the normal update.
    (normal,) = await bot.get_updates(offset=poison["update_id"] + 1)
    assert normal.message is not None
    assert normal.message.text == "halo"


# -- webhooks ----------------------------------------------------------------------------------

Receiver = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebhookReceiver:
    """A tiny webhook endpoint on loopback whose answers a test scripts."""

    def __init__(self, answer: Receiver) -> None:
        self.answer = answer
        self.received: list[tuple[dict[str, object], str | None]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append((await request.json(), request.headers.get(SECRET_HEADER)))
        return await self.answer(request)

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/telegram/webhook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/telegram/webhook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def ok(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


FAST = DeliveryPolicy(timeout=0.3, retry_delay=0.01, max_retry_delay=0.05, max_attempts=4)


@pytest.fixture
async def hooked() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(
        webhook_policy=DeliveryPolicy(
            **{
                k: getattr(FAST, k)
                for k in ("timeout", "retry_delay", "max_retry_delay", "max_attempts")
            }
        )
    ) as sandbox:
        yield sandbox


async def test_webhook_receives_each_update_with_the_secret(hooked: SandboxServer) -> None:
    user = hooked.user()
    async with WebhookReceiver(ok) as receiver, Bot(TOKEN, base_url=hooked.base_url) as bot:
        assert await bot.set_webhook(receiver.url, secret_token="s3cret_-X", max_connections=1)
        await user.send("halo")
        await user.send("lagi")
        await hooked.wait_for(lambda: len(receiver.received) == 2, timeout=3)
        await hooked.wait_for(lambda: hooked.pending_updates == 0, timeout=3)

        (first, secret), (second, _) = receiver.received
        assert secret == "s3cret_-X"
        decoded = Update.de_json(first, bot)
        assert decoded.message is not None
        assert decoded.message.text == "halo"
        assert second["update_id"] == first["update_id"] + 1  # type: ignore[operator]
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.max_connections) == (receiver.url, 0, 1)
        assert info.last_error_message is None


async def test_webhook_retries_non_2xx_and_timeouts(hooked: SandboxServer) -> None:
    answers = iter(["500", "slow", "200"])

    async def flaky(request: web.Request) -> web.StreamResponse:
        answer = next(answers, "200")
        if answer == "500":
            return web.Response(status=500)
        if answer == "slow":
            await asyncio.sleep(0.6)  # beyond the 0.3 s delivery timeout
        return web.Response(text="ok")

    user = hooked.user()
    async with WebhookReceiver(flaky) as receiver, Bot(TOKEN, base_url=hooked.base_url) as bot:
        await bot.set_webhook(receiver.url)
        await user.send("halo")
        await hooked.wait_for(lambda: hooked.pending_updates == 0, timeout=5)
        assert [(a.attempt, a.status, a.error) for a in hooked.webhook_attempts] == [
            (1, 500, "Wrong response from the webhook: 500 Internal Server Error"),
            (2, None, "Read timeout expired"),
            (3, 200, None),
        ]
        # The timed-out POST reached the bot too: a webhook must expect redeliveries.
        assert len(receiver.received) == 3
        assert len({json.dumps(body, sort_keys=True) for body, _ in receiver.received}) == 1
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Read timeout expired"


async def test_webhook_gives_up_after_bounded_attempts(hooked: SandboxServer) -> None:
    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.Response(status=403)  # e.g. a wrong secret

    user = hooked.user()
    async with WebhookReceiver(refuse) as receiver, Bot(TOKEN, base_url=hooked.base_url) as bot:
        await bot.set_webhook(receiver.url, secret_token="wrong")
        message = await user.send("halo")
        await hooked.wait_for(lambda: hooked.webhook_given_up, timeout=5)
        assert len(receiver.received) == FAST.max_attempts
        assert hooked.pending_updates == 0
        assert hooked.webhook_attempts[-1].error == "Wrong response from the webhook: 403 Forbidden"
        assert message["message_id"] == 1


async def test_webhook_refused_connection_then_delete_webhook_serves_get_updates(
    hooked: SandboxServer,
) -> None:
    user = hooked.user()
    async with Bot(TOKEN, base_url=hooked.base_url) as bot:
        hooked.webhook_policy.max_attempts = 100
        await bot.set_webhook("http://127.0.0.1:9/telegram/webhook")  # nothing listens on 9
        await user.send("halo")
        await hooked.wait_for(lambda: hooked.webhook_attempts, timeout=3)
        assert hooked.webhook_attempts[0].error == "Connection refused"
        assert await bot.delete_webhook()
        assert hooked.webhook is None
        await asyncio.sleep(0.1)  # a retry in flight sees the webhook gone and stops
        (update,) = await bot.get_updates(timeout=1)
        assert update.message is not None
        assert update.message.text == "halo"


async def test_set_webhook_validates_like_telegram(server: SandboxServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://example.invalid/hook", secret_token="a:b")
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
        await bot.set_webhook("ftp://example.invalid/hook")
    with pytest.raises(BadRequest, match="max_connections"):
        await bot.set_webhook("https://example.invalid/hook", max_connections=101)
    await bot.set_webhook("https://example.invalid/hook")
    await bot.set_webhook("")  # an empty URL removes the webhook, as on Telegram
    assert server.webhook is None


# -- the Bot API load benchmark ------------------------------------------------------------------


async def test_load_benchmark_measures_each_action_of_the_echo_bot() -> None:
    from benchmarks.botapi_load import run_echo

    result = await run_echo(3, 0.4, warm_up=0.1)

    assert result["users"] == 3
    assert {"all", "message", "tap"} <= result["actions"].keys()
    assert result["actions"]["tap"]["count"] > 0
    assert result["replies_per_second"] > 0
    assert result["cpu"]["bot_ms_per_action"] > 0  # the bot is its own process, measured


async def test_load_benchmark_runs_spibot_as_its_own_process(tmp_path: Path) -> None:
    from benchmarks.botapi_survey import run_survey, spibot_survey

    result = await run_survey(2, 1.0, spibot_survey(tmp_path), warm_up=0.5)

    assert result["actions"]["tap"]["count"] > 0
    assert result["cpu"]["bot_ms_per_action"] > 0
    assert result["other_outcomes"] == 0  # nobody was refused or lost on the way


def test_load_benchmark_writes_its_own_section(tmp_path: Path) -> None:
    from benchmarks.bench_botapi import SECTION_TITLE, write_section

    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Chart pack\n\nold charts\n", encoding="utf-8")
    write_section(doc, [SECTION_TITLE, "", "first", ""])
    write_section(doc, [SECTION_TITLE, "", "second", ""])
    text = doc.read_text(encoding="utf-8")
    assert text.count(SECTION_TITLE) == 1
    assert "second" in text
    assert "first" not in text
    assert "old charts" in text


def test_scaleout_benchmark_writes_its_section_beside_the_bot_api_one(tmp_path: Path) -> None:
    from benchmarks import bench_botapi, bench_scaleout

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{bench_botapi.SECTION_TITLE}\n\nbot api\n", encoding="utf-8")
    title = bench_scaleout.SECTION_TITLE
    bench_botapi.write_section(doc, [title, "", "first", ""], title)
    bench_botapi.write_section(doc, [title, "", "second", ""], title)
    text = doc.read_text(encoding="utf-8")
    assert text.count(title) == 1
    assert "second" in text
    assert "first" not in text
    assert "bot api" in text
