"""Scheduled reports: /langganan subscribes a chat, /jadwal sets its schedule, /berhenti ends it.

Only admins and leadership may do any of this, in private chats and groups alike (in a group,
the person typing the command or tapping the button is checked, not the group).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

import storage
from handlers.common import user_language
from handlers.context import BotContext
from services.access import viewer_for
from services.pushes.scheduler import CronError, parse_cron
from storage import (
    Schedule,
    ScheduleKind,
    delete_schedule,
    schedules_for_chat,
    set_schedule,
)

__all__ = [
    "BUTTON_PATTERN",
    "DAILY_DIGEST",
    "WEEKLY_REPORT",
    "on_schedule",
    "on_schedule_button",
    "on_stop",
    "on_subscribe",
]

logger = logging.getLogger(__name__)

DAILY_DIGEST: Final = "0 7 * * *"  # 07:00 every day
WEEKLY_REPORT: Final = "0 7 * * 1"  # 07:00 every Monday (standard crontab: 1 = Monday)
# Button data carries no id: the action is idempotent and the tapper's role is checked.
BUTTON_PATTERN: Final = r"^sub:(digest|report|final):(on|off)$"
_PRESETS: Final = {ScheduleKind.DIGEST: DAILY_DIGEST, ScheduleKind.REPORT: WEEKLY_REPORT}
_KINDS: Final = {
    "digest": ScheduleKind.DIGEST,
    "ringkasan": ScheduleKind.DIGEST,
    "report": ScheduleKind.REPORT,
    "laporan": ScheduleKind.REPORT,
    "final": ScheduleKind.FINAL,
    "akhir": ScheduleKind.FINAL,
}
_ON: Final = ("on", "hidup", "aktif", "nyala")
_OFF: Final = ("off", "mati", "nonaktif")
_DAILY_RE: Final = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* \*$")
_WEEKLY_RE: Final = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* (1|mon)$")


async def _may_manage(update: Update, context: BotContext) -> bool:
    """Tell whether the person behind this update is an admin or leadership."""
    user = update.effective_user
    if user is None:
        return False
    services = context.services
    viewer = await viewer_for(
        services.db.engine, services.pseudonym(user.id), admin=services.is_admin(user.id)
    )
    return viewer.sees_all


def _when(schedule: Schedule | None, kind: ScheduleKind, context: BotContext, lang: str) -> str:
    """Describe when a kind of push goes out, in words for the presets."""
    if schedule is None:
        return context.t(lang, "sub_when_off")
    if kind is ScheduleKind.FINAL or schedule.cron is None:
        return context.t(lang, "sub_when_final")
    zone = html.escape(schedule.timezone)
    for pattern, key in ((_DAILY_RE, "sub_when_daily"), (_WEEKLY_RE, "sub_when_weekly")):
        if (match := pattern.match(schedule.cron)) and int(match[1]) < 60 and int(match[2]) < 24:
            time = f"{int(match[2]):02d}.{int(match[1]):02d}"
            return context.t(
                lang, key, time=time if lang == "id" else time.replace(".", ":"), zone=zone
            )
    return context.t(lang, "sub_when_cron", cron=html.escape(schedule.cron), zone=zone)


async def _view(chat_id: int, context: BotContext, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Return the chat's schedule as text, with the preset buttons."""
    engine = context.services.db.engine
    schedules = {s.kind: s for s in await schedules_for_chat(engine, chat_id)}
    lines = [context.t(lang, "sub_view_title")]
    for kind in ScheduleKind:
        when = _when(schedules.get(kind), kind, context, lang)
        lines.append(
            context.t(lang, "sub_line", kind=context.t(lang, f"sub_kind_{kind}"), when=when)
        )
    subscription = await storage.get_subscription(engine, chat_id)
    if subscription is not None and not subscription.active:
        reason = html.escape(subscription.paused_reason or "-")
        lines += ["", context.t(lang, "sub_status_paused", reason=reason)]
    lines += ["", context.t(lang, "sub_view_help")]
    buttons = [
        [
            InlineKeyboardButton(
                context.t(lang, f"sub_button_{kind}_{state}"), callback_data=f"sub:{kind}:{state}"
            )
            for state in ("on", "off")
        ]
        for kind in ScheduleKind
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def _apply(
    chat_id: int,
    kind: ScheduleKind,
    on: bool,
    context: BotContext,
    cron: str | None = None,
    timezone: str | None = None,
) -> None:
    """Turn one kind of push off, or on (with `cron`, by default the kind's preset)."""
    services = context.services
    if not on:
        await delete_schedule(services.db.engine, chat_id, kind)
        return
    await set_schedule(
        services.db.engine,
        chat_id,
        kind,
        None if kind is ScheduleKind.FINAL else cron or _PRESETS[kind],
        services.clock(),
        timezone or services.settings.timezone,
    )


async def on_subscribe(update: Update, context: BotContext) -> None:
    """Subscribe this chat to scheduled reports (admins and leadership only)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = user_language(update, context)
    if not await _may_manage(update, context):
        await message.reply_text(context.t(lang, "sub_refused"))
        return
    engine = context.services.db.engine
    existing = await storage.get_subscription(engine, chat.id)
    if existing is not None and existing.active:
        key = "sub_already"
    else:
        await storage.subscribe(engine, chat.id, lang, context.services.clock())
        key = "sub_resumed" if existing is not None else "sub_done"
        if not await schedules_for_chat(engine, chat.id):
            # The defaults: a daily digest, the weekly report and the final report of a wave.
            for kind in ScheduleKind:
                await _apply(chat.id, kind, True, context)
        logger.info("chat subscribed (%s chat)", chat.type)
    text, markup = await _view(chat.id, context, lang)
    await message.reply_text(
        f"{context.t(lang, key)}\n\n{text}", parse_mode=ParseMode.HTML, reply_markup=markup
    )


async def on_schedule(update: Update, context: BotContext) -> None:
    """Show this chat's schedule, or change it: `/jadwal digest 0 7 * * *`, `/jadwal report off`."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = user_language(update, context)
    if not await _may_manage(update, context):
        await message.reply_text(context.t(lang, "sub_refused"))
        return
    if await storage.get_subscription(context.services.db.engine, chat.id) is None:
        await message.reply_text(context.t(lang, "sub_not_subscribed"))
        return
    args = list(context.args or [])
    if args:
        kind = _KINDS.get(args[0].lower())
        rest = args[1:]
        if kind is None or not rest:
            await message.reply_text(context.t(lang, "sub_usage"), parse_mode=ParseMode.HTML)
            return
        word = rest[0].lower() if len(rest) == 1 else ""
        if word in _OFF:
            await _apply(chat.id, kind, False, context)
        elif word in _ON:
            await _apply(chat.id, kind, True, context)
        elif kind is ScheduleKind.FINAL or len(rest) not in (5, 6):
            await message.reply_text(context.t(lang, "sub_usage"), parse_mode=ParseMode.HTML)
            return
        else:
            cron = " ".join(rest[:5])
            timezone = rest[5] if len(rest) == 6 else context.services.settings.timezone
            try:
                parse_cron(cron, timezone)
            except CronError as exc:
                await message.reply_text(
                    context.t(
                        lang, "sub_bad_cron", cron=html.escape(cron), error=html.escape(str(exc))
                    ),
                    parse_mode=ParseMode.HTML,
                )
                return
            await _apply(chat.id, kind, True, context, cron, timezone)
        text, markup = await _view(chat.id, context, lang)
        await message.reply_text(
            f"{context.t(lang, 'sub_changed')}\n\n{text}",
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
        return
    text, markup = await _view(chat.id, context, lang)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_schedule_button(update: Update, context: BotContext) -> None:
    """Apply a preset button of the schedule view."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or query.data is None:
        return
    lang = user_language(update, context)
    if not await _may_manage(update, context):
        await query.answer(context.t(lang, "sub_refused"), show_alert=True)
        return
    if await storage.get_subscription(context.services.db.engine, chat.id) is None:
        await query.answer(context.t(lang, "sub_not_subscribed"), show_alert=True)
        return
    _, kind_name, state = query.data.split(":")
    kind = ScheduleKind(kind_name)
    await _apply(chat.id, kind, state == "on", context)
    await query.answer(context.t(lang, "sub_changed"))
    text, markup = await _view(chat.id, context, lang)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:  # tapping the preset already in force changes nothing
        if "not modified" not in exc.message.lower():
            raise


async def on_stop(update: Update, context: BotContext) -> None:
    """End this chat's subscription."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = user_language(update, context)
    if not await _may_manage(update, context):
        await message.reply_text(context.t(lang, "sub_refused"))
        return
    if await storage.unsubscribe(context.services.db.engine, chat.id):
        logger.info("chat unsubscribed (%s chat)", chat.type)
        await message.reply_text(context.t(lang, "sub_stopped"))
    else:
        await message.reply_text(context.t(lang, "sub_not_subscribed"))
