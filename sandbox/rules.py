"""Telegram's validation rules and error texts, as the sandbox enforces them.

The texts are the ones the real Bot API returns, so code that matches on them (for example
"message is not modified") behaves the same against the sandbox and against Telegram.
"""

from __future__ import annotations

import re
import struct
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit

from sandbox.markup import HTML_TAG_RE, visible_text
from sandbox.models import Button

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

# Tags Telegram's HTML parse mode understands; anything else is rejected.
_HTML_TAGS: Final = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
_INLINE_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error response: HTTP status, Telegram's description, optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_response(self) -> dict[str, Any]:
        """Render the error in Telegram's response shape."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    """Build a 400 error; `description` is the text after "Bad Request: "."""
    return ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {description}")


def fault_error(status: int, retry_after: int | None) -> ApiError:
    """Build the error an injected fault answers with (429 or a 5xx)."""
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        wait = retry_after or 1
        return ApiError(status, f"Too Many Requests: retry after {wait}", retry_after=wait)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Internal Server Error"
    return ApiError(status, phrase)


def normalize_parse_mode(parse_mode: str | None) -> str | None:
    """Return the canonical parse mode name, rejecting unknown ones like Telegram does."""
    if not parse_mode:
        return None
    canonical = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}
    try:
        return canonical[parse_mode.lower()]
    except KeyError:
        raise bad_request("unsupported parse_mode") from None


def check_entities(text: str, parse_mode: str | None) -> None:
    """Reject markup Telegram could not parse (a light check, not a full parser)."""
    if parse_mode == "HTML":
        _check_html(text)
    elif parse_mode == "MarkdownV2":
        _check_markdown_v2(text)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _check_html(text: str) -> None:
    open_tags: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        match = HTML_TAG_RE.match(text, start)
        if match is None:
            # A bare "<" (for example unescaped user input) is what trips most bots.
            fragment = text[start + 1 : start + 20].split(">")[0]
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "{fragment}" '
                f"at byte offset {_byte_offset(text, start)}"
            )
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "{name}" '
                f"at byte offset {_byte_offset(text, start)}"
            )
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags[-1] != name:
            raise bad_request(
                "can't parse entities: Unexpected end tag at byte offset "
                f"{_byte_offset(text, start)}"
            )
        else:
            open_tags.pop()
        position = match.end()
    if open_tags:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{open_tags[-1]}"'
        )


def _check_markdown_v2(text: str) -> None:
    in_code = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "`":
            in_code = not in_code
        elif not in_code and char in "#+-={}.!":
            # These never start an entity, so unescaped they are always an error.
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        index += 1


def check_text(text: str | None, parse_mode: str | None) -> None:
    """Validate a message text the way sendMessage/editMessageText do."""
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    check_entities(text, parse_mode)
    shown = visible_text(text, parse_mode)
    if not shown.strip():
        raise bad_request("message text is empty")
    if len(shown) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def check_caption(caption: str | None, parse_mode: str | None) -> None:
    """Validate a media caption (may be absent)."""
    if caption is None:
        return
    check_entities(caption, parse_mode)
    if len(visible_text(caption, parse_mode)) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")


def parse_reply_markup(markup: Any) -> tuple[dict[str, Any] | None, list[list[Button]]]:
    """Validate `reply_markup`; return it with the inline buttons it carries."""
    if markup is None:
        return None, []
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        # Reply keyboards, ReplyKeyboardRemove and ForceReply are accepted as they are.
        return markup, []
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    return markup, [[_parse_inline_button(button) for button in row] for row in rows]


def _parse_inline_button(button: Any) -> Button:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
    actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if not text:
        raise bad_request("BUTTON_TEXT_EMPTY")
    data = button.get("callback_data")
    if "callback_data" in button:
        if not isinstance(data, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "callback_data" must be of type String'
            )
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button:
        if not isinstance(url, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "url" must be of type String'
            )
        if not re.match(r"^(https?|tg)://\S+$", url):
            raise bad_request("BUTTON_URL_INVALID")
    web_app = None
    if "web_app" in button:
        info = button["web_app"]
        web_app = check_web_app_address(info.get("url") if isinstance(info, dict) else None)
    return Button(text=text, data=data, url=url, web_app=web_app)


def check_web_app_address(url: object) -> str:
    """Return a web app's address if Telegram would take it (HTTPS; HTTP on loopback, where
    the sandbox's tests serve it)."""
    if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
        raise bad_request("BUTTON_URL_INVALID")
    host = urlsplit(url).hostname
    if not url.startswith("https://") and host not in _LOOPBACK:
        raise bad_request("BUTTON_URL_INVALID")
    return url


def check_buttons_for_chat(buttons: list[list[Button]], chat_type: str) -> None:
    """Refuse web app buttons outside private chats, as Telegram does."""
    if chat_type != "private" and any(b.web_app for row in buttons for b in row):
        raise bad_request("BUTTON_TYPE_INVALID")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, GIF, JPEG or WebP image, or None if unrecognised."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 0, 0  # Recognised; the exact size does not matter to any caller.
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data) or (0, 0)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None
