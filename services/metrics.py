"""Prometheus metrics of the bot process (served at /metrics in webhook mode).

Counters only count: no label ever carries a chat, a person or an answer. Bot API errors are
counted where every request passes (`bot.http.BotApiRequest`), so handler replies, pushes
and reminders all show up, whatever caught the error afterwards.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

__all__ = [
    "BOT_API_ERRORS",
    "CONTENT_TYPE",
    "DUPLICATE_UPDATES",
    "HANDLER_ERRORS",
    "PUSH_OUTCOMES",
    "REMINDER_OUTCOMES",
    "UPDATES_HANDLED",
    "UPDATE_QUEUE_DEPTH",
    "render",
]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

UPDATES_HANDLED: Final = Counter(
    "spibot_updates_handled", "Telegram updates handled to the end (webhook mode)"
)
DUPLICATE_UPDATES: Final = Counter(
    "spibot_duplicate_updates",
    "Redelivered updates answered without handling them again (processed-update ledger)",
)
HANDLER_ERRORS: Final = Counter(
    "spibot_handler_errors", "Updates whose handler raised (the error handler ran)", ["error"]
)
BOT_API_ERRORS: Final = Counter(
    "spibot_bot_api_errors",
    "Bot API calls answered with an error, by HTTP code (network: no answer at all)",
    ["method", "code"],
)
UPDATE_QUEUE_DEPTH: Final = Gauge(
    "spibot_update_queue_depth", "Updates received and not yet handled by this process"
)
PUSH_OUTCOMES: Final = Counter(
    "spibot_push_outcomes", "Scheduled pushes by what became of them", ["kind", "status"]
)
REMINDER_OUTCOMES: Final = Counter(
    "spibot_reminder_outcomes",
    "Reminders by what became of them (taken: another process had the claim)",
    ["status"],
)


def render() -> bytes:
    """Return every metric of this process in Prometheus' text format."""
    return generate_latest()
