"""The composition root: builds the one PTB Application with its services and handlers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import storage.sessions
from bot.http import BotApiRequest
from bot.processor import ChatOrderedProcessor
from bot.transport import ResilientLimiter, TolerantBot
from bot.web import WebServer
from handlers.commands import menus, register
from handlers.context import BotContext, BotData
from services.admin import DatabaseGuard
from services.context import Services, utc_now
from services.i18n import pick_language
from services.pushes.scheduler import PushScheduler
from services.respondent import RespondentFlow
from services.settings import Settings
from storage.db import Database

__all__ = ["SpiApplication", "build_application"]

logger = logging.getLogger(__name__)

SpiApplication: TypeAlias = Application[Any, BotContext, Any, Any, BotData, Any]


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    webhook: bool = False,
) -> SpiApplication:
    """Build the Application; the database is migrated and opened in `post_init`.

    With `webhook` the Application has no updater: updates arrive through `bot.webhook`,
    whose server also serves the dashboard; without it, WEB_LISTEN gives the dashboard its own
    server, started and stopped with the bot.
    """
    services = Services(
        settings=settings,
        db=Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            ping_idle_seconds=settings.db_ping_idle_seconds,
            pool_recycle_seconds=settings.db_pool_recycle_seconds,
        ),
        secret=settings.secret_bytes(),
        clock=clock,
    )
    timeout = settings.bot_api_timeout_seconds
    bot = TolerantBot(
        token or settings.require_token(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.file_base_url,
        # Every text the bot sends is HTML (catalog texts escape what people typed).
        defaults=Defaults(parse_mode=ParseMode.HTML),
        # Many chats are answered at once: a small pool would queue replies behind each other.
        # Every Bot API call passes here (bot/http.py), so its error answers are counted.
        request=BotApiRequest(
            connection_pool_size=256,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
        get_updates_request=BotApiRequest(
            connection_pool_size=1,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
        # Replies to a person's own action go out at once; only bulk sends are paced, and
        # transient failures are retried for a bounded time (bot/transport.py).
        rate_limiter=ResilientLimiter(
            bulk_per_second=settings.rate_limit_per_second,
            retry_seconds=settings.bot_api_retry_seconds,
        ),
    )
    processor = ChatOrderedProcessor(
        settings.concurrent_updates,
        backlog=settings.chat_backlog_limit,
        per_second=settings.chat_updates_per_second,
        on_flood=functools.partial(_flood_notice, services),
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        # One chat's updates in order, different chats concurrently (bot/processor.py).
        .concurrent_updates(processor)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if webhook:
        builder = builder.updater(None)  # as PTB's customwebhookbot example
    application: SpiApplication = builder.build()
    application.bot_data.services = services
    application.bot_data.respondents = RespondentFlow(services)
    application.bot_data.scheduler = PushScheduler(services, application.bot)
    application.bot_data.menus = menus(services.messages, settings.dashboard_url)
    application.bot_data.guard = DatabaseGuard(services)
    web = settings.web_host_port
    if web is not None and not webhook:
        application.bot_data.web = WebServer(services, bot.token, *web)
    register(application)
    return application


async def _post_init(app: SpiApplication) -> None:
    services = app.bot_data.services
    await services.db.initialize()
    services.bot_username = app.bot.username
    # Unfinished surveys past their expiry never count; clear them out at every start.
    today = services.clock().astimezone(services.settings.zone).date()
    expired = await storage.sessions.expire_sessions(services.db.engine, today)
    if expired:
        logger.info("discarded %d expired unfinished surveys", expired)
    # Hold the database (a restore refuses meanwhile) and wipe deleted surveys from its files.
    await app.bot_data.guard.start()
    if app.bot_data.web is not None:
        await app.bot_data.web.start()
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
    if app.bot_data.web is not None:
        await app.bot_data.web.stop()
    await app.bot_data.scheduler.stop()
    await app.bot_data.guard.stop()
    await app.bot_data.services.db.close()


async def _flood_notice(services: Services, update: Update) -> None:
    """Tell a flooding chat, once, that its messages are coming too fast."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    language = pick_language(
        user.language_code if user else None, services.settings.default_language
    )
    bot = update.get_bot()
    await bot.send_message(chat.id, services.messages.t(language, "flood_notice"))
