"""The echo side of the Bot API load benchmark, and the measuring both sides share.

`echo_bot` is the ceiling: a bare PTB Application (`benchmarks.echo_bot`) that answers at
once, in its own process. `run_echo` keeps N closed-loop users (each acts again as soon as
the bot replied) on any `BotFactory`, and reads how much CPU the bot and the harness used.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from benchmarks.botapi_procs import BotProcess
from sandbox import SandboxServer, SandboxUser

__all__ = [
    "BotFactory",
    "Samples",
    "busy",
    "cancel_all",
    "cpu_mark",
    "cpu_shares",
    "echo_bot",
    "echo_bot_aiohttp",
    "run_echo",
    "stats",
]

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


def echo_bot(sandbox: SandboxServer) -> AbstractAsyncContextManager[BotProcess]:
    """The bare PTB echo bot (`benchmarks.echo_bot`) in its own process, polling `sandbox`."""
    return _echo(sandbox, "")


@asynccontextmanager
async def _echo(sandbox: SandboxServer, transport: str) -> AsyncIterator[BotProcess]:
    argv = ["-m", "benchmarks.echo_bot", sandbox.base_url, sandbox.base_file_url, TOKEN]
    bot = BotProcess([*argv, transport] if transport else argv)

    async def ready() -> None:
        probe = sandbox.user(999_999, "Probe")
        await probe.send("halo")
        await probe.wait_for_reply(timeout=60)

    await bot.start(ready)
    try:
        yield bot
    finally:
        await bot.stop()


def echo_bot_aiohttp(sandbox: SandboxServer) -> AbstractAsyncContextManager[BotProcess]:
    """The same echo bot on spi-bot's HTTP transport (bot/http.py) instead of PTB's httpx."""
    return _echo(sandbox, "aiohttp")


def busy(bot: object, since: tuple[float, float]) -> dict[str, float]:
    """CPU seconds used since `since` by the bot's process (when it is one) and this one."""
    used = {"harness": time.process_time() - since[1]}
    if isinstance(bot, BotProcess):
        used["bot"] = bot.cpu_seconds - since[0]
    return used


def cpu_mark(bot: object) -> tuple[float, float]:
    """Return the CPU clocks `busy` measures from."""
    return (bot.cpu_seconds if isinstance(bot, BotProcess) else 0.0, time.process_time())


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
    async with SandboxServer() as sandbox, factory(sandbox) as bot:
        people = [sandbox.user(1_000_000 + n, f"U{n}") for n in range(users)]
        loop = asyncio.get_running_loop()
        samples = Samples(window_start=loop.time() + warm_up)
        samples.window_end = samples.window_start + seconds
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_echo_user(person, samples, stop)) for person in people]
        await asyncio.sleep(warm_up)
        mark = cpu_mark(bot)
        await asyncio.sleep(seconds)
        used = busy(bot, mark)
        stop.set()
        await cancel_all(tasks)
    result = samples.summary(seconds)
    return {
        "users": users,
        "seconds": seconds,
        "replies_per_second": result["all"]["per_second"],
        "actions": result,
        "cpu": cpu_shares(used, seconds, result["all"]["count"]),
    }


def cpu_shares(used: dict[str, float], seconds: float, actions: int) -> dict[str, float | None]:
    """Share of a core each side used in the window, and the bot's CPU ms per action."""
    shares: dict[str, float | None] = {
        f"{side}_core_share": round(value / seconds, 2) for side, value in used.items()
    }
    if "bot" in used:
        shares["bot_ms_per_action"] = round(used["bot"] * 1000 / actions, 2) if actions else None
    return shares


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, TimeoutError)]
    if errors:
        raise errors[0]
