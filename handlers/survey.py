"""Respondent handlers: thin adapters between Telegram updates and `RespondentFlow`."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

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


def _markup(screen: Screen) -> InlineKeyboardMarkup | None:
    if not screen.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in screen.keyboard
        ]
    )


async def _send(update: Update, context: BotContext, screens: list[Screen]) -> None:
    """Send screens as new messages; the last one with buttons becomes the live message."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    for screen in screens:
        if screen.retire is not None:
            await _retire(context, chat.id, screen.retire)
        sent = await context.bot.send_message(chat.id, screen.text, reply_markup=_markup(screen))
        if screen.keyboard:
            await context.respondents.bind_message(user.id, sent.message_id)


async def _retire(context: BotContext, chat_id: int, message_id: int) -> None:
    """Remove the buttons of an older question so only one live keyboard remains."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:  # already gone or already without buttons: nothing to do
        logger.debug("could not retire an old keyboard: %s", exc.message)


async def on_start(update: Update, context: BotContext) -> None:
    """Handle /start, with or without a deep-link payload."""
    user = update.effective_user
    if user is None:
        return
    payload = context.args[0] if context.args else None
    screens = await context.respondents.start(user.id, user.language_code, payload)
    await _send(update, context, screens)


async def on_button(update: Update, context: BotContext) -> None:
    """Handle an inline button press."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    user = update.effective_user
    result = await context.respondents.tap(user.id, user.language_code, query.data)
    await query.answer(result.toast)
    message = query.message
    if result.screen is not None and message is not None:
        try:
            await query.edit_message_text(result.screen.text, reply_markup=_markup(result.screen))
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise
        if result.screen.keyboard:
            await context.respondents.bind_message(user.id, message.message_id)
    if result.follow_up is not None:
        await _send(update, context, [result.follow_up])


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
