"""Leadership queries: /skor, /unit, /dimensi, /peringkat, /tren, /progres, /laporan.

Thin: decide access (`services.access`), build the wave's report once (`services.reports`), draw the
chart off the event loop, and send it as a photo with the numbers in the caption. Works in
private and group chats; in a group the asker's own role decides.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

import storage
from handlers.commands import show_official_menu
from handlers.context import BotContext
from services import callbacks
from services import reports as reporting
from services.access import Decision, Viewer, claim_grant, viewer_for
from services.i18n import pick_language
from services.reports import ReportBundle
from storage.models import ClaimStatus, Role

__all__ = [
    "UNIT_ACTION",
    "on_dimensions",
    "on_grant",
    "on_progress",
    "on_ranking",
    "on_report",
    "on_score",
    "on_trend",
    "on_unit",
    "on_unit_button",
]

logger = logging.getLogger(__name__)

UNIT_ACTION: Final = "su"  # callback action of a /unit choice button; arg = unit id
# Score buttons carry no session, so their version field is constant.
_BUTTON_VERSION: Final = 0


class _Asker:
    """Who asked, in which language, and what they may see."""

    def __init__(self, pseudonym: str, language: str, viewer: Viewer) -> None:
        self.pseudonym = pseudonym
        self.language = language
        self.viewer = viewer


async def _asker(update: Update, context: BotContext) -> _Asker | None:
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return None
    services = context.services
    pseudonym = services.pseudonym(user.id)
    engine = services.db.engine
    # A language chosen with /bahasa wins over the Telegram client's language.
    chosen = await storage.get_respondent_language(engine, pseudonym)
    language = chosen or pick_language(user.language_code, services.settings.default_language)
    viewer = await viewer_for(engine, pseudonym, admin=services.is_admin(user.id))
    return _Asker(pseudonym, language, viewer)


async def _say(
    update: Update,
    context: BotContext,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=reply_markup
    )


async def _refuse(update: Update, context: BotContext, asker: _Asker, decision: Decision) -> None:
    """Tell the asker politely why they get no numbers."""
    key = {
        Decision.NO_ROLE: "access_denied",
        Decision.OTHER_UNIT: "access_other_unit",
        Decision.INSTITUTION_ONLY: "access_institution_only",
    }[decision]
    unit = html.escape(asker.viewer.unit_name or asker.viewer.unit_code or "")
    logger.info("score request refused: %s", decision.value)
    await _say(update, context, context.t(asker.language, key, unit=unit))


async def _bundle(update: Update, context: BotContext, asker: _Asker) -> ReportBundle | None:
    """Build the current wave's report once for this command; tell the chat if there is none."""
    services = context.services
    today = services.clock().astimezone(services.settings.zone).date()
    bundle = await reporting.load_report(services.db.engine, services.settings, today=today)
    if bundle is None:
        await _say(update, context, context.t(asker.language, "scores_no_wave"))
    return bundle


async def _send_chart(
    update: Update,
    context: BotContext,
    bundle: ReportBundle,
    chart: str,
    caption: str,
    *,
    language: str,
    unit_code: str | None = None,
    follow_up: str | None = None,
) -> None:
    """Send a chart with its caption, and the longer text after it when there is one."""
    chat = update.effective_chat
    if chat is None:
        return
    # Drawing takes a few hundred milliseconds of CPU: keep the event loop serving others.
    png = await asyncio.to_thread(reporting.render_chart, bundle, chart, language, unit_code)
    send = context.bot.send_document if reporting.is_tall(png) else context.bot.send_photo
    await send(chat.id, png, caption=caption, parse_mode=ParseMode.HTML, filename=f"{chart}.png")
    if follow_up:
        await _say(update, context, follow_up)


async def _show_unit(update: Update, context: BotContext, asker: _Asker, unit_code: str) -> None:
    """Answer with one unit's score card, if the asker may see that unit."""
    decision = asker.viewer.unit(unit_code)
    if decision is not Decision.ALLOWED:
        await _refuse(update, context, asker, decision)
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    caption = reporting.score_text(bundle, asker.language, unit_code)
    await _send_chart(
        update, context, bundle, "index", caption, language=asker.language, unit_code=unit_code
    )


async def on_score(update: Update, context: BotContext) -> None:
    """Handle /skor (/score): the index; a unit head gets their own unit."""
    asker = await _asker(update, context)
    if asker is None:
        return
    viewer = asker.viewer
    if not viewer.sees_all:
        if viewer.unit_code is None:
            await _refuse(update, context, asker, Decision.NO_ROLE)
        else:
            await _show_unit(update, context, asker, viewer.unit_code)
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    caption = reporting.score_text(bundle, asker.language)
    await _send_chart(update, context, bundle, "index", caption, language=asker.language)


async def on_unit(update: Update, context: BotContext) -> None:
    """Handle /unit <name or code>: one unit's scores, with buttons when the name is ambiguous."""
    asker = await _asker(update, context)
    if asker is None:
        return
    if not asker.viewer.has_role:
        await _refuse(update, context, asker, Decision.NO_ROLE)
        return
    query = " ".join(context.args or []).strip()
    if not query:
        await _say(update, context, context.t(asker.language, "scores_unit_usage"))
        return
    engine = context.services.db.engine
    matches = reporting.find_units(await storage.list_units(engine), query)
    if not matches:
        text = context.t(asker.language, "scores_unit_not_found", query=html.escape(query[:60]))
        await _say(update, context, text)
        return
    if len(matches) == 1:
        await _show_unit(update, context, asker, matches[0].code)
        return
    secret = context.services.secret
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    unit.name[:60],
                    callback_data=callbacks.encode(
                        secret, asker.pseudonym, _BUTTON_VERSION, UNIT_ACTION, str(unit.id)
                    ),
                )
            ]
            for unit in matches
        ]
    )
    text = context.t(asker.language, "scores_unit_choose", query=html.escape(query[:60]))
    await _say(update, context, text, reply_markup=keyboard)


