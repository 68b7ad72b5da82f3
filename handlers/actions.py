"""/tindaklanjut (/actions): follow-up plans per unit in chat.

A unit head sees their unit's actions with buttons to add one (a guided dialogue: dimension,
what, who, due date), change a status, the due date or the person in charge, or attach a
note, document or photo as evidence; leadership sees every unit's actions. Thin:
`services.actions`, `services.actions.dialogue` and `services.actions.texts` do the work;
buttons are signed for the person who asked.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import date
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
from handlers.reports import Need, asker_command
from services import actions, callbacks
from services.access import Asker, Decision, asker_for
from services.actions import (
    SHOW_BUTTON,
    Action,
    ActionStatus,
    Outcome,
    action_detail,
    actions_chart_png,
    actions_list,
    find_action,
    list_for,
    remember_unit_head,
    set_status_for,
    status_word,
)
from services.pushes.delivery import chart_message, send_outgoing
from surveys.model import Dimension

__all__ = [
    "BUTTON_PATTERN",
    "on_action_button",
    "on_actions",
    "on_draft_document",
    "on_draft_photo",
    "on_draft_text",
]

logger = logging.getLogger(__name__)

ADD: Final = "tla"  # start adding: choose a dimension
DIMENSION: Final = "tld"  # arg: the dimension, or OTHER
SHOW: Final = SHOW_BUTTON  # arg: action id (due-date reminders carry it too)
STATUS: Final = "tlu"  # arg: "<id>-<status index>", version: the action's version
NOTE: Final = "tln"  # arg: action id, version: the action's version
DUE: Final = "tlt"  # change the due date (target waktu); arg: action id, version: its version
WHO: Final = "tlp"  # change the person in charge (penanggung jawab); likewise
CANCEL: Final = "tlx"
OTHER: Final = "x"
BUTTON_PATTERN: Final = r"^\d+\.tl[adsunxtp]\."
_STATUSES: Final = tuple(ActionStatus)
_EDIT_BUTTONS: Final = 8  # per list: the soonest due open actions


async def _say(
    update: Update, context: BotContext, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=reply_markup)


def _button(
    context: BotContext, pseudonym: str, label: str, action: str, arg: str = "", version: int = 0
) -> InlineKeyboardButton:
    data = callbacks.encode(context.services.secret, pseudonym, version, action, arg)
    return InlineKeyboardButton(label, callback_data=data)


def _cancel_keyboard(context: BotContext, pseudonym: str, language: str) -> InlineKeyboardMarkup:
    label = context.t(language, "actions_cancel_button")
    return InlineKeyboardMarkup([[_button(context, pseudonym, label, CANCEL)]])


def _today(context: BotContext) -> date:
    services = context.services
    return services.clock().astimezone(services.settings.zone).date()


@asker_command(Need.ROLE)
async def on_actions(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle /tindaklanjut (/actions): the list, with buttons for a unit head."""
    viewer = asker.viewer
    engine = context.services.db.engine
    today = _today(context)
    if viewer.sees_all and viewer.unit_code is None:
        found = await list_for(engine, None)
        chat = update.effective_chat
        if found and chat is not None:
            # Drawing takes a few hundred milliseconds of CPU: keep the event loop serving others.
            png = await asyncio.to_thread(actions_chart_png, found, asker.language, today)
            caption = context.t(asker.language, "actions_chart_title")
            await send_outgoing(context.bot, chat.id, chart_message(png, caption, "actions"))
        await _say(update, context, actions_list(found, asker.language, today))
        return
    assert viewer.unit_code is not None
    if update.effective_user is not None:
        # Keeps the head reachable for due-date reminders (heads from before they existed too).
        await remember_unit_head(context.services, update.effective_user.id, asker.language)
    found = await list_for(engine, viewer.unit_code)
    text = actions_list(
        found, asker.language, today, unit_name=viewer.unit_name or viewer.unit_code
    )
    open_ones = [a for a in found if a.status in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)]
    edit = [
        _button(
            context,
            asker.pseudonym,
            context.t(asker.language, "actions_edit_button", number=a.id),
            SHOW,
            str(a.id),
        )
        for a in open_ones[:_EDIT_BUTTONS]
    ]
    rows = [edit[i : i + 4] for i in range(0, len(edit), 4)]
    rows.append(
        [_button(context, asker.pseudonym, context.t(asker.language, "actions_add_button"), ADD)]
    )
    await _say(update, context, text, reply_markup=InlineKeyboardMarkup(rows))


