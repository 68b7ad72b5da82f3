"""Domain objects the storage API returns: frozen dataclasses, no SQLAlchemy types.

Timestamps are aware UTC datetimes; dates (completion, expiry) are plain `date`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Final

from storage.models_reach import (
    Broadcast,
    Contact,
    ContactPurpose,
    DueReminder,
    InvitationUptake,
    ReminderStatus,
    UnitFunnel,
    WavePlan,
)

__all__ = [
    "UNCHANGED",
    "Broadcast",
    "ChatSchedule",
    "ClaimStatus",
    "Contact",
    "ContactPurpose",
    "Correction",
    "DueReminder",
    "GrantClaim",
    "Institution",
    "Invitation",
    "InvitationClaim",
    "InvitationUptake",
    "NewInvitation",
    "PushClaim",
    "PushStatus",
    "ReminderStatus",
    "Response",
    "ResponseCount",
    "Role",
    "RoleAssignment",
    "RoleGrant",
    "Schedule",
    "ScheduleKind",
    "StoredQuestionnaire",
    "Subscription",
    "SurveySession",
    "Unchanged",
    "Unit",
    "UnitFunnel",
    "UnitImport",
    "Wave",
    "WavePlan",
    "WaveStatus",
]


class Unchanged(Enum):
    """Marker type for "leave this column as it is" in partial updates."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


class WaveStatus(StrEnum):
    """Whether a wave takes responses."""

    OPEN = "open"
    CLOSED = "closed"


class Role(StrEnum):
    """Roles granted by one-time links (admins come from configuration, not the database)."""

    LEADERSHIP = "leadership"
    UNIT_HEAD = "unit_head"


class ClaimStatus(StrEnum):
    """Outcome of claiming a one-time token."""

    CLAIMED = "claimed"
    UNKNOWN = "unknown"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"  # a role link older than ROLE_LINK_TTL_DAYS


@dataclass(frozen=True, slots=True)
class Institution:
    """The institution the bot serves; `level` picks the benchmark average."""

    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Unit:
    """An agency (OPD), service counter or kecamatan; `parent_code` is None at the top."""

    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    serves_public: bool
    staff_count: int | None  # population of the internal group, when known
    expert_count: int | None = None  # of the expert group
    service_user_count: int | None = None  # of the external group (service users per year)


@dataclass(frozen=True, slots=True)
class UnitImport:
    """How many units an import created and updated."""

    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class StoredQuestionnaire:
    """A saved questionnaire version; `surveys.load_questionnaire_text` reloads its YAML."""

    id: int
    key: str
    version: int
    grp: str
    source_yaml: str
    loaded_at: datetime
    # Where it came from: "bundled", "yaml: FILE", "xlsform: FILE"; None when stored before
    # this was recorded (issue 22).
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Wave:
    """A survey round; `questionnaire_ids` maps each group to the questionnaire it answers."""

    id: int
    name: str
    status: WaveStatus
    opened_at: datetime
    closed_at: datetime | None
    questionnaire_ids: Mapping[str, int]

    @property
    def is_open(self) -> bool:
        """Tell whether the wave takes responses."""
        return self.status is WaveStatus.OPEN


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """One personal invitation to create: only the token's hash is stored."""

    token_hash: str
    wave_id: int
    grp: str
    unit_id: int


@dataclass(frozen=True, slots=True)
class Invitation:
    """A personal one-time invitation (internal or expert group)."""

    id: int
    wave_id: int
    grp: str
    unit_id: int
    used: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationClaim:
    """Result of `claim_invitation`: the invitation when claimed or already used."""

    status: ClaimStatus
    invitation: Invitation | None = None


@dataclass(frozen=True, slots=True)
class SurveySession:
    """A respondent's place in an in-progress survey; `version` bumps on every move."""

    pseudonym: str
    wave_id: int
    grp: str
    unit_id: int
    questionnaire_id: int
    invitation_id: int | None
    step: str
    question_id: str | None
    language: str
    message_id: int | None
    version: int
    started_at: datetime
    updated_at: datetime
    expires_on: date  # discarded after this day if not submitted


@dataclass(frozen=True, slots=True)
class Response:
    """A submitted response: never a pseudonym, a completion date without time of day, and
    its duration and pace as bands (scoring.paradata), never seconds."""

    id: str
    wave_id: int
    grp: str
    unit_id: int
    questionnaire_id: int
    language: str
    completed_on: date
    duration_band: int | None
    pace_band: int | None


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A one-time link that grants `role` (for `unit_id` when the role is unit_head)."""

    id: int
    role: Role
    unit_id: int | None
    created_at: datetime
    used: bool
    label: str | None = None  # who it is for, as the admin wrote it ("Bupati")


@dataclass(frozen=True, slots=True)
class GrantClaim:
    """Result of `claim_role_grant`: the grant when claimed or already used."""

    status: ClaimStatus
    grant: RoleGrant | None = None


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A role held by a pseudonym."""

    pseudonym: str
    role: Role
    unit_id: int | None
    granted_at: datetime
    label: str | None = None  # the label of the link that gave it
    grant_id: int | None = None  # that link (None for roles from before issue 20)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat that receives scheduled reports; paused chats keep their row and reason."""

    id: int
    chat_id: int
    language: str
    active: bool
    paused_reason: str | None
    created_at: datetime
    created_by: str | None = None  # the pseudonym of the official who set it up


@dataclass(frozen=True, slots=True)
class Correction:
    """Deductions from a wave's index (non-negative points); the newest is in force."""

    id: int
    wave_id: int
    integrity: float
    prevalence: float
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ResponseCount:
    """Responses per unit and group in a wave: submitted, and surveys still in progress."""

    unit_code: str
    grp: str
    submitted: int
    in_progress: int


class ScheduleKind(StrEnum):
    """What a schedule sends."""

    DIGEST = "digest"  # a one-message progress digest while a wave is open
    REPORT = "report"  # the full chart pack while a wave is open
    FINAL = "final"  # the full pack once, when a wave closes (no crontab)


class PushStatus(StrEnum):
    """What became of a claimed fire time."""

    CLAIMED = "claimed"  # being sent (or the process died while sending: never retried)
    SENT = "sent"
    UNCHANGED = "unchanged"  # a digest with nothing new (one line sent, or nothing)
    SKIPPED = "skipped"  # missed while the bot was down, and too late to send
    IDLE = "idle"  # nothing to send (no open wave, no report yet)
    PAUSED = "paused"  # Telegram refused (403): the subscription was paused
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Schedule:
    """One kind of push for one subscribed chat."""

    id: int
    subscription_id: int
    kind: ScheduleKind
    cron: str | None
    timezone: str
    since: datetime


@dataclass(frozen=True, slots=True)
class ChatSchedule:
    """A schedule of an active subscription, with where and how to send it."""

    schedule: Schedule
    chat_id: int
    language: str
    # The newest fire time already claimed (by any process), if any.
    last_fire_at: datetime | None

    @property
    def after(self) -> datetime:
        """Return the moment after which fire times are still to be acted on."""
        since = self.schedule.since
        return since if self.last_fire_at is None else max(since, self.last_fire_at)


@dataclass(frozen=True, slots=True)
class PushClaim:
    """A won lease on one fire time of one schedule."""

    id: int
    schedule_id: int
    fire_at: datetime
