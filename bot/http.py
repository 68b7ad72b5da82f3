"""The HTTP client under every Bot API call: PTB's `BaseRequest` on aiohttp.

PTB's default transport (httpx) spent about 3 ms of CPU per request at 50 requests in
flight, most of it checking every pooled connection before each request; aiohttp spends about
0.2 ms. A survey tap makes two Bot API calls, so the transport decided most of a tap's cost
(docs/benchmarks.md). PTB supports other transports through `BaseRequest`; this one keeps its
timeouts and error classes, and adds what the retry rules need to know (bot/transport.py):

- `NotSent`: the request never left (no connection could be had in time): safe to repeat;
- `AnswerLost`: the request went out and the connection broke before the answer came: it may
  have taken effect, like a read timeout.

Every answer that is an error is counted by method and code (services.metrics), whoever
catches the error afterwards. No URL is logged: a Bot API URL holds the token.

A successful answer to an edit or a callback answer is not decoded: nobody reads the edited
message back, and turning it into PTB objects (message, sender, chat, keyboard) was ~5% of a
survey tap's CPU. PTB gets `true` instead, which is what these methods answer for inline
messages, so their return type (`Message | bool`) already covers it. An error answer (400,
403, 429, 5xx) is passed on whole and decoded as always.
"""

from __future__ import annotations

import json
from typing import Any, Final

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput  # PTB's own type of its timeout arguments
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from services.metrics import BOT_API_ERRORS

__all__ = ["AnswerLost", "BotApiRequest", "NotSent"]

# Uploads (charts, exports) may take longer to write than a text message.
_MEDIA_WRITE_TIMEOUT: Final = 20.0
# Methods whose successful answer nobody reads (see the module docstring).
_UNREAD: Final = frozenset({"editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"})
_DONE: Final = b'{"ok":true,"result":true}'


class NotSent(TimedOut):
    """No connection to the Bot API in time: the request was not sent."""


class AnswerLost(NetworkError):
    """The request was sent and the connection broke before the answer: it may have worked."""


class BotApiRequest(BaseRequest):
    """Bot API requests over one aiohttp session with a pool of `connection_pool_size`."""

    __slots__ = ("_connect", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._connect = connect_timeout
        self._read = read_timeout
        self._write = write_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds a long poll's own timeout to it)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session on the running loop (again after a shutdown)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                timeout=aiohttp.ClientTimeout(total=None),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one request; return the HTTP status and body (PTB reads the body)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("BotApiRequest is not initialized")
        # The method name only: the token sits before the last slash, and a file download's
        # path is no method at all.
        api_method = "file" if "/file/bot" in url else url.rsplit("/", 1)[-1]
        files = request_data is not None and request_data.contains_files
        read = _chosen(read_timeout, self._read)
        write = _chosen(write_timeout, _MEDIA_WRITE_TIMEOUT if files else self._write)
        connect = _chosen(connect_timeout, self._connect)
        pool = _chosen(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: writing counts against the whole request's time.
            total=_total(read, write, connect, pool),
            connect=_total(connect, pool),  # a pooled connection, or a new one, in time
            sock_connect=connect,
            sock_read=read,
        )
        data, headers = _body(request_data)
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise NotSent("Timed out connecting to the Bot API; the request was not sent") from exc
        except TimeoutError as exc:  # reading (or the whole request) took too long
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise NetworkError(f"cannot connect to the Bot API: {type(exc).__name__}") from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
        ) as exc:
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise AnswerLost(f"the Bot API connection broke: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            BOT_API_ERRORS.labels(api_method, "network").inc()
            raise NetworkError(f"Bot API request failed: {type(exc).__name__}") from exc
        if response.status >= 400:
            BOT_API_ERRORS.labels(api_method, str(response.status)).inc()
        elif response.status == 200 and api_method in _UNREAD:
            return 200, _DONE
        return response.status, payload


def _chosen(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout argument: PTB's DEFAULT_NONE means this request's default."""
    if isinstance(value, DefaultValue):
        return default
    return value


def _total(*timeouts: float | None) -> float | None:
    """The sum of timeouts; None (no limit) when any of them is None."""
    total = 0.0
    for timeout in timeouts:
        if timeout is None:
            return None
        total += timeout
    return total


_JSON: Final = {"Content-Type": "application/json"}


def _body(request_data: RequestData | None) -> tuple[Any, dict[str, str] | None]:
    """The request body and its headers: JSON, or a multipart form when files go up."""
    if request_data is None:
        return None, None
    files = request_data.multipart_data
    if not files:
        # JSON rather than a url-encoded form (PTB's default): the Bot API takes both, with
        # the same string values, and percent-encoding a long text with its keyboard in pure
        # Python cost ~0.1 ms a request, three times what json.dumps costs.
        return json.dumps(request_data.json_parameters, separators=(",", ":")).encode(), _JSON
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None
