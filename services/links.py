"""Every deep-link payload the bot issues, built and parsed in this one module.

Telegram opens the bot with `/start <payload>` (at most 64 characters of `A-Za-z0-9_-`):

- `g<token>`: an official's role link (one-time; only the token's hash is stored);
- `i<token>`: a personal invitation for an employee or an expert (one-time, hashed);
- `p<UNIT>_<sig>`: a unit's open link for service users (QR poster), HMAC-signed, every wave;
- `u<wave>-<UNIT>_<sig>`: the same from an older poster, valid while that wave exists.

The dashboard (a Mini App) is opened by `t.me/<bot>?startapp=<view>`: the bot's Main Mini
App with a start parameter that names the view to show first, never a person or a unit.

A poster is printed once and used for years, so new unit links carry no wave: they open
whichever wave is open when the link is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from services.errors import AdminError
from services.security import sign_payload, verify_signed_payload

__all__ = [
    "GRANT_PREFIX",
    "PAYLOAD_RE",
    "UNIT_CODE_RE",
    "GrantLink",
    "InvitationLink",
    "Link",
    "UnitLink",
    "deep_link",
    "grant_payload",
    "invitation_payload",
    "mini_app_link",
    "parse_payload",
    "payload_of_link",
    "start_command_pattern",
    "unit_payload",
]

# Telegram deep-link payloads: at most 64 characters of A-Za-z0-9_-.
PAYLOAD_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
GRANT_PREFIX: Final = "g"
INVITATION_PREFIX: Final = "i"
UNIT_PREFIX: Final = "p"
WAVE_UNIT_PREFIX: Final = "u"  # printed before units links stopped naming the wave
# What a unit code may be so that its poster's link works: `spibot units import` checks it.
UNIT_CODE_RE: Final = re.compile(r"^[A-Z0-9-]{1,40}$")
_UNIT_BODY_RE: Final = re.compile(r"^p([A-Z0-9-]{1,40})$")
_WAVE_UNIT_BODY_RE: Final = re.compile(r"^u(\d{1,9})-([A-Z0-9-]{1,40})$")


@dataclass(frozen=True, slots=True)
class GrantLink:
    """A one-time link that gives an official a role."""

    token: str


@dataclass(frozen=True, slots=True)
class InvitationLink:
    """A personal one-time survey invitation (internal and expert respondents)."""

    token: str


@dataclass(frozen=True, slots=True)
class UnitLink:
    """A unit's open service-user link; `wave_id` is None for links valid in every wave."""

    unit_code: str
    wave_id: int | None = None


Link = GrantLink | InvitationLink | UnitLink


def grant_payload(token: str) -> str:
    """Return the payload of a role link."""
    return GRANT_PREFIX + token


def invitation_payload(token: str) -> str:
    """Return the payload of a personal invitation."""
    return INVITATION_PREFIX + token


def unit_payload(secret: bytes, unit_code: str, wave_id: int | None = None) -> str:
    """Return the signed payload of a unit's open link (for every wave unless `wave_id`)."""
    body = f"{UNIT_PREFIX}{unit_code}" if wave_id is None else f"u{wave_id}-{unit_code}"
    payload = sign_payload(secret, body)
    if not PAYLOAD_RE.match(payload):
        raise ValueError(f"unit code {unit_code!r} does not fit in a deep link")
    return payload


def parse_payload(secret: bytes, payload: str) -> Link | None:
    """Return what a /start payload stands for, or None for a malformed or forged one."""
    if not PAYLOAD_RE.match(payload):
        return None
    prefix, rest = payload[0], payload[1:]
    if prefix == GRANT_PREFIX and rest:
        return GrantLink(rest)
    if prefix == INVITATION_PREFIX and rest:
        return InvitationLink(rest)
    if prefix in (UNIT_PREFIX, WAVE_UNIT_PREFIX):
        body = verify_signed_payload(secret, payload)
        if body is None:
            return None
        if match := _UNIT_BODY_RE.match(body):
            return UnitLink(match[1])
        if match := _WAVE_UNIT_BODY_RE.match(body):
            return UnitLink(match[2], int(match[1]))
    return None


def start_command_pattern(prefix: str) -> str:
    """Return a regex for `/start <payload>` messages whose payload starts with `prefix`."""
    return rf"^/start(@\w+)? {re.escape(prefix)}[A-Za-z0-9_-]"


def deep_link(bot_username: str, payload: str) -> str:
    """Return the t.me link that opens the bot with a /start payload."""
    if not bot_username:
        raise AdminError("BOT_USERNAME: not set; the links need the bot's @username")
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"


def payload_of_link(link: str) -> str | None:
    """Return the /start payload of a t.me link as `deep_link` writes it (None otherwise)."""
    _, found, payload = link.strip().partition("?start=")
    return payload if found and PAYLOAD_RE.match(payload) else None


def mini_app_link(bot_username: str, start: str) -> str:
    """Return the t.me link that opens the bot's Main Mini App (the dashboard) at a view.

    Web app buttons work only in private chats; this link also works in groups. It needs the
    dashboard set as the bot's Main Mini App in @BotFather (docs/miniapp.md).
    """
    if not bot_username:
        raise AdminError("BOT_USERNAME: not set; the links need the bot's @username")
    if not PAYLOAD_RE.match(start):
        raise ValueError(f"{start!r} is not a start parameter")
    return f"https://t.me/{bot_username.lstrip('@')}?startapp={start}"
