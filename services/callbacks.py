"""Signed inline-button data: `<version>.<action>.<arg>.<sig>`, at most 64 bytes.

The signature binds the data to the respondent's pseudonym, so data the bot did not issue
(a modified client, a replay from another user) is told apart from a merely stale button.
The version is the session's move counter when the button was drawn: a tap whose version is
no longer current is a stale button or a double tap, and is acknowledged and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Callback", "decode", "encode"]

_SIG_LEN: Final = 10  # base64url characters: 60 bits
_BODY_RE: Final = re.compile(r"^(\d{1,9})\.([a-z]{1,3})\.([A-Za-z0-9_-]{0,32})$")


@dataclass(frozen=True, slots=True)
class Callback:
    """A decoded button press."""

    version: int
    action: str
    arg: str


def _sign(secret: bytes, pseudonym: str, body: str) -> str:
    mac = hmac.new(secret, f"cb:{pseudonym}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:_SIG_LEN]


def encode(secret: bytes, pseudonym: str, version: int, action: str, arg: str = "") -> str:
    """Return signed callback data for a button."""
    body = f"{version}.{action}.{arg}"
    if not _BODY_RE.match(body):
        raise ValueError(f"cannot encode callback {body!r}")
    data = f"{body}.{_sign(secret, pseudonym, body)}"
    assert len(data.encode()) <= 64  # Telegram's limit; the body pattern guarantees it
    return data


def decode(secret: bytes, pseudonym: str, data: str | None) -> Callback | None:
    """Return the button press, or None when the data was not issued by this bot for this user."""
    if not data or len(data) > 64:
        return None
    body, _, sig = data.rpartition(".")
    match = _BODY_RE.match(body)
    if match is None or not hmac.compare_digest(sig, _sign(secret, pseudonym, body)):
        return None
    return Callback(int(match.group(1)), match.group(2), match.group(3))
