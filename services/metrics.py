"""Prometheus metrics of the bot process (served at /metrics in webhook mode).

Counters only count: no label ever carries a chat, a person or an answer. Bot API errors are
counted where every request passes (`MeteredRequest`), so handler replies, pushes and
reminders all show up, whatever caught the error afterwards.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from telegram._utils.types import ODVInput  # PTB's own type of its timeout arguments
from telegram.request import BaseRequest, HTTPXRequest, RequestData

__all__ = [
    "BOT_API_ERRORS",
    "CONTENT_TYPE",
    "DUPLICATE_UPDATES",
    "HANDLER_ERRORS",
    "PUSH_OUTCOMES",
    "UPDATES_HANDLED",
    "UPDATE_QUEUE_DEPTH",
    "MeteredRequest",
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


def render() -> bytes:
    """Return every metric of this process in Prometheus' text format."""
    return generate_latest()


class MeteredRequest(HTTPXRequest):
    """PTB's HTTP transport, counting Bot API answers that are errors."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request (see HTTPXRequest) and count an error answer by its code."""
        # The method name only: the token sits before the last slash, and a file download's
        # path is no method at all.
        api_method = "file" if "/file/bot" in url else url.rsplit("/", 1)[-1]
        try:
            code, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except Exception:
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise
        if code >= 400:
            BOT_API_ERRORS.labels(api_method, str(code)).inc()
        return code, payload
