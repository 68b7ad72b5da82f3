"""Telegram's command menu: respondents see the survey commands; officials (admins and people
holding a role) also see the score and report commands in their own private chat."""

from __future__ import annotations

import logging
from typing import Final

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from services.i18n import LANGUAGES, Catalog

__all__ = ["menu", "set_default_menus", "show_official_menu"]

logger = logging.getLogger(__name__)

# (command as typed in that language, catalog key of its description)
_RESPONDENT: Final = {
    "id": (("start", "start"), ("bahasa", "language"), ("batal", "cancel"), ("bantuan", "help")),
    "en": (("start", "start"), ("language", "language"), ("cancel", "cancel"), ("help", "help")),
}
_OFFICIAL: Final = {
    "id": (
        ("skor", "score"),
        ("unit", "unit"),
        ("dimensi", "dimensions"),
        ("peringkat", "ranking"),
        ("tren", "trend"),
        ("progres", "progress"),
        ("laporan", "report"),
        ("langganan", "subscribe"),
        ("jadwal", "schedule"),
    ),
    "en": (
        ("score", "score"),
        ("unit", "unit"),
        ("dimensions", "dimensions"),
        ("ranking", "ranking"),
        ("trend", "trend"),
        ("progress", "progress"),
        ("report", "report"),
        ("subscribe", "subscribe"),
        ("schedule", "schedule"),
    ),
}


def menu(messages: Catalog, language: str, *, official: bool = False) -> list[BotCommand]:
    """Return the command menu in a language, with the officials' commands when asked."""
    entries = _RESPONDENT[language] + (_OFFICIAL[language] if official else ())
    return [BotCommand(name, messages.t(language, f"menu_{key}")) for name, key in entries]


async def set_default_menus(bot: Bot, messages: Catalog) -> None:
    """Set the respondents' menu: Indonesian by default, English for English clients."""
    for language in LANGUAGES:
        await bot.set_my_commands(
            menu(messages, language), language_code=None if language == "id" else language
        )


async def show_official_menu(bot: Bot, messages: Catalog, chat_id: int, language: str) -> None:
    """Give one official's private chat the full menu (best effort: it is only a convenience)."""
    try:
        await bot.set_my_commands(
            menu(messages, language, official=True), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:  # e.g. an admin who has not started the bot yet
        logger.info("could not set an official's command menu: %s", type(exc).__name__)
