"""The Bot API methods the sandbox serves, each validating like Telegram does.

Sending lives in `sandbox.sending`, editing and deleting in `sandbox.editing`, webhooks in
`sandbox.webhook`; this module holds the rest and the table of every method served.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Final

from sandbox.editing import (
    delete_message,
    delete_messages,
    edit_message_caption,
    edit_message_reply_markup,
    edit_message_text,
)
from sandbox.models import CallbackAnswer
from sandbox.params import Params
from sandbox.rules import MAX_CALLBACK_ANSWER_LENGTH, ApiError, bad_request
from sandbox.sending import send_document, send_message, send_photo
from sandbox.webapps import get_chat_menu_button, set_chat_menu_button
from sandbox.webhook import delete_webhook, get_webhook_info, set_webhook
from sandbox.world import World

Method = Callable[[World, Params], Awaitable[Any]]

QUERY_TOO_OLD: Final = "query is too old and response timeout expired or query ID is invalid"

_BOT_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


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
    if world.webhook is not None:
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


async def answer_callback_query(world: World, params: Params) -> bool:
    """Answer a callback query exactly once."""
    query_id = params.text("callback_query_id") or ""
    text = params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    # Telegram gives the bot ~15 s (`callback_query_ttl`) to answer, and only one answer.
    if not world.take_callback_query(query_id):
        raise bad_request(QUERY_TOO_OLD)
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
        "setChatMenuButton": set_chat_menu_button,
        "getChatMenuButton": get_chat_menu_button,
        "setWebhook": set_webhook,
        "deleteWebhook": delete_webhook,
        "getWebhookInfo": get_webhook_info,
        "getFile": get_file,
        "sendChatAction": send_chat_action,
        "close": accept,
        "logOut": accept,
    }.items()
}
