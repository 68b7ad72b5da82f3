"""Telegram's command menu: respondents see the survey commands; officials (admins and people
holding a role) also see the score and report commands in their own private chat, and, when
the dashboard is configured, a menu button that opens it (a Mini App).

The entries come from the one command table (`handlers.commands`), so a command's name and its
menu line cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from services.i18n import LANGUAGES, Catalog

__all__ = ["MenuEntry", "Menus"]

logger = logging.getLogger(__name__)

# (command as typed in that language, catalog key of its description), per language
MenuEntry = tuple[str, str]


class Menus:
    """The respondents' and the officials' command menus, in every language."""

    def __init__(
        self,
        messages: Catalog,
        respondent: Mapping[str, Sequence[MenuEntry]],
        official: Mapping[str, Sequence[MenuEntry]],
        dashboard_url: str | None = None,
    ) -> None:
        self._messages = messages
        self._respondent = respondent
        self._official = official
        self._dashboard_url = dashboard_url

    def menu(self, language: str, *, official: bool = False) -> list[BotCommand]:
        """Return the command menu in a language, with the officials' commands when asked."""
        entries = [*self._respondent[language], *(self._official[language] if official else ())]
        return [
            BotCommand(name, self._messages.t(language, f"menu_{key}")) for name, key in entries
        ]

    async def set_defaults(self, bot: Bot) -> None:
        """Set the respondents' menu: Indonesian by default, English for English clients."""
        for language in LANGUAGES:
            await bot.set_my_commands(
                self.menu(language), language_code=None if language == "id" else language
            )

    async def show_official(self, bot: Bot, chat_id: int, language: str) -> None:
        """Give one official's private chat the full menu (best effort: only a convenience)."""
        try:
            await bot.set_my_commands(
                self.menu(language, official=True), scope=BotCommandScopeChat(chat_id)
            )
        except TelegramError as exc:  # e.g. an admin who has not started the bot yet
            logger.info("could not set an official's command menu: %s", type(exc).__name__)
            return
        await self.show_dashboard(bot, chat_id, language)

    async def show_dashboard(self, bot: Bot, chat_id: int, language: str) -> None:
        """Give one official's private chat the menu button that opens the dashboard (best
        effort; nothing when the dashboard is not configured)."""
        if self._dashboard_url is None:
            return
        button = MenuButtonWebApp(
            self._messages.t(language, "dashboard_menu_button"), WebAppInfo(self._dashboard_url)
        )
        try:
            await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)
        except TelegramError as exc:
            logger.info("could not set an official's menu button: %s", type(exc).__name__)

    async def reset(self, bot: Bot, chat_id: int) -> None:
        """Drop a private chat's own menu, so it falls back to the respondents' one (best effort).

        Called when someone without a role asks for an official command: a revoked role leaves
        its menu behind, and this is the first moment the bot sees that chat again.
        """
        try:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
            # The dashboard's menu button goes too (whether or not it is configured now).
            await bot.set_chat_menu_button(chat_id=chat_id, menu_button=MenuButtonDefault())
        except TelegramError as exc:
            logger.info("could not reset a command menu: %s", type(exc).__name__)
