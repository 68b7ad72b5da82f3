"""How the bot talks to the Bot API when Telegram says no: retries, bulk pacing, bad updates.

- Every Bot API call goes through `ResilientLimiter` (PTB's rate-limiter hook). Replies to a
  person's own action are sent at once, never queued behind broadcasts. A 429 waits its
  `retry_after`; 5xx, network errors and timeouts are retried with backoff; all within a
  bounded time (`BOT_API_RETRY_SECONDS`), after which the error reaches the caller and the
  person's next tap or message repairs the screen.
- A send whose outcome is unknown (the request left, the answer never came: a read timeout or
  a connection broken mid-answer, see bot/http.py) is not retried: Telegram has no idempotency
  key, and a retried send would show the message twice. Edits are idempotent and are retried.
- Bulk sends (scheduled pushes, reminders, broadcasts) pass `rate_limit_args=BULK` and share
  one pacer: `RATE_LIMIT_PER_SECOND` overall (Telegram allows about 30), 20 a minute per
  group and one a second per private chat.
- `TolerantBot.get_updates` replaces an update PTB cannot decode by an empty one with the
  same id, so one malformed update is skipped (and logged, without its content) instead of
  failing every poll with the same offset forever.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any, Final

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter, ExtBot

from bot.http import AnswerLost, NotSent
from services.pushes.delivery import BULK, retry_after_seconds

__all__ = ["BULK", "ResilientLimiter", "TolerantBot"]

logger = logging.getLogger(__name__)

# Methods whose retry could show something twice if the first attempt did reach Telegram.
_SENDS: Final = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)
# Never retried here: polling has its own loop, and a callback answer is only worth
# something within seconds (a late one is refused as "query is too old" anyway).
_NOT_RETRIED: Final = frozenset({"getUpdates", "answerCallbackQuery"})
_FIRST_BACKOFF: Final = 0.2
_MAX_BACKOFF: Final = 2.0
_CHAT_LIMITERS: Final = 10_000  # per-chat pacers kept (least recently used are dropped)


class _BulkPacer:
    """The one pacer every bulk send shares: overall, per group and per private chat."""

    def __init__(self, per_second: float) -> None:
        self._overall = AsyncLimiter(per_second, 1)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    async def wait(self, chat_id: object) -> None:
        if isinstance(chat_id, int):
            limiter = self._chats.pop(chat_id, None)
            if limiter is None:
                # Groups (negative ids): 20 a minute; private chats: about one a second.
                limiter = AsyncLimiter(20, 60) if chat_id < 0 else AsyncLimiter(1, 1)
            self._forget_idle()  # before this chat's pacer goes back in: it is about to be used
            self._chats[chat_id] = limiter
            await limiter.acquire()
        await self._overall.acquire()

    def _forget_idle(self) -> None:
        """Drop the pacers of chats that could send a full burst again (a new one is the same),
        oldest first, so a round to 10,000 people does not keep 10,000 pacers."""
        while self._chats:
            oldest = next(iter(self._chats.values()))
            if len(self._chats) <= _CHAT_LIMITERS and not oldest.has_capacity(oldest.max_rate):
                return
            self._chats.popitem(last=False)


class ResilientLimiter(BaseRateLimiter[dict[str, Any]]):
    """Retry transient Bot API failures for a bounded time; pace only bulk sends."""

    def __init__(
        self,
        *,
        bulk_per_second: float,
        retry_seconds: float,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bulk = _BulkPacer(bulk_per_second)
        self._retry_seconds = retry_seconds
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Make the call, retrying what Telegram (or the network) failed transiently."""
        if rate_limit_args and rate_limit_args.get("bulk"):
            await self._bulk.wait(data.get("chat_id"))
        if endpoint in _NOT_RETRIED:
            return await callback(*args, **kwargs)
        deadline = self._clock() + self._retry_seconds
        backoff = _FIRST_BACKOFF
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                error: Exception = exc
                wait = retry_after_seconds(exc)
            except (BadRequest, Forbidden, InvalidToken):
                raise  # Telegram's considered answer: retrying changes nothing
            except (TimedOut, AnswerLost) as exc:
                if endpoint in _SENDS and not isinstance(exc, NotSent):
                    raise  # it may have been delivered: never risk showing it twice
                error, wait = exc, backoff
            except NetworkError as exc:  # 5xx, connection refused
                error, wait = exc, backoff
            if self._clock() + wait > deadline:
                raise error
            logger.info("Bot API %s failed transiently; retrying in %.1f s", endpoint, wait)
            await self._sleep(wait)
            # Jitter keeps many retrying chats from hitting Telegram in the same instant.
            backoff = min(_MAX_BACKOFF, backoff * 2) * (0.8 + 0.4 * self._random.random())


class _NoRawUpdates(logging.Filter):
    """Drop PTB's log line that quotes a whole undecodable batch (ids and answers in it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates!")


_NO_RAW_UPDATES: Final = _NoRawUpdates()


class TolerantBot(ExtBot[dict[str, Any]]):
    """An ExtBot whose getUpdates survives an update it cannot decode."""

    _raw_updates: list[Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Logger.addFilter ignores a filter it already has: one filter however many bots.
        self._LOGGER.addFilter(_NO_RAW_UPDATES)

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            self._raw_updates = result  # kept for get_updates' fallback, one poll at a time
        return result

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Return the pending updates; one PTB cannot decode becomes an empty update."""
        try:
            return await super().get_updates(*args, **kwargs)
        except Exception:
            raw = self._raw_updates
            if raw is None:
                raise
        # The normal path decodes once; only a batch with a bad update is decoded one by one.
        return tuple(Update.de_json(self._decodable(item), self) for item in raw)

    def _decodable(self, raw: Any) -> Any:
        """Return `raw`, or an empty update with its id when PTB cannot decode it."""
        try:
            Update.de_json(raw, self)
        except Exception as exc:  # whatever the library raises on a malformed update
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                raise
            # Never log the content: it may hold a person's id or answer.
            logger.error("skipped update %d: cannot decode it (%s)", update_id, type(exc).__name__)
            return {"update_id": update_id}
        return raw
