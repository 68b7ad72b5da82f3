"""Send one thing to many people: claimed a chunk at a time, sent a bounded number at a time.

Reminder rounds and outreach broadcasts both read people a page at a time (memory stays flat),
claim each person once across processes (a claim row), send through `Delivery` (the one bulk
limiter paces it), and record what became of each send. This module is the part they share:

- `claim_in_chunks` turns pages of people into a stream of people this process has claimed,
  claiming a small chunk in one statement just before it is needed (a crash loses at most
  that chunk and the sends in flight: at most once, never twice);
- `fan_out` runs the sends, at most `concurrency` at a time, pulling the next person as soon
  as a slot frees. There is no barrier at the end of a page: a send waiting out a 429 holds
  one slot, not the whole round, so the limiter stays busy;
- `Outcomes` records the results in batches, one transaction for many sends, so a round costs
  the database (and, on SQLite, the one writer lock the respondents also need) a few writes a
  second instead of two per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
)
from typing import Any, Final, TypeVar

from storage.contacts import ReminderStatus

__all__ = ["CLAIM_CHUNK", "OUTCOME_BATCH", "Outcomes", "claim_in_chunks", "fan_out"]

T = TypeVar("T")
# About a second of sending at Telegram's 30 msg/s: what a crash can leave claimed and unsent.
CLAIM_CHUNK: Final = 32
OUTCOME_BATCH: Final = 100


async def claim_in_chunks(
    pages: AsyncIterable[list[T]],
    key: Callable[[T], str],
    claim: Callable[[list[str]], Awaitable[Collection[str]]],
    *,
    taken: Callable[[int], None],
    chunk: int = CLAIM_CHUNK,
) -> AsyncIterator[T]:
    """Yield the people of `pages` this process claimed; report the others to `taken`."""
    async for page in pages:
        for start in range(0, len(page), chunk):
            part = page[start : start + chunk]
            won = set(await claim([key(item) for item in part]))
            if len(won) < len(part):
                taken(len(part) - len(won))
            for item in part:
                if key(item) in won:
                    yield item


async def fan_out(
    items: AsyncIterable[T], work: Callable[[T], Coroutine[Any, Any, None]], *, concurrency: int
) -> None:
    """Run `work` on every item, at most `concurrency` at once, with no barrier between pages.

    An error in one `work` cancels the rest and is raised (as in a TaskGroup); `Delivery`
    never raises a Telegram error, so that takes a database failure.
    """
    gate = asyncio.Semaphore(concurrency)

    def release(_task: asyncio.Task[None]) -> None:
        gate.release()

    async with asyncio.TaskGroup() as group:
        async for item in items:
            await gate.acquire()
            group.create_task(work(item)).add_done_callback(release)


class Outcomes:
    """What became of each claimed send, written in batches of `size`."""

    def __init__(
        self,
        write: Callable[[dict[str, ReminderStatus]], Awaitable[None]],
        *,
        size: int = OUTCOME_BATCH,
    ) -> None:
        self._write = write
        self._size = size
        self._pending: dict[str, ReminderStatus] = {}

    async def add(self, pseudonym: str, status: ReminderStatus) -> None:
        """Record one outcome; write the batch when it is full."""
        self._pending[pseudonym] = status
        if len(self._pending) >= self._size:
            await self.flush()

    async def flush(self) -> None:
        """Write what is pending (call once more after the last send)."""
        batch, self._pending = self._pending, {}
        if batch:
            await self._write(batch)
