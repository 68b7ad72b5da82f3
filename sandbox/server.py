"""The sandbox Bot API server: aiohttp on loopback, plus the API tests and the demo drive."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from aiohttp import web

from sandbox.actors import SandboxChat, SandboxUser
from sandbox.faults import FaultPlan, hold_request, raise_for
from sandbox.methods import METHODS, commands_key
from sandbox.models import (
    ApiCall,
    CallbackAnswer,
    Drop,
    Fault,
    SandboxClock,
    SandboxError,
    Webhook,
    WebhookAttempt,
)
from sandbox.params import read_params
from sandbox.rules import ApiError
from sandbox.webapps import MiniApps
from sandbox.webhook import DeliveryPolicy, WebhookSender
from sandbox.world import World

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TOKEN_RE: Final = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
# Telegram accepts uploads up to 50 MB; aiohttp's default body limit is 1 MiB.
_MAX_BODY: Final = 52 * 1024 * 1024


class SandboxServer(MiniApps):
    """An in-memory Telegram Bot API on 127.0.0.1 that the real PTB stack talks to."""

    def __init__(
        self,
        *,
        bot_username: str = "spi_sandbox_bot",
        bot_name: str = "SPI Sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = 0,
        clock: Callable[[], float] | None = None,
        callback_query_ttl: float = 15.0,
        webhook_policy: DeliveryPolicy | None = None,
    ) -> None:
        """Configure the server; nothing listens before `start()`.

        `seed` drives which calls a probabilistic fault hits, so a run repeats. `clock`
        (monotonic seconds; a `SandboxClock` by default, see `advance_time`) measures callback
        query ages against `callback_query_ttl`. `webhook_policy` sets delivery timeouts and
        retries.
        """
        self.clock: Callable[[], float] = clock or SandboxClock()
        self._world = World(
            bot_username=bot_username,
            bot_name=bot_name,
            clock=self.clock,
            callback_query_ttl=callback_query_ttl,
        )
        self._host = host
        self._port = port
        self._faults = FaultPlan(seed)
        self._webhooks = WebhookSender(self._world, webhook_policy or DeliveryPolicy())
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
        self._world.stopped.clear()
        self._bound_port = int(runner.addresses[0][1])
        await self._webhooks.start()
        logger.info("sandbox Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; long polls still waiting return at once."""
        if self._runner is None:
            return
        self._world.closing = True
        self._world.stopped.set()
        self._world.notify()
        await self._webhooks.stop()
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

    # -- time and callback queries --------------------------------------------------------

    @property
    def callback_query_ttl(self) -> float:
        """Seconds (on `clock`) a callback query can still be answered; Telegram's is ~15."""
        return self._world.callback_query_ttl

    @callback_query_ttl.setter
    def callback_query_ttl(self, seconds: float) -> None:
        self._world.callback_query_ttl = seconds

    def advance_time(self, seconds: float) -> None:
        """Age every open callback query by `seconds` without sleeping (default clock only)."""
        if not isinstance(self.clock, SandboxClock):
            raise SandboxError("the server runs on a clock the test passed in; advance that one")
        self.clock.advance(seconds)

    # -- holding updates back, poison ------------------------------------------------------

    def hold_updates(self, *chats: SandboxChat | SandboxUser | int) -> None:
        """Hold back what users do in these chats (in every chat if none is named).

        Held actions reach neither getUpdates nor the webhook until `release_updates`, as
        in an outage or a backlog; a callback query made meanwhile ages as usual.
        """
        self._world.hold_updates(tuple(_chat_id(chat) for chat in chats))

    def release_updates(self, *chats: SandboxChat | SandboxUser | int) -> int:
        """Deliver what was held (for these chats, or all) in one batch; return how many."""
        return self._world.release_updates(tuple(_chat_id(chat) for chat in chats))

    @property
    def held_updates(self) -> int:
        """User actions held back and not released yet."""
        return self._world.held_updates

    def inject_poison_update(
        self, user: SandboxUser | None = None, *, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Queue valid JSON that PTB cannot decode into an Update (`body`, or by default a
        message from `user` whose `date` is a string: de_json raises TypeError); return it."""
        if body is None:
            sender = user.to_api() if user else {"id": 777, "is_bot": False, "first_name": "X"}
            chat = user.chat.to_api() if user else {"id": 777, "type": "private"}
            message_id = user.chat.allocate_message_id() if user else 1
            body = {
                "message": {
                    "message_id": message_id,
                    "date": "not-a-timestamp",
                    "chat": chat,
                    "from": sender,
                    "text": "poison",
                }
            }
        return self._world.queue_raw_update(body)

    # -- webhooks -----------------------------------------------------------------------------

    @property
    def webhook(self) -> Webhook | None:
        """The webhook the bot set, if any."""
        return self._world.webhook

    @property
    def webhook_policy(self) -> DeliveryPolicy:
        """Delivery timeout, retry pauses and attempts (mutable; applies to new attempts)."""
        return self._webhooks.policy

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every POST to the webhook, oldest first."""
        return self._webhooks.attempts

    @property
    def webhook_given_up(self) -> list[int]:
        """Update ids dropped after `webhook_policy.max_attempts` failed deliveries."""
        return self._webhooks.given_up

    # -- faults -------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str | tuple[str, ...] | None = None,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        chat_id: int | None = None,
        probability: float = 1.0,
        drop: Drop | None = None,
    ) -> Fault:
        """Make matching calls fail, be slowed down or go unanswered.

        A call matches by `method` (a name, a tuple of names, or None for any method but
        getUpdates, which must be named) and `chat_id`; it is hit with `probability`, drawn
        from the server's seeded random numbers; `times` hits (None: no limit) use it up.
        A hit waits `delay` seconds, then: `drop="before"` closes the connection without
        running the method, `drop="after"` runs it and closes the connection unanswered
        (the client cannot tell it happened); otherwise `status` 429 answers with
        `retry_after`, a 5xx with Telegram's bare error, and no status runs the method late
        (a `delay` beyond the client's timeout is a timeout that still took effect).
        """
        return self._faults.add(
            method,
            status,
            retry_after=retry_after,
            times=times,
            delay=delay,
            chat_id=chat_id,
            probability=probability,
            drop=drop,
        )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    def reseed(self, seed: int | None) -> None:
        """Restart the random choices of probabilistic faults from `seed`."""
        self._faults.reseed(seed)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        token_match = _TOKEN_RE.match(request.match_info["token"])
        if token_match is None:
            return _json_response(ApiError(HTTPStatus.NOT_FOUND, "Not Found").to_response(), 404)
        self._world.remember_bot(request.match_info["token"])
        method_name = request.match_info["method"]
        method = METHODS.get(method_name.lower())
        if method is None:
            error = ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
            return _json_response(error.to_response(), error.status)
        try:
            params = await read_params(request)
        except ApiError as error:
            return _json_response(error.to_response(), error.status)
        chat_id = params.chat_id() if "chat_id" in params else None
        logged = method_name.lower() != "getupdates"
        fault = self._faults.take(method_name, chat_id)
        try:
            if fault is not None:
                await hold_request(self._world, fault)
                if fault.drop == "before":
                    return _drop(request)
                raise_for(fault)
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
        if fault is not None and fault.drop == "after":
            return _drop(request)
        return _json_response({"ok": True, "result": result}, HTTPStatus.OK)

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


def _drop(request: web.Request) -> web.Response:
    """Close the connection unanswered; the client sees "server disconnected"."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)  # never reaches the client


def _chat_id(chat: SandboxChat | SandboxUser | int) -> int:
    return chat if isinstance(chat, int) else chat.id
