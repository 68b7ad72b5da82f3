"""Bot API methods that send messages: text, photos and documents."""

from __future__ import annotations

import mimetypes
import time
from typing import Any, Literal

from sandbox.chats import SandboxChat
from sandbox.models import SentMessage, StoredFile
from sandbox.params import Params, Upload
from sandbox.rules import (
    bad_request,
    check_buttons_for_chat,
    check_caption,
    check_text,
    image_size,
    normalize_parse_mode,
    parse_reply_markup,
)
from sandbox.world import World

MediaKind = Literal["photo", "document"]


def _now() -> int:
    return int(time.time())


async def send_message(world: World, params: Params) -> dict[str, Any]:
    """Send a text message."""
    chat = world.chat_for_bot(params.chat_id())
    parse_mode = normalize_parse_mode(params.text("parse_mode"))
    text = params.text("text")
    check_text(text, parse_mode)
    markup, buttons = parse_reply_markup(params.json("reply_markup"))
    check_buttons_for_chat(buttons, chat.type)
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
    check_buttons_for_chat(buttons, chat.type)
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
