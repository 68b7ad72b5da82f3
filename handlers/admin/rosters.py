"""A roster CSV sent to the bot as a document: the invitation CSV comes back (admins only).

Private chats only; in a group a CSV gets a short answer (a roster holds names). Thin:
`services.admin.rosters` checks, asks and creates; this module downloads and sends the files.
"""

from __future__ import annotations

import html
import logging
from typing import Final

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import filters

from handlers.admin.inspectorate import admins_only
from handlers.common import user_language
from handlers.context import BotContext
from services.admin import (
    MAX_BYTES,
    Inspectorate,
    Rosters,
    button_data,
    guess_group,
    looks_like_csv,
)
from services.errors import AdminError
from surveys import Group

__all__ = ["CSV_DOCUMENT", "on_group_document", "on_roster_button", "on_roster_document"]

logger = logging.getLogger(__name__)


class _CsvDocument(filters.MessageFilter):
    """A document meant as a CSV (by its name or the type the phone gave it)."""

    def filter(self, message: Message) -> bool:
        document = message.document
        return document is not None and looks_like_csv(document.file_name, document.mime_type)


CSV_DOCUMENT: Final = _CsvDocument(name="CsvDocument")


async def _say(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def _download(context: BotContext, file_id: str) -> bytes | None:
    """Return a document's bytes, or None when Telegram would not give them."""
    try:
        file = await context.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        logger.warning("could not download a roster: %s", type(exc).__name__)
        return None


async def _checked(
    update: Update, context: BotContext, rosters: Rosters, file_id: str, name: str | None
) -> tuple[bytes, int] | None:
    """Download a roster and check every line; tell the admin what is wrong, or return it."""
    language = await user_language(update, context)
    data = await _download(context, file_id)
    if data is None:
        await _say(update, context, context.t(language, "error_generic"))
        return None
    if len(data) > MAX_BYTES:  # when Telegram did not give the size beforehand
        await _say(update, context, rosters.too_big(language, len(data)))
        return None
    checked = await rosters.check(language, data, name)
    if isinstance(checked, str):
        await _say(update, context, checked)
        return None
    return data, checked


async def on_roster_document(update: Update, context: BotContext) -> None:
    """Handle a document in a private chat: an admin's roster, or a CSV from someone else."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.document is None:
        return
    language = await user_language(update, context)
    if not context.services.is_admin(user.id):
        # Only a CSV reaches here from a non-admin (other documents go to the survey).
        logger.info("roster refused to a non-admin")
        await _say(update, context, context.t(language, "roster_admins_only"))
        return
    rosters, document = Rosters(context.services), message.document
    refusal = rosters.refusal(language, document.file_name, document.mime_type, document.file_size)
    if refusal is not None:
        await _say(update, context, refusal)
        return
    wave = await rosters.open_wave_name()
    if wave is None:
        await _say(update, context, context.t(language, "roster_no_wave"))
        return
    checked = await _checked(update, context, rosters, document.file_id, document.file_name)
    if checked is None:
        return
    data, count = checked
    group = guess_group(message.caption, document.file_name)
    if group is not None:
        await _create(update, context, rosters, data, document.file_name, group)
        return
    await _ask_group(update, context, rosters, document, count, wave)


async def _ask_group(
    update: Update,
    context: BotContext,
    rosters: Rosters,
    document: Document,
    count: int,
    wave: str,
) -> None:
    """Neither the caption nor the file name says whose roster it is: ask, with buttons."""
    language = await user_language(update, context)
    upload = await rosters.remember(document.file_id, document.file_name)

    def button(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            context.t(language, key), callback_data=button_data(action, upload)
        )

    markup = InlineKeyboardMarkup(
        [
            [button("btn_roster_internal", "i"), button("btn_roster_expert", "e")],
            [button("btn_adm_no", "x")],
        ]
    )
    text = context.t(
        language,
        "roster_ask_group",
        file=html.escape(document.file_name or "CSV"),
        n=count,
        wave=html.escape(wave),
    )
    await _say(update, context, text, markup)


async def _create(
    update: Update,
    context: BotContext,
    rosters: Rosters,
    data: bytes,
    file_name: str | None,
    group: Group,
) -> int | None:
    """Create the links and send the invitation CSV; return how many (None: refused)."""
    chat = update.effective_chat
    if chat is None:
        return None
    language = await user_language(update, context)
    try:
        roster = await rosters.create(data, file_name, group)
    except AdminError as exc:
        # The wave closed (or the units changed) since the file was checked.
        logger.info("roster refused at creation: %s", exc)
        await _say(update, context, context.t(language, "roster_no_wave"))
        return None
    caption = context.t(
        language,
        "roster_made",
        n=roster.count,
        group=context.t(language, f"uptake_group_{group.value}"),
        wave=html.escape(roster.wave),
    )
    await context.bot.send_document(
        chat.id, roster.data, filename=roster.file_name, caption=caption
    )
    return roster.count


@admins_only
async def on_roster_button(
    update: Update, context: BotContext, _admin: Inspectorate, language: str
) -> None:
    """Handle "internal / expert / cancel" under a roster whose group was not obvious."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rosters = Rosters(context.services)
    upload, group, cancelled = await rosters.take(query.data)
    if upload is None:  # a double tap, an old question, or forged data: nothing happens
        await query.answer(context.t(language, "roster_taken"), show_alert=True)
        return
    await query.answer()
    if cancelled or group is None:
        await _edit(update, context.t(language, "adm_cancelled"))
        return
    await _edit(update, context.t(language, f"btn_roster_{group.value}"))
    checked = await _checked(update, context, rosters, upload.file_id, upload.file_name)
    if checked is not None:
        await _create(update, context, rosters, checked[0], upload.file_name, group)


async def _edit(update: Update, text: str) -> None:
    """Replace the question (and its buttons) by the answer chosen."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_text(text)
    except TelegramError as exc:  # too old, or gone
        logger.debug("could not edit the roster question: %s", type(exc).__name__)


async def on_group_document(update: Update, context: BotContext) -> None:
    """A CSV in a group: rosters belong in a private chat (they hold names)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    language = await user_language(update, context)
    await message.reply_text(context.t(language, "roster_group_chat"))
