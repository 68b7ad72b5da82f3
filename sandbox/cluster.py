"""Several `spibot run --webhook` processes behind a round-robin proxy, against the sandbox.

For the multi-process tests and the scale-out benchmark. Each bot is its own OS process (so
one can be killed with SIGKILL), started the way a deployment starts it: the command line
and environment variables only. All of them share one database; the first one sets the
webhook to the proxy, which hands each POST of the sandbox to the next process in turn, as a
load balancer would, and answers 502 for a process that is gone (the sandbox then retries,
as Telegram does).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import aiohttp
from aiohttp import web

from sandbox.demo import SANDBOX_TOKEN
from sandbox.server import SandboxServer
from sandbox.webhook import SECRET_HEADER

__all__ = [
    "RoundRobinProxy",
    "WebhookCluster",
    "bot_environment",
    "free_port",
    "webhook_cluster",
]

# The bot's own endpoints (bot/webhook.py); a cluster that never gets ready means they moved.
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
_READY_TIMEOUT: Final = 60.0
_STOP_TIMEOUT: Final = 30.0


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RoundRobinProxy:
    """A tiny load balancer: each POST goes to the next backend, path and secret header kept."""

    def __init__(self, backends: list[str]) -> None:
        self._backends = itertools.cycle(backends)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = free_port()
        self.forwarded = 0

    @property
    def url(self) -> str:
        """Return the proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        target = next(self._backends) + request.path_qs
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        try:
            async with self._session.post(target, data=body, headers=headers) as answer:
                self.forwarded += 1
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502, text="backend unavailable")

    async def __aenter__(self) -> RoundRobinProxy:
        # No total timeout of its own: the sender's timeout decides, as Telegram's does.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        assert self._session is not None
        await self._runner.cleanup()
        await self._session.close()


@dataclass
class WebhookCluster:
    """The running bot processes, their ports and log files, and the proxy in front."""

    proxy: RoundRobinProxy
    ports: list[int]
    logs: list[Path]
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    def kill(self, index: int) -> None:
        """Kill one bot process with SIGKILL, as a crash or the OOM killer would."""
        self.processes[index].send_signal(signal.SIGKILL)

    async def metric(self, name: str) -> float:
        """Return a counter (e.g. spibot_updates_handled_total) summed over live processes."""
        total = 0.0
        async with aiohttp.ClientSession() as session:
            for port in self.ports:
                try:
                    async with session.get(f"http://127.0.0.1:{port}{METRICS_PATH}") as answer:
                        text = await answer.text()
                except aiohttp.ClientError:
                    continue  # a killed process has no metrics any more
                for line in text.splitlines():
                    if line.startswith(f"{name} "):
                        total += float(line.split()[1])
        return total


def bot_environment(
    sandbox: SandboxServer, database_url: str, secret: str, webhook_secret: str
) -> dict[str, str]:
    """Return the environment of a bot process: this one's, minus every bot setting, plus
    the sandbox, the database and the secrets (more settings can be added by the caller)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEBHOOK_", "DATABASE_", "TELEGRAM_", "SPIBOT_", "DB_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
        TELEGRAM_API_BASE_URL=sandbox.base_url,
        TELEGRAM_API_BASE_FILE_URL=sandbox.base_file_url,
        DATABASE_URL=database_url,
        SPIBOT_SECRET=secret,
        BOT_USERNAME="spi_sandbox_bot",
        WEBHOOK_SECRET=webhook_secret,
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
    )
    return env


def _tail(log: Path) -> str:
    """Return the end of a bot's log, for an error message."""
    return log.read_text(errors="replace")[-2000:]


async def _wait_ready(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _READY_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"bot process exited: {_tail(log)}")
            try:
                async with session.get(f"http://127.0.0.1:{port}{READY_PATH}") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"bot process on {port} never became ready: {_tail(log)}")


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM each process still running (it finishes what it holds), then wait for all."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def webhook_cluster(
    sandbox: SandboxServer,
    env: Mapping[str, str],
    folder: Path,
    processes: int = 3,
) -> AsyncIterator[WebhookCluster]:
    """Start `processes` webhook bots with `env` (see `bot_environment`) behind a proxy.

    Each logs to `folder/bot<i>.log`. The block starts once every process answers /readyz
    and the sandbox has the webhook; on exit every process still running gets SIGTERM.
    """
    async with AsyncExitStack() as stack:
        ports = [free_port() for _ in range(processes)]
        proxy = await stack.enter_async_context(
            RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports])
        )
        cluster = WebhookCluster(proxy, ports, [folder / f"bot{i}.log" for i in range(processes)])
        stack.push_async_callback(_stop, cluster.processes)
        for index, port in enumerate(ports):
            process_env = dict(env, WEBHOOK_LISTEN=f"127.0.0.1:{port}")
            if index == 0:  # one process sets the webhook, to the proxy
                process_env["WEBHOOK_PUBLIC_URL"] = proxy.url
            with cluster.logs[index].open("wb") as out:
                cluster.processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        "run",
                        "--webhook",
                        env=process_env,
                        cwd=folder,
                        stdout=out,
                        stderr=out,
                    )
                )
        for port, process, log in zip(ports, cluster.processes, cluster.logs, strict=True):
            await _wait_ready(port, process, log)
        await sandbox.wait_for(lambda: sandbox.webhook is not None, 10)
        yield cluster
