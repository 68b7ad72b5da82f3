"""The sandbox's in-memory Telegram: chats, users, the update queue, files and call logs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final, TypeVar

from sandbox.actors import SandboxUser
from sandbox.chats import ChatType, SandboxChat
from sandbox.markup import visible_text
from sandbox.models import (
    ApiCall,
    CallbackAnswer,
    SandboxError,
    SentMessage,
    StoredFile,
    Webhook,
)
from sandbox.rules import ApiError, bad_request

T = TypeVar("T")

# Without an explicit allowed_updates list Telegram delivers every type except these.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class World:
    """Everything the sandbox knows; shared by the HTTP side and the test-facing actors."""

    def __init__(
        self,
        bot_username: str,
        bot_name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        callback_query_ttl: float = 15.0,
    ) -> None:
        self.bot_id = 1
        self.bot_token: str | None = None  # as the bot last sent it: signs Mini App launches
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.chats: dict[int, SandboxChat] = {}
        self.users: dict[int, SandboxUser] = {}
        self.files: dict[str, StoredFile] = {}
        self.sent: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        # Unanswered callback queries and when (on `clock`) each was made.
        self.open_callback_queries: dict[str, float] = {}
        self.clock = clock
        self.callback_query_ttl = callback_query_ttl
        self.commands: dict[str, list[dict[str, Any]]] = {}
        # setChatMenuButton: per private chat, and the default under None.
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: Webhook | None = None
        self.webhook_last_error: tuple[int, str] | None = None  # (unix time, Telegram's text)
        self.allowed_updates: frozenset[str] | None = None
        self.closing = False
        self.stopped = asyncio.Event()  # set while the server is stopping: cut waits short
        self.poll_generation = 0
        self._updates: list[dict[str, Any]] = []
        # Held back (an outage): chat id and update body, numbered only when released.
        self._held: list[tuple[int | None, str, dict[str, Any]]] = []
        self._hold_all = False
        self._hold_chats: set[int] = set()
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._activity = itertools.count(1)
        self.activity = 0
        self._changed = asyncio.Event()

    # -- change notification -------------------------------------------------------------

    def notify(self) -> None:
        """Wake everyone waiting for a change (long polls, wait_for)."""
        # Swapping in a fresh event wakes current waiters without a set()/clear() race.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def bump_activity(self) -> int:
        """Return a new, strictly increasing activity stamp."""
        self.activity = next(self._activity)
        return self.activity

    async def wait_changed(self, seconds: float) -> None:
        """Wait until something changes or `seconds` pass."""
        with contextlib.suppress(TimeoutError):  # not wait_for: see SandboxChat.wait_bot_activity
            async with asyncio.timeout(seconds):
                await self._changed.wait()

    async def wait_for(
        self, predicate: Callable[[], T], seconds: float, description: str | None = None
    ) -> T:
        """Wait until `predicate()` is truthy and return its value, or raise TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = description or str(getattr(predicate, "__name__", repr(predicate)))
                raise self.timeout_error(what, seconds)
            # Re-check periodically too: the predicate may depend on state outside the sandbox.
            await self.wait_changed(min(remaining, 0.05))
        return result

    def timeout_error(self, what: str, seconds: float) -> TimeoutError:
        """Build the error for a wait that ran out, naming the bot's last calls."""
        recent = "; ".join(
            f"{call.method}({call.chat_id}){' -> ' + call.error if call.error else ''}"
            for call in self.sent[-5:]
        )
        return TimeoutError(
            f"timed out after {seconds}s waiting for {what}; last bot calls: {recent or 'none'}"
        )

    # -- identities ------------------------------------------------------------------------

    def remember_bot(self, token: str) -> None:
        """Note who calls: the bot's id, and its token (it signs Mini App launches)."""
        self.bot_token = token
        self.bot_id = int(token.split(":", 1)[0])

    def bot_user(self) -> dict[str, Any]:
        """Return the bot as a Telegram User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SandboxUser:
        """Return the user with this id, creating it and its private chat on first use."""
        if user_id not in self.users:
            if user_id <= 0:
                raise SandboxError("user ids are positive; negative ids are for groups")
            chat = SandboxChat(
                self,
                user_id,
                "private",
                first_name=first_name,
                last_name=last_name,
                username=username,
            )
            self.chats[user_id] = chat
            self.users[user_id] = SandboxUser(
                self,
                user_id,
                first_name,
                chat,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        return self.users[user_id]

    def group(
        self, chat_id: int, title: str, *, supergroup: bool = False, privacy_mode: bool = True
    ) -> SandboxChat:
        """Return the group with this id, creating it (with the bot as member) on first use."""
        if chat_id not in self.chats:
            if chat_id >= 0:
                raise SandboxError("group chat ids are negative")
            kind: ChatType = "supergroup" if supergroup else "group"
            self.chats[chat_id] = SandboxChat(
                self, chat_id, kind, title=title, privacy_mode=privacy_mode
            )
        return self.chats[chat_id]

    def chat_for_bot(self, chat_id: int | str | None) -> SandboxChat:
        """Resolve the chat a bot call targets, refusing it the way Telegram would."""
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.bot_blocked:
            raise ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if chat.bot_kicked:
            raise ApiError(
                HTTPStatus.FORBIDDEN, f"Forbidden: bot was kicked from the {chat.type} chat"
            )
        return chat

    # -- updates -----------------------------------------------------------------------------

    def queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update of `kind` ("message", "callback_query", ...) for the bot.

        Returns the update, or None when updates of its chat are held back.
        """
        chat_id = _chat_of(payload)
        if self._is_held(chat_id):
            self._held.append((chat_id, kind, payload))
            return None
        return self._append(kind, payload)

    def queue_raw_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update body as given (only update_id is added), however malformed."""
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self.notify()
        return update

    def _append(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.queue_raw_update({kind: payload})

    # -- holding updates back (an outage, a backlog) -------------------------------------------

    def hold_updates(self, chat_ids: tuple[int, ...]) -> None:
        """Hold back new updates of these chats (of every chat if none are named)."""
        if chat_ids:
            self._hold_chats.update(chat_ids)
        else:
            self._hold_all = True

    def release_updates(self, chat_ids: tuple[int, ...]) -> int:
        """Stop holding these chats (all if none named); queue what was held, in order."""
        if chat_ids:
            self._hold_chats.difference_update(chat_ids)
        else:
            self._hold_all = False
            self._hold_chats.clear()
        released = 0
        kept: list[tuple[int | None, str, dict[str, Any]]] = []
        for chat_id, kind, payload in self._held:
            if self._is_held(chat_id):
                kept.append((chat_id, kind, payload))
            else:
                # Numbered now: a held update must not sit below an offset already confirmed.
                self._append(kind, payload)
                released += 1
        self._held = kept
        return released

    def _is_held(self, chat_id: int | None) -> bool:
        return self._hold_all or (chat_id is not None and chat_id in self._hold_chats)

    @property
    def held_updates(self) -> int:
        """Number of user actions held back and not yet released."""
        return len(self._held)

    @property
    def pending_updates(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self._updates)

    def confirm_updates(self, offset: int | None) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset."""
        if offset is None:
            return
        if offset < 0:
            del self._updates[:offset]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def remove_update(self, update_id: int) -> None:
        """Forget one update (a webhook delivered it, or gave up on it)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self.notify()

    def next_undelivered(self, in_flight: set[int]) -> dict[str, Any] | None:
        """Return the oldest allowed pending update not being delivered already."""
        return next((u for u in self.peek_updates(100) if u["update_id"] not in in_flight), None)

    def drop_pending_updates(self) -> None:
        """Forget every pending update (deleteWebhook/setWebhook drop_pending_updates)."""
        self._updates.clear()

    def peek_updates(self, limit: int) -> list[dict[str, Any]]:
        """Return up to `limit` pending updates, dropping types the bot did not ask for."""
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        return self._updates[:limit]

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self.allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        # An empty list means "everything except the opt-in types", as in the Bot API.
        return kind in self.allowed_updates or (
            not self.allowed_updates and kind not in _OPT_IN_UPDATES
        )

    def new_callback_query_id(self) -> str:
        """Return a fresh callback query id and remember it as unanswered."""
        query_id = str(4_000_000_000_000 + next(self._query_ids))
        self.open_callback_queries[query_id] = self.clock()
        return query_id

    def take_callback_query(self, query_id: str) -> bool:
        """Close a query for answering; False if unknown, answered or older than the TTL."""
        made = self.open_callback_queries.pop(query_id, None)
        return made is not None and self.clock() - made <= self.callback_query_ttl

    # -- files and rendering -----------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] = (0, 0),
    ) -> StoredFile:
        """Keep a file and give it a file_id, as Telegram does on upload."""
        number = next(self._file_ids)
        stored = StoredFile(
            file_id=f"sandbox-{kind}-{number}",
            file_unique_id=f"u{kind}{number}",
            data=data,
            file_path=f"{kind}s/file_{number}{_extension(filename, mime_type)}",
            filename=filename,
            mime_type=mime_type,
            width=size[0],
            height=size[1],
        )
        self.files[stored.file_id] = stored
        return stored

    def render_message(self, message: SentMessage) -> dict[str, Any]:
        """Render a bot message as the Bot API returns it."""
        chat = self.chats[message.chat_id]
        rendered: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            rendered["edit_date"] = message.edit_date
        if message.text is not None:
            # Telegram answers with the parsed text (markup removed), not what was sent.
            rendered["text"] = visible_text(message.text, message.parse_mode)
        if message.media is not None and message.media_kind == "photo":
            rendered["photo"] = [message.media.as_photo_size()]
        elif message.media is not None and message.media_kind == "document":
            rendered["document"] = message.media.as_document()
        if message.caption is not None:
            rendered["caption"] = visible_text(message.caption, message.parse_mode)
        # Only inline keyboards are echoed back; reply keyboards live on the client.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            rendered["reply_markup"] = message.reply_markup
        return rendered

    def record_call(
        self, method: str, chat_id: int | str | None, params: dict[str, Any], error: str | None
    ) -> None:
        """Log a bot call for `server.sent`."""
        self.sent.append(ApiCall(method, chat_id, params, time.time(), error))
        self.notify()


def _chat_of(payload: dict[str, Any]) -> int | None:
    """Return the chat an update payload belongs to (a message's, or a tapped message's)."""
    message = payload.get("message", payload)
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return chat_id if isinstance(chat_id, int) else None


def _extension(filename: str | None, mime_type: str | None) -> str:
    if filename and "." in filename:
        return "." + filename.rsplit(".", 1)[1]
    return {"image/png": ".png", "image/jpeg": ".jpg", "audio/ogg": ".ogg"}.get(mime_type or "", "")
