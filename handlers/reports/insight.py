"""/simulasi (/simulate): what-if on the current report, and what it takes to reach Terjaga.

Thin: parse the request (`services.reports.whatif`), decide the scope the asker may see, compute on
the report the score commands use, and answer with text.
"""

from __future__ import annotations

import html
import logging

from telegram import Update

from handlers.context import BotContext
from handlers.reports.scores import Need, score_command
from services import reports
from services.access import Asker, Decision
from services.reports import ReportBundle

__all__ = ["on_simulate"]

logger = logging.getLogger(__name__)

_REFUSALS = {Decision.NO_ROLE: "access_denied", Decision.OTHER_UNIT: "access_other_unit"}


async def _say(update: Update, context: BotContext, text: str) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)


@score_command(Need.ROLE)
async def on_simulate(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle
) -> None:
    """Handle /simulasi [<dimension> <points> [groups]] [unit CODE]."""
    try:
        request = reports.parse_request(context.args or [])
    except reports.BadRequest as problem:
        await _say(update, context, reports.usage_text(asker.language, problem))
        return
    decision, unit = reports.scope_for(asker.viewer, request.unit)
    if decision is not Decision.ALLOWED:
        logger.info("simulation refused: %s", decision.value)
        own = html.escape(asker.viewer.unit_name or asker.viewer.unit_code or "")
        await _say(update, context, context.t(asker.language, _REFUSALS[decision], unit=own))
        return
    try:
        text = reports.answer(bundle.report, request, unit, asker.language)
    except ValueError:
        value = html.escape((unit or "")[:40])
        await _say(update, context, context.t(asker.language, "whatif_bad_unit", value=value))
        return
    await _say(update, context, text)
