"""Buttons on messages about reaching people: a reminder's continue and opt-out, and the
outreach opt-in (thank-you screen) and opt-out (every broadcast)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from handlers.common import user_language
from handlers.context import BotContext
from services import reach
from services.respondent import Screen

__all__ = ["on_outreach_button", "on_reminder_button"]

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


async def _drop_buttons(update: Update) -> None:
    """Take the buttons off the reminder: it has done its job."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:  # already bare (a double tap), or Telegram is down
        logger.debug("could not retire a reminder's buttons: %s", type(exc).__name__)


async def _answer(update: Update, toast: str | None = None) -> None:
    """Answer the callback query, best effort (a late query is refused, and that is fine)."""
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(toast)
    except TelegramError as exc:
        logger.debug("callback query not answered: %s", type(exc).__name__)


async def on_reminder_button(update: Update, context: BotContext) -> None:
    """Continue the survey (the same as /start without a link), or stop reminders."""
    query = update.callback_query
    user = update.effective_user
    chat = update.effective_chat
    if query is None or user is None or chat is None:
        return
    if query.data == reach.REMINDER_OPT_OUT:
        await reach.stop_reminders(context.services, user.id)
        language = await user_language(update, context)
        await _answer(update, context.t(language, "reminder_stop_toast"))
        await _drop_buttons(update)
        await context.bot.send_message(chat.id, context.t(language, "reminder_stopped"))
        return
    if query.data != reach.REMINDER_CONTINUE:  # pragma: no cover - the handler's pattern admits two
        return
    await _answer(update)
    await _drop_buttons(update)
    screens = await context.respondents.start(user.id, user.language_code, None)
    for screen in screens:
        if screen.retire is not None:  # the question's older message loses its buttons
            try:
                await context.bot.edit_message_reply_markup(chat.id, screen.retire)
            except TelegramError as exc:
                logger.debug("could not retire an old keyboard: %s", type(exc).__name__)
        sent = await context.bot.send_message(chat.id, screen.text, reply_markup=_markup(screen))
        if screen.keyboard:
            await context.respondents.bind_message(user.id, sent.message_id)


async def on_outreach_button(update: Update, context: BotContext) -> None:
    """Opt in to outreach (thank-you screen), or out of it (under every broadcast)."""
    query = update.callback_query
    user = update.effective_user
    chat = update.effective_chat
    if query is None or query.data is None or user is None or chat is None:
        return
    language = await user_language(update, context)
    if query.data == reach.OUTREACH_OPT_OUT:
        await reach.stop_outreach(context.services, user.id)
        key = "outreach_stopped"
    elif await reach.opt_in(context.services, user.id, query.data, language):
        key = "outreach_opted_in"
    else:
        key = "forged_button"
    await _answer(update)
    await _drop_buttons(update)
    await context.bot.send_message(chat.id, context.t(language, key))
