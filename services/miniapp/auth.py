"""Telegram's Mini App launch data (`initData`): check its signature and age, or sign some.

Telegram gives a Mini App the launch data as a query string (`auth_date`, `user` as JSON,
`hash`, and more). The secret key is HMAC-SHA256 of the bot token keyed with "WebAppData";
`hash` is the hex HMAC-SHA256, under that key, of every other field as `key=value` lines in
key order (core.telegram.org/bots/webapps, "Validating data received via the Mini App").
Whoever holds the bot token can sign launch data, which is why `sign_launch` exists: the
sandbox (as Telegram), the tests and `spibot demo --serve` use it.

Nothing here logs or keeps the launch data: the Telegram id in it goes no further than the
pseudonym the caller derives from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode

__all__ = [
    "MAX_LAUNCH_DATA",
    "Launch",
    "LaunchRefused",
    "Problem",
    "check_launch",
    "launch_key",
    "sign_launch",
    "unverified_language",
]

# Telegram's launch data is a few hundred bytes; anything far larger is not from Telegram.
MAX_LAUNCH_DATA: Final = 4096
# Telegram clients' clocks drift; launch data "from the future" beyond this is refused.
CLOCK_SKEW: Final = timedelta(minutes=5)
_HASH_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_MAX_FIELDS: Final = 32


class Problem(StrEnum):
    """Why launch data was refused (logged as this word only)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    FORGED = "forged"  # the hash does not match: changed, or signed with another token
    STALE = "stale"  # older than the allowed age, or dated in the future


class LaunchRefused(Exception):
    """Launch data that does not prove who opened the Mini App."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Launch:
    """Who opened the Mini App, as Telegram vouches for it."""

    user_id: int
    language_code: str | None
    start_param: str | None
    auth_date: datetime


def launch_key(bot_token: str) -> bytes:
    """Return the secret key launch data is signed with: HMAC-SHA256("WebAppData", token)."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _digest(key: bytes, fields: Mapping[str, str]) -> str:
    check = "\n".join(f"{name}={fields[name]}" for name in sorted(fields))
    return hmac.new(key, check.encode(), hashlib.sha256).hexdigest()


def _fields(raw: str) -> dict[str, str]:
    """Parse the query string; duplicate or unparsable fields make it malformed."""
    if not raw:
        raise LaunchRefused(Problem.MISSING)
    if len(raw) > MAX_LAUNCH_DATA:
        raise LaunchRefused(Problem.MALFORMED)
    try:
        pairs = parse_qsl(
            raw, keep_blank_values=True, strict_parsing=True, max_num_fields=_MAX_FIELDS
        )
    except ValueError:
        raise LaunchRefused(Problem.MALFORMED) from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise LaunchRefused(Problem.MALFORMED)
    return fields


def check_launch(raw: str, key: bytes, now: datetime, max_age: timedelta) -> Launch:
    """Return who `raw` launch data speaks for; LaunchRefused says why it does not.

    The hash is compared in constant time before any other field is trusted; then
    `auth_date` must be at most `max_age` old (and not from the future), and `user` a JSON
    object with an integer `id`.
    """
    fields = _fields(raw)
    given = fields.pop("hash", "")
    if not _HASH_RE.match(given):
        raise LaunchRefused(Problem.MALFORMED if given else Problem.MISSING)
    if not hmac.compare_digest(_digest(key, fields), given):
        raise LaunchRefused(Problem.FORGED)
    stamp = fields.get("auth_date", "")
    if not stamp.isdigit() or len(stamp) > 12:
        raise LaunchRefused(Problem.MALFORMED)
    auth_date = datetime.fromtimestamp(int(stamp), UTC)
    if auth_date > now + CLOCK_SKEW or now - auth_date > max_age:
        raise LaunchRefused(Problem.STALE)
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        raise LaunchRefused(Problem.MALFORMED) from None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise LaunchRefused(Problem.MALFORMED)
    language = user.get("language_code")
    start = fields.get("start_param") or None
    return Launch(
        user_id=user_id,
        language_code=language if isinstance(language, str) else None,
        start_param=start,
        auth_date=auth_date,
    )


def unverified_language(raw: str) -> str | None:
    """Return the `language_code` launch data claims, unchecked: only to word a refusal."""
    try:
        user = json.loads(_fields(raw).get("user", ""))
    except (LaunchRefused, ValueError):
        return None
    language = user.get("language_code") if isinstance(user, dict) else None
    return language if isinstance(language, str) and len(language) <= 16 else None


def sign_launch(key: bytes, user: Mapping[str, Any], auth_date: datetime, **extra: str) -> str:
    """Return launch data for `user` as Telegram would sign it (values percent-encoded).

    `extra` adds fields such as `query_id`, `chat_type`, `chat_instance` or `start_param`.
    """
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
        **extra,
    }
    return urlencode({**fields, "hash": _digest(key, fields)}, quote_via=quote)
