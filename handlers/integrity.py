"""/kualitas (/quality): survey-integrity findings for the inspectorate and leadership, and the
admins' exclusion dialogue (issue 24). Private chats only (the command table routes a group
chat to the common refusal).

Thin: `services.integrity.chat.Kualitas` decides who may see and do what, and words every
reply; the handlers parse the update and send or edit.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from handlers.common import user_language
from handlers.context import BotContext
from services.access import viewer_for
from services.integrity import ChatReply, Kualitas

__all__ = ["on_quality", "on_quality_button", "on_reason_other", "on_reason_text"]

logger = logging.getLogger(__name__)


def _markup(reply: ChatReply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in reply.buttons
        ]
    )


async def _kualitas(update: Update, context: BotContext) -> Kualitas | None:
    """Return the asker's /kualitas, None without a user."""
    user = update.effective_user
    if user is None:
        return None
    services = context.services
    pseudonym = services.pseudonym(user.id)
    viewer = await viewer_for(services.db.engine, pseudonym, admin=services.is_admin(user.id))
    return Kualitas(services, viewer, pseudonym, await user_language(update, context))


async def on_quality(update: Update, context: BotContext) -> None:
    """Show a wave's survey-integrity findings (or per-item data), or refuse politely."""
    chat = update.effective_chat
    kualitas = await _kualitas(update, context)
    if kualitas is None or chat is None:
        return
    if not kualitas.allowed:
        logger.info("/kualitas refused to someone without the role")
    for reply in await kualitas.command(list(context.args or [])):
        await context.bot.send_message(chat.id, reply.text, reply_markup=_markup(reply))


async def on_quality_button(update: Update, context: BotContext) -> None:
    """Act on an exclusion or restore button; only admins decide (checked on every tap)."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or query.data is None or chat is None or user is None:
        return
    kualitas = await _kualitas(update, context)
    assert kualitas is not None
    if not context.services.is_admin(user.id):
        language = await user_language(update, context)
        await query.answer(context.t(language, "adm_only"), show_alert=True)
        return
    reply = await kualitas.tap(query.data)
    await query.answer()
    if not reply.edit:
        await context.bot.send_message(chat.id, reply.text, reply_markup=_markup(reply))
        return
    try:
        await query.edit_message_text(reply.text, reply_markup=_markup(reply))
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def on_reason_text(update: Update, context: BotContext) -> None:
    """Take an admin's text as the reason of their exclusion dialogue (and stop the update);
    anything else goes on to the other handlers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not message.text:
        return
    if not context.services.is_admin(user.id):
        return  # one settings lookup: respondents' answers pass straight through
    kualitas = await _kualitas(update, context)
    assert kualitas is not None
    reply = await kualitas.reason(message.text)
    if reply is None:
        return
    await message.reply_text(reply.text, reply_markup=_markup(reply))
    raise ApplicationHandlerStop


async def on_reason_other(update: Update, context: BotContext) -> None:
    """Answer a sticker, photo or file an admin sends while their reason is awaited."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text:
        return
    if not context.services.is_admin(user.id):
        return
    kualitas = await _kualitas(update, context)
    assert kualitas is not None
    reply = await kualitas.not_text()
    if reply is None:
        return
    await message.reply_text(reply.text, reply_markup=_markup(reply))
    raise ApplicationHandlerStop
