"""Typed handler context: handlers reach their services as attributes, not a stringly dict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from services.context import Services

if TYPE_CHECKING:
    from handlers.menus import Menus
    from services.database_guard import DatabaseGuard
    from services.pushes.scheduler import PushScheduler
    from services.respondent import RespondentFlow

__all__ = ["BotContext", "BotData"]


class BotData:
    """Application-wide data: the services and feature objects (set by `build_application`)."""

    services: Services
    respondents: RespondentFlow
    scheduler: PushScheduler
    menus: Menus
    guard: DatabaseGuard


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

    def t(self, language: str, key: str, /, **values: object) -> str:
        """Return a catalog message."""
        return self.services.messages.t(language, key, **values)
