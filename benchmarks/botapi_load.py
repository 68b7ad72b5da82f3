"""The echo side of the Bot API load benchmark, and the measuring both sides share.

`echo_bot` is the ceiling: a bare PTB Application that answers at once. `run_echo` keeps N
closed-loop users (each acts again as soon as the bot replied) on any `BotFactory`.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
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

from sandbox import SandboxServer, SandboxUser

__all__ = ["BotFactory", "Samples", "cancel_all", "echo_bot", "polling", "run_echo", "stats"]

BotFactory = Callable[[SandboxServer], AbstractAsyncContextManager[object]]

TOKEN = "123456:BENCH-token"
WARM_UP_SECONDS = 1.0


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Samples:
    """Latencies per action, kept for actions that finished inside the window.

    Counting by finish time keeps long queues visible: at 500 users one action may take
    longer than the whole window, and would vanish if it also had to start inside it.
    """

    window_start: float
    window_end: float = float("inf")
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def record(self, action: str, started: float, finished: float) -> None:
        """Keep one action's latency if it finished inside the window."""
        if self.window_start <= finished <= self.window_end:
            self.latencies.setdefault(action, []).append(finished - started)

    def summary(self, seconds: float) -> dict[str, Any]:
        """Count, rate, p50 and p99 per action, and in total."""
        per_action = {name: stats(values, seconds) for name, values in self.latencies.items()}
        everything = [value for values in self.latencies.values() for value in values]
        return {"all": stats(everything, seconds), **per_action}


def stats(values: list[float], seconds: float) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "per_second": 0.0, "p50_ms": None, "p99_ms": None}
    return {
        "count": len(ordered),
        "per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


# -- the echo bot ----------------------------------------------------------------------------


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


@asynccontextmanager
async def echo_bot(sandbox: SandboxServer) -> AsyncIterator[object]:
    """A bare PTB Application on the sandbox: updates handled concurrently, no limiter."""
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .concurrent_updates(True)  # PTB's 256 at a time: nothing waits for another chat
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo_message))
    app.add_handler(CallbackQueryHandler(_echo_tap))
    async with polling(app):
        yield app


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Start an Application with its polling updater; stop it on exit."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def _echo_user(user: SandboxUser, samples: Samples, stop: asyncio.Event) -> None:
    """One closed-loop user: type, tap, type, tap... each as soon as the bot replied."""
    loop = asyncio.get_running_loop()
    message = None
    turn = 0
    while not stop.is_set():
        started = loop.time()
        if message is None or turn % 2 == 0:
            await user.send(f"halo {turn}")
            action = "message"
        else:
            await user.tap(message, data="tap")
            action = "tap"
        message = await user.wait_for_reply(timeout=60)
        samples.record(action, started, loop.time())
        turn += 1


async def run_echo(
    users: int,
    seconds: float,
    factory: BotFactory = echo_bot,
    *,
    warm_up: float = WARM_UP_SECONDS,
) -> dict[str, Any]:
    """Measure `users` closed-loop users for `seconds` against the bot `factory` starts."""
    async with SandboxServer() as sandbox, factory(sandbox):
        people = [sandbox.user(1_000_000 + n, f"U{n}") for n in range(users)]
        loop = asyncio.get_running_loop()
        samples = Samples(window_start=loop.time() + warm_up)
        samples.window_end = samples.window_start + seconds
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_echo_user(person, samples, stop)) for person in people]
        await asyncio.sleep(warm_up + seconds)
        stop.set()
        await cancel_all(tasks)
    result = samples.summary(seconds)
    return {
        "users": users,
        "seconds": seconds,
        "replies_per_second": result["all"]["per_second"],
        "actions": result,
    }


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, TimeoutError)]
    if errors:
        raise errors[0]
