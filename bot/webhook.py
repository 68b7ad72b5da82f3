"""Webhook mode: the Bot API POSTs updates to a Starlette app served by uvicorn.

The Application is built without an updater (as PTB's customwebhookbot example); each POST is
checked against the shared secret, claimed in the processed-update ledger, handled, and only
then answered 200, so Telegram redelivers whatever a crashed process never finished and a
redelivery of a finished update is answered 200 without handling it again. The same server
answers /healthz (the process is up), /readyz (the database answers) and /metrics, and
serves the Mini App dashboard at /app/ (`bot.web`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

import storage.updates
from bot.app import SpiApplication
from bot.runner import running, tune_gc
from bot.web import bind_socket, dashboard_mount, wait_started
from services import metrics
from services.settings import Settings
from storage.anonymity import reshuffle_heaps

__all__ = [
    "HEALTH_PATH",
    "METRICS_PATH",
    "READY_PATH",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "WebhookServer",
    "create_webhook_app",
    "run_webhook",
    "serving",
]

logger = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/telegram/webhook"
HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# How often a process prunes the ledger and reshuffles the answer tables' physical order.
MAINTENANCE_INTERVAL: Final = timedelta(hours=1)


class _Endpoints:
    """The request handlers, bound to one running Application."""

    def __init__(self, app: SpiApplication, secret: str, lease: timedelta) -> None:
        self._app = app
        self._secret = secret.encode()
        self._lease = lease

    async def telegram(self, request: Request) -> Response:
        """Handle one update from the Bot API; 200 only once it is handled (or was before)."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("webhook request with a wrong or missing secret token refused")
            return PlainTextResponse("forbidden", status_code=403)
        update = await self._decode(request)
        if update is None:
            # Telegram would redeliver it forever; a bad update is dropped with a 400 instead.
            return PlainTextResponse("not a Telegram update", status_code=400)
        if not self._app.running:
            return PlainTextResponse("starting or stopping", status_code=503)
        services = self._app.bot_data.services
        engine = services.db.engine
        try:
            claimed = await storage.updates.claim_update(
                engine, update.update_id, services.clock(), lease=self._lease
            )
            if not claimed:
                state = await storage.updates.update_state(engine, update.update_id)
        except Exception as exc:  # the database is away: Telegram will try again later
            logger.error("cannot claim update %d: %s", update.update_id, type(exc).__name__)
            return PlainTextResponse("database unavailable", status_code=503)
        if not claimed:
            if state is storage.updates.UpdateState.FINISHED:
                metrics.DUPLICATE_UPDATES.inc()
                return PlainTextResponse("ok (already handled)")
            # Another process holds it: if that process dies, the retry after its lease wins.
            return PlainTextResponse("being handled elsewhere", status_code=503)
        metrics.UPDATE_QUEUE_DEPTH.inc()
        try:
            # Handler failures go to the error handler inside process_update; what escapes here
            # is the framework failing, and the update stays claimed until its lease ends.
            await self._app.update_processor.process_update(
                update, self._app.process_update(update)
            )
            await storage.updates.finish_update(engine, update.update_id, services.clock())
        except Exception:
            logger.exception("update %d was not handled", update.update_id)
            return PlainTextResponse("not handled", status_code=500)
        finally:
            metrics.UPDATE_QUEUE_DEPTH.dec()
        metrics.UPDATES_HANDLED.inc()
        return PlainTextResponse("ok")

    async def _decode(self, request: Request) -> Update | None:
        """Return the posted update, or None when the body is not one."""
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self._app.bot)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            logger.warning("undecodable update %d: %s", data["update_id"], type(exc).__name__)
            return None

    async def healthz(self, request: Request) -> Response:
        """Answer that the process is alive."""
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        """Answer 200 when this process can handle updates (running, database reachable)."""
        if not self._app.running:
            return PlainTextResponse("not running", status_code=503)
        if not await self._app.bot_data.services.db.ping():
            return PlainTextResponse("database unreachable", status_code=503)
        return PlainTextResponse("ready")

    async def metrics(self, request: Request) -> Response:
        """Return the process's metrics in Prometheus' text format."""
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def create_webhook_app(
    app: SpiApplication, secret: str, *, lease: timedelta = storage.updates.DEFAULT_CLAIM_LEASE
) -> Starlette:
    """Return the ASGI app for a running `app` (see `serving` for the whole lifecycle)."""
    endpoints = _Endpoints(app, secret, lease)
    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, endpoints.telegram, methods=["POST"]),
            Route(HEALTH_PATH, endpoints.healthz, methods=["GET"]),
            Route(READY_PATH, endpoints.readyz, methods=["GET"]),
            Route(METRICS_PATH, endpoints.metrics, methods=["GET"]),
            # The Mini App dashboard: the same server, /app/ (docs/miniapp.md).
            dashboard_mount(app.bot_data.services, app.bot.token),
        ]
    )


