"""The dashboard's JSON API: `Authorization: tma <launch data>` on every call, one endpoint per
view. Thin: who is asking and every answer come from `services.miniapp.dashboard`; here the
answer becomes an HTTP response (status, JSON, `Cache-Control: no-store`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from services.miniapp.dashboard import Answer, Dashboard, Kind, Visitor

__all__ = ["MAX_BODY", "Endpoints"]

_STATUS: Final = {
    Kind.OK: 200,
    Kind.UNAUTHORIZED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.BAD_REQUEST: 400,
}
MAX_BODY: Final = 2048  # a what-if request is a few dozen bytes


def _response(answer: Answer) -> Response:
    status = _STATUS[answer.kind]
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'tma realm="spi-bot dashboard"'
    body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":"))
    return Response(
        body.encode("utf-8"),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


View = Callable[[Visitor], Awaitable[Answer]]


async def _json_body(request: Request) -> object:
    """Return the posted JSON, or None when it is not JSON or longer than MAX_BODY."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return None
    try:
        return json.loads(bytes(raw))
    except (ValueError, UnicodeDecodeError):
        return None


class Endpoints:
    """The request handlers, bound to one Dashboard."""

    def __init__(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard

    async def _answer(self, request: Request, view: View) -> Response:
        visitor = await self._dashboard.visit(request.headers.get("authorization"))
        if isinstance(visitor, Answer):
            return _response(visitor)
        return _response(await view(visitor))

    async def overview(self, request: Request) -> Response:
        """GET api/overview: who is looking, the interface words, the first screen."""
        return await self._answer(request, self._dashboard.overview)

    async def unit(self, request: Request) -> Response:
        """GET api/unit?code=CODE: one unit's scores."""
        code = request.query_params.get("code")
        return await self._answer(request, lambda v: self._dashboard.unit(v, code))

    async def units(self, request: Request) -> Response:
        """GET api/units: the ranking."""
        return await self._answer(request, self._dashboard.units)

    async def trend(self, request: Request) -> Response:
        """GET api/trend: our waves, KPK's results and our percentile."""
        return await self._answer(request, self._dashboard.trend)

    async def whatif_form(self, request: Request) -> Response:
        """GET api/whatif[?unit=CODE]: the what-if panel and the way to Terjaga."""
        unit = request.query_params.get("unit")
        return await self._answer(request, lambda v: self._dashboard.whatif_form(v, unit))

    async def whatif(self, request: Request) -> Response:
        """POST api/whatif {dimension, delta, groups, unit}: the index after the lift."""

        async def lift(visitor: Visitor) -> Answer:
            # Read only after the launch data checked out, and never more than MAX_BODY.
            return await self._dashboard.whatif(visitor, await _json_body(request))

        return await self._answer(request, lift)

    async def progress(self, request: Request) -> Response:
        """GET api/progress: responses against targets, and the funnel."""
        return await self._answer(request, self._dashboard.progress)

    async def actions(self, request: Request) -> Response:
        """GET api/actions: the follow-up actions board."""
        return await self._answer(request, self._dashboard.actions)

    async def uptake(self, request: Request) -> Response:
        """GET api/uptake: personal invitations issued, opened, completed (admins)."""
        return await self._answer(request, self._dashboard.uptake)
