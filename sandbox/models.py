"""Plain records the sandbox keeps: what the bot sent, which calls it made, injected faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.markup import visible_text


class SandboxError(Exception):
    """A test or the demo asked the sandbox for something a real user could not do."""


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button: its label and callback data, a URL or a web app's URL."""

    text: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None  # the Mini App a web_app button opens


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the sandbox holds, uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    data: bytes | None
    file_path: str
    filename: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        """Size in bytes (0 for files sent by URL, whose bytes the sandbox never fetches)."""
        return len(self.data) if self.data is not None else 0

    def as_photo_size(self) -> dict[str, Any]:
        """Render as a Bot API PhotoSize."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }

    def as_document(self) -> dict[str, Any]:
        """Render as a Bot API Document."""
        rendered: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.filename:
            rendered["file_name"] = self.filename
        if self.mime_type:
            rendered["mime_type"] = self.mime_type
        return rendered


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, as it currently stands in its chat (edits applied)."""

    message_id: int
    chat_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    media_kind: Literal["photo", "document"] | None = None
    media: StoredFile | None = None
    edit_count: int = 0
    edit_date: int | None = None

    @property
    def photo(self) -> bytes | None:
        """Bytes of the photo, if this is a photo message."""
        return self.media.data if self.media and self.media_kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        """Bytes of the document, if this is a document message."""
        return self.media.data if self.media and self.media_kind == "document" else None

    @property
    def filename(self) -> str | None:
        """File name of the attached document or photo, as uploaded."""
        return self.media.filename if self.media else None

    @property
    def plain_text(self) -> str:
        """Text or caption as the user sees it, with HTML/Markdown markup removed."""
        return visible_text(self.text or self.caption or "", self.parse_mode)

    @property
    def flat_buttons(self) -> list[Button]:
        """All inline buttons, row by row."""
        return [button for row in self.buttons for button in row]

    def find_button(self, *, text: str | None = None, data: str | None = None) -> Button:
        """Return the button with this label and/or callback data, or raise SandboxError."""
        for button in self.flat_buttons:
            if (text is None or button.text == text) and (data is None or button.data == data):
                return button
        offered = ", ".join(f"{b.text!r} ({b.data or b.url})" for b in self.flat_buttons)
        raise SandboxError(
            f"message {self.message_id} has no button with text={text!r} data={data!r}; "
            f"it offers: {offered or 'no buttons'}"
        )


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call the bot made (getUpdates excluded), and how the sandbox answered."""

    method: str
    chat_id: int | str | None
    params: dict[str, Any]
    timestamp: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """One answerCallbackQuery call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    timestamp: float


Drop = Literal["before", "after"]


@dataclass(slots=True)
class Fault:
    """An injected failure: the next `times` matching calls fail (or are slowed down).

    `method` is one method name, several, or None for any; `probability` is the chance that
    a matching call is hit (`times` counts hits, not matching calls). `drop` closes the
    connection without an answer: "before" the method runs (nothing happened), "after"
    (it happened, but the client cannot know).
    """

    method: str | tuple[str, ...] | None
    status: int | None
    retry_after: int | None = None
    times: int | None = 1
    delay: float = 0.0
    chat_id: int | None = None
    hits: int = 0
    probability: float = 1.0
    drop: Drop | None = None

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        """Whether this fault applies to a call of `method` addressed to `chat_id`."""
        if self.exhausted:
            return False
        if self.method is not None:
            names = (self.method,) if isinstance(self.method, str) else self.method
            if method.lower() not in {name.lower() for name in names}:
                return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    @property
    def exhausted(self) -> bool:
        """Whether this fault has fired its `times` already."""
        return self.times is not None and self.hits >= self.times

    def names(self, method: str) -> bool:
        """Whether `method` is named explicitly (getUpdates is faulted only when named)."""
        if self.method is None:
            return False
        names = (self.method,) if isinstance(self.method, str) else self.method
        return method.lower() in {name.lower() for name in names}


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook set with setWebhook."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One POST of an update to the webhook, and how it went."""

    update_id: int
    attempt: int
    status: int | None  # None: no HTTP answer (timeout, refused, reset)
    error: str | None
    timestamp: float


class SandboxClock:
    """Monotonic seconds that a test can move forward without sleeping.

    Callback query ages are measured on it, so "the query is too old" needs no 15 s wait.
    """

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0

    def __call__(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        """Move this clock forward by `seconds`."""
        if seconds < 0:
            raise SandboxError("a clock only moves forward")
        self._offset += seconds
