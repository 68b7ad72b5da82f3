"""The bot's Bot API transport against the sandbox: which failures are retried, and how.

The rules (bot/transport.py, bot/http.py): a 429 waits its retry_after; 5xx, refused
connections and timeouts are retried within BOT_API_RETRY_SECONDS; a send whose outcome is
unknown (read timeout, connection broken before the answer) is never retried, so nothing
shows twice; an edit is idempotent and is retried; a request that never left is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.http import AnswerLost, BotApiRequest, NotSent
from bot.transport import ResilientLimiter, TolerantBot
from sandbox import SandboxServer
from sandbox.demo import SANDBOX_TOKEN
from services.metrics import BOT_API_ERRORS

pytestmark = pytest.mark.e2e


class Sleeps:
    """Record the waits the limiter asks for and skip them (no test sleeps for real)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as sandbox:
        yield sandbox


def _bot(server: SandboxServer, sleeps: Sleeps, *, timeout: float = 0.3, pool: int = 8) -> Any:
    return TolerantBot(
        SANDBOX_TOKEN,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=BotApiRequest(
            connection_pool_size=pool,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
        rate_limiter=ResilientLimiter(
            bulk_per_second=30, retry_seconds=5.0, sleep=sleeps.sleep, clock=sleeps.clock
        ),
    )


@pytest.fixture
async def bot(server: SandboxServer, sleeps: Sleeps) -> AsyncIterator[Any]:
    async with _bot(server, sleeps) as client:
        yield client


async def test_a_429_waits_its_retry_after_then_goes_through(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    user = server.user()
    server.inject_fault("sendMessage", 429, retry_after=3)

    await bot.send_message(user.id, "halo")

    assert sleeps.waits[0] == pytest.approx(3, abs=0.5)
    assert [m.text for m in user.chat.messages] == ["halo"]


async def test_5xx_on_a_send_is_retried_and_shows_once(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    user = server.user()
    server.inject_fault("sendMessage", 502, times=2)

    await bot.send_message(user.id, "halo")

    assert len(sleeps.waits) == 2
    assert [m.text for m in user.chat.messages] == ["halo"]


async def test_a_send_that_timed_out_is_not_repeated(server: SandboxServer, bot: Any) -> None:
    user = server.user()
    server.inject_fault("sendMessage", delay=0.6)  # beyond the client's 0.3 s read timeout

    with pytest.raises(TimedOut) as caught:
        await bot.send_message(user.id, "sekali saja")

    assert not isinstance(caught.value, NotSent)
    await server.wait_for(lambda: user.chat.last_message, 3)
    await asyncio.sleep(0.1)
    assert [m.text for m in user.chat.messages] == ["sekali saja"]  # once, never twice


@pytest.mark.parametrize(("drop", "shown"), [("before", 0), ("after", 1)])
async def test_a_send_whose_answer_was_lost_is_not_repeated(
    server: SandboxServer, bot: Any, drop: str, shown: int
) -> None:
    user = server.user()
    server.inject_fault("sendMessage", drop=drop)  # type: ignore[arg-type]

    with pytest.raises(AnswerLost):
        await bot.send_message(user.id, "mungkin terkirim")

    # The client cannot tell the two apart; either way no retry could show it twice.
    assert len(user.chat.messages) == shown


async def test_an_edit_whose_answer_was_lost_is_retried(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "pertanyaan 1")
    server.inject_fault("editMessageText", drop="before")

    await bot.edit_message_text("pertanyaan 2", chat_id=user.id, message_id=sent.message_id)

    assert user.chat.message(sent.message_id).text == "pertanyaan 2"
    assert len(sleeps.waits) == 1


async def test_an_edit_that_timed_out_is_retried(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    user = server.user()
    sent = await bot.send_message(user.id, "pertanyaan 1")
    server.inject_fault("editMessageText", delay=0.6)

    # The late first attempt lands too, so the retry may find the edit already made.
    with contextlib.suppress(BadRequest):
        await bot.edit_message_text("pertanyaan 2", chat_id=user.id, message_id=sent.message_id)
    await asyncio.sleep(0.5)
    assert user.chat.message(sent.message_id).text == "pertanyaan 2"
    assert sleeps.waits


async def test_a_request_that_never_left_is_retried_even_for_a_send(
    server: SandboxServer, sleeps: Sleeps
) -> None:
    user, other = server.user(1001, "Ani"), server.user(1002, "Budi")
    # One connection: while a slow call holds it, the next cannot get one in time.
    async with _bot(server, sleeps, timeout=0.2, pool=1) as bot:
        server.inject_fault("sendMessage", delay=0.5, chat_id=other.id)
        slow = asyncio.create_task(_quietly(bot.send_message(other.id, "lambat", read_timeout=2)))
        await asyncio.sleep(0.05)
        await bot.send_message(user.id, "setelah antre")
        await slow

    assert sleeps.waits  # the first attempt was NotSent, and retried
    assert [m.text for m in user.chat.messages] == ["setelah antre"]


async def test_an_unreachable_bot_api_is_retried_then_reported(sleeps: Sleeps) -> None:
    async with SandboxServer() as server:
        user = server.user()
        bot = _bot(server, sleeps)
        await bot.initialize()
    # Let the client see its pooled connection closed by the stopped server.
    await asyncio.sleep(0.05)
    try:  # the server is gone now: every connection is refused
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(user.id, "halo")
        assert not isinstance(caught.value, AnswerLost)
        assert sum(sleeps.waits) <= 5.0
        assert len(sleeps.waits) >= 3
    finally:
        await bot.shutdown()


async def test_telegram_refusals_are_not_retried(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "kepada siapa?")
    assert sleeps.waits == []


async def test_errors_are_counted_by_method_and_code(server: SandboxServer, bot: Any) -> None:
    user = server.user()
    before_404 = _count("sendMessage", "400")
    before_network = _count("sendMessage", "network")
    server.inject_fault("sendMessage", drop="after")

    with pytest.raises(AnswerLost):
        await bot.send_message(user.id, "x")
    with pytest.raises(BadRequest):
        await bot.send_message(424242, "x")

    assert _count("sendMessage", "network") == before_network + 1
    assert _count("sendMessage", "400") == before_404 + 1


async def test_an_edit_answer_is_not_decoded_but_its_errors_are(
    server: SandboxServer, bot: Any, sleeps: Sleeps
) -> None:
    user = server.user()
    keyboard = '{"inline_keyboard":[[{"text":"Ya","callback_data":"ya"}]]}'
    sent = await bot.send_message(user.id, "pertanyaan 1", api_kwargs={"reply_markup": keyboard})
    assert sent.message_id  # a send's answer is read: its message id is needed
    # Nobody reads an edited message back: the edit answers True, not a decoded Message...
    edited = await bot.edit_message_text(
        "pertanyaan 2", chat_id=user.id, message_id=sent.message_id
    )
    assert edited is True
    shown = user.chat.message(sent.message_id)
    assert (shown.text, shown.buttons) == ("pertanyaan 2", [])  # the edit dropped the keyboard
    # ...but Telegram's refusals and its 429s are decoded and handled as ever.
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("pertanyaan 2", chat_id=user.id, message_id=sent.message_id)
    server.inject_fault("editMessageText", 429, retry_after=2)
    assert await bot.edit_message_text("p3", chat_id=user.id, message_id=sent.message_id) is True
    assert sleeps.waits == [pytest.approx(2, abs=0.5)]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=user.id, message_id=9_999)


async def test_an_upload_goes_through_as_multipart(server: SandboxServer, bot: Any) -> None:
    user = server.user()
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
        b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    await bot.send_document(user.id, png, filename="grafik.png", caption="Grafik")

    document = user.chat.last_message
    assert document is not None
    assert document.caption == "Grafik"
    assert document.filename == "grafik.png"
    assert document.document == png


def _count(method: str, code: str) -> float:
    return BOT_API_ERRORS.labels(method, code)._value.get()


async def _quietly(call: Coroutine[Any, Any, Any]) -> None:
    with contextlib.suppress(TimedOut):
        await call


async def test_bulk_pacers_of_idle_chats_are_forgotten_and_a_busy_chat_keeps_its_pace() -> None:
    from bot.transport import _BulkPacer

    pacer = _BulkPacer(1000)
    for chat in range(1, 51):
        await pacer.wait(chat)
    assert len(pacer._chats) == 50
    loop = asyncio.get_running_loop()
    started = loop.time()
    await pacer.wait(50)  # the same private chat again: about one a second
    assert loop.time() - started >= 0.9
    await pacer.wait(51)
    # Every chat but the two just used could send again: their pacers are gone.
    assert set(pacer._chats) == {50, 51}
