"""The spi-bot side of the Bot API load benchmark: simulated respondents, timed per action.

`spibot_survey` starts spi-bot on a SQLite file against the sandbox; `run_survey` keeps N
respondents answering without pause (closed loop), `run_wave_morning` lets N people answer
once at a person's pace. Any other survey bot plugs in as a `SurveyFactory`.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from benchmarks.botapi_load import (
    WARM_UP_SECONDS,
    Samples,
    busy,
    cancel_all,
    cpu_mark,
    cpu_shares,
    stats,
)
from benchmarks.botapi_procs import BotProcess
from sandbox import SandboxServer, SandboxUser
from sandbox.simulation import Outcome, Persona, simulate_respondent

__all__ = [
    "PayloadFor",
    "SurveyBot",
    "SurveyFactory",
    "run_survey",
    "run_wave_morning",
    "running_survey_bot",
    "spibot_survey",
]

PayloadFor = Callable[[int], Awaitable[str]]
SurveyFactory = Callable[[SandboxServer], AbstractAsyncContextManager["SurveyBot"]]


@dataclass(frozen=True)
class SurveyBot:
    """A running survey bot: the /start payload of the n-th respondent, and its process."""

    payload_for: PayloadFor
    process: BotProcess | None = None


@asynccontextmanager
async def running_survey_bot(
    sandbox: SandboxServer, url: str, entry: str = "bot", **settings: str
) -> AsyncIterator[SurveyBot]:
    """Open a wave on the database at `url`, run `python -m entry run` in its own process
    against the sandbox, and yield it once it answers; every respondent uses the open link of
    one unit. `settings` are extra environment settings."""
    # Imported here: the echo benchmark needs none of the bot.
    import storage.db
    from sandbox.demo import SANDBOX_TOKEN, open_sample_wave
    from services.context import utc_now
    from services.links import unit_payload

    secret = secrets.token_urlsafe(32)
    async with storage.db.Database(url) as db:
        await open_sample_wave(db.engine, "Bench", utc_now())
    env = {
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "TELEGRAM_API_BASE_FILE_URL": sandbox.base_file_url,
        "DATABASE_URL": url,
        "SPIBOT_SECRET": secret,
        "BOT_USERNAME": "spi_sandbox_bot",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    bot = BotProcess(["-m", entry, "--env-file", os.devnull, "run"], env)

    async def ready() -> None:
        probe = sandbox.user(999_998, "Probe")
        await probe.command("bantuan")
        await probe.wait_for_reply(timeout=60)

    await bot.start(ready)
    payload = unit_payload(secret.encode(), "DISPENDUKCAPIL")

    async def payload_for(index: int) -> str:
        return payload

    try:
        yield SurveyBot(payload_for, bot)
    finally:
        await bot.stop()


def spibot_survey(folder: Path, **settings: str) -> SurveyFactory:
    """Return a factory running `spibot run` in its own process on a fresh SQLite file.

    `settings` are extra environment settings (for example `CONCURRENT_UPDATES="16"`); by
    default the bot runs as shipped. Every respondent uses the open link of one unit.
    """

    @asynccontextmanager
    async def start(sandbox: SandboxServer) -> AsyncIterator[SurveyBot]:
        url = f"sqlite+aiosqlite:///{folder / f'bench-{secrets.token_hex(4)}.db'}"
        async with running_survey_bot(sandbox, url, **settings) as bot:
            yield bot

    return start


class _TimedUser:
    """A SandboxUser that times each action to the bot's first reply, after thinking."""

    def __init__(self, user: SandboxUser, samples: Samples, think: float) -> None:
        self._user = user
        self._samples = samples
        self._think = think
        self._pending: tuple[str, float] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._user, name)

    async def _act(self, action: str, call: Awaitable[Any], *, think: bool = True) -> Any:
        if think and self._think:
            await asyncio.sleep(self._think)
        self._pending = (action, asyncio.get_running_loop().time())
        return await call

    async def open_deep_link(self, payload: str) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            await self._act("start", self._user.open_deep_link(payload), think=False),
        )

    async def command(self, name: str, payload: str | None = None) -> dict[str, Any]:
        return cast(
            dict[str, Any], await self._act("start", self._user.command(name, payload), think=False)
        )

    async def send(self, text: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._act("type", self._user.send(text)))

    async def tap(self, message: Any, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], await self._act("tap", self._user.tap(message, **kwargs)))

    async def wait_for_reply(self, timeout: float = 5.0, **kwargs: Any) -> Any:
        reply = await self._user.wait_for_reply(timeout, **kwargs)
        if self._pending is not None:
            action, started = self._pending
            self._pending = None
            self._samples.record(action, started, asyncio.get_running_loop().time())
        return reply


