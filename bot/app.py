"""The composition root: builds the one PTB Application with its services and handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias

from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
)

import storage
from handlers.commands import menus, register
from handlers.context import BotContext, BotData
from services.context import Services, utc_now
from services.pushes.scheduler import PushScheduler
from services.respondent import RespondentFlow
from services.settings import Settings
from storage import Database

__all__ = ["SpiApplication", "build_application"]

logger = logging.getLogger(__name__)

SpiApplication: TypeAlias = Application[Any, BotContext, Any, Any, BotData, Any]


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> SpiApplication:
    """Build the Application; the database is migrated and opened in `post_init`."""
    services = Services(
        settings=settings,
        db=Database(settings.database_url),
        secret=settings.secret_bytes(),
        clock=clock,
    )
    application: SpiApplication = (
        ApplicationBuilder()
        .token(token or settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.file_base_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        # Every text the bot sends is HTML (catalog texts escape what people typed).
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        # Concurrent handling is safe (every survey move is guarded by the session's version in
        # the database) but only pays off on PostgreSQL; SQLite has a single writer.
        .concurrent_updates(settings.concurrent_updates)
        # Telegram allows ~30 messages/s overall and ~1/s per chat; the limiter queues for us
        # and retries once after a 429's retry_after.
        .rate_limiter(
            AIORateLimiter(overall_max_rate=settings.rate_limit_per_second, max_retries=2)
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.services = services
    application.bot_data.respondents = RespondentFlow(services)
    application.bot_data.scheduler = PushScheduler(services, application.bot)
    application.bot_data.menus = menus(services.messages)
    register(application)
    return application


async def _post_init(app: SpiApplication) -> None:
    services = app.bot_data.services
    await services.db.initialize()
    services.bot_username = app.bot.username
    # Unfinished surveys past their expiry never count; clear them out at every start.
    today = services.clock().astimezone(services.settings.zone).date()
    expired = await storage.expire_sessions(services.db.engine, today)
    if expired:
        logger.info("discarded %d expired unfinished surveys", expired)
    await app.bot_data.menus.set_defaults(app.bot)
    for admin_id in services.settings.admin_user_ids:
        await app.bot_data.menus.show_official(
            app.bot, admin_id, services.settings.default_language
        )
    if services.settings.scheduler_enabled:
        # After the database is ready: the first tick (start-up catch-up) runs right away.
        app.bot_data.scheduler.start()
    logger.info("bot @%s ready", app.bot.username)


async def _post_shutdown(app: SpiApplication) -> None:
    await app.bot_data.scheduler.stop()
    await app.bot_data.services.db.close()
