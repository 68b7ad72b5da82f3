"""The sandbox Bot API server: aiohttp on loopback, plus the API tests and the demo drive."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from aiohttp import web

from sandbox.actors import SandboxChat, SandboxUser
from sandbox.methods import METHODS, commands_key
from sandbox.models import ApiCall, CallbackAnswer, Fault
from sandbox.params import Params, Upload
from sandbox.rules import ApiError, fault_error
from sandbox.world import World

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TOKEN_RE: Final = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
# Telegram accepts uploads up to 50 MB; aiohttp's default body limit is 1 MiB.
_MAX_BODY: Final = 52 * 1024 * 1024


class SandboxServer:
    """An in-memory Telegram Bot API on 127.0.0.1 that the real PTB stack talks to."""

    def __init__(
        self,
        *,
        bot_username: str = "spi_sandbox_bot",
        bot_name: str = "SPI Sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._world = World(bot_username=bot_username, bot_name=bot_name)
        self._host = host
        self._port = port
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on the configured host (a random free port by default)."""
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout: pending long polls are woken on stop anyway.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._world.closing = False
        self._bound_port = int(runner.addresses[0][1])
        logger.info("sandbox Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; long polls still waiting return at once."""
        if self._runner is None:
            return
        self._world.closing = True
        self._world.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        logger.info("sandbox Bot API stopped")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._bound_port is None:
            raise RuntimeError("the sandbox server has not been started")
        return self._bound_port

    @property
    def base_url(self) -> str:
        """Value for PTB's `base_url` (the token is appended to it)."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's `base_file_url`."""
        return f"http://{self._host}:{self.port}/file/bot"

    # -- acting as Telegram's users ----------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Sari",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> SandboxUser:
        """Return the user with this id (chat id == user id), creating it on first use."""
        return self._world.user(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    def group(
        self,
        chat_id: int = -1001234,
        title: str = "Pimpinan",
        *,
        supergroup: bool = False,
        privacy_mode: bool = True,
    ) -> SandboxChat:
        """Return the group with this (negative) id, with the bot in it.

        With `privacy_mode` (Telegram's default for bots) only commands reach the bot.
        """
        return self._world.group(chat_id, title, supergroup=supergroup, privacy_mode=privacy_mode)

    def chat(self, chat_id: int) -> SandboxChat:
        """Return an existing chat by id."""
        return self._world.chats[chat_id]

    # -- what the bot did ---------------------------------------------------------------------

    @property
    def sent(self) -> list[ApiCall]:
        """Every API call the bot made except getUpdates, oldest first."""
        return self._world.sent

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Every successful answerCallbackQuery call, oldest first."""
        return self._world.callback_answers

    @property
    def pending_updates(self) -> int:
        """Updates queued for the bot and not yet confirmed through getUpdates."""
        return self._world.pending_updates

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """The command menu the bot set with setMyCommands (default scope and language)."""
        return self._world.commands.get(commands_key(scope, language_code), [])

    def calls(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive), oldest first."""
        return [call for call in self.sent if call.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,
        description: str | None = None,
    ) -> T:
        """Wait until `predicate()` is truthy and return its value, else raise TimeoutError."""
        return await self._world.wait_for(predicate, timeout, description)

    # -- faults -------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str | None = None,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> Fault:
        """Make the next `times` matching calls (None: all) fail with `status` or be slowed.

        `status` 429 answers with `retry_after`; 5xx with Telegram's bare error shape;
        `status=None` with a `delay` only slows the call down. `method=None` matches any
        method except getUpdates, which must be named to be faulted.
        """
        fault = Fault(method, status, retry_after, times, delay, chat_id)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    def _take_fault(self, method: str, chat_id: int | str | None) -> Fault | None:
        self._faults = [f for f in self._faults if f.times is None or f.hits < f.times]
        for fault in self._faults:
            if fault.method is None and method.lower() == "getupdates":
                continue
            if fault.matches(method, chat_id):
                fault.hits += 1
                return fault
        return None

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        token_match = _TOKEN_RE.match(request.match_info["token"])
        if token_match is None:
            return _json_response(ApiError(HTTPStatus.NOT_FOUND, "Not Found").to_response(), 404)
        self._world.bot_id = int(token_match.group(1))
        method_name = request.match_info["method"]
        method = METHODS.get(method_name.lower())
        if method is None:
            error = ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
            return _json_response(error.to_response(), error.status)
        try:
            params = await _read_params(request)
        except ApiError as error:
            return _json_response(error.to_response(), error.status)
        chat_id = params.chat_id() if "chat_id" in params else None
        logged = method_name.lower() != "getupdates"
        try:
            fault = self._take_fault(method_name, chat_id)
            if fault is not None:
                await self._apply_fault(fault)
            result = await method(self._world, params)
        except ApiError as error:
            logger.debug("sandbox %s -> %s", method_name, error.description)
            if logged:
                self._world.record_call(method_name, chat_id, params.for_log(), error.description)
            return _json_response(error.to_response(), error.status)
        except Exception:
            # A sandbox bug must show up in the log, not as a mysterious client NetworkError.
            logger.exception("sandbox %s failed", method_name)
            crash = ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
            return _json_response(crash.to_response(), crash.status)
        if logged:
            self._world.record_call(method_name, chat_id, params.for_log(), None)
        return _json_response({"ok": True, "result": result}, HTTPStatus.OK)

    async def _apply_fault(self, fault: Fault) -> None:
        if fault.delay > 0:
            # A stop() must not wait for an injected delay to run out.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + fault.delay
            while not self._world.closing and (remaining := deadline - loop.time()) > 0:
                await self._world.wait_changed(remaining)
        if fault.status is not None:
            raise fault_error(fault.status, fault.retry_after)

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for stored in self._world.files.values():
            if stored.file_path == path and stored.data is not None:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.Response(status=HTTPStatus.NOT_FOUND, text="Not Found")


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and a JSON, form or multipart body."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: can't parse JSON") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: JSON object expected")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                uploads[name] = Upload(value.filename, value.content_type, value.file.read())
            elif isinstance(value, str):
                values[name] = value
            else:
                values[name] = bytes(value).decode()
    return Params(values, uploads)
