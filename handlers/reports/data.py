"""Data for officials: /saran (respondents' suggestions) and /ekspor (the data export, admins).

Thin: decide who asks (handlers.reports.scores.asker_command), call services.reports.comments or
services.reports.exports, and send what they return. Both read the wave through the one release rule
(services.release) and are k-suppressed like every result. Free text never goes to a group:
/saran there asks for a private chat, /ekspor is private-only in the command table.
"""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ChatType

from handlers.context import BotContext
from handlers.reports.scores import Need, asker_command, refuse
from services import reports
from services.access import Asker, Decision
from services.errors import AdminError
from services.pushes.delivery import chart_message, send_outgoing
from services.release import today_for
from services.reports import (
    comments_messages,
    export_document,
    export_wave_names,
    keyword_png,
    load_comments,
)

__all__ = ["on_comments", "on_export"]

logger = logging.getLogger(__name__)


async def _say(update: Update, context: BotContext, text: str) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)


@asker_command(Need.ROLE)
async def on_comments(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /saran [unit] (/suggestions): suggestions by unit and question, with keywords."""
    language, viewer = asker.language, asker.viewer
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        # What respondents typed is never shown to a group, whoever asks there.
        logger.info("suggestions asked in a group chat: pointed to a private chat")
        await _say(update, context, context.t(language, "comments_private_only"))
        return
    query = " ".join(context.args or []).strip()
    unit_code, unit_name = (None, None) if viewer.sees_all else (viewer.unit_code, viewer.unit_name)
    if query:
        matches = await reports.units_matching(context.services.db.engine, query)
        if not matches:
            text = context.t(language, "comments_unknown_unit", query=html.escape(query[:60]))
            await _say(update, context, text)
            return
        if len(matches) > 1:
            codes = ", ".join(f"<code>{html.escape(u.code)}</code>" for u in matches)
            await _say(update, context, context.t(language, "comments_pick_unit", units=codes))
            return
        unit_code, unit_name = matches[0].code, matches[0].name
    decision = viewer.institution() if unit_code is None else viewer.unit(unit_code)
    if decision is not Decision.ALLOWED:
        await refuse(update, context, asker, decision)
        return
    k = context.services.settings.small_cell_k
    try:
        found = await load_comments(
            context.services.db.engine,
            None,
            k=k,
            today=today_for(context.services),
            unit=unit_code,
        )
    except AdminError:
        await _say(update, context, context.t(language, "scores_no_wave"))
        return
    for text in comments_messages(
        found, context.services.messages, language, k=k, unit_name=unit_name
    ):
        await _say(update, context, text)
    if found.review.comments:
        png = await keyword_png(found, language)
        caption = context.t(language, "comments_keywords")
        await send_outgoing(context.bot, chat.id, chart_message(png, caption, "saran"))


@asker_command(Need.ROLE)
async def on_export(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /ekspor [wave] (/export): an admin gets the XLSX export with its codebook."""
    language = asker.language
    chat = update.effective_chat
    if not asker.viewer.admin or chat is None:
        await _say(update, context, context.t(language, "export_admins_only"))
        return
    wave_name = " ".join(context.args or []).strip() or None
    engine = context.services.db.engine
    k = context.services.settings.small_cell_k
    try:
        data, filename, result = await export_document(
            engine, wave_name, k, today_for(context.services), context.services.settings.zone
        )
    except AdminError:
        if wave_name is None:
            await _say(update, context, context.t(language, "export_no_wave"))
        else:
            waves = ", ".join(await export_wave_names(engine)) or "—"
            text = context.t(
                language, "export_unknown_wave", wave=html.escape(wave_name[:60]), waves=waves
            )
            await _say(update, context, text)
        return
    logger.info("data export sent to an admin (%d responses)", result.responses)
    wave = html.escape(filename.removeprefix("spi-").removesuffix(".xlsx"))
    caption = context.t(language, "export_caption", wave=wave, n=result.responses)
    await context.bot.send_document(chat.id, data, filename=filename, caption=caption)
