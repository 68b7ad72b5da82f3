"""The HTTP side of the bot: the Mini App dashboard, served beside the webhook (webhook mode)
or on its own uvicorn server on WEB_LISTEN (polling), started and stopped with the bot.

Requests are not logged (no access log): the dashboard's URLs carry no ids, but its callers
are officials, and when they look is theirs to know.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Final

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from handlers.miniapp import MOUNT_PATH, mini_app
from services.context import Services

__all__ = ["WebServer", "bind_socket", "dashboard_mount", "wait_started"]

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT: Final = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a listening socket (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def wait_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Wait until uvicorn accepts connections; raise if it stopped instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("the web server stopped while starting")
        if loop.time() > deadline:
            raise RuntimeError("the web server did not start")
        await asyncio.sleep(0.01)


def dashboard_mount(services: Services, bot_token: str) -> Mount:
    """Return the Mini App mounted at /app."""
    return Mount(MOUNT_PATH, app=mini_app(services, bot_token))


class WebServer:
    """The Mini App on its own server (polling mode): `start` in post_init, `stop` at shutdown."""

    def __init__(self, services: Services, bot_token: str, host: str, port: int) -> None:
        self._asgi = Starlette(routes=[dashboard_mount(services, bot_token)])
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self.url = ""  # e.g. http://127.0.0.1:8081, once started

    async def start(self) -> None:
        """Listen on the configured address and serve until `stop`."""
        sock = bind_socket(self._host, self._port)
        config = uvicorn.Config(
            self._asgi,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="dashboard-server")
        try:
            await wait_started(server, task)
        except BaseException:
            server.should_exit = True
            sock.close()
            raise
        self._server, self._task, self._sock = server, task, sock
        port = sock.getsockname()[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{port}"
        logger.info("dashboard listening on %s:%d", self._host, port)

    async def stop(self) -> None:
        """Stop taking requests, let those in flight finish, and close the socket."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await asyncio.shield(self._task)
        if self._sock is not None:
            self._sock.close()
        self._server = self._task = self._sock = None
