"""Updates of one chat in order, different chats at the same time, and no chat hogging the bot.

PTB's own concurrent processing runs updates in any order; one person's double tap or a late
batch of their taps would then race in the database. This processor gives every chat a lane:
a chat's updates run one after the other in the order they arrived, while other chats'
updates run beside them (at most `handlers` at a time). A chat that floods is paced to
`per_second` updates a second, and beyond `backlog` waiting updates its new ones are dropped
with one polite notice, so a flood never delays anyone else.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["ChatOrderedProcessor"]

logger = logging.getLogger(__name__)

# PTB's own semaphore would count updates waiting in a lane as running ones, so one flooding
# chat could fill every slot; it is set out of the way and `handlers` bounds the real work.
_UNBOUNDED: Final = 1_000_000

FloodNotice = Callable[[Update], Awaitable[None]]


class _Lane:
    """One chat's queue: a FIFO lock, a token bucket and the count of waiting updates."""

    __slots__ = ("lock", "notified", "stamp", "tokens", "waiting")

    def __init__(self, burst: float, now: float) -> None:
        self.lock = asyncio.Lock()  # asyncio locks wake waiters in the order they came
        self.waiting = 0
        self.tokens = burst
        self.stamp = now
        self.notified = False


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Process each chat's updates in order and different chats concurrently."""

    def __init__(
        self,
        handlers: int,
        *,
        backlog: int = 50,
        per_second: float = 5.0,
        burst: float = 10.0,
        on_flood: FloodNotice | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_concurrent_updates=_UNBOUNDED)
        self._handlers = handlers
        self._running: asyncio.Semaphore | None = None
        self._backlog = backlog
        self._per_second = per_second
        self._burst = burst
        self._on_flood = on_flood
        self._clock = clock
        self._lanes: dict[int, _Lane] = {}
        self._notices: set[asyncio.Task[None]] = set()
        self.dropped = 0  # updates dropped from flooding chats (for metrics and tests)

    @property
    def waiting(self) -> int:
        """Return how many updates wait in chat lanes right now."""
        return sum(lane.waiting for lane in self._lanes.values())

    async def initialize(self) -> None:
        """Create the handler semaphore on the running loop."""
        self._running = asyncio.Semaphore(self._handlers)

    async def shutdown(self) -> None:
        """Let flood notices finish."""
        if self._notices:
            await asyncio.gather(*self._notices, return_exceptions=True)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update in its chat's lane (updates without a chat run at once)."""
        if self._running is None:
            await self.initialize()
        assert self._running is not None
        key = _lane_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self._burst, self._clock())
        if lane.waiting >= self._backlog:
            self._drop(update, coroutine, lane)
            return
        lane.waiting += 1
        try:
            async with lane.lock:
                lane.waiting -= 1
                await self._pace(lane)
                async with self._running:
                    await coroutine
        finally:
            if lane.waiting == 0 and not lane.lock.locked() and self._lanes.get(key) is lane:
                del self._lanes[key]

    async def _pace(self, lane: _Lane) -> None:
        """Wait for the chat's next token: a person tapping never waits; a flood does."""
        now = self._clock()
        lane.tokens = min(self._burst, lane.tokens + (now - lane.stamp) * self._per_second)
        lane.stamp = now
        if lane.tokens < 1:
            await asyncio.sleep((1 - lane.tokens) / self._per_second)
            lane.tokens = 1
            lane.stamp = self._clock()
        lane.tokens -= 1

    def _drop(self, update: object, coroutine: Awaitable[Any], lane: _Lane) -> None:
        """Drop an update of a flooding chat; tell the chat once per flood."""
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never awaited: close it so nothing warns about it
        self.dropped += 1
        if lane.notified or self._on_flood is None or not isinstance(update, Update):
            return
        lane.notified = True
        logger.warning("a chat is flooding the bot; dropping its backlog beyond %d", self._backlog)
        task = asyncio.get_running_loop().create_task(self._notify(update))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _notify(self, update: Update) -> None:
        assert self._on_flood is not None
        try:
            await self._on_flood(update)
        except Exception as exc:  # a notice is a courtesy; it must never break processing
            logger.info("could not send a flood notice: %s", type(exc).__name__)


def _lane_key(update: object) -> int | None:
    """Return the chat an update belongs to (its user for updates without a chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
