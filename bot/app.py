"""The composition root: builds the one PTB Application with its services and handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias

from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import storage
from handlers import common, scores, subscriptions, survey
from handlers.commands import set_default_menus, show_official_menu
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
    _add_handlers(application)
    return application


def _add_handlers(app: SpiApplication) -> None:
    """Register handlers; order matters within a group, so it is decided here only."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Group chats: surveys never happen there (answers would be visible to everyone).
    app.add_handler(
        CommandHandler(
            ["start", "bahasa", "language", "batal", "cancel"], common.group_refusal, filters=groups
        )
    )
    app.add_handler(CommandHandler("start", survey.on_start, filters=private))
    app.add_handler(CommandHandler(["batal", "cancel"], survey.on_cancel, filters=private))
    app.add_handler(CommandHandler(["bahasa", "language"], survey.on_language, filters=private))
    app.add_handler(CommandHandler(["bantuan", "help"], common.help_command))
    # Score queries work in private and group chats: the asker's own role decides.
    app.add_handler(CommandHandler(["skor", "score"], scores.on_score))
    app.add_handler(CommandHandler("unit", scores.on_unit))
    app.add_handler(CommandHandler(["dimensi", "dimensions"], scores.on_dimensions))
    app.add_handler(CommandHandler(["peringkat", "ranking"], scores.on_ranking))
    app.add_handler(CommandHandler(["tren", "trend"], scores.on_trend))
    app.add_handler(CommandHandler(["progres", "progress"], scores.on_progress))
    app.add_handler(CommandHandler(["laporan", "report"], scores.on_report))
    # Before the survey's catch-all button handler, which would reject these as stale.
    app.add_handler(
        CallbackQueryHandler(scores.on_unit_button, pattern=rf"^\d+\.{scores.UNIT_ACTION}\.")
    )
    # Scheduled reports, in private and group chats; only admins and leadership may use them.
    app.add_handler(CommandHandler(["langganan", "subscribe"], subscriptions.on_subscribe))
    app.add_handler(CommandHandler(["jadwal", "schedule"], subscriptions.on_schedule))
    app.add_handler(CommandHandler(["berhenti", "stop"], subscriptions.on_stop))
    app.add_handler(
        CallbackQueryHandler(subscriptions.on_schedule_button, pattern=subscriptions.BUTTON_PATTERN)
    )
    app.add_handler(CallbackQueryHandler(survey.on_button))
    # Last in the group: anything not handled above.
    app.add_handler(MessageHandler(filters.COMMAND & private, common.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, survey.on_text))
    app.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, survey.on_non_text)
    )
    app.add_error_handler(common.error_handler)


async def _post_init(app: SpiApplication) -> None:
    services = app.bot_data.services
    await services.db.initialize()
    services.bot_username = app.bot.username
    # Unfinished surveys past their expiry never count; clear them out at every start.
    today = services.clock().astimezone(services.settings.zone).date()
    expired = await storage.expire_sessions(services.db.engine, today)
    if expired:
        logger.info("discarded %d expired unfinished surveys", expired)
    await set_default_menus(app.bot, services.messages)
    for admin_id in services.settings.admin_user_ids:
        await show_official_menu(
            app.bot, services.messages, admin_id, services.settings.default_language
        )
    if services.settings.scheduler_enabled:
        # After the database is ready: the first tick (start-up catch-up) runs right away.
        app.bot_data.scheduler.start()
    logger.info("bot @%s ready", app.bot.username)


async def _post_shutdown(app: SpiApplication) -> None:
    await app.bot_data.scheduler.stop()
    await app.bot_data.services.db.close()
