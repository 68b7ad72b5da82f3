"""Commands every user has: /start without a survey link, /bantuan, group-chat refusal, errors."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from handlers.context import BotContext
from services.access import asker_for
from services.metrics import HANDLER_ERRORS
from services.people import person_for

__all__ = [
    "error_handler",
    "group_refusal",
    "help_command",
    "unknown_command",
    "user_language",
]

logger = logging.getLogger(__name__)


async def user_language(update: Update, context: BotContext) -> str:
    """Return the language to answer this update in (`services.people` decides)."""
    user = update.effective_user
    if user is None:
        return context.services.settings.default_language
    return (await person_for(context.services, user.id, user.language_code)).language


async def _safe_language(update: Update, context: BotContext) -> str:
    """Return the user's language, or the default when even that lookup fails."""
    try:
        return await user_language(update, context)
    except Exception:  # the error being reported may be the database itself
        return context.services.settings.default_language


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands this person has: the survey's, an official's, an admin's."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    asker = await asker_for(context.services, user.id, user.language_code)
    lang, viewer = asker.language, asker.viewer
    parts = [context.t(lang, "help")]
    if not viewer.has_role:
        parts.append(context.t(lang, "help_respondent_note"))
    else:
        parts.append(context.t(lang, "help_official"))
        if not viewer.sees_all and viewer.unit_code is not None:
            unit = html.escape(viewer.unit_name or viewer.unit_code)
            parts.append(context.t(lang, "help_unit_head", unit=unit))
    if viewer.admin:
        parts.append(context.t(lang, "help_admin"))
    if viewer.sees_all:  # admins and leadership read the survey-integrity findings
        parts.append(context.t(lang, "help_quality"))
    await message.reply_text("\n\n".join(parts))


async def group_refusal(update: Update, context: BotContext) -> None:
    """Tell a group that surveys happen in private chats only."""
    if update.effective_message is None:
        return
    lang = await user_language(update, context)
    await update.effective_message.reply_text(
        context.t(lang, "group_refusal", bot_username=context.bot.username)
    )


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know."""
    if update.effective_message is None:
        return
    lang = await user_language(update, context)
    await update.effective_message.reply_text(context.t(lang, "unknown_command"))


async def error_handler(update: object, context: BotContext) -> None:
    """Log the failure with context (never ids or answers) and tell the user something useful."""
    error = context.error
    HANDLER_ERRORS.labels(type(error).__name__).inc()
    kind = "unknown"
    if isinstance(update, Update):
        kind = "callback" if update.callback_query else "message" if update.message else "other"
    logger.error(
        "handler failed on update %s (%s): %s",
        update.update_id if isinstance(update, Update) else "-",
        kind,
        type(error).__name__,
        exc_info=error,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):  # the user blocked the bot: nobody to tell
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(
            update.effective_chat.id,
            context.t(await _safe_language(update, context), "error_generic"),
        )
    except TelegramError as exc:
        logger.warning("could not report the failure to the chat: %s", type(exc).__name__)