async def on_unit_button(update: Update, context: BotContext) -> None:
    """Handle a tap on a /unit choice button (signed for the person who asked)."""
    query = update.callback_query
    asker = await _asker(update, context)
    if query is None or asker is None:
        return
    pressed = callbacks.decode(context.services.secret, asker.pseudonym, query.data)
    if pressed is None or pressed.action != UNIT_ACTION or not pressed.arg.isdigit():
        # Someone else's button (e.g. in a group), or data this bot never issued.
        await query.answer(context.t(asker.language, "scores_button_stale"), show_alert=True)
        return
    unit = await storage.get_unit_by_id(context.services.db.engine, int(pressed.arg))
    await query.answer()
    if unit is None:
        await _say(update, context, context.t(asker.language, "scores_button_stale"))
        return
    await _show_unit(update, context, asker, unit.code)


async def on_dimensions(update: Update, context: BotContext) -> None:
    """Handle /dimensi (/dimensions): the seven dimensions, weakest first."""
    asker = await _asker(update, context)
    if asker is None:
        return
    viewer = asker.viewer
    if not viewer.has_role:
        await _refuse(update, context, asker, Decision.NO_ROLE)
        return
    unit_code = None if viewer.sees_all else viewer.unit_code
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    caption = reporting.dimensions_text(bundle, asker.language, unit_code)
    await _send_chart(
        update,
        context,
        bundle,
        "dimensions",
        caption,
        language=asker.language,
        unit_code=unit_code,
    )


async def _institution_asker(update: Update, context: BotContext) -> _Asker | None:
    """Return the asker if they may see institution-wide data; refuse otherwise."""
    asker = await _asker(update, context)
    if asker is None:
        return None
    decision = asker.viewer.institution()
    if decision is not Decision.ALLOWED:
        await _refuse(update, context, asker, decision)
        return None
    return asker


async def on_ranking(update: Update, context: BotContext) -> None:
    """Handle /peringkat (/ranking): units by index; partial composites listed apart."""
    asker = await _institution_asker(update, context)
    if asker is None:
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    full = reporting.ranking_text(bundle, asker.language)
    caption = reporting.ranking_text(bundle, asker.language, limit=reporting.CAPTION_LIMIT)
    await _send_chart(
        update,
        context,
        bundle,
        "ranking",
        caption,
        language=asker.language,
        follow_up=full if full != caption else None,
    )


async def on_trend(update: Update, context: BotContext) -> None:
    """Handle /tren (/trend): the institution index across waves."""
    asker = await _institution_asker(update, context)
    if asker is None:
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    caption = reporting.trend_text(bundle, asker.language)
    await _send_chart(update, context, bundle, "trend", caption, language=asker.language)


async def on_progress(update: Update, context: BotContext) -> None:
    """Handle /progres (/progress): responses against targets (a unit head: own unit)."""
    asker = await _asker(update, context)
    if asker is None:
        return
    viewer = asker.viewer
    if not viewer.has_role:
        await _refuse(update, context, asker, Decision.NO_ROLE)
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    if not viewer.sees_all and viewer.unit_code is not None:
        # The progress chart shows every unit: a unit head gets their own unit as text.
        await _say(
            update,
            context,
            reporting.unit_progress_text(bundle, asker.language, viewer.unit_code),
        )
        return
    caption = reporting.progress_text(bundle, asker.language)
    await _send_chart(update, context, bundle, "progress", caption, language=asker.language)


async def on_report(update: Update, context: BotContext) -> None:
    """Handle /laporan (/report): the whole chart pack, each chart with its numbers."""
    asker = await _institution_asker(update, context)
    chat = update.effective_chat
    if asker is None or chat is None:
        return
    bundle = await _bundle(update, context, asker)
    if bundle is None:
        return
    pack = await asyncio.to_thread(reporting.report_pack, bundle, asker.language)
    intro = context.t(
        asker.language, "scores_pack_intro", wave=html.escape(bundle.wave.name), count=len(pack)
    )
    await _say(update, context, intro)
    # One photo after another (not gathered): the rate limiter paces them per chat.
    for name, png, caption in pack:
        send = context.bot.send_document if reporting.is_tall(png) else context.bot.send_photo
        await send(chat.id, png, caption=caption, parse_mode=ParseMode.HTML, filename=f"{name}.png")


async def on_grant(update: Update, context: BotContext, payload: str) -> None:
    """Handle /start g<token>: claim a one-time role link."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    pseudonym = services.pseudonym(user.id)
    chosen = await storage.get_respondent_language(services.db.engine, pseudonym)
    language = chosen or pick_language(user.language_code, services.settings.default_language)
    outcome = await claim_grant(services.db.engine, pseudonym, payload, services.clock())
    if outcome.status is ClaimStatus.CLAIMED:
        if outcome.role is Role.UNIT_HEAD:
            unit = html.escape(outcome.unit_name or "")
            text = context.t(language, "grant_claimed_unit_head", unit=unit)
        else:
            text = context.t(language, "grant_claimed_leadership")
        await show_official_menu(context.bot, services.messages, user.id, language)
    elif outcome.status is ClaimStatus.ALREADY_USED:
        text = context.t(language, "grant_already_used")
    else:
        text = context.t(language, "grant_invalid")
    await _say(update, context, text)
