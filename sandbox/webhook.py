"""Webhooks: setWebhook/deleteWebhook/getWebhookInfo, and delivering updates like Telegram.

While a webhook is set, every pending update is POSTed as JSON to its URL (with the
`X-Telegram-Bot-Api-Secret-Token` header when a secret was given), up to `max_connections`
at a time, oldest first. An answer other than 2xx, a timeout or a refused connection is
retried with a growing pause, a bounded number of times; then the update is given up, as
Telegram eventually does. getUpdates answers 409 meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from sandbox.models import Webhook, WebhookAttempt
from sandbox.params import Params
from sandbox.rules import bad_request
from sandbox.world import World

__all__ = ["SECRET_HEADER", "DeliveryPolicy", "WebhookSender"]

logger = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(slots=True)
class DeliveryPolicy:
    """How hard the sandbox tries to deliver one update (tests make it short)."""

    timeout: float = 10.0  # seconds to wait for the webhook's answer
    retry_delay: float = 0.1  # pause after the first failure, doubled after each next one
    max_retry_delay: float = 2.0
    max_attempts: int = 8  # then the update is given up


# -- the methods ---------------------------------------------------------------------------


async def set_webhook(world: World, params: Params) -> bool:
    """Set (or, with an empty url, remove) the webhook that updates are POSTed to."""
    url = params.text("url") or ""
    if not url:
        return await delete_webhook(world, params)
    # Telegram wants HTTPS; the sandbox also takes plain HTTP, since it delivers on loopback.
    if not re.match(r"^https?://[^\s/]+", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.json("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = frozenset(str(kind) for kind in allowed)
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    world.webhook = Webhook(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=tuple(str(kind) for kind in allowed) if isinstance(allowed, list) else None,
    )
    world.webhook_last_error = None
    world.notify()
    return True


async def delete_webhook(world: World, params: Params) -> bool:
    """Forget the webhook, optionally dropping pending updates."""
    world.webhook = None
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    world.notify()
    return True


async def get_webhook_info(world: World, params: Params) -> dict[str, Any]:
    """Describe the webhook, with the last delivery error as Telegram reports it."""
    info: dict[str, Any] = {
        "url": world.webhook.url if world.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": world.pending_updates,
    }
    if world.webhook is not None:
        info["max_connections"] = world.webhook.max_connections
        if world.webhook.allowed_updates is not None:
            info["allowed_updates"] = list(world.webhook.allowed_updates)
        if world.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = world.webhook_last_error
    return info


# -- delivery ------------------------------------------------------------------------------


class WebhookSender:
    """Push pending updates to the webhook while one is set."""

    def __init__(self, world: World, policy: DeliveryPolicy) -> None:
        self._world = world
        self.policy = policy
        self.attempts: list[WebhookAttempt] = []
        self.given_up: list[int] = []
        self._in_flight: set[int] = set()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start watching for updates to push."""
        self._session = aiohttp.ClientSession()
        self._loop_task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        """Stop delivering; updates in flight stay pending."""
        tasks = [t for t in (self._loop_task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        # Checking `closing` matters: on Python 3.11 wait_for() can swallow the cancel that
        # stop() sends when the wake-up it waits for arrives at the same moment.
        while not self._world.closing:
            hook = self._world.webhook
            update = None
            if hook is not None and len(self._in_flight) < hook.max_connections:
                update = self._world.next_undelivered(self._in_flight)
            if update is None:
                await self._world.wait_changed(1.0)
                continue
            update_id = int(update["update_id"])
            self._in_flight.add(update_id)
            task = asyncio.create_task(self._deliver(update))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, update: dict[str, Any]) -> None:
        update_id = int(update["update_id"])
        try:
            for attempt in range(1, self.policy.max_attempts + 1):
                hook = self._world.webhook
                if hook is None:
                    return  # Deleted meanwhile: the update waits for getUpdates.
                status, error = await self._post(hook, update)
                self.attempts.append(WebhookAttempt(update_id, attempt, status, error, time.time()))
                if error is None:
                    self._world.remove_update(update_id)
                    return
                self._world.webhook_last_error = (int(time.time()), error)
                if attempt < self.policy.max_attempts:
                    pause = self.policy.retry_delay * 2 ** (attempt - 1)
                    await asyncio.sleep(min(pause, self.policy.max_retry_delay))
            logger.info("sandbox webhook gave up update %s", update_id)
            self.given_up.append(update_id)
            self._world.remove_update(update_id)
        finally:
            self._in_flight.discard(update_id)
            self._world.notify()

    async def _post(self, hook: Webhook, update: dict[str, Any]) -> tuple[int | None, str | None]:
        assert self._session is not None
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        try:
            async with self._session.post(
                hook.url, json=update, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                return response.status, (
                    f"Wrong response from the webhook: {response.status} {response.reason}"
                )
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return None, "Connection refused"
        except aiohttp.ClientError as error:
            return None, f"Connection closed: {type(error).__name__}"
