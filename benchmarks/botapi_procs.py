"""Bots under test as their own OS processes, so the load harness never shares their core.

The sandbox Bot API and the simulated users run in the benchmark's process; the bot runs in
a child process and talks to the sandbox over loopback HTTP, as it would to Telegram. Each
child's CPU time is read from /proc, so a figure can say how much of a core the bot used per
action, which holds on a busy machine better than any wall-clock rate does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Final

__all__ = ["BotProcess", "cpu_seconds", "rss_bytes"]

ROOT: Final = Path(__file__).resolve().parent.parent
_TICKS: Final = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds process `pid` has used so far (0 if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """Return the resident memory of process `pid` in bytes (VmRSS; 0 if unknown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class BotProcess:
    """A bot in a child process; `start` returns once `ready` saw it answer."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str] | None = None,
        *,
        cwd: Path = ROOT,
        cores: Collection[int] | None = None,
    ) -> None:
        self.argv = argv
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd  # another source tree runs that tree's code (`python -m` looks here first)
        self.cores = cores  # pin the bot to these CPUs (as `taskset -c`), or leave it free
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        """Start the child (Popen returns at once; it does not wait for the child)."""
        self.process = subprocess.Popen(
            [sys.executable, *self.argv],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=None,  # the bot's own warnings stay visible on the benchmark's stderr
        )
        if self.cores is not None:
            # Before the interpreter starts any thread: every thread it makes inherits it.
            os.sched_setaffinity(self.process.pid, self.cores)

    async def start(self, ready: Callable[[], Awaitable[object]], timeout: float = 60) -> None:
        """Start the child and wait until `ready()` returns (it probes the bot)."""
        self.spawn()
        try:
            await asyncio.wait_for(ready(), timeout)
        except BaseException:
            await self.stop()
            raise

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the child has used so far."""
        return 0.0 if self.process is None else cpu_seconds(self.process.pid)

    @property
    def rss_bytes(self) -> int:
        """The child's resident memory now (VmRSS), 0 if it is gone."""
        return 0 if self.process is None else rss_bytes(self.process.pid)

    def signal(self, signum: int) -> None:
        """Send the child a signal (e.g. the profiler's start and stop, see cpu_profile)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    async def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 10 s).

        Waits without blocking the loop: the sandbox in this process must go on answering
        the bot's last calls while it shuts down.
        """
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            for _ in range(200):
                if process.poll() is not None:
                    return
                await asyncio.sleep(0.05)
            process.kill()
            process.wait()
