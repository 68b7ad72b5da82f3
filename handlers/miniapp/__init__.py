"""The Mini App dashboard over HTTP: the static shell and its files, and the JSON API.

Thin, like the Telegram handlers: read the request, ask `services.miniapp.dashboard`, render
the answer. `mini_app` returns the ASGI app the composition root mounts at `/app` (beside the
webhook, or on its own server in polling mode). Every response carries the security headers
(`handlers.miniapp.shell`); data responses are never cached.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route

from handlers.miniapp import api, shell
from services.context import Services
from services.miniapp.dashboard import Dashboard

__all__ = ["MOUNT_PATH", "mini_app"]

MOUNT_PATH = "/app"


def mini_app(services: Services, bot_token: str) -> Starlette:
    """Return the dashboard's ASGI app (mount it at MOUNT_PATH)."""
    endpoints = api.Endpoints(Dashboard(services, bot_token))
    files = shell.Shell(services.messages, services.settings.default_language)
    return Starlette(
        routes=[
            Route("/", files.index, methods=["GET", "HEAD"]),
            Route("/static/{name}", files.static, methods=["GET", "HEAD"]),
            Route("/api/overview", endpoints.overview, methods=["GET"]),
            Route("/api/unit", endpoints.unit, methods=["GET"]),
            Route("/api/units", endpoints.units, methods=["GET"]),
            Route("/api/trend", endpoints.trend, methods=["GET"]),
            Route("/api/whatif", endpoints.whatif_form, methods=["GET"]),
            Route("/api/whatif", endpoints.whatif, methods=["POST"]),
            Route("/api/progress", endpoints.progress, methods=["GET"]),
            Route("/api/actions", endpoints.actions, methods=["GET"]),
            Route("/api/uptake", endpoints.uptake, methods=["GET"]),
        ],
        # Compressed: the charts' SVG repeats itself, and a cheap phone's data plan counts
        # bytes. Nothing secret is in a response beside text an attacker could choose.
        middleware=[
            Middleware(shell.SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=1024),
        ],
    )
