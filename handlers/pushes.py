"""Scheduled reports: /langganan subscribes a chat, /jadwal sets its schedule, /berhenti ends it.

Only admins and leadership may do any of this (`services.pushes.subscriptions.may_manage`), checked
once by `managers_only`; in a group the person typing or tapping is checked, not the group.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import wraps
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from handlers.common import user_language
from handlers.context import BotContext
from services.admin import REVOKED_REASON
from services.pushes import subscriptions
from services.pushes.subscriptions import (
    CronError,
    ScheduleKind,
    SubscribeOutcome,
    Timing,
    TooOften,
    ZoneError,
)

__all__ = ["BUTTON_PATTERN", "on_schedule", "on_schedule_button", "on_stop", "on_subscribe"]

logger = logging.getLogger(__name__)

# Button data carries no id: the action is idempotent and the tapper's role is checked.
BUTTON_PREFIX: Final = "sub"
BUTTON_PATTERN: Final = rf"^{BUTTON_PREFIX}:(digest|report|final):(on|off)$"

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
ManagedHandler = Callable[[Update, BotContext, int, str], Coroutine[Any, Any, None]]


def managers_only(handler: ManagedHandler) -> Handler:
    """Run `handler(update, context, chat_id, language)` for admins and leadership only."""

    @wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        language = await user_language(update, context)
        if not await subscriptions.may_manage(context.services, user.id):
            await _tell(update, context.t(language, "sub_refused"), alert=True)
            return
        await handler(update, context, chat.id, language)

    return guarded


async def _tell(update: Update, text: str, *, alert: bool = False) -> None:
    """Answer a tap with a toast (an alert when asked) or a message with a reply."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=alert)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def _interval(minimum: timedelta, context: BotContext, lang: str) -> str:
    """Say a minimum interval in words: "jam", "2 jam", "30 menit"."""
    minutes = int(minimum.total_seconds() // 60)
    if minutes == 60:
        return context.t(lang, "sub_interval_hour")
    if minutes % 60 == 0:
        return context.t(lang, "sub_interval_hours", n=minutes // 60)
    return context.t(lang, "sub_interval_minutes", n=minutes)


def _when(
    timing: Timing, time: str | None, cron: str, zone: str, context: BotContext, lang: str
) -> str:
    """Describe when a kind of push goes out, in words for the presets."""
    if timing in (Timing.OFF, Timing.FINAL):
        return context.t(lang, f"sub_when_{timing}")
    if time is not None:
        shown = time.replace(":", ".") if lang == "id" else time
        return context.t(lang, f"sub_when_{timing}", time=shown, zone=html.escape(zone))
    return context.t(lang, "sub_when_cron", cron=html.escape(cron), zone=html.escape(zone))


async def _view(chat_id: int, context: BotContext, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Return the chat's schedule as text, with the preset buttons."""
    state = await subscriptions.schedules_of(context.services, chat_id)
    lines = [context.t(lang, "sub_view_title")]
    for kind in ScheduleKind:
        schedule = state.by_kind.get(kind)
        timing, time = subscriptions.timing_of(schedule)
        when = _when(
            timing,
            time,
            (schedule.cron or "") if schedule else "",
            schedule.timezone if schedule else "",
            context,
            lang,
        )
        lines.append(
            context.t(lang, "sub_line", kind=context.t(lang, f"sub_kind_{kind}"), when=when)
        )
    if state.paused_reason == REVOKED_REASON:
        lines += ["", context.t(lang, "sub_status_paused_revoked")]
    elif state.paused_reason is not None:
        reason = html.escape(state.paused_reason)
        lines += ["", context.t(lang, "sub_status_paused", reason=reason)]
    lines += ["", context.t(lang, "sub_view_help")]
    buttons = [
        [
            InlineKeyboardButton(
                context.t(lang, f"sub_button_{kind}_{state_word}"),
                callback_data=f"{BUTTON_PREFIX}:{kind}:{state_word}",
            )
            for state_word in ("on", "off")
        ]
        for kind in ScheduleKind
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def _reply_view(
    update: Update, context: BotContext, chat_id: int, lang: str, intro_key: str | None = None
) -> None:
    message = update.effective_message
    if message is None:
        return
    text, markup = await _view(chat_id, context, lang)
    if intro_key is not None:
        text = f"{context.t(lang, intro_key)}\n\n{text}"
    await message.reply_text(text, reply_markup=markup)


@managers_only
async def on_subscribe(update: Update, context: BotContext, chat_id: int, lang: str) -> None:
    """Subscribe this chat to scheduled reports (admins and leadership only)."""
    user = update.effective_user
    outcome = await subscriptions.subscribe(
        context.services, chat_id, lang, by_user=user.id if user is not None else None
    )
    if outcome is not SubscribeOutcome.ALREADY and update.effective_chat is not None:
        logger.info("chat subscribed (%s chat)", update.effective_chat.type)
    await _reply_view(update, context, chat_id, lang, f"sub_{outcome}")


@managers_only
async def on_schedule(update: Update, context: BotContext, chat_id: int, lang: str) -> None:
    """Show this chat's schedule, or change it: `/jadwal digest 0 7 * * *`, `/jadwal report off`."""
    message = update.effective_message
    if message is None:
        return
    if not (await subscriptions.schedules_of(context.services, chat_id)).subscribed:
        await message.reply_text(context.t(lang, "sub_not_subscribed"))
        return
    args = list(context.args or [])
    if not args:
        await _reply_view(update, context, chat_id, lang)
        return
    kind = subscriptions.parse_kind(args[0])
    rest = args[1:]
    switch = subscriptions.parse_switch(rest[0]) if len(rest) == 1 else None
    if kind is None or not rest:
        await message.reply_text(context.t(lang, "sub_usage"))
        return
    if switch is not None:
        await subscriptions.set_kind(context.services, chat_id, kind, switch)
    elif kind is ScheduleKind.FINAL or len(rest) not in (5, 6):
        await message.reply_text(context.t(lang, "sub_usage"))
        return
    else:
        cron = " ".join(rest[:5])
        zone = rest[5] if len(rest) == 6 else None
        try:
            await subscriptions.set_kind(context.services, chat_id, kind, True, cron, zone)
        except ZoneError as exc:  # one clear line, not the crontab lesson
            await message.reply_text(context.t(lang, "sub_bad_zone", zone=html.escape(exc.zone)))
            return
        except TooOften as exc:
            interval = _interval(exc.minimum, context, lang)
            await message.reply_text(
                context.t(lang, "sub_too_often", cron=html.escape(cron), interval=interval)
            )
            return
        except CronError as exc:
            await message.reply_text(
                context.t(lang, "sub_bad_cron", cron=html.escape(cron), error=html.escape(str(exc)))
            )
            return
    await _reply_view(update, context, chat_id, lang, "sub_changed")


@managers_only
async def on_schedule_button(update: Update, context: BotContext, chat_id: int, lang: str) -> None:
    """Apply a preset button of the schedule view."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    if not (await subscriptions.schedules_of(context.services, chat_id)).subscribed:
        await query.answer(context.t(lang, "sub_not_subscribed"), show_alert=True)
        return
    _, kind_name, state = query.data.split(":")
    await subscriptions.set_kind(context.services, chat_id, ScheduleKind(kind_name), state == "on")
    await query.answer(context.t(lang, "sub_changed"))
    text, markup = await _view(chat_id, context, lang)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:  # tapping the preset already in force changes nothing
        if "not modified" not in exc.message.lower():
            raise


@managers_only
async def on_stop(update: Update, context: BotContext, chat_id: int, lang: str) -> None:
    """End this chat's subscription."""
    message = update.effective_message
    if message is None:
        return
    if await subscriptions.unsubscribe(context.services, chat_id):
        if update.effective_chat is not None:
            logger.info("chat unsubscribed (%s chat)", update.effective_chat.type)
        await message.reply_text(context.t(lang, "sub_stopped"))
    else:
        await message.reply_text(context.t(lang, "sub_not_subscribed"))
