"""Leadership queries: /skor [wave], /unit, /dimensi, /peringkat, /tren, /progres, /laporan
(a unit head gets /skor, /tren and /laporan for their own unit).

Thin: `score_command` decides who asks and what they may see (`services.access`) and builds
the wave's report once (`services.reports`); each command picks its text and chart and sends
it. Works in private and group chats; in a group the asker's own role decides.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine
from enum import Enum
from functools import wraps
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from handlers.context import BotContext
from services import callbacks, reach, reports
from services.access import Asker, Decision, asker_for
from services.pushes.delivery import Outgoing, chart_message, send_outgoing
from services.reports import ReportBundle, render_chart, report_pack, unit_pack

__all__ = [
    "UNIT_ACTION",
    "Need",
    "asker_command",
    "on_dimensions",
    "on_progress",
    "on_ranking",
    "on_report",
    "on_score",
    "on_trend",
    "on_unit",
    "on_unit_button",
    "refuse",
]

logger = logging.getLogger(__name__)

UNIT_ACTION: Final = "su"  # callback action of a /unit choice button; arg = unit id
# Score buttons carry no session, so their version field is constant.
_BUTTON_VERSION: Final = 0
_REFUSALS: Final = {
    Decision.NO_ROLE: "access_denied",
    Decision.OTHER_UNIT: "access_other_unit",
    Decision.INSTITUTION_ONLY: "access_institution_only",
}


class Need(Enum):
    """What a score command needs of the asker."""

    ANY = "any"  # the command itself decides (e.g. /skor: a unit head gets their unit)
    ROLE = "role"  # any official: leadership, admin or a unit head
    INSTITUTION = "institution"  # institution-wide data: leadership and admins only


Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
ScoreHandler = Callable[[Update, BotContext, Asker, ReportBundle], Coroutine[Any, Any, None]]
AskerHandler = Callable[[Update, BotContext, Asker], Coroutine[Any, Any, None]]


async def _say(
    update: Update, context: BotContext, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=reply_markup)


async def refuse(update: Update, context: BotContext, asker: Asker, decision: Decision) -> None:
    """Tell the asker politely why they get no numbers."""
    unit = html.escape(asker.viewer.unit_name or asker.viewer.unit_code or "")
    logger.info("score request refused: %s", decision.value)
    await _say(update, context, context.t(asker.language, _REFUSALS[decision], unit=unit))
    chat = update.effective_chat
    if decision is Decision.NO_ROLE and chat is not None and chat.type == ChatType.PRIVATE:
        # No role (any more): the official commands leave this chat's menu. A revoked role's
        # menu is reset here, at the first official command after the revoke.
        await context.bot_data.menus.reset(context.bot, chat.id)


def _decide(asker: Asker, need: Need) -> Decision:
    if need is Need.INSTITUTION:
        return asker.viewer.institution()
    if need is Need.ROLE and not asker.viewer.has_role:
        return Decision.NO_ROLE
    return Decision.ALLOWED


def asker_command(need: Need) -> Callable[[AskerHandler], Handler]:
    """Run the command with who asks, after refusing those who may not (no report loaded)."""

    def decorate(handler: AskerHandler) -> Handler:
        @wraps(handler)
        async def guarded(update: Update, context: BotContext) -> None:
            user = update.effective_user
            if user is None or update.effective_chat is None:
                return
            asker = await asker_for(context.services, user.id, user.language_code)
            decision = _decide(asker, need)
            if decision is not Decision.ALLOWED:
                await refuse(update, context, asker, decision)
                return
            await handler(update, context, asker)

        return guarded

    return decorate


async def _bundle(
    update: Update, context: BotContext, asker: Asker, wave_name: str | None = None
) -> ReportBundle | None:
    """Build the report once for this command (the current wave, or the named one); tell the
    chat if there is none, with the waves there are when a name was not found."""
    bundle = await reports.current_bundle(context.services, wave_name)
    if bundle is not None:
        return bundle
    if wave_name is None:
        await _say(update, context, context.t(asker.language, "scores_no_wave"))
    else:
        names = await reports.wave_names(context.services)
        waves = ", ".join(f"<code>{html.escape(n)}</code>" for n in names) or "—"
        text = context.t(
            asker.language, "scores_unknown_wave", wave=html.escape(wave_name[:60]), waves=waves
        )
        await _say(update, context, text)
    return None


def score_command(need: Need) -> Callable[[ScoreHandler], Handler]:
    """Run the command with who asks and the current report, refusing those who may not."""

    def decorate(handler: ScoreHandler) -> Handler:
        @asker_command(need)
        @wraps(handler)
        async def with_report(update: Update, context: BotContext, asker: Asker) -> None:
            bundle = await _bundle(update, context, asker)
            if bundle is not None:
                await handler(update, context, asker, bundle)

        return with_report

    return decorate


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
    png = await asyncio.to_thread(render_chart, bundle, chart, language, unit_code)
    await send_outgoing(context.bot, chat.id, chart_message(png, caption, chart))
    if follow_up:
        await _say(update, context, follow_up)


async def _show_unit(
    update: Update, context: BotContext, asker: Asker, unit_code: str, wave_name: str | None = None
) -> None:
    """Answer with one unit's score card, if the asker may see that unit."""
    decision = asker.viewer.unit(unit_code)
    if decision is not Decision.ALLOWED:
        await refuse(update, context, asker, decision)
        return
    bundle = await _bundle(update, context, asker, wave_name)
    if bundle is None:
        return
    caption = reports.score_text(bundle, asker.language, unit_code)
    await _send_chart(
        update, context, bundle, "index", caption, language=asker.language, unit_code=unit_code
    )


