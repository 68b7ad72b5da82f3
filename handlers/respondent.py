"""Respondent handlers: thin adapters between Telegram updates and `RespondentFlow`.

Two rules keep a person's screen recoverable whatever Telegram does:
- answering a callback query is best effort and never holds up the edit: a query handled
  late ("query is too old") is expected after a backlog or a restart, not an error;
- only one message per chat carries live survey buttons: when another message becomes the
  live one, the old one loses its keyboard.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, TelegramError

from handlers.context import BotContext
from services.respondent import Screen

__all__ = [
    "on_button",
    "on_cancel",
    "on_language",
    "on_non_text",
    "on_start",
    "on_text",
]

logger = logging.getLogger(__name__)

# Telegram's answers to an edit that cannot be made: the message is gone or too old.
_UNEDITABLE = ("message to edit not found", "message can't be edited", "message_id_invalid")


def _markup(screen: Screen) -> dict[str, str]:
    """The screen's buttons as the Bot API's `reply_markup` JSON, or nothing (no buttons).

    Passed through `api_kwargs` as it goes on the wire: building PTB's InlineKeyboardMarkup
    and its buttons only for PTB to turn them back into JSON cost ~0.2 ms a screen.
    """
    if not screen.keyboard:
        return {}
    rows = [[{"text": b.label, "callback_data": b.data} for b in row] for row in screen.keyboard]
    return {"reply_markup": json.dumps({"inline_keyboard": rows}, separators=(",", ":"))}


async def _send(update: Update, context: BotContext, screens: list[Screen]) -> None:
    """Send screens as new messages; the last one with buttons becomes the live message."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    for screen in screens:
        sent = await context.bot.send_message(chat.id, screen.text, api_kwargs=_markup(screen))
        if screen.keyboard:
            await context.respondents.bind_message(user.id, sent.message_id)
        # After the new message: the live screen comes first, the old keyboard goes after.
        if screen.retire is not None and screen.retire != sent.message_id:
            await _retire(context, chat.id, screen.retire)


async def _retire(context: BotContext, chat_id: int, message_id: int) -> None:
    """Remove the buttons of an older message so only one live keyboard remains."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except TelegramError as exc:  # gone, already bare, or Telegram is down: the next tap heals
        logger.debug("could not retire an old keyboard: %s", type(exc).__name__)


async def _answer(query: CallbackQuery, toast: str | None) -> None:
    """Answer the callback query, best effort (a late query is refused, and that is fine)."""
    try:
        await query.answer(toast)
    except TelegramError as exc:
        logger.debug("callback query not answered: %s", type(exc).__name__)


async def _edit(update: Update, context: BotContext, query: CallbackQuery, screen: Screen) -> None:
    """Show `screen` in the tapped message (a new message if that one cannot be edited)."""
    try:
        await query.edit_message_text(screen.text, api_kwargs=_markup(screen))
    except BadRequest as exc:
        message = exc.message.lower()
        if "message is not modified" in message:
            return
        if not any(reason in message for reason in _UNEDITABLE):
            raise
        await _send(update, context, [screen])


async def on_start(update: Update, context: BotContext) -> None:
    """Handle /start, with or without a deep-link payload (role links are routed apart)."""
    user = update.effective_user
    if user is None:
        return
    payload = context.args[0] if context.args else None
    screens = await context.respondents.start(user.id, user.language_code, payload)
    await _send(update, context, screens)


async def on_button(update: Update, context: BotContext) -> None:
    """Handle an inline button press."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    message = query.message
    message_id = message.message_id if message is not None else None
    result = await context.respondents.tap(user.id, user.language_code, query.data, message_id)
    # The spinner on the button stops when the query is answered; the edit must not wait
    # for that answer, nor fail with it.
    answering = asyncio.ensure_future(_answer(query, result.toast))
    try:
        if result.screen is not None and message is not None:
            await _edit(update, context, query, result.screen)
        if result.follow_up is not None:
            await _send(update, context, [result.follow_up])
        # Last: the screen the person waits for comes first; an old keyboard can wait.
        if result.retire is not None and update.effective_chat is not None:
            await _retire(context, update.effective_chat.id, result.retire)
    finally:
        await answering


async def on_text(update: Update, context: BotContext) -> None:
    """Handle a typed message in a private chat."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or message.text is None:
        return
    screens = await context.respondents.text(user.id, user.language_code, message.text)
    await _send(update, context, screens)


async def on_non_text(update: Update, context: BotContext) -> None:
    """Handle stickers, photos, voice notes and anything else that is not text."""
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, await context.respondents.non_text(user.id, user.language_code))


async def on_cancel(update: Update, context: BotContext) -> None:
    """Handle /batal (/cancel)."""
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, await context.respondents.cancel(user.id, user.language_code))


async def on_language(update: Update, context: BotContext) -> None:
    """Handle /bahasa (/language)."""
    user = update.effective_user
    if user is None:
        return
    screen = await context.respondents.choose_language(user.id, user.language_code)
    await _send(update, context, [screen])
