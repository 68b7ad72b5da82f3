"""/laporan pdf (/report pdf): the rakor PDF as a document; /laporan alone is the chart pack.

Who may have which pack is the score commands' rule: leadership and admins the whole
institution, a unit head their own unit's page; anyone else is refused. In a group the
asker's own role decides, as for every score command.
"""

from __future__ import annotations

import html
import logging
from typing import Final

from telegram import Update
from telegram.constants import ChatAction

from handlers.context import BotContext
from handlers.reports import scores
from handlers.reports.scores import Need, asker_command, refuse
from services.access import Asker, Decision
from services.pushes.delivery import Outgoing, send_outgoing

__all__ = ["on_report", "on_report_pdf"]

logger = logging.getLogger(__name__)

PDF_WORDS: Final = frozenset({"pdf"})
_WAVE_CHARS: Final = 80  # a wave name is at most 80 characters (services.admin.open_wave)


async def on_report(update: Update, context: BotContext) -> None:
    """Handle /laporan (/report): `pdf` as the first word asks for the rakor PDF."""
    words = context.args or []
    if words and words[0].lower() in PDF_WORDS:
        await on_report_pdf(update, context)
        return
    await scores.on_report(update, context)


async def _say(update: Update, context: BotContext, text: str) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)


@asker_command(Need.ROLE)
async def on_report_pdf(update: Update, context: BotContext, asker: Asker) -> None:
    """Send the rakor PDF of the open wave (else the newest), or of `/laporan pdf WAVE`."""
    from services.rakor.pdf import load_pdf  # reportlab loads only when a PDF is asked for

    chat = update.effective_chat
    if chat is None:
        return
    viewer = asker.viewer
    unit_code = None if viewer.sees_all else viewer.unit_code
    if not viewer.sees_all and unit_code is None:  # pragma: no cover - Need.ROLE refused it
        await refuse(update, context, asker, Decision.NO_ROLE)
        return
    wave_name = " ".join((context.args or [])[1:]).strip()[:_WAVE_CHARS] or None
    services = context.services
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        made = await load_pdf(
            services.db.engine,
            services.settings,
            asker.language,
            now=services.clock(),
            wave_name=wave_name,
            unit_code=unit_code,
        )
    except Exception:  # one failed layout must not take the command down silently
        logger.exception("rakor PDF failed")
        await _say(update, context, context.t(asker.language, "report_pdf_failed"))
        return
    if made is None:
        key = "report_pdf_no_such_wave" if wave_name else "scores_no_wave"
        text = context.t(asker.language, key, wave=html.escape(wave_name or ""))
        await _say(update, context, text)
        return
    bundle, pdf = made
    if pdf is None:
        text = context.t(
            asker.language, "report_pdf_no_responses", wave=html.escape(bundle.wave.name)
        )
        await _say(update, context, text)
        return
    status_key = "scores_provisional_short" if pdf.provisional else "scores_final"
    caption = context.t(
        asker.language,
        "report_pdf_caption",
        wave=html.escape(pdf.wave),
        status=context.t(asker.language, status_key),
        pages=pdf.pages,
    )
    await send_outgoing(
        context.bot, chat.id, Outgoing(document=pdf.data, caption=caption, filename=pdf.filename)
    )
