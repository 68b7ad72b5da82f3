"""The ceiling of the Bot API load benchmark: a bare PTB echo bot, run as its own process.

`python -m benchmarks.echo_bot BASE_URL FILE_URL TOKEN [aiohttp]` polls that Bot API until it
is terminated. It answers a message with a message and a tap with answerCallbackQuery plus an
edit, at once: updates handled concurrently, no rate limiter, nothing else. With `aiohttp` it
talks HTTP through spi-bot's own transport (`bot.http.BotApiRequest`) instead of PTB's
default (httpx), which separates what the transport costs from what the survey costs.
"""

from __future__ import annotations

import sys
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

__all__ = ["build_echo_bot"]


def _keyboard(counter: int) -> InlineKeyboardMarkup:
    # The label changes on every edit, so an edit is never "message is not modified".
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"Tap {counter}", callback_data="tap")]])


async def _echo_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo a message with a one-button keyboard."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        update.effective_message.text or "?", reply_markup=_keyboard(0)
    )


async def _echo_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a tap and edit the message at once."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"tapped {query.id}", reply_markup=_keyboard(int(query.id)))


def build_echo_bot(
    base_url: str, file_url: str, token: str, *, aiohttp: bool = False
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A bare PTB Application: updates handled concurrently (PTB's 256), no limiter."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .concurrent_updates(True)
    )
    if aiohttp:
        from bot.http import BotApiRequest

        builder = builder.request(BotApiRequest()).get_updates_request(
            BotApiRequest(connection_pool_size=1)
        )
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo_message))
    app.add_handler(CallbackQueryHandler(_echo_tap))
    return app


if __name__ == "__main__":
    base, files, secret_token = sys.argv[1:4]
    app = build_echo_bot(base, files, secret_token, aiohttp=sys.argv[4:5] == ["aiohttp"])
    app.run_polling(poll_interval=0.0, timeout=1)
