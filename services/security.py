"""Keyed hashes and signatures: pseudonyms, one-time tokens and signed unit links.

Telegram ids never reach the database: only `pseudonym_for` of them does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Final

__all__ = [
    "PAYLOAD_RE",
    "new_token",
    "pseudonym_for",
    "sign_payload",
    "token_hash",
    "verify_signed_payload",
]

# Telegram deep-link payloads: at most 64 characters of A-Za-z0-9_-.
PAYLOAD_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SIG_LEN: Final = 16  # base64url characters of HMAC kept in a link (96 bits)


def pseudonym_for(secret: bytes, telegram_user_id: int) -> str:
    """Return the stable pseudonym (HMAC-SHA256 hex) of a Telegram user id."""
    return hmac.new(secret, f"user:{telegram_user_id}".encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    """Return a fresh unguessable token (128 bits, base64url, 22 characters)."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    """Return the stored form of a one-time token (SHA-256 hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _signature(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, f"link:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_SIG_LEN]


def sign_payload(secret: bytes, body: str) -> str:
    """Return `body` with an HMAC signature appended, for an open (public) deep link."""
    return f"{body}_{_signature(secret, body)}"


def verify_signed_payload(secret: bytes, payload: str) -> str | None:
    """Return the body of a correctly signed payload, or None for a forged or edited one."""
    # The signature has a fixed length and may itself contain "_", so split by position.
    body, sep, sig = (
        payload[: -_SIG_LEN - 1],
        payload[-_SIG_LEN - 1 : -_SIG_LEN],
        payload[-_SIG_LEN:],
    )
    if sep != "_" or not body:
        return None
    return body if hmac.compare_digest(sig, _signature(secret, body)) else None
