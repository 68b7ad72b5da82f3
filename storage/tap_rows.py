"""What a respondent's transactions read and write, worked out once for both ways of running them.

A start, a tap, a typed answer and a submission run at driver level on each database
(`storage.tap_sqlite`, `storage.tap_postgres`); the SQLAlchemy Core versions in
`storage.turns` and `storage.sessions` are the reference they are tested against. Both take
their values from here, so the rows they write can only differ in how SQL is spelled: the
columns a move sets, the draft answer it upserts with its paradata, the session a start
inserts and what a submission files.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from scoring.paradata import duration_band, pace_band
from storage.answers import draft_value
from storage.db import from_db, utc
from storage.paradata import DraftRow, ItemTally
from storage.respondents import SurveySession
from storage.values import Unchanged

__all__ = [
    "EXTERNAL",
    "MOVABLE",
    "Filing",
    "Move",
    "Start",
    "TapDriver",
    "Turn",
    "completion_scope",
    "filing",
    "plan_move",
]

EXTERNAL: Final = "external"
# The session columns a move may set besides its version and time, in the order statements
# name them.
MOVABLE: Final = ("step", "question_id", "language", "message_id")
# A draft's seconds on an item stop growing at a day (the histogram's top band starts far below).
_MAX_SECONDS: Final = 86_400


@dataclass(frozen=True, slots=True)
class Turn:
    """A respondent's state at the start of a move."""

    chosen_language: str | None  # chosen with /bahasa; None: follow Telegram's
    session: SurveySession | None
    wave_open: bool = False  # whether the session's wave still takes answers
    questionnaire_id: int | None = None
    answers: dict[str, str] = field(default_factory=dict)


def completion_scope(grp: str, unit_id: int) -> int:
    """Return what one completion covers: a unit for citizens (they may rate every service
    they used, once each per wave; issue 22.6), the whole wave (0) for the other groups."""
    return unit_id if grp == EXTERNAL else 0


@dataclass(frozen=True, slots=True)
class Move:
    """One version-guarded move of a session, with the draft answer written beside it."""

    pseudonym: str
    expected_version: int
    version: int
    updated_at: datetime
    changes: Mapping[str, Any]  # the MOVABLE columns this move sets
    dropped: tuple[str, ...]  # answers a changed branch no longer asks
    answer: tuple[str, str | None] | None  # (question id, stored value; None: passed)
    seconds: int  # since the session's previous move (the item's time, for paradata)
    partial: bool  # a multiple choice being ticked: not yet a change

    def values(self) -> dict[str, Any]:
        """Return the session columns this move sets."""
        return {"version": self.version, "updated_at": self.updated_at, **self.changes}

    def moved(self, session: SurveySession) -> SurveySession:
        """Return `session` as this move leaves it."""
        return replace(session, version=self.version, updated_at=self.updated_at, **self.changes)


def plan_move(
    session: SurveySession,
    now: datetime,
    changes: Mapping[str, object],
    answer: tuple[str, str | None] | None,
    partial: bool,
    drop_answers: Iterable[str],
) -> Move:
    """Work out a move: the columns to set (unchanged ones left out), the answer's draft
    value and the seconds on its item (a day's pause counts as a day)."""
    moment = utc(now)
    seconds = min(_MAX_SECONDS, max(0, int((moment - from_db(session.updated_at)).total_seconds())))
    return Move(
        pseudonym=session.pseudonym,
        expected_version=session.version,
        version=session.version + 1,
        updated_at=moment,
        changes={
            name: changes[name]
            for name in MOVABLE
            if name in changes and not isinstance(changes[name], Unchanged)
        },
        dropped=tuple(q for q in drop_answers if answer is None or q != answer[0]),
        answer=None if answer is None else (answer[0], draft_value(answer[0], answer[1])),
        seconds=seconds,
        partial=partial,
    )


@dataclass(frozen=True, slots=True)
class Start:
    """What beginning a survey asks for; `session` builds the row once the questionnaire is
    known."""

    pseudonym: str
    wave_id: int
    grp: str
    unit_id: int
    invitation_id: int | None
    language: str
    step: str
    now: datetime  # UTC
    expires_after_days: int

    def session(self, questionnaire_id: int) -> SurveySession:
        """Return the new session row."""
        return SurveySession(
            pseudonym=self.pseudonym,
            wave_id=self.wave_id,
            grp=self.grp,
            unit_id=self.unit_id,
            questionnaire_id=questionnaire_id,
            invitation_id=self.invitation_id,
            step=self.step,
            question_id=None,
            language=self.language,
            message_id=None,
            version=0,
            started_at=self.now,
            updated_at=self.now,
            expires_on=self.now.date() + timedelta(days=self.expires_after_days),
        )


@dataclass(frozen=True, slots=True)
class Filing:
    """What a submission writes: the response under a fresh id, its answers, the item
    paradata and the arrival's clock hour. Nothing of the session but its wave, group,
    unit, questionnaire and language."""

    response: dict[str, Any]
    answers: list[tuple[str, str]]
    tally: ItemTally
    arrival_hour: datetime

    @property
    def response_id(self) -> str:
        """Return the response's id."""
        return str(self.response["id"])


def filing(session: Any, drafts: list[DraftRow], now: datetime, today: date) -> Filing:
    """Return what submitting `session` (a session row) with its `drafts` writes."""
    given = {d.question_id: d.value for d in drafts if d.value is not None}
    seconds = max(0.0, (now - from_db(session.started_at)).total_seconds())
    response_id = secrets.token_hex(16)  # drawn now: the survey in progress never had one
    tally = ItemTally()
    tally.add(session.wave_id, session.questionnaire_id, drafts)
    return Filing(
        response={
            "id": response_id,
            "wave_id": session.wave_id,
            "grp": session.grp,
            "unit_id": session.unit_id,
            "questionnaire_id": session.questionnaire_id,
            "language": session.language,
            "completed_on": today,
            "duration_band": duration_band(seconds),
            "pace_band": pace_band(seconds, len(given)),
        },
        answers=[(q, v) for q, v in given.items() if v is not None],
        tally=tally,
        arrival_hour=utc(now).replace(minute=0, second=0, microsecond=0),
    )


class TapDriver(Protocol):
    """A database's driver-level respondent transactions (`storage.tap_sqlite`,
    `storage.tap_postgres`): the same transactions, guards and results as the Core ones."""

    async def load_turn(self, engine: AsyncEngine, pseudonym: str) -> Turn:
        """Read a respondent's language, session, wave status and answers."""

    async def move(self, engine: AsyncEngine, move: Move) -> bool:
        """Apply `move` if the session is still at its expected version."""

    async def set_message(self, engine: AsyncEngine, pseudonym: str, message_id: int) -> None:
        """Remember the message with the session's live buttons (no version bump)."""

    async def completed(
        self, engine: AsyncEngine, pseudonym: str, wave_id: int, grp: str, unit_id: int | None
    ) -> bool:
        """Tell whether a completion marker covers this survey."""

    async def start(self, engine: AsyncEngine, start: Start) -> SurveySession:
        """Insert a new session (see `storage.sessions.start_session`)."""

    async def submit(
        self, engine: AsyncEngine, pseudonym: str, now: datetime, today: date, expected: int | None
    ) -> bool:
        """File the survey in progress (see `storage.sessions.submit`)."""
