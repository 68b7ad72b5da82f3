"""Domain objects for reaching people (issue 10); `storage.models` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Broadcast",
    "Contact",
    "ContactPurpose",
    "DueReminder",
    "InvitationUptake",
    "ReminderStatus",
    "UnitFunnel",
    "WavePlan",
]


class ContactPurpose(StrEnum):
    """Why the bot keeps someone's (encrypted) chat id."""

    SURVEY = "survey"  # an unfinished survey: reminders
    OUTREACH = "outreach"  # opted in to outreach messages after completing
    OFFICIAL = "official"  # a unit head: due-date reminders of the unit's follow-up actions


class ReminderStatus(StrEnum):
    """What became of a claimed reminder."""

    CLAIMED = "claimed"
    SENT = "sent"
    GONE = "gone"  # Telegram refused the chat (blocked): the contact was deleted
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Contact:
    """A stored contact; `chat` is the encrypted chat id (see services/contacts.py)."""

    pseudonym: str
    purpose: ContactPurpose
    chat: bytes
    language: str | None
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A person owed a reminder: pseudonym, encrypted chat id and the session's language."""

    pseudonym: str
    chat: bytes
    language: str


@dataclass(frozen=True, slots=True)
class InvitationUptake:
    """Personal links of one unit and group in a wave: issued, opened (in use), completed."""

    unit_code: str
    unit_name: str
    grp: str
    issued: int
    opened: int
    completed: int


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An outreach message; `unit_codes` empty means every unit's opted-in people.

    A picture is `photo` (uploaded bytes) and/or `photo_file_id` (Telegram's id for it).
    """

    id: int
    text: str
    unit_codes: tuple[str, ...]
    created_at: datetime
    confirmed: bool
    author: str | None = None
    photo: bytes | None = None
    photo_file_id: str | None = None

    @property
    def has_photo(self) -> bool:
        """Tell whether the broadcast carries a picture."""
        return self.photo is not None or self.photo_file_id is not None


@dataclass(frozen=True, slots=True)
class WavePlan:
    """A planned wave: opens (and optionally closes) at these times; `wave_id` once opened.

    `questionnaire_choice` is what `wave plan --questionnaire` chose ("external=layanan");
    groups it does not name take the default when the wave opens.
    """

    name: str
    opens_at: datetime
    closes_at: datetime | None
    wave_id: int | None
    questionnaire_choice: str | None = None


@dataclass(frozen=True, slots=True)
class UnitFunnel:
    """A unit's surveys of one group in a wave, by where they are.

    `in_progress`: moved recently; `stopped`: idle for a while (still resumable, reminded);
    `abandoned`: ended without a submission (cancelled, or expired); `completed`: submitted.
    Counts surveys begun, not people: someone who cancels and starts again counts twice.
    """

    unit_code: str
    unit_name: str
    grp: str
    in_progress: int
    stopped: int
    abandoned: int
    completed: int

    @property
    def started(self) -> int:
        """Every survey begun, however it is going."""
        return self.in_progress + self.stopped + self.abandoned + self.completed
