"""Typed handler context: handlers reach their services as attributes, not a stringly dict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Catalog, catalog, pick_language
from bot.security import pseudonym_for
from bot.settings import Settings
from storage import Database

if TYPE_CHECKING:
    from bot.respondent import RespondentFlow
    from bot.scheduler import PushScheduler

__all__ = ["BotContext", "BotData", "Services", "utc_now"]


def utc_now() -> datetime:
    """Return the current aware UTC time (the default clock)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything a handler needs, created once in `build_application`."""

    settings: Settings
    db: Database
    secret: bytes
    clock: Callable[[], datetime] = utc_now
    messages: Catalog = field(default_factory=catalog)
    bot_username: str = ""

    def pseudonym(self, telegram_user_id: int) -> str:
        """Return the keyed hash that stands for this Telegram user everywhere in storage."""
        return pseudonym_for(self.secret, telegram_user_id)

    def is_admin(self, telegram_user_id: int) -> bool:
        """Tell whether this user is a configured admin."""
        return telegram_user_id in self.settings.admin_user_ids


class BotData:
    """Application-wide data: the services and feature objects (set by `build_application`)."""

    services: Services
    respondents: RespondentFlow
    scheduler: PushScheduler


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """Callback context with typed access to the services."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        """Return the application's services."""
        return self.bot_data.services

    @property
    def respondents(self) -> RespondentFlow:
        """Return the respondent journey service."""
        return self.bot_data.respondents

    def language_for(self, telegram_code: str | None) -> str:
        """Return the reply language for a Telegram `language_code`."""
        return pick_language(telegram_code, self.services.settings.default_language)

    def t(self, language: str, key: str, /, **values: object) -> str:
        """Return a catalog message."""
        return self.services.messages.t(language, key, **values)
