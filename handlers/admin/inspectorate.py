"""The inspectorate's in-bot admin: /gelombang, /akses, /undangan (admins only).

`admins_only` checks the person typing or tapping on every command and every button, so a
forwarded message or a button in a group gives nobody else the admin's powers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from handlers.common import user_language
from handlers.context import BotContext
from services import reach
from services.admin import Inspectorate, Reply
from services.pushes.delivery import send_outgoing

__all__ = [
    "BROADCAST_CAPTION",
    "admins_only",
    "on_access",
    "on_admin_button",
    "on_broadcast",
    "on_broadcast_photo",
    "on_uptake",
    "on_waves",
]

logger = logging.getLogger(__name__)

# A photo's caption that is the broadcast command: `/siaran [unit=A,B] TEXT` (or /broadcast).
BROADCAST_CAPTION: Final = re.compile(
    r"^/(?:siaran|broadcast)(?:@\w+)?(?:\s+(?P<body>.*))?$", re.IGNORECASE | re.DOTALL
)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
AdminHandler = Callable[[Update, BotContext, Inspectorate, str], Coroutine[Any, Any, None]]


def admins_only(handler: AdminHandler) -> Handler:
    """Run `handler(update, context, inspectorate, language)` for configured admins only."""

    @wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        user = update.effective_user
        if user is None or update.effective_chat is None:
            return
        language = await user_language(update, context)
        if not context.services.is_admin(user.id):
            await _refuse(update, context, language)
            return
        await handler(update, context, Inspectorate(context.services), language)

    return guarded


async def _refuse(update: Update, context: BotContext, language: str) -> None:
    """Tell a non-admin that this is for admins only (an alert for a button)."""
    logger.info("admin command refused to a non-admin")
    refusal = context.t(language, "adm_only")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    elif update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, refusal)


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in reply.buttons
        ]
    )


async def _say(update: Update, context: BotContext, reply: Reply) -> None:
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    for item in reply.preview:  # a broadcast's picture, as its recipients will see it
        await send_outgoing(context.bot, chat_id, item)
    await context.bot.send_message(chat_id, reply.text, reply_markup=_markup(reply))


@admins_only
async def on_waves(update: Update, context: BotContext, admin: Inspectorate, lang: str) -> None:
    """Show the waves, or ask to confirm opening or closing one."""
    await _say(update, context, await admin.waves(lang, list(context.args or [])))


@admins_only
async def on_access(update: Update, context: BotContext, admin: Inspectorate, lang: str) -> None:
    """List role holders and unopened links (with revoke and withdraw buttons), or create a
    labelled one-time role link."""
    await _say(update, context, await admin.access(lang, list(context.args or [])))


@admins_only
async def on_uptake(update: Update, context: BotContext, admin: Inspectorate, lang: str) -> None:
    """Show the uptake of personal invitation links per unit."""
    assert update.effective_chat is not None
    for text in await admin.uptake(lang):
        await context.bot.send_message(update.effective_chat.id, text)


@admins_only
async def on_broadcast(update: Update, context: BotContext, admin: Inspectorate, lang: str) -> None:
    """Preview an outreach broadcast (`/siaran [unit=A,B] TEXT`) and ask to confirm it."""
    message, user = update.effective_message, update.effective_user
    assert user is not None
    text = message.text if message is not None and message.text else ""
    _command, _, body = text.partition(" ")
    author = context.services.pseudonym(user.id)
    await _say(update, context, await admin.broadcast(lang, body, author=author))


async def on_broadcast_photo(update: Update, context: BotContext) -> None:
    """Take a private photo as a broadcast's picture: captioned /siaran TEXT, or sent after
    /siaran TEXT. Other photos (and a non-admin's plain photo) go on to the survey's handler."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.photo:
        return
    caption = message.caption or ""
    command = BROADCAST_CAPTION.match(caption)
    if not context.services.is_admin(user.id):
        if command is None:
            return  # someone's photo in their survey chat: the survey answers it
        await _refuse(update, context, await user_language(update, context))
        raise ApplicationHandlerStop
    admin, language = Inspectorate(context.services), await user_language(update, context)
    author = context.services.pseudonym(user.id)
    file_id = message.photo[-1].file_id  # the largest size Telegram made
    if command is not None:
        body = command.group("body") or ""
        reply = await admin.broadcast(language, body, author=author, photo_file_id=file_id)
    else:
        reply = await admin.broadcast_photo(language, author, file_id, caption or None)
    await _say(update, context, reply)
    raise ApplicationHandlerStop


async def _run_broadcast(
    context: BotContext, admin_chat: int, language: str, broadcast: reach.Broadcast
) -> None:
    """Send a confirmed broadcast through the bulk path, then tell the admin how it went."""
    services = context.services
    report = await reach.send_broadcast(services, context.bot_data.scheduler.delivery, broadcast)
    done = context.t(
        language, "adm_broadcast_done", sent=report.sent, gone=report.gone, failed=report.failed
    )
    await context.bot.send_message(admin_chat, done)


@admins_only
async def on_admin_button(
    update: Update, context: BotContext, admin: Inspectorate, lang: str
) -> None:
    """Act on a confirmation, revoke or withdraw button, then replace the buttons by the
    outcome (a revoke also resets the person's command menu where the bot knows their chat)."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await admin.tap(lang, query.data)
    await query.answer()
    try:
        await query.edit_message_text(reply.text, reply_markup=_markup(reply))
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise
    for chat_id in reply.reset_menus:  # a revoked official's private chats: the menu goes now
        await context.bot_data.menus.reset(context.bot, chat_id)
    if reply.start_broadcast is not None and update.effective_chat is not None:
        # In the background: thousands of sends must not hold up this update.
        context.application.create_task(
            _run_broadcast(context, update.effective_chat.id, lang, reply.start_broadcast),
            update=update,
        )
