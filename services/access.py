"""Who may see which scores, and the one-time links that grant a role.

Admins come from configuration; leadership and unit heads hold a role row under their
pseudonym, granted by opening a `g<token>` deep link that `spibot grant` printed. Only the
token's hash is stored, so a database leak does not leak usable links; a link expires after
ROLE_LINK_TTL_DAYS and carries the label the admin gave it ("Bupati"). How a role ends is in
`services.admin.roles`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import storage.roles
import storage.units
from services.context import Services
from services.links import GrantLink, grant_payload, parse_payload
from services.people import Person, person_for
from services.security import new_token, token_hash
from storage.db import AsyncEngine
from storage.roles import Role
from storage.values import ClaimStatus

__all__ = [
    "DEFAULT_LINK_TTL",
    "Asker",
    "ClaimStatus",
    "Decision",
    "GrantOutcome",
    "Role",
    "Viewer",
    "asker_for",
    "claim_grant",
    "create_grant",
    "viewer_for",
]

logger = logging.getLogger(__name__)

DEFAULT_LINK_TTL: Final = timedelta(days=7)  # ROLE_LINK_TTL_DAYS' default


class Decision(StrEnum):
    """Whether a viewer may see something, and if not, which refusal to give."""

    ALLOWED = "allowed"
    NO_ROLE = "no_role"  # a respondent: scores are not for them
    OTHER_UNIT = "other_unit"  # a unit head asking about someone else's unit
    INSTITUTION_ONLY = "institution_only"  # a unit head asking for institution-wide data


@dataclass(frozen=True, slots=True)
class Viewer:
    """What one person may see: everything (admin, leadership), one unit, or nothing."""

    admin: bool = False
    leadership: bool = False
    unit_code: str | None = None  # the unit a unit head heads
    unit_name: str | None = None

    @property
    def sees_all(self) -> bool:
        """Tell whether this viewer sees the institution and every unit."""
        return self.admin or self.leadership

    @property
    def has_role(self) -> bool:
        """Tell whether this viewer may see any score at all."""
        return self.sees_all or self.unit_code is not None

    def institution(self) -> Decision:
        """Decide on institution-wide data (index, ranking, trend, the full pack)."""
        if self.sees_all:
            return Decision.ALLOWED
        return Decision.INSTITUTION_ONLY if self.unit_code else Decision.NO_ROLE

    def unit(self, code: str) -> Decision:
        """Decide on one unit's scores."""
        if self.sees_all or code == self.unit_code:
            return Decision.ALLOWED
        return Decision.OTHER_UNIT if self.unit_code else Decision.NO_ROLE


async def viewer_for(engine: AsyncEngine, pseudonym: str, *, admin: bool) -> Viewer:
    """Return what the person behind `pseudonym` may see (`admin` comes from settings)."""
    leadership = False
    unit_code = unit_name = None
    for assignment in await storage.roles.get_roles(engine, pseudonym):
        if assignment.role is Role.LEADERSHIP:
            leadership = True
        elif assignment.role is Role.UNIT_HEAD and assignment.unit_id is not None:
            unit = await storage.units.get_unit_by_id(engine, assignment.unit_id)
            if unit is not None:
                unit_code, unit_name = unit.code, unit.name
    return Viewer(admin=admin, leadership=leadership, unit_code=unit_code, unit_name=unit_name)


async def create_grant(
    engine: AsyncEngine,
    role: Role,
    unit_code: str | None,
    now: datetime,
    *,
    label: str | None = None,
) -> tuple[str, storage.roles.RoleGrant]:
    """Create a one-time role link; return its /start payload (shown once) and the grant.

    `label` says who it is for ("Bupati"; cleaned by `services.admin.roles.clean_label` first).
    Raises ValueError for an unknown unit, a unit_head grant without a unit or a leadership
    grant with one.
    """
    unit_id = None
    if unit_code is not None:
        unit = await storage.units.get_unit(engine, unit_code)
        if unit is None:
            raise ValueError(f"unknown unit code {unit_code!r}")
        unit_id = unit.id
    token = new_token()
    grant = await storage.roles.create_role_grant(
        engine, token_hash(token), role, unit_id, now, label=label
    )
    return grant_payload(token), grant


@dataclass(frozen=True, slots=True)
class GrantOutcome:
    """What opening a role link did: the status, and the role and unit when it worked."""

    status: ClaimStatus
    role: Role | None = None
    unit_name: str | None = None
    label: str | None = None


async def claim_grant(
    engine: AsyncEngine,
    pseudonym: str,
    payload: str,
    now: datetime,
    *,
    ttl: timedelta = DEFAULT_LINK_TTL,
) -> GrantOutcome:
    """Claim a role link's payload for `pseudonym`: the first opener within `ttl` of the
    link's creation gets the role; later, EXPIRED (and the link stays unused)."""
    link = parse_payload(b"", payload)
    if not isinstance(link, GrantLink):
        return GrantOutcome(ClaimStatus.UNKNOWN)
    token = link.token
    claim = await storage.roles.claim_role_grant(
        engine, token_hash(token), pseudonym, now, created_after=now - ttl
    )
    if claim.status is not ClaimStatus.CLAIMED or claim.grant is None:
        logger.info("role link refused: %s", claim.status.value)
        return GrantOutcome(claim.status)
    unit_name = None
    if claim.grant.unit_id is not None:
        unit = await storage.units.get_unit_by_id(engine, claim.grant.unit_id)
        unit_name = unit.name if unit else None
    logger.info("role link claimed: %s", claim.grant.role.value)
    return GrantOutcome(ClaimStatus.CLAIMED, claim.grant.role, unit_name, claim.grant.label)


@dataclass(frozen=True, slots=True)
class Asker:
    """An official (or not) asking for scores: who they are and what they may see."""

    person: Person
    viewer: Viewer

    @property
    def pseudonym(self) -> str:
        """Return the asker's pseudonym."""
        return self.person.pseudonym

    @property
    def language(self) -> str:
        """Return the language to answer the asker in."""
        return self.person.language


async def asker_for(services: Services, user_id: int, telegram_code: str | None) -> Asker:
    """Return who is asking and what they may see (admins come from the settings)."""
    person = await person_for(services, user_id, telegram_code)
    viewer = await viewer_for(
        services.db.engine, person.pseudonym, admin=services.is_admin(user_id)
    )
    return Asker(person, viewer)
