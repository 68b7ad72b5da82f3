"""The chat ids the bot keeps to message people first: encrypted, apart, and only while needed.

Telegram bots can message only people who started them, so reminders and outreach need the
chat id. It is stored in `contacts` under the person's pseudonym, encrypted with AES-GCM
(key derived from SPIBOT_SECRET with HKDF; the pseudonym and purpose are authenticated
data, so a ciphertext moved to another row does not decrypt). A survey contact is saved
when a survey starts (`remember`) and deleted when it is submitted, cancelled or expires
(in storage, in the same transaction), when the person opts out, or on a 403.
"""

from __future__ import annotations

import functools
import logging
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import storage.contacts
from services.context import Services
from storage.contacts import ContactPurpose

__all__ = [
    "ContactCipher",
    "ContactPurpose",
    "cipher_for",
    "forget",
    "opt_out",
    "remember",
    "remember_survey",
]

logger = logging.getLogger(__name__)

_NONCE_BYTES: Final = 12
_KEY_INFO: Final = b"spibot contacts v1"


class ContactCipher:
    """Encrypts and decrypts chat ids with a key derived from the server secret."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret)
        self._aead = AESGCM(key)

    @staticmethod
    def _bound(pseudonym: str, purpose: ContactPurpose) -> bytes:
        return f"{pseudonym}:{purpose.value}".encode()

    def encrypt(self, pseudonym: str, purpose: ContactPurpose, chat_id: int) -> bytes:
        """Return nonce + ciphertext of a chat id, bound to its row."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = str(chat_id).encode()
        return nonce + self._aead.encrypt(nonce, plain, self._bound(pseudonym, purpose))

    def decrypt(self, pseudonym: str, purpose: ContactPurpose, blob: bytes) -> int | None:
        """Return the chat id, or None when the blob was not made with this key for this row."""
        nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, self._bound(pseudonym, purpose))
        except (InvalidTag, ValueError):
            logger.warning("a stored contact does not decrypt (secret changed?); ignored")
            return None
        return int(plain)


@functools.lru_cache(maxsize=4)
def _cipher(secret: bytes) -> ContactCipher:
    return ContactCipher(secret)


def cipher_for(services: Services) -> ContactCipher:
    """Return the contact cipher of these services (the key is derived once per secret)."""
    return _cipher(services.secret)


async def remember(
    services: Services,
    user_id: int,
    purpose: ContactPurpose = ContactPurpose.SURVEY,
    *,
    language: str | None = None,
    unit_id: int | None = None,
) -> None:
    """Keep a person's chat id (encrypted) for `purpose`; their private chat id is their id.

    The thank-you screen's opt-in button calls it for outreach, the role links for officials.
    """
    pseudonym = services.pseudonym(user_id)
    blob = cipher_for(services).encrypt(pseudonym, purpose, user_id)
    await storage.contacts.save_contact(
        services.db.engine, pseudonym, purpose, blob, language, unit_id
    )


async def remember_survey(services: Services, user_id: int) -> bool:
    """Keep the chat id of someone whose survey is in progress, for reminders; True if kept.

    The hook the respondent flow calls when a link may have started a session: the check
    and the write are one transaction.
    """
    pseudonym = services.pseudonym(user_id)
    blob = cipher_for(services).encrypt(pseudonym, ContactPurpose.SURVEY, user_id)
    return await storage.contacts.save_contact(
        services.db.engine, pseudonym, ContactPurpose.SURVEY, blob, with_session_only=True
    )


async def forget(services: Services, user_id: int, purpose: ContactPurpose | None = None) -> bool:
    """Delete a person's contact for one purpose (all when None); True if one was stored."""
    return await storage.contacts.delete_contact(
        services.db.engine, services.pseudonym(user_id), purpose
    )


async def opt_out(services: Services, user_id: int) -> bool:
    """Stop reminders to this person: their survey contact goes (the survey stays open)."""
    return await forget(services, user_id, ContactPurpose.SURVEY)