@asker_command(Need.ANY)
async def on_score(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /skor [wave] (/score): the index of the current (or named) wave; a unit head
    gets their own unit."""
    viewer = asker.viewer
    wave_name = " ".join(context.args or []).strip() or None
    if not viewer.sees_all:
        if viewer.unit_code is None:
            await refuse(update, context, asker, Decision.NO_ROLE)
        else:
            await _show_unit(update, context, asker, viewer.unit_code, wave_name)
        return
    bundle = await _bundle(update, context, asker, wave_name)
    if bundle is not None:
        caption = reports.score_text(bundle, asker.language)
        await _send_chart(update, context, bundle, "index", caption, language=asker.language)


@asker_command(Need.ROLE)
async def on_unit(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /unit <name or code>: one unit's scores, with buttons when the name is ambiguous."""
    query = " ".join(context.args or []).strip()
    if not query:
        await _say(update, context, context.t(asker.language, "scores_unit_usage"))
        return
    matches = await reports.units_matching(context.services.db.engine, query)
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


@asker_command(Need.ANY)
async def on_unit_button(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle a tap on a /unit choice button (signed for the person who asked)."""
    query = update.callback_query
    if query is None:
        return
    pressed = callbacks.decode(context.services.secret, asker.pseudonym, query.data)
    if pressed is None or pressed.action != UNIT_ACTION or not pressed.arg.isdigit():
        # Someone else's button (e.g. in a group), or data this bot never issued.
        await query.answer(context.t(asker.language, "scores_button_stale"), show_alert=True)
        return
    unit = await reports.unit_by_id(context.services.db.engine, int(pressed.arg))
    await query.answer()
    if unit is None:
        await _say(update, context, context.t(asker.language, "scores_button_stale"))
        return
    await _show_unit(update, context, asker, unit.code)


@score_command(Need.ROLE)
async def on_dimensions(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle
) -> None:
    """Handle /dimensi (/dimensions): the seven dimensions, weakest first."""
    unit_code = None if asker.viewer.sees_all else asker.viewer.unit_code
    caption = reports.dimensions_text(bundle, asker.language, unit_code)
    await _send_chart(
        update, context, bundle, "dimensions", caption, language=asker.language, unit_code=unit_code
    )


@score_command(Need.INSTITUTION)
async def on_ranking(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle
) -> None:
    """Handle /peringkat (/ranking): units by index; partial composites listed apart."""
    full = reports.ranking_text(bundle, asker.language)
    caption = reports.ranking_text(bundle, asker.language, limit=reports.CAPTION_LIMIT)
    await _send_chart(
        update,
        context,
        bundle,
        "ranking",
        caption,
        language=asker.language,
        follow_up=full if full != caption else None,
    )


@score_command(Need.ROLE)
async def on_trend(update: Update, context: BotContext, asker: Asker, bundle: ReportBundle) -> None:
    """Handle /tren (/trend): the institution index across waves, then our KPK results; a
    unit head gets their own unit's index across waves."""
    viewer = asker.viewer
    if not viewer.sees_all and viewer.unit_code is not None:
        own = viewer.unit_code
        caption = reports.trend_text(bundle, asker.language, own)
        await _send_chart(
            update, context, bundle, "trend", caption, language=asker.language, unit_code=own
        )
        return
    caption = reports.trend_text(bundle, asker.language)
    # Our KPK result per year, percentile and peers: beside our own waves, after the chart.
    services = context.services
    ours, found = await reports.load_standings(services.db.engine, services.settings)
    kpk = reports.peers_text(ours, found, asker.language)
    await _send_chart(
        update, context, bundle, "trend", caption, language=asker.language, follow_up=kpk
    )


@score_command(Need.ROLE)
async def on_progress(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle
) -> None:
    """Handle /progres (/progress): responses against targets, then started / stopped /
    completed and invitation uptake per unit (a unit head: own unit)."""
    viewer = asker.viewer
    services = context.services
    found = await reach.load_funnel(services, bundle.wave)
    if not viewer.sees_all and viewer.unit_code is not None:
        # The progress chart shows every unit: a unit head gets their own unit as text.
        text = reports.unit_progress_text(bundle, asker.language, viewer.unit_code)
        await _say(update, context, text)
        own = reach.funnel_text(
            services, asker.language, found, unit_code=viewer.unit_code, unit_name=viewer.unit_name
        )
        for page in own:
            await _say(update, context, page)
        return
    caption = reports.progress_text(bundle, asker.language)
    await _send_chart(update, context, bundle, "progress", caption, language=asker.language)
    # Then started / stopped / completed and invitation uptake per unit (counts, no scores).
    units = len(bundle.report.units)
    for page in reach.funnel_text(services, asker.language, found, unit_count=units):
        await _say(update, context, page)


@score_command(Need.ROLE)
async def on_report(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle
) -> None:
    """Handle /laporan (/report): the whole chart pack, each chart with its numbers; a unit
    head gets their own unit's pack."""
    chat = update.effective_chat
    if chat is None:
        return
    viewer = asker.viewer
    if not viewer.sees_all and viewer.unit_code is not None:
        await _unit_report(update, context, asker, bundle, viewer.unit_code)
        return
    pack = await asyncio.to_thread(report_pack, bundle, asker.language)
    intro = context.t(
        asker.language, "scores_pack_intro", wave=html.escape(bundle.wave.name), count=len(pack)
    )
    items = [Outgoing(text=intro)] + [chart_message(png, cap, name) for name, png, cap in pack]
    # One message after another (not gathered): Telegram allows about one a second per chat.
    for item in items:
        await send_outgoing(context.bot, chat.id, item)


async def _unit_report(
    update: Update, context: BotContext, asker: Asker, bundle: ReportBundle, unit_code: str
) -> None:
    """Send a unit head their unit's pack: its charts, then its progress as text."""
    chat = update.effective_chat
    if chat is None:
        return
    pack = await asyncio.to_thread(unit_pack, bundle, asker.language, unit_code)
    intro = context.t(
        asker.language,
        "scores_unit_pack_intro",
        wave=html.escape(bundle.wave.name),
        unit=html.escape(asker.viewer.unit_name or unit_code),
        count=len(pack),
    )
    items = [Outgoing(text=intro)] + [chart_message(png, cap, chart) for chart, png, cap in pack]
    items.append(Outgoing(text=reports.unit_progress_text(bundle, asker.language, unit_code)))
    for item in items:  # one after another: about one message a second per chat
        await send_outgoing(context.bot, chat.id, item)
