"""Chats the bot is in, as the sandbox keeps them: the bot's messages, edits applied."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Literal, Protocol

from sandbox.models import SandboxError, SentMessage

ChatType = Literal["private", "group", "supergroup"]


class ChatHost(Protocol):
    """What a chat needs from the sandbox's world: a change signal and activity stamps."""

    def notify(self) -> None:
        """Wake everyone waiting for a change."""

    def bump_activity(self) -> int:
        """Return a new, strictly increasing activity stamp."""


class SandboxChat:
    """A chat the bot is in: a user's private chat or a group."""

    def __init__(
        self,
        world: ChatHost,
        chat_id: int,
        chat_type: ChatType,
        *,
        title: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        privacy_mode: bool = True,
    ) -> None:
        self._world = world
        self.id = chat_id
        self.type: ChatType = chat_type
        self.title = title
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        # With privacy mode on (Telegram's default) a bot in a group sees only commands.
        self.privacy_mode = privacy_mode
        self.bot_blocked = False
        self.bot_kicked = False
        self.last_bot_activity = 0
        # Set on each bot activity here: a waiting user wakes for its own chat only, so
        # hundreds of simulated users do not all re-check on every message anywhere.
        self._bot_acted = asyncio.Event()
        self.last_touched_id: int | None = None
        self._bot_messages: dict[int, SentMessage] = {}
        self._user_message_ids: set[int] = set()
        self._next_message_id = 1

    def __repr__(self) -> str:
        return f"SandboxChat(id={self.id}, type={self.type!r})"

    def to_api(self) -> dict[str, Any]:
        """Render as a Bot API Chat object."""
        rendered: dict[str, Any] = {"id": self.id, "type": self.type}
        fields = {
            "title": self.title,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
        }
        rendered.update({key: value for key, value in fields.items() if value is not None})
        return rendered

    @property
    def messages(self) -> list[SentMessage]:
        """Bot messages currently in the chat, oldest first (edits applied, deletions gone)."""
        return list(self._bot_messages.values())

    @property
    def last_message(self) -> SentMessage | None:
        """The newest bot message still in the chat."""
        return next(reversed(self._bot_messages.values()), None)

    def message(self, message_id: int) -> SentMessage:
        """Return the current state of a bot message, or raise SandboxError."""
        try:
            return self._bot_messages[message_id]
        except KeyError:
            raise SandboxError(
                f"chat {self.id} has no bot message {message_id} (never sent or deleted)"
            ) from None

    def kick_bot(self) -> None:
        """Remove the bot from this group; its next call here gets 403."""
        if self.type == "private":
            raise SandboxError("use user.block_bot() for private chats")
        self.bot_kicked = True

    def add_bot(self) -> None:
        """Add the bot back to this group."""
        self.bot_kicked = False

    # -- used by the Bot API methods -------------------------------------------------------

    def allocate_message_id(self) -> int:
        """Return the next message id; user and bot messages share one sequence per chat."""
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def bot_message(self, message_id: int) -> SentMessage | None:
        """Return a bot message by id, if it is still in the chat."""
        return self._bot_messages.get(message_id)

    def is_user_message(self, message_id: int) -> bool:
        """Whether `message_id` is a message a user sent here (and not deleted)."""
        return message_id in self._user_message_ids

    def remember_user_message(self, message_id: int) -> None:
        """Record a user message id, so the bot can delete it and cannot edit it."""
        self._user_message_ids.add(message_id)

    def put_bot_message(self, message: SentMessage) -> None:
        """Store a new or edited bot message and mark the chat as replied to."""
        self._bot_messages[message.message_id] = message
        self.last_bot_activity = self._world.bump_activity()
        self.last_touched_id = message.message_id
        acted, self._bot_acted = self._bot_acted, asyncio.Event()
        acted.set()
        self._world.notify()

    async def wait_bot_activity(self, after: int, seconds: float) -> bool:
        """Wait until the bot acts here later than stamp `after`; False after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.last_bot_activity <= after:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # arrives with the wake-up, and a cancelled simulated user would run on forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._bot_acted.wait()
        return True

    def delete_message(self, message_id: int) -> bool:
        """Delete a bot or user message; return whether it existed."""
        if self._bot_messages.pop(message_id, None) is not None:
            self._world.notify()
            return True
        if message_id in self._user_message_ids:
            self._user_message_ids.discard(message_id)
            return True
        return False
