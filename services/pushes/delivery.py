"""Send scheduled texts, photos and documents to subscribed chats, and survive Telegram saying no.

429: PTB's `AIORateLimiter` already waits out `retry_after` and retries a couple of times; a
`RetryAfter` that still escapes it is waited out here and retried, a bounded number of times.
403 (bot removed or blocked, chat gone): the subscription is paused with the reason and the
admins are told. Anything else is logged and reported as a failure: delivery never raises
a Telegram error, so one bad chat cannot stop the scheduler.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

import storage.subscriptions
from services.context import Services

__all__ = [
    "BULK",
    "Delivery",
    "DeliveryOutcome",
    "Outgoing",
    "chart_message",
    "is_tall",
    "retry_after_seconds",
    "send_outgoing",
]

logger = logging.getLogger(__name__)

# `rate_limit_args` of a bulk send: the bot's limiter paces these (see bot/transport.py).
BULK: Final[dict[str, Any]] = {"bulk": True}
MAX_ATTEMPTS: Final = 3
# Charts taller than this many widths go out as documents (see is_tall).
TALL_RATIO: Final = 2.0
# A flood wait longer than this is not waited out: the tick would hold up every other chat.
MAX_WAIT_SECONDS: Final = 120.0
# 400s that mean the chat itself is gone, like a 403.
_GONE_MESSAGES: Final = ("chat not found", "group chat was upgraded", "chat_write_forbidden")


class DeliveryOutcome(StrEnum):
    """How a send ended."""

    SENT = "sent"
    GONE = "gone"  # Telegram refused the chat (403): the subscription is now paused
    FAILED = "failed"  # logged; the next scheduled push tries again


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: a text, or a photo/document with an optional caption (HTML)."""

    text: str | None = None
    photo: bytes | str | None = None  # bytes to upload, or Telegram's file id
    document: bytes | None = None
    caption: str | None = None
    filename: str | None = None
    # Inline buttons under the message, as rows of (label, callback data).
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


def is_tall(png: bytes) -> bool:
    """Tell whether a chart is too tall to send as a photo.

    Telegram shrinks photos to about 1280 px on the long side, which leaves the ranking or
    progress chart of a 40-unit wave (1080 x ~3000 px) unreadable on a phone; sent as a
    document it keeps its full resolution.
    """
    # PNG: 8-byte signature, then the IHDR chunk: length, type, width, height (big-endian).
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return width > 0 and height > TALL_RATIO * width


def chart_message(png: bytes, caption: str, name: str) -> Outgoing:
    """Return a chart as a photo, or as a document when it is too tall for a photo."""
    if is_tall(png):
        return Outgoing(document=png, caption=caption, filename=f"{name}.png")
    return Outgoing(photo=png, caption=caption, filename=f"{name}.png")


async def send_outgoing(
    bot: ExtBot[Any], chat_id: int, item: Outgoing, *, bulk: bool = False
) -> Message:
    """Make the one Bot API call an item needs (HTML is the bot's default parse mode).

    `bulk` sends (pushes, reminders) are paced by the bot's one bulk limiter; replies to a
    person's own action are not. Returns Telegram's copy of the message.
    """
    # A bot without a rate limiter (a bare ExtBot in a script) refuses rate_limit_args.
    pace: dict[str, Any] | None = BULK if bulk and bot.rate_limiter is not None else None
    markup = None
    if item.buttons:
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in item.buttons
            ]
        )
    if item.photo is not None:
        return await bot.send_photo(
            chat_id,
            item.photo,
            caption=item.caption,
            filename=item.filename,
            reply_markup=markup,
            rate_limit_args=pace,
        )
    if item.document is not None:
        return await bot.send_document(
            chat_id,
            item.document,
            caption=item.caption,
            filename=item.filename,
            reply_markup=markup,
            rate_limit_args=pace,
        )
    if item.text is not None:
        return await bot.send_message(chat_id, item.text, reply_markup=markup, rate_limit_args=pace)
    raise ValueError("an Outgoing needs a text, a photo or a document")


