"""The Bot API methods the sandbox serves, each validating like Telegram does."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any, Final, Literal

from sandbox.actors import SandboxChat
from sandbox.models import CallbackAnswer, SentMessage, StoredFile
from sandbox.params import Params, Upload
from sandbox.rules import (
    MAX_CALLBACK_ANSWER_LENGTH,
    NOT_MODIFIED,
    ApiError,
    bad_request,
    check_caption,
    check_text,
    image_size,
    normalize_parse_mode,
    parse_reply_markup,
)
from sandbox.world import World

Method = Callable[[World, Params], Awaitable[Any]]
MediaKind = Literal["photo", "document"]

_BOT_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


def _now() -> int:
    return int(time.time())


def _inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Only an inline keyboard belongs to the message; reply keyboards live on the client.
    return markup if markup and "inline_keyboard" in markup else None


async def get_me(world: World, params: Params) -> dict[str, Any]:
    """Describe the bot."""
    return {
        **world.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(world: World, params: Params) -> list[dict[str, Any]]:
    """Confirm updates below `offset`, then long-poll up to `timeout` seconds for new ones."""
    if world.webhook_url:
        raise ApiError(
            HTTPStatus.CONFLICT,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    world.confirm_updates(params.integer("offset"))
    limit = min(max(params.integer("limit", 100) or 100, 1), 100)
    timeout = max(params.number("timeout", 0.0), 0.0)
    allowed = params.json("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = frozenset(str(kind) for kind in allowed)
    # Like Telegram, a newer getUpdates ends any older one still waiting.
    world.poll_generation += 1
    generation = world.poll_generation
    world.notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != world.poll_generation:
            raise ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        updates = world.peek_updates(limit)
        remaining = deadline - loop.time()
        if updates or world.closing or remaining <= 0:
            return updates
        await world.wait_changed(remaining)


async def send_message(world: World, params: Params) -> dict[str, Any]:
    """Send a text message."""
    chat = world.chat_for_bot(params.chat_id())
    parse_mode = normalize_parse_mode(params.text("parse_mode"))
    text = params.text("text")
    check_text(text, parse_mode)
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    _check_reply_target(chat, params)
    message = SentMessage(
        message_id=chat.allocate_message_id(),
        chat_id=chat.id,
        date=_now(),
        text=text,
        parse_mode=parse_mode,
        buttons=buttons,
        reply_markup=markup,
    )
    chat.put_bot_message(message)
    return world.render_message(message)


async def send_photo(world: World, params: Params) -> dict[str, Any]:
    """Send a photo (uploaded bytes, a known file_id, or a URL)."""
    return _send_media(world, params, "photo")


async def send_document(world: World, params: Params) -> dict[str, Any]:
    """Send a document (uploaded bytes, a known file_id, or a URL)."""
    return _send_media(world, params, "document")


def _send_media(world: World, params: Params, kind: MediaKind) -> dict[str, Any]:
    chat = world.chat_for_bot(params.chat_id())
    parse_mode = normalize_parse_mode(params.text("parse_mode"))
    caption = params.text("caption")
    check_caption(caption, parse_mode)
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    _check_reply_target(chat, params)
    stored = _resolve_media(world, kind, params.upload_or_reference(kind))
    message = SentMessage(
        message_id=chat.allocate_message_id(),
        chat_id=chat.id,
        date=_now(),
        caption=caption or None,
        parse_mode=parse_mode,
        buttons=buttons,
        reply_markup=markup,
        media_kind=kind,
        media=stored,
    )
    chat.put_bot_message(message)
    return world.render_message(message)


def _resolve_media(world: World, kind: MediaKind, source: Upload | str | None) -> StoredFile:
    if source is None or source == "":
        raise bad_request(f"there is no {kind} in the request")
    if isinstance(source, str):
        if source in world.files:
            return world.files[source]
        if source.startswith(("http://", "https://")):
            # The sandbox never fetches URLs; it records the file without bytes.
            return world.store_file(kind, None, filename=source.rsplit("/", 1)[-1] or None)
        raise bad_request("wrong file identifier/HTTP URL specified")
    if not source.data:
        raise bad_request("file must be non-empty")
    mime_type = source.content_type
    if not mime_type or mime_type == "application/octet-stream":
        mime_type = mimetypes.guess_type(source.filename or "")[0] or mime_type
    size = (0, 0)
    if kind == "photo":
        measured = image_size(source.data)
        if measured is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        size = measured
    return world.store_file(
        kind, source.data, filename=source.filename, mime_type=mime_type, size=size
    )


def _check_reply_target(chat: SandboxChat, params: Params) -> None:
    reply = params.json("reply_parameters") or {}
    target = reply.get("message_id") if isinstance(reply, dict) else None
    target = target if target is not None else params.integer("reply_to_message_id")
    if target is None:
        return
    allow_missing = bool(reply.get("allow_sending_without_reply")) or params.flag(
        "allow_sending_without_reply"
    )
    exists = chat.bot_message(int(target)) is not None or chat.is_user_message(int(target))
    if not exists and not allow_missing:
        raise bad_request("message to be replied not found")


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


async def answer_callback_query(world: World, params: Params) -> bool:
    """Answer a callback query exactly once."""
    query_id = params.text("callback_query_id") or ""
    if query_id not in world.open_callback_queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    world.open_callback_queries.discard(query_id)
    world.callback_answers.append(
        CallbackAnswer(
            callback_query_id=query_id,
            text=text,
            show_alert=params.flag("show_alert"),
            url=params.text("url"),
            timestamp=time.time(),
        )
    )
    world.notify()
    return True


def commands_key(scope: Any, language_code: str | None) -> str:
    """Return the key under which a command menu for this scope and language is stored."""
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


def _commands_key(params: Params) -> str:
    return commands_key(params.json("scope"), params.text("language_code"))


async def set_my_commands(world: World, params: Params) -> bool:
    """Store the command menu for a scope and language."""
    commands = params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _BOT_COMMAND_RE.match(
            str(command.get("command", ""))
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_commands_key(params)] = commands
    return True


async def get_my_commands(world: World, params: Params) -> list[dict[str, Any]]:
    """Return the command menu for a scope and language."""
    return world.commands.get(_commands_key(params), [])


async def delete_my_commands(world: World, params: Params) -> bool:
    """Forget the command menu for a scope and language."""
    world.commands.pop(_commands_key(params), None)
    return True


async def set_webhook(world: World, params: Params) -> bool:
    """Remember a webhook URL (updates are not pushed; getUpdates then answers 409)."""
    world.webhook_url = params.text("url") or ""
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    return True


async def delete_webhook(world: World, params: Params) -> bool:
    """Forget the webhook, optionally dropping pending updates."""
    world.webhook_url = ""
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    return True


async def get_webhook_info(world: World, params: Params) -> dict[str, Any]:
    """Describe the webhook."""
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": world.pending_updates,
    }


async def get_file(world: World, params: Params) -> dict[str, Any]:
    """Return a File whose file_path downloads from `server.base_file_url`."""
    stored = world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


async def send_chat_action(world: World, params: Params) -> bool:
    """Accept a typing/uploading indicator (after the usual chat checks)."""
    world.chat_for_bot(params.chat_id())
    return True


async def accept(world: World, params: Params) -> bool:
    """Return true: for close and logOut, which have nothing to do here."""
    return True


# Telegram matches method names case-insensitively, so the table is keyed in lower case.
METHODS: Final[dict[str, Method]] = {
    name.lower(): method
    for name, method in {
        "getMe": get_me,
        "getUpdates": get_updates,
        "sendMessage": send_message,
        "sendPhoto": send_photo,
        "sendDocument": send_document,
        "editMessageText": edit_message_text,
        "editMessageCaption": edit_message_caption,
        "editMessageReplyMarkup": edit_message_reply_markup,
        "deleteMessage": delete_message,
        "deleteMessages": delete_messages,
        "answerCallbackQuery": answer_callback_query,
        "setMyCommands": set_my_commands,
        "getMyCommands": get_my_commands,
        "deleteMyCommands": delete_my_commands,
        "setWebhook": set_webhook,
        "deleteWebhook": delete_webhook,
        "getWebhookInfo": get_webhook_info,
        "getFile": get_file,
        "sendChatAction": send_chat_action,
        "close": accept,
        "logOut": accept,
    }.items()
}