async def _respondent(
    index: int,
    sandbox: SandboxServer,
    payload_for: PayloadFor,
    samples: Samples,
    think: float,
    timeout: float,
) -> Outcome:
    rng = random.Random(index)
    persona = Persona(leaning=rng.uniform(0.3, 0.9), rng=rng)
    user = sandbox.user(2_000_000 + index, f"R{index}", language_code="id")
    timed = cast(SandboxUser, _TimedUser(user, samples, think))
    outcome, _ = await simulate_respondent(
        timed, await payload_for(index), persona, timeout=timeout
    )
    return outcome


async def run_survey(
    users: int,
    seconds: float,
    factory: SurveyFactory,
    *,
    warm_up: float = WARM_UP_SECONDS,
    window: Callable[[bool], Awaitable[object]] | None = None,
) -> dict[str, Any]:
    """Closed loop: `users` respondents at a time answer without pause; a finished one is
    replaced by a new person. Taps/s and p50/p99 per tap inside the window.

    `window(True)` is awaited when the window opens and `window(False)` when it closes (after
    the CPU reading), e.g. to read other processes' CPU or to switch a profiler on and off.
    """
    async with SandboxServer() as sandbox, factory(sandbox) as bot:
        loop = asyncio.get_running_loop()
        samples = Samples(window_start=loop.time() + warm_up)
        samples.window_end = samples.window_start + seconds
        outcomes: list[Outcome] = []
        counter = iter(range(10**9))

        async def slot() -> None:
            while True:
                outcomes.append(
                    await _respondent(next(counter), sandbox, bot.payload_for, samples, 0.0, 60.0)
                )

        tasks = [asyncio.create_task(slot()) for _ in range(users)]
        await asyncio.sleep(warm_up)
        if window is not None:
            await window(True)
        mark = cpu_mark(bot.process)
        await asyncio.sleep(seconds)
        used = busy(bot.process, mark)
        if window is not None:
            await window(False)
        await cancel_all(tasks)
    result = samples.summary(seconds)
    return {
        "users": users,
        "seconds": seconds,
        "taps_per_second": result.get("tap", {}).get("per_second", 0.0),
        "actions": result,
        "cpu": cpu_shares(used, seconds, result["all"]["count"]),
        "finished_surveys": sum(1 for o in outcomes if o is Outcome.COMPLETED),
        "other_outcomes": sum(1 for o in outcomes if o is not Outcome.COMPLETED),
    }


async def run_wave_morning(
    people: int, think: float, factory: SurveyFactory, limit_seconds: float = 600.0
) -> dict[str, Any]:
    """`people` open the link at once and answer at `think` s per screen, one survey each."""
    async with SandboxServer() as sandbox, factory(sandbox) as bot:
        rss_before = bot.process.rss_bytes if bot.process else None
        samples = Samples(window_start=0.0)
        started = time.monotonic()
        mark = cpu_mark(bot.process)
        tasks = [
            asyncio.create_task(_respondent(n, sandbox, bot.payload_for, samples, think, 120.0))
            for n in range(people)
        ]
        done, pending = await asyncio.wait(tasks, timeout=limit_seconds)
        elapsed = time.monotonic() - started
        used = busy(bot.process, mark)
        rss_after = bot.process.rss_bytes if bot.process else None
        await cancel_all(list(pending))
    outcomes = [t.result() for t in done if t.exception() is None]
    errors = [t.exception() for t in done if t.exception() is not None]
    taps = samples.latencies.get("tap", [])
    waits = [value for values in samples.latencies.values() for value in values]
    return {
        "people": people,
        "think_seconds": think,
        "finished": sum(1 for o in outcomes if o is Outcome.COMPLETED),
        "not_finished": people - sum(1 for o in outcomes if o is Outcome.COMPLETED),
        "errors": [type(e).__name__ for e in errors][:5],
        "elapsed_seconds": round(elapsed, 1),
        "median_wait_ms": round(statistics.median(waits) * 1000, 1) if waits else None,
        "tap": stats(taps, elapsed),
        "median_tap_wait_ms": round(statistics.median(taps) * 1000, 1) if taps else None,
        "cpu": cpu_shares(used, elapsed, len(waits)),
        "rss_before_bytes": rss_before,
        "rss_after_bytes": rss_after,
    }
