"""Users that tests and the demo drive: they type, tap buttons, block the bot."""

from __future__ import annotations

import re
import struct
import time
import zlib
from typing import Any, Final, Protocol

from sandbox.chats import ChatType, SandboxChat
from sandbox.models import SandboxError, SentMessage, StoredFile

__all__ = ["TINY_PNG", "ChatType", "MessageLike", "SandboxChat", "SandboxUser", "UserHost"]


class UserHost(Protocol):
    """What a user needs from the sandbox's world (the world implements it; no import back)."""

    bot_username: str
    chats: dict[int, SandboxChat]

    def bump_activity(self) -> int:
        """Return a new, strictly increasing activity stamp."""

    def queue_update(self, kind: str, payload: dict[str, Any]) -> object:
        """Queue an update for the bot."""

    def new_callback_query_id(self) -> str:
        """Return a fresh callback query id."""

    def render_message(self, message: SentMessage) -> dict[str, Any]:
        """Render a bot message as the Bot API returns it."""

    def store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] = (0, 0),
    ) -> StoredFile:
        """Keep a file and give it a file_id."""

    def timeout_error(self, what: str, seconds: float) -> TimeoutError:
        """Build the error for a wait that ran out."""


class MessageLike(Protocol):
    """Anything naming a message in a chat: a SentMessage or PTB's telegram.Message."""

    @property
    def message_id(self) -> int: ...

    @property
    def chat_id(self) -> int: ...


_COMMAND_RE: Final = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
# Telegram only passes deep-link payloads made of these characters, at most 64 of them.
_DEEP_LINK_PAYLOAD_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# A valid 1x1 white PNG, the default picture a sandbox user sends.
TINY_PNG: Final = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
    + _png_chunk(b"IEND", b"")
)


def _now() -> int:
    return int(time.time())


