"""Role holders and their links over time: who holds what (by label), and how a role ends.

Officials are not anonymous: every link and the role it gave carry the label the admin wrote
("Bupati", "Kadis Kesehatan"), and holders are also shown by a short pseudonym code. A role
ends cleanly (`revoke`): in one transaction the role goes, the person's follow-up drafts go,
the subscriptions they set up and their own private pushes pause, and their due-date contact
goes; the caller then resets their command menu in every private chat whose id the bot knows
(their private subscription, their due-date contact). Without one of those the menu is reset
at their next official command (`handlers.reports.scores.refuse`): the bot keeps no chat id
for that.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import storage.contacts
import storage.roles
import storage.subscriptions
import storage.units
from services.context import Services
from services.reach import cipher_for
from services.untrusted import clean_typed
from storage.contacts import ContactPurpose
from storage.db import AsyncEngine
from storage.roles import Role

__all__ = [
    "CODE_LENGTH",
    "LABEL_MAX",
    "REVOKED_REASON",
    "Holder",
    "LabelError",
    "PendingLink",
    "Revocation",
    "clean_label",
    "find",
    "holders",
    "pending_links",
    "revoke",
    "withdraw_link",
]

logger = logging.getLogger(__name__)

LABEL_MAX: Final = 80
CODE_LENGTH: Final = 12  # characters of a pseudonym shown as a holder's code
# Stored as a paused subscription's reason; the schedule view explains it in words.
REVOKED_REASON: Final = "role revoked"
# "#12" is always a link; bare digits are a link only when shorter than the shortest code, so
# a holder's code that happens to be all digits ("20481937") is never read as a link id.
_GRANT_ID: Final = re.compile(r"^(?:#(\d{1,9})|(\d{1,5}))$")
_CODE: Final = re.compile(r"^[0-9a-f]{6,64}$")


class LabelError(ValueError):
    """A label that cannot be used (too long); the message says why."""


def clean_label(raw: str | None) -> str | None:
    """Return a label as stored: control and bidi characters dropped, spaces collapsed.

    None for an empty one; LabelError when longer than LABEL_MAX characters.
    """
    text = " ".join(clean_typed(raw or "").split())
    if not text:
        return None
    if len(text) > LABEL_MAX:
        raise LabelError(f"the label has {len(text)} characters; at most {LABEL_MAX}")
    return text


@dataclass(frozen=True, slots=True)
class Holder:
    """A role someone holds, with the label of the link that gave it."""

    pseudonym: str
    role: Role
    unit_code: str | None
    unit_name: str | None
    label: str | None
    grant_id: int | None
    granted_at: datetime

    @property
    def code(self) -> str:
        """Return the short pseudonym code shown for this holder."""
        return self.pseudonym[:CODE_LENGTH]


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A role link nobody has opened yet."""

    id: int
    role: Role
    unit_code: str | None
    unit_name: str | None
    label: str | None
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Tell whether the link can no longer be used."""
        return now >= self.expires_at


async def _units(engine: AsyncEngine) -> dict[int, storage.units.Unit]:
    return {u.id: u for u in await storage.units.list_units(engine)}


async def holders(engine: AsyncEngine) -> list[Holder]:
    """Return every role held, oldest first."""
    units = await _units(engine)
    found = []
    for row in await storage.roles.list_roles(engine):
        unit = units.get(row.unit_id) if row.unit_id is not None else None
        found.append(
            Holder(
                pseudonym=row.pseudonym,
                role=row.role,
                unit_code=unit.code if unit else None,
                unit_name=unit.name if unit else None,
                label=row.label,
                grant_id=row.grant_id,
                granted_at=row.granted_at,
            )
        )
    return found


async def pending_links(engine: AsyncEngine, ttl: timedelta) -> list[PendingLink]:
    """Return the role links nobody opened yet, newest first, with when each expires."""
    units = await _units(engine)
    found = []
    for grant in await storage.roles.list_role_grants(engine):
        unit = units.get(grant.unit_id) if grant.unit_id is not None else None
        found.append(
            PendingLink(
                id=grant.id,
                role=grant.role,
                unit_code=unit.code if unit else None,
                unit_name=unit.name if unit else None,
                label=grant.label,
                created_at=grant.created_at,
                expires_at=grant.created_at + ttl,
            )
        )
    return found


async def find(engine: AsyncEngine, key: str) -> tuple[list[Holder], int | None]:
    """Find what `key` names: a link id (`12` or `#12`) or a holder's pseudonym code.

    Returns the holders it names (a link's holder, or every role of the person whose code
    it is; several people when a short code is ambiguous) and the link id when it was one.
    """
    key = key.strip()
    every = await holders(engine)
    if match := _GRANT_ID.match(key):
        grant_id = int(match[1] or match[2])
        return [h for h in every if h.grant_id == grant_id], grant_id
    if _CODE.match(key.lower()):
        return [h for h in every if h.pseudonym.startswith(key.lower())], None
    return [], None


async def withdraw_link(engine: AsyncEngine, grant_id: int) -> bool:
    """Withdraw a link nobody opened; False when it is unknown or already used."""
    return await storage.roles.revoke_role_grant(engine, grant_id)


@dataclass(frozen=True, slots=True)
class Revocation:
    """What revoking one role did, and what the caller still has to do (menus)."""

    holder: Holder
    revoked: bool  # False: the role was already gone (a double tap, another admin)
    paused_chats: tuple[int, ...]
    drafts_dropped: int
    # Private chats whose command menu can be reset now; empty when the person still holds a
    # role (or is an admin), or when the bot knows none of their chats (the lazy reset).
    menu_chats: tuple[int, ...]
    still_official: bool


async def _private_chats(services: Services, pseudonym: str) -> tuple[list[int], int | None]:
    """Return the person's private chats the bot knows: subscribed ones and their contact."""
    engine = services.db.engine
    # A private chat's id is its person's Telegram id, so its pseudonym tells whose it is.
    subscribed = [
        s.chat_id
        for s in await storage.subscriptions.list_subscriptions(engine, active_only=False)
        if s.chat_id > 0 and services.pseudonym(s.chat_id) == pseudonym
    ]
    contact = await storage.contacts.get_contact(engine, pseudonym, ContactPurpose.OFFICIAL)
    contact_chat = None
    if contact is not None:
        contact_chat = cipher_for(services).decrypt(
            pseudonym, ContactPurpose.OFFICIAL, contact.chat
        )
    return subscribed, contact_chat