@asker_command(Need.ROLE)
async def on_action_button(update: Update, context: BotContext, asker: Asker) -> None:
    """Handle a tap on a /tindaklanjut button."""
    query = update.callback_query
    if query is None:
        return
    pressed = callbacks.decode(context.services.secret, asker.pseudonym, query.data)
    if pressed is None:
        await query.answer(context.t(asker.language, "actions_button_stale"), show_alert=True)
        return
    await query.answer()
    services, language, pseudonym = context.services, asker.language, asker.pseudonym
    engine, now = services.db.engine, services.clock()
    if pressed.action == CANCEL:
        await actions.cancel(engine, pseudonym)
        await _say(update, context, context.t(language, "actions_cancelled"))
        return
    if pressed.action == ADD:
        if asker.viewer.unit_code is None:
            await _say(update, context, context.t(language, "actions_add_unit_heads_only"))
            return
        rows = [
            [
                _button(
                    context,
                    pseudonym,
                    context.t(language, f"scores_dim_{d.value}"),
                    DIMENSION,
                    d.value,
                )
            ]
            for d in Dimension
        ]
        rows.append(
            [
                _button(
                    context,
                    pseudonym,
                    context.t(language, "actions_other_dimension"),
                    DIMENSION,
                    OTHER,
                )
            ]
        )
        unit = html.escape(asker.viewer.unit_name or asker.viewer.unit_code)
        await _say(
            update,
            context,
            context.t(language, "actions_choose_dimension", unit=unit),
            InlineKeyboardMarkup(rows),
        )
        return
    if pressed.action == DIMENSION:
        dimension = None if pressed.arg == OTHER else pressed.arg
        reply = await actions.start_add(engine, asker.viewer, pseudonym, dimension, language, now)
        markup = _cancel_keyboard(context, pseudonym, language) if reply.asking else None
        await _say(update, context, context.t(language, reply.key, **reply.values), markup)
        return
    number, _, index = pressed.arg.partition("-")
    action = await find_action(engine, int(number)) if number.isdigit() else None
    if action is None or asker.viewer.unit(action.unit_code) is not Decision.ALLOWED:
        await _say(update, context, context.t(language, "actions_button_stale"))
        return
    if pressed.action == SHOW:
        await _show(update, context, pseudonym, language, action)
    elif pressed.action in (NOTE, DUE, WHO):
        if pressed.version != action.version:  # an old button: the action changed since
            await _say(update, context, context.t(language, "actions_stale"))
            return
        if pressed.action == NOTE:
            reply = await actions.start_note(engine, asker.viewer, pseudonym, action, language, now)
        else:
            step = actions.Step.DUE if pressed.action == DUE else actions.Step.WHO
            reply = await actions.start_edit(
                engine, asker.viewer, pseudonym, action, step, language, now
            )
        markup = _cancel_keyboard(context, pseudonym, language) if reply.asking else None
        await _say(update, context, context.t(language, reply.key, **reply.values), markup)
    elif pressed.action == STATUS and index.isdigit() and int(index) < len(_STATUSES):
        status = _STATUSES[int(index)]
        change = await set_status_for(
            engine, asker.viewer, action.id, pressed.version, now, status=status
        )
        if change.outcome is Outcome.DONE:
            text = context.t(
                language,
                "actions_status_saved",
                number=action.id,
                status=status_word(status, language),
            )
        else:
            text = context.t(
                language, "actions_stale" if change.outcome is Outcome.STALE else "actions_refused"
            )
        await _say(update, context, text)
    else:
        await _say(update, context, context.t(language, "actions_button_stale"))


async def _show(
    update: Update, context: BotContext, pseudonym: str, language: str, action: Action
) -> None:
    dimension = context.t(language, f"scores_dim_{action.dimension}") if action.dimension else None
    rows = [
        [
            _button(
                context,
                pseudonym,
                status_word(s, language),
                STATUS,
                f"{action.id}-{i}",
                action.version,
            )
            for i, s in enumerate(_STATUSES)
            if s is not action.status
        ],
        [
            _button(
                context,
                pseudonym,
                context.t(language, key),
                kind,
                str(action.id),
                action.version,
            )
            for key, kind in (("actions_due_button", DUE), ("actions_who_button", WHO))
        ],
        [
            _button(
                context,
                pseudonym,
                context.t(language, "actions_note_button"),
                NOTE,
                str(action.id),
                action.version,
            )
        ],
    ]
    await _say(
        update, context, action_detail(action, language, dimension), InlineKeyboardMarkup(rows)
    )


async def on_draft_text(update: Update, context: BotContext) -> None:
    """Take a private text as the answer of a follow-up dialogue, if one is in progress.

    Registered before the survey's text handler; without a dialogue it does nothing and the
    survey handles the message as before.
    """
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    services = context.services
    pseudonym = services.pseudonym(user.id)
    if not await actions.in_progress(services.db.engine, pseudonym, services.clock()):
        return
    asker = await asker_for(services, user.id, user.language_code)
    reply = await actions.answer(
        services.db.engine, asker.viewer, pseudonym, message.text, services.clock(), _today(context)
    )
    if reply is not None:
        markup = _cancel_keyboard(context, pseudonym, asker.language) if reply.asking else None
        await _say(update, context, context.t(asker.language, reply.key, **reply.values), markup)
    raise ApplicationHandlerStop


async def on_draft_document(update: Update, context: BotContext) -> None:
    """Take a private document as the evidence a note question asked for."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    await _evidence(update, context, message.document.file_id, "document")


async def on_draft_photo(update: Update, context: BotContext) -> None:
    """Take a private photo as the evidence a note question asked for (like a document).

    Registered before the broadcast's photo handler: without a note question waiting it does
    nothing, and the photo goes on to /siaran or the survey as before.
    """
    message = update.effective_message
    if message is None or not message.photo or (message.caption or "").startswith("/"):
        return  # a photo captioned with a command (/siaran TEKS) is not evidence
    await _evidence(update, context, message.photo[-1].file_id, "photo")


async def _evidence(update: Update, context: BotContext, file_id: str, kind: str) -> None:
    """Attach a file as evidence if a note question waits for it, and stop the update."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    pseudonym = services.pseudonym(user.id)
    if not await actions.in_progress(services.db.engine, pseudonym, services.clock()):
        return
    asker = await asker_for(services, user.id, user.language_code)
    reply = await actions.attach_document(
        services.db.engine, asker.viewer, pseudonym, file_id, services.clock(), kind
    )
    if reply is None:
        return
    await _say(update, context, context.t(asker.language, reply.key, **reply.values))
    raise ApplicationHandlerStop
