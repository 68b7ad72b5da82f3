"""Typed handler context: handlers reach their services as attributes, not a stringly dict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from telegram.ext import Application, CallbackContext, ExtBot

from services.context import Services

if TYPE_CHECKING:
    from handlers.menus import Menus
    from services.admin import DatabaseGuard
    from services.pushes.scheduler import PushScheduler
    from services.respondent import RespondentFlow

__all__ = ["BotContext", "BotData", "Serving"]


class Serving(Protocol):
    """A server started and stopped with the bot (the dashboard's, in polling mode)."""

    url: str

    async def start(self) -> None:
        """Start serving."""

    async def stop(self) -> None:
        """Stop serving."""


class BotData:
    """Application-wide data: the services and feature objects (set by `build_application`)."""

    services: Services
    respondents: RespondentFlow
    scheduler: PushScheduler
    menus: Menus
    guard: DatabaseGuard
    web: Serving | None = None  # the Mini App's own server in polling mode (bot/web.py)


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