class SandboxUser:
    """A person using Telegram: everything they do becomes an update for the bot."""

    def __init__(
        self,
        world: UserHost,
        user_id: int,
        first_name: str,
        chat: SandboxChat,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        self._world = world
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.chat = chat
        self._last_chat = chat
        # Per chat: the activity stamp of this user's last action there.
        self._seen_activity: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"SandboxUser(id={self.id}, first_name={self.first_name!r})"

    def to_api(self) -> dict[str, Any]:
        """Render as a Bot API User object."""
        rendered: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        fields = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        rendered.update({key: value for key, value in fields.items() if value is not None})
        return rendered

    # -- messages ---------------------------------------------------------------------------

    async def send(self, text: str, *, chat: SandboxChat | None = None) -> dict[str, Any]:
        """Type `text` into a chat (private by default); return the Message the bot receives."""
        if not text:
            raise SandboxError("Telegram clients cannot send an empty message")
        content: dict[str, Any] = {"text": text}
        if match := _COMMAND_RE.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        return self._post(chat or self.chat, content, is_command=match is not None)

    async def command(
        self, name: str, payload: str | None = None, *, chat: SandboxChat | None = None
    ) -> dict[str, Any]:
        """Send "/name payload"; in groups the command is addressed as /name@bot."""
        target = chat or self.chat
        command = f"/{name.removeprefix('/')}"
        if target.type != "private":
            command += f"@{self._world.bot_username}"
        return await self.send(f"{command} {payload}" if payload else command, chat=target)

    async def open_deep_link(self, payload: str) -> dict[str, Any]:
        """Open t.me/<bot>?start=<payload>: the client sends "/start <payload>"."""
        if not _DEEP_LINK_PAYLOAD_RE.match(payload):
            raise SandboxError(
                f"deep-link payload {payload!r} is invalid: Telegram allows 1-64 characters "
                "of A-Z, a-z, 0-9, _ and -; a real client would drop it"
            )
        return await self.command("start", payload)

    async def send_sticker(
        self, emoji: str = "👍", *, chat: SandboxChat | None = None
    ) -> dict[str, Any]:
        """Send a sticker."""
        stored = self._world.store_file("sticker", b"", mime_type="image/webp", size=(512, 512))
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._post(chat or self.chat, {"sticker": sticker})

    async def send_photo(
        self,
        data: bytes = TINY_PNG,
        *,
        caption: str | None = None,
        chat: SandboxChat | None = None,
    ) -> dict[str, Any]:
        """Send a photo (a 1x1 PNG unless `data` is given)."""
        stored = self._world.store_file("photo", data, mime_type="image/png", size=(1, 1))
        content: dict[str, Any] = {"photo": [stored.as_photo_size()]}
        if caption:
            content["caption"] = caption
        return self._post(chat or self.chat, content)

    async def send_voice(
        self, duration: int = 2, *, chat: SandboxChat | None = None
    ) -> dict[str, Any]:
        """Send a voice note."""
        stored = self._world.store_file("voice", b"OggS", mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        return self._post(chat or self.chat, {"voice": voice})

    async def send_document(
        self,
        data: bytes,
        filename: str,
        *,
        mime_type: str = "application/octet-stream",
        chat: SandboxChat | None = None,
    ) -> dict[str, Any]:
        """Send a file."""
        stored = self._world.store_file("document", data, filename=filename, mime_type=mime_type)
        return self._post(chat or self.chat, {"document": stored.as_document()})

    def _post(
        self, chat: SandboxChat, content: dict[str, Any], *, is_command: bool = False
    ) -> dict[str, Any]:
        self._check_member(chat)
        if chat.type == "private":
            # Writing to a bot you blocked is what the client's "Restart" button does.
            chat.bot_blocked = False
        message_id = chat.allocate_message_id()
        message = {
            "message_id": message_id,
            "from": self.to_api(),
            "chat": chat.to_api(),
            "date": _now(),
            **content,
        }
        chat.remember_user_message(message_id)
        self._mark_action(chat)
        if chat.type == "private" or not chat.privacy_mode or is_command:
            self._world.queue_update("message", message)
        return message

    # -- buttons ----------------------------------------------------------------------------

    async def tap(
        self,
        message: MessageLike | int,
        *,
        text: str | None = None,
        data: str | None = None,
        chat: SandboxChat | None = None,
    ) -> dict[str, Any]:
        """Tap an inline button (by label and/or data) on a bot message; return the query."""
        if text is None and data is None:
            raise SandboxError("say which button to tap: text=... and/or data=...")
        target = self._chat_of(message, chat)
        message_id = message if isinstance(message, int) else message.message_id
        # Use the message as it is now: an edit may have replaced or removed the keyboard.
        current = target.message(message_id)
        button = current.find_button(text=text, data=data)
        if button.data is None:
            raise SandboxError(f"button {button.text!r} opens {button.url}; it sends no callback")
        return self._callback(target, current, button.data)

    async def tap_raw(
        self, message_id: int, data: str, *, chat: SandboxChat | None = None
    ) -> dict[str, Any]:
        """Send callback data the bot never offered, as a modified client could."""
        target = chat or self.chat
        return self._callback(target, target.message(message_id), data)

    def _chat_of(self, message: MessageLike | int, chat: SandboxChat | None) -> SandboxChat:
        if chat is not None or isinstance(message, int):
            return chat or self.chat
        target = self._world.chats[message.chat_id]
        if target.type == "private" and target is not self.chat:
            raise SandboxError(f"{self!r} cannot see messages in another user's private chat")
        return target

    def _callback(self, chat: SandboxChat, message: SentMessage, data: str) -> dict[str, Any]:
        self._check_member(chat)
        query = {
            "id": self._world.new_callback_query_id(),
            "from": self.to_api(),
            "message": self._world.render_message(message),
            # Telegram's chat_instance is an opaque, stable per-chat identifier.
            "chat_instance": str(abs(chat.id) * 7919 + 104729),
            "data": data,
        }
        self._mark_action(chat)
        self._world.queue_update("callback_query", query)
        return query

    # -- relationship with the bot ---------------------------------------------------------

    def block_bot(self) -> None:
        """Block the bot: its next message to this user gets 403 Forbidden."""
        self.chat.bot_blocked = True

    def unblock_bot(self) -> None:
        """Unblock the bot."""
        self.chat.bot_blocked = False

    def _check_member(self, chat: SandboxChat) -> None:
        if chat.bot_kicked:
            raise SandboxError(f"the bot is no longer a member of {chat!r}")
        if chat.type == "private" and chat is not self.chat:
            raise SandboxError(f"{self!r} cannot write in another user's private chat")

    def _mark_action(self, chat: SandboxChat) -> None:
        self._last_chat = chat
        self._seen_activity[chat.id] = self._world.bump_activity()

    async def wait_for_reply(
        self,
        timeout: float = 5.0,
        *,
        chat: SandboxChat | None = None,
    ) -> SentMessage:
        """Wait for the bot to send or edit something after this user's last action there.

        Returns the message most recently sent or edited; a second call then waits for
        activity newer than that.
        """
        target = chat or self._last_chat
        seen = self._seen_activity.get(target.id, 0)
        if not await target.wait_bot_activity(seen, timeout):
            what = f"the bot to reply to {self.first_name} in chat {target.id}"
            raise self._world.timeout_error(what, timeout)
        self._seen_activity[target.id] = target.last_bot_activity
        touched = target.bot_message(target.last_touched_id or 0) or target.last_message
        if touched is None:
            raise SandboxError(f"the bot replied in chat {target.id} but deleted the message")
        return touched
