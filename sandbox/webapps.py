"""Mini Apps in the sandbox: the chat menu button (setChatMenuButton, getChatMenuButton), the
check of web app addresses, and the launch a Telegram client does when someone taps a web app
button: the app's address with `#tgWebAppData=…` signed with the bot's token.

Telegram wants HTTPS for a web app; like its webhooks, the sandbox also takes plain HTTP on
loopback (127.0.0.1, localhost), where the tests and `spibot demo --serve` serve the app.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

from sandbox.actors import SandboxUser
from sandbox.chats import SandboxChat
from sandbox.models import SandboxError
from sandbox.params import Params
from sandbox.rules import bad_request, check_web_app_address
from sandbox.world import World
from services.miniapp.auth import launch_key, sign_launch

__all__ = [
    "DARK_THEME",
    "LIGHT_THEME",
    "MiniApps",
    "get_chat_menu_button",
    "launch_url",
    "set_chat_menu_button",
]

MAX_BUTTON_TEXT: Final = 64
WEB_APP_VERSION: Final = "8.0"
# Theme parameters as Telegram's Android client sends them (day and night themes).
LIGHT_THEME: Final = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#3390ec",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#3390ec",
    "subtitle_text_color": "#707579",
    "destructive_text_color": "#e53935",
    "section_separator_color": "#e7e7e7",
}
DARK_THEME: Final = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#0f0f0f",
    "header_bg_color": "#212121",
    "accent_text_color": "#8774e1",
    "section_bg_color": "#212121",
    "section_header_text_color": "#8774e1",
    "subtitle_text_color": "#aaaaaa",
    "destructive_text_color": "#ff595a",
    "section_separator_color": "#3d3d3d",
}
_MENU_TYPES: Final = frozenset({"commands", "web_app", "default"})


def _private_chat(world: World, chat_id: int | str | None) -> SandboxChat:
    chat = world.chats.get(chat_id) if isinstance(chat_id, int) else None
    if chat is None or chat.type != "private":
        raise bad_request("chat not found")
    return chat


async def set_chat_menu_button(world: World, params: Params) -> bool:
    """Set a private chat's menu button (or, without chat_id, the default for every chat)."""
    button = params.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise bad_request("can't parse menu button json object")
    if button["type"] == "web_app":
        text = button.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_BUTTON_TEXT:
            raise bad_request("BUTTON_TEXT_INVALID")
        web_app = button.get("web_app")
        check_web_app_address(web_app.get("url") if isinstance(web_app, dict) else None)
    chat_id = params.chat_id() if "chat_id" in params else None
    key = None if chat_id is None else _private_chat(world, chat_id).id
    world.menu_buttons[key] = dict(button)
    world.notify()
    return True


async def get_chat_menu_button(world: World, params: Params) -> dict[str, Any]:
    """Return a private chat's menu button (its own, else the default)."""
    chat_id = params.chat_id() if "chat_id" in params else None
    key = None if chat_id is None else _private_chat(world, chat_id).id
    found = world.menu_buttons.get(key) or world.menu_buttons.get(None)
    return dict(found) if found else {"type": "commands"}


def launch_url(
    world: World,
    user: dict[str, Any],
    url: str,
    now: datetime,
    *,
    start_param: str | None = None,
    theme: dict[str, str] | None = None,
) -> str:
    """Return `url` as a Telegram client opens it: with launch data signed for `user`."""
    if world.bot_token is None:
        raise bad_request("the bot has not called the Bot API yet: no token to sign with")
    extra = {"chat_type": "private", "chat_instance": str(7 * 10**15 + int(user["id"]))}
    if start_param:
        extra["start_param"] = start_param
    data = sign_launch(launch_key(world.bot_token), user, now, **extra)
    fragment = {
        "tgWebAppData": data,
        "tgWebAppVersion": WEB_APP_VERSION,
        "tgWebAppPlatform": "android",
        "tgWebAppThemeParams": json.dumps(theme or LIGHT_THEME, separators=(",", ":")),
    }
    if start_param:
        fragment["tgWebAppStartParam"] = start_param
    return f"{url.split('#', 1)[0]}#{urlencode(fragment, quote_via=quote)}"


class MiniApps:
    """What a test or the demo asks the sandbox about Mini Apps (part of `SandboxServer`)."""

    _world: World

    def menu_button(self, chat: SandboxChat | SandboxUser | int) -> dict[str, Any]:
        """The menu button a private chat shows: its own (setChatMenuButton), else the
        default's, else Telegram's command list."""
        chat_id = chat if isinstance(chat, int) else chat.id
        found = self._world.menu_buttons.get(chat_id) or self._world.menu_buttons.get(None)
        return dict(found) if found else {"type": "commands"}

    def mini_app_url(
        self,
        user: SandboxUser,
        url: str | None = None,
        *,
        start_param: str | None = None,
        theme: dict[str, str] | None = None,
        now: datetime | None = None,
    ) -> str:
        """Return the address a Telegram client opens when `user` taps a web app button: `url`
        (default: the web app of the user's menu button) with launch data signed with the
        bot's token, and the theme (`LIGHT_THEME` unless given)."""
        if url is None:
            button = self.menu_button(user)
            if button.get("type") != "web_app":
                raise SandboxError(f"{user!r} has no web app menu button: {button}")
            url = str(button["web_app"]["url"])
        return launch_url(
            self._world,
            user.to_api(),
            url,
            now or datetime.now(UTC),
            start_param=start_param,
            theme=theme,
        )
