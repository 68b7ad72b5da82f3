"""The dashboard's static side: the shell page (no data), its script and stylesheet, and the
security headers on every response of the Mini App.

The files ship inside the package (`handlers/miniapp/static/`) and are read once. The shell
names them with a hash of their content (`app.js?v=…`), so they may be cached for a year and
a new version is fetched as soon as it exists; the shell itself is revalidated each time, and
data is never stored (`Cache-Control: no-store`, set by the API).
"""

from __future__ import annotations

import hashlib
import html
from importlib import resources
from string import Template
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.i18n import Catalog

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_TYPES", "SecurityHeaders", "Shell"]

# Only our own origin, for everything; no inline script or style (the charts are SVG drawn
# with classes). Telegram Web shows Mini Apps in an iframe: it may frame us, nobody else may.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"
)
_HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
STATIC_TYPES: Final = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
_YEAR: Final = "public, max-age=31536000, immutable"


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a missing Cache-Control
    becomes no-store, so nothing is cached unless a route says it may be)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in dict(_HEADERS)]
                headers += list(_HEADERS)
                if not any(name == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _read(name: str) -> bytes:
    return resources.files("handlers.miniapp").joinpath("static", name).read_bytes()


class Shell:
    """The shell page and the static files, read once."""

    def __init__(self, messages: Catalog, language: str) -> None:
        self._files = {name: _read(name) for name in STATIC_TYPES}
        self._versions = {
            name: hashlib.sha256(data).hexdigest()[:12] for name, data in self._files.items()
        }

        def t(key: str) -> str:
            return html.escape(messages.t(language, key))

        page = Template(_read("index.html").decode("utf-8")).substitute(
            lang=language,
            title=t("miniapp_shell_title"),
            loading=t("miniapp_shell_loading"),
            noscript=t("miniapp_shell_noscript"),
            offline=t("miniapp_ui_offline"),
            retry=t("miniapp_ui_retry"),
            css_version=self._versions["app.css"],
            js_version=self._versions["app.js"],
        )
        self._page = page.encode("utf-8")

    async def index(self, request: Request) -> Response:
        """Serve the shell: no data in it, only what loads the app."""
        return Response(
            self._page,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def static(self, request: Request) -> Response:
        """Serve app.js or app.css (cached for a year when asked for by their current hash)."""
        name = request.path_params["name"]
        data = self._files.get(name)
        if data is None:
            return Response("not found", status_code=404, media_type="text/plain")
        current = request.query_params.get("v") == self._versions[name]
        return Response(
            data,
            media_type=STATIC_TYPES[name],
            headers={"Cache-Control": _YEAR if current else "no-cache"},
        )
