"""Bot API methods that change or delete messages already sent."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from sandbox.chats import SandboxChat
from sandbox.models import SentMessage
from sandbox.params import Params
from sandbox.rules import (
    NOT_MODIFIED,
    bad_request,
    check_buttons_for_chat,
    check_caption,
    check_text,
    normalize_parse_mode,
    parse_reply_markup,
)
from sandbox.world import World


def _now() -> int:
    return int(time.time())


def _inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Only an inline keyboard belongs to the message; reply keyboards live on the client.
    return markup if markup and "inline_keyboard" in markup else None


def _message_to_edit(world: World, params: Params) -> tuple[SandboxChat, SentMessage]:
    if params.text("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # The sandbox has no inline mode.
    chat = world.chat_for_bot(params.chat_id())
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.bot_message(message_id)
    if message is None:
        if chat.is_user_message(message_id):
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return chat, message


def _apply_edit(
    world: World, chat: SandboxChat, current: SentMessage, edited: SentMessage
) -> dict[str, Any]:
    unchanged = (
        edited.text == current.text
        and edited.caption == current.caption
        and edited.parse_mode == current.parse_mode
        and _inline_part(edited.reply_markup) == _inline_part(current.reply_markup)
    )
    if unchanged:
        raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
    edited = replace(edited, edit_count=current.edit_count + 1, edit_date=_now())
    chat.put_bot_message(edited)
    return world.render_message(edited)


async def edit_message_text(world: World, params: Params) -> dict[str, Any]:
    """Edit a bot message's text; leaving out reply_markup removes the keyboard."""
    chat, current = _message_to_edit(world, params)
    parse_mode = normalize_parse_mode(params.text("parse_mode"))
    text = params.text("text")
    check_text(text, parse_mode)
    if current.text is None:
        raise bad_request("there is no text in the message to edit")
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    check_buttons_for_chat(buttons, chat.type)
    edited = replace(
        current, text=text, parse_mode=parse_mode, reply_markup=markup, buttons=buttons
    )
    return _apply_edit(world, chat, current, edited)


async def edit_message_caption(world: World, params: Params) -> dict[str, Any]:
    """Edit a media message's caption; leaving out reply_markup removes the keyboard."""
    chat, current = _message_to_edit(world, params)
    parse_mode = normalize_parse_mode(params.text("parse_mode"))
    caption = params.text("caption")
    check_caption(caption, parse_mode)
    if current.media is None:
        raise bad_request("there is no caption in the message to edit")
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    check_buttons_for_chat(buttons, chat.type)
    edited = replace(
        current,
        caption=caption or None,
        parse_mode=parse_mode,
        reply_markup=markup,
        buttons=buttons,
    )
    return _apply_edit(world, chat, current, edited)


async def edit_message_reply_markup(world: World, params: Params) -> dict[str, Any]:
    """Replace (or, without reply_markup, remove) a bot message's inline keyboard."""
    chat, current = _message_to_edit(world, params)
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    check_buttons_for_chat(buttons, chat.type)
    edited = replace(current, reply_markup=markup, buttons=buttons)
    return _apply_edit(world, chat, current, edited)


async def delete_message(world: World, params: Params) -> bool:
    """Delete a message from a chat."""
    chat = world.chat_for_bot(params.chat_id())
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    if not chat.delete_message(message_id):
        raise bad_request("message to delete not found")
    return True


async def delete_messages(world: World, params: Params) -> bool:
    """Delete several messages; missing ones are skipped, as Telegram does."""
    chat = world.chat_for_bot(params.chat_id())
    message_ids = params.json("message_ids")
    if not isinstance(message_ids, list) or not message_ids:
        raise bad_request("message identifiers are not specified")
    for message_id in message_ids:
        chat.delete_message(int(message_id))
    return True
