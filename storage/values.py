"""Value types shared by several table families: the "leave as it is" marker of partial
updates, and the outcome of claiming a one-time link (invitations, role grants)."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Final

__all__ = ["UNCHANGED", "ClaimStatus", "Unchanged"]


class Unchanged(Enum):
    """Marker type for "leave this column as it is" in partial updates."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


class ClaimStatus(StrEnum):
    """Outcome of claiming a one-time token."""

    CLAIMED = "claimed"
    UNKNOWN = "unknown"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"  # a role link older than ROLE_LINK_TTL_DAYS