def retry_after_seconds(error: RetryAfter) -> float:
    """Return a 429's wait in seconds (PTB gives an int, or a timedelta with PTB_TIMEDELTA)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Delivery:
    """Sends to one chat at a time through the bot (and its rate limiter)."""

    def __init__(
        self,
        bot: ExtBot[Any],
        services: Services,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._services = services
        self._max_attempts = max_attempts
        self._max_wait = max_wait
        self._sleep = sleep

    async def send(self, chat_id: int, item: Outgoing) -> DeliveryOutcome:
        """Send one message; never raises a Telegram error."""
        outcome, _sent = await self.send_returning(chat_id, item)
        return outcome

    async def send_returning(
        self, chat_id: int, item: Outgoing
    ) -> tuple[DeliveryOutcome, Message | None]:
        """Send one message; return the outcome and, when sent, Telegram's copy of it."""
        sent: list[Message] = []

        async def call() -> None:
            sent.append(await send_outgoing(self._bot, chat_id, item, bulk=True))

        outcome = await self._attempt(chat_id, call)
        return outcome, (sent[-1] if sent else None)

    async def send_all(self, chat_id: int, items: Sequence[Outgoing]) -> DeliveryOutcome:
        """Send messages in order; stop at a gone chat. FAILED if any message failed."""
        outcome = DeliveryOutcome.SENT
        for item in items:
            result = await self.send(chat_id, item)
            if result is DeliveryOutcome.GONE:
                return result
            if result is DeliveryOutcome.FAILED:
                outcome = result
        return outcome

    async def _attempt(self, chat_id: int, call: Callable[[], Awaitable[None]]) -> DeliveryOutcome:
        """Run `call`, waiting out escaped 429s; map refusals to outcomes."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await call()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt == self._max_attempts or wait > self._max_wait:
                    logger.warning(
                        "flood control: giving up after %d attempts (retry_after %.0f s)",
                        attempt,
                        wait,
                    )
                    return DeliveryOutcome.FAILED
                logger.info("flood control: retrying in %.1f s (attempt %d)", wait, attempt)
                await self._sleep(wait)
            except Forbidden as exc:
                await self._chat_gone(chat_id, exc.message)
                return DeliveryOutcome.GONE
            except BadRequest as exc:
                if any(gone in exc.message.lower() for gone in _GONE_MESSAGES):
                    await self._chat_gone(chat_id, exc.message)
                    return DeliveryOutcome.GONE
                logger.error("scheduled message refused: %s", exc.message)
                return DeliveryOutcome.FAILED
            except TelegramError as exc:
                logger.error("scheduled message failed: %s: %s", type(exc).__name__, exc.message)
                return DeliveryOutcome.FAILED
            else:
                return DeliveryOutcome.SENT
        return DeliveryOutcome.FAILED  # pragma: no cover - the loop always returns

    async def _chat_gone(self, chat_id: int, reason: str) -> None:
        """Pause the chat's subscription and tell the admins (once, while it was active)."""
        engine = self._services.db.engine
        subscription = await storage.subscriptions.get_subscription(engine, chat_id)
        if subscription is None or not subscription.active:
            return
        await storage.subscriptions.pause_subscription(engine, chat_id, reason)
        logger.warning("subscription paused: Telegram refused the chat (%s)", reason)
        settings = self._services.settings
        text = self._services.messages.t(
            settings.default_language,
            "sub_admin_paused",
            chat_id=chat_id,
            reason=html.escape(reason),
        )
        for admin_id in settings.admin_user_ids:
            if admin_id == chat_id:
                continue
            try:
                await send_outgoing(self._bot, admin_id, Outgoing(text=text), bulk=True)
            except TelegramError as exc:
                # An admin who never pressed Start cannot be messaged; nothing more to do.
                logger.info("could not tell an admin about the paused chat: %s", exc.message)
