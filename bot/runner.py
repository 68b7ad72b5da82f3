"""Ways to run the Application: blocking polling for production, a context manager for the
sandbox (tests and the demo) that runs the real updater on the current event loop."""

from __future__ import annotations

import ctypes
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from telegram import Update

from bot.app import SpiApplication, build_application
from services.settings import Settings

__all__ = ["SandboxBot", "run_polling", "running", "sandbox_bot", "tune_gc", "tune_malloc"]

logger = logging.getLogger(__name__)


def tune_gc() -> None:
    """Make the garbage collector cheap for a long-running bot (call once, after start-up).

    Everything imported and built at start-up lives as long as the process: `gc.freeze()`
    moves it out of every later collection. Each update makes a few thousand short-lived
    objects (PTB's Telegram objects, SQLAlchemy rows); a larger first generation collects
    them less often. Measured with benchmarks/bench_botapi.py: ~3% less CPU per tap and a
    steadier p99.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD: Final = -3
_M_ARENA_MAX: Final = -8
# Allocations from this size up get their own mapping, returned to the system when freed.
# Above asyncio's 256 KiB read buffer (a socket read asks for that much, then shrinks it):
# at 256 KiB every read cost an mmap and a munmap, 0.9x the CPU per update on PostgreSQL.
_MMAP_THRESHOLD_BYTES: Final = 1024 * 1024


def tune_malloc() -> None:
    """Make freed memory go back to the system (glibc only; elsewhere nothing changes).

    Call it first thing in the process. A report and its chart pack allocate ~100 MB for a
    moment (DataFrames, figures), in worker threads. With glibc's defaults the process kept
    much of it: each thread allocates from its own arena, and after a large block is freed
    glibc raises its mmap threshold so that the next blocks of that size come from the heap,
    where freed pages stay resident. The bot grew with each chart pack (240, 260, 290 MB after
    the first three on a 100,000-answer wave). One arena for all threads (they seldom
    allocate at the same moment) and a fixed mmap threshold keep it near 210 MB
    (docs/benchmarks.md: memory). The threads that run migrations at start would otherwise
    already have made their arenas, which later threads reuse.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS)
        return
    for parameter, value in ((_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)):
        if libc.mallopt(parameter, value) != 1:
            logger.debug("mallopt(%d) is not supported here", parameter)


def run_polling(app: SpiApplication) -> None:
    """Run the bot with long polling until interrupted (blocking)."""
    tune_gc()
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


@asynccontextmanager
async def running(
    app: SpiApplication, *, poll_timeout: int = 1, polling: bool = True
) -> AsyncIterator[SpiApplication]:
    """Start the Application (and its polling updater, unless `polling` is off); stop on exit.

    Without polling the Application still runs its hooks and scheduler: a second bot process
    on the same database, which must not compete for getUpdates.
    """
    await app.initialize()
    # run_polling() calls these hooks itself; a hand-started Application must do it here.
    if app.post_init is not None:
        await app.post_init(app)
    try:
        await app.start()
        if polling:
            assert app.updater is not None, "a webhook Application has no updater to poll"
            await app.updater.start_polling(
                poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
            )
        try:
            yield app
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


class SandboxBot:
    """A running bot as the demo drives it (see `sandbox.demo.DemoBot`)."""

    def __init__(self, app: SpiApplication) -> None:
        self.app = app

    async def push_due_reports(self) -> None:
        """Run the scheduler's tick now: send every push that is due."""
        await self.app.bot_data.scheduler.tick()


@asynccontextmanager
async def sandbox_bot(settings: Settings) -> AsyncIterator[SandboxBot]:
    """Build the real bot for `settings` and run it (polling) until the block ends."""
    async with running(build_application(settings)) as app:
        yield SandboxBot(app)