async def revoke(services: Services, holder: Holder) -> Revocation:
    """End one role and what it set up (see the module docstring); safe to repeat."""
    engine = services.db.engine
    admins = {services.pseudonym(user_id) for user_id in services.settings.admin_user_ids}
    admin = holder.pseudonym in admins
    remaining = {r.role for r in await storage.roles.get_roles(engine, holder.pseudonym)} - {
        holder.role
    }
    still_manages = admin or Role.LEADERSHIP in remaining  # may keep subscriptions
    still_official = admin or bool(remaining)
    subscribed, contact_chat = await _private_chats(services, holder.pseudonym)
    end = await storage.roles.end_role(
        engine,
        holder.pseudonym,
        holder.role,
        reason=REVOKED_REASON,
        pause_subscriptions=not still_manages,
        private_chats=subscribed,
        drop_official_contact=Role.UNIT_HEAD not in remaining,
    )
    menu_chats: tuple[int, ...] = ()
    if not still_official:
        known = [*subscribed, *([contact_chat] if contact_chat is not None else [])]
        menu_chats = tuple(dict.fromkeys(known))
    logger.info(
        "role revoked: %s (%d subscriptions paused, %d drafts dropped, menu reset %s)",
        holder.role.value,
        len(end.paused_chats),
        end.drafts_dropped,
        "now" if menu_chats else "at their next command" if not still_official else "not needed",
    )
    return Revocation(
        holder=holder,
        revoked=end.revoked,
        paused_chats=end.paused_chats,
        drafts_dropped=end.drafts_dropped,
        menu_chats=menu_chats,
        still_official=still_official,
    )