class WebhookServer:
    """A running webhook server: its local URL, and how to wait for it to stop."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], url: str) -> None:
        self._server = server
        self._task = task
        self.url = url  # e.g. http://127.0.0.1:8080

    @property
    def webhook_url(self) -> str:
        """Return the local URL of the webhook endpoint."""
        return self.url + WEBHOOK_PATH

    async def wait_closed(self) -> None:
        """Wait until the server stops (SIGINT/SIGTERM, or `stop`)."""
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop accepting requests, let requests in flight finish, and wait."""
        self._server.should_exit = True
        await asyncio.shield(self._task)


async def _maintain_forever(app: SpiApplication) -> None:
    """Now and every MAINTENANCE_INTERVAL: prune the ledger, and rewrite the answer tables in
    random-key order on PostgreSQL (one process at a time; see storage.anonymity)."""
    services = app.bot_data.services
    while True:
        try:
            pruned = await storage.updates.prune_updates(services.db.engine, services.clock())
            if pruned:
                logger.info("pruned %d processed-update rows older than a day", pruned)
            if services.settings.heap_reshuffle:
                await reshuffle_heaps(services.db.engine)
        except Exception as exc:  # try again next time; never stop the server for this
            logger.warning("maintenance failed: %s", type(exc).__name__)
        await asyncio.sleep(MAINTENANCE_INTERVAL.total_seconds())


async def _set_webhook(app: SpiApplication, settings: Settings, secret: str) -> None:
    """Tell the Bot API to deliver to WEBHOOK_PUBLIC_URL/telegram/webhook with our secret."""
    assert settings.webhook_public_url is not None
    await app.bot.set_webhook(
        url=settings.webhook_public_url + WEBHOOK_PATH,
        secret_token=secret,
        allowed_updates=Update.ALL_TYPES,
        max_connections=settings.webhook_max_connections,
    )
    logger.info("webhook set to %s", settings.webhook_public_url + WEBHOOK_PATH)


@asynccontextmanager
async def serving(
    app: SpiApplication, settings: Settings, *, port: int | None = None
) -> AsyncIterator[WebhookServer]:
    """Run `app` (built with `webhook=True`) behind the webhook server until the block ends.

    Listens on WEBHOOK_LISTEN (`port` overrides its port; 0 picks a free one), calls setWebhook
    when WEBHOOK_PUBLIC_URL is set, and on exit stops taking requests, lets those in flight
    finish, then stops the Application.
    """
    secret = settings.require_webhook_secret()
    host, listen_port = settings.webhook_host_port
    sock = bind_socket(host, listen_port if port is None else port)
    bound_port = sock.getsockname()[1]
    async with running(app, polling=False):
        asgi = create_webhook_app(
            app, secret, lease=timedelta(seconds=settings.update_claim_lease_seconds)
        )
        config = uvicorn.Config(
            asgi, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=30
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="webhook-server")
        pruner = asyncio.create_task(_maintain_forever(app), name="webhook-maintenance")
        try:
            await wait_started(server, task)
            url_host = f"[{host}]" if ":" in host else host
            webhook = WebhookServer(server, task, f"http://{url_host}:{bound_port}")
            logger.info("webhook server listening on %s:%d", host, bound_port)
            if settings.webhook_public_url:
                await _set_webhook(app, settings, secret)
            yield webhook
        finally:
            server.should_exit = True
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner
            await task
            sock.close()


def run_webhook(app: SpiApplication, settings: Settings) -> None:
    """Serve the webhook until SIGINT or SIGTERM (blocking)."""

    async def main() -> None:
        async with serving(app, settings) as server:
            await server.wait_closed()

    tune_gc()
    asyncio.run(main())
