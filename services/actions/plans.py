"""Follow-up plans (tindak lanjut): who may change which action, and input checks (dates as
people type them, the dimension and status names the bot shows). The matrix file is
`services.actions.matrix`.

Unit heads manage their own unit's actions; leadership and admins see every unit's (and may
manage them from the shell). Every change carries the version the editor saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

import storage.actions
import storage.errors
import storage.values
from services.access import Decision, Viewer
from services.dates import BadDate, parse_date
from services.i18n import catalog
from services.names import dimension_named, status_named
from storage.actions import Action, ActionStatus, NewAction
from storage.db import AsyncEngine

__all__ = [
    "SHOW_BUTTON",
    "Action",
    "ActionProblem",
    "ActionStatus",
    "Change",
    "Outcome",
    "add_for",
    "check_what",
    "check_who",
    "find_action",
    "list_for",
    "may_manage",
    "may_see",
    "new_action",
    "parse_dimension",
    "parse_due",
    "parse_status",
    "set_status_for",
]

# Button action of "show this action" (/tindaklanjut lists, due-date reminders): arg = id.
SHOW_BUTTON: Final = "tls"
WHAT_MAX: Final = 500
WHO_MAX: Final = 120
NOTE_MAX: Final = 500
_SPACES: Final = re.compile(r"\s+")


class ActionProblem(ValueError):
    """Input that cannot become an action; `key` names the catalog message, `row` the line
    (or spreadsheet row, `where` says which) of a matrix."""

    def __init__(
        self, key: str, detail: str = "", row: int | None = None, where: str = "line"
    ) -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail
        self.row = row
        self.where = where

    def describe(self, language: str) -> str:
        """Return the problem in words (with the line of a matrix, when known)."""
        text = catalog().t(language, self.key, detail=self.detail)
        if self.row is None:
            return text
        where = catalog().t(language, f"actions_where_{self.where}", row=self.row)
        return f"{where}: {text}"

    def __str__(self) -> str:
        return self.describe("en")


class Outcome(StrEnum):
    """What became of a change."""

    DONE = "done"
    STALE = "stale"  # someone changed the action first
    REFUSED = "refused"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Change:
    """A change's outcome, with the action as it is now (None when refused or missing)."""

    outcome: Outcome
    action: Action | None


def parse_due(text: str) -> date:
    """Parse a due date as people type it: 30/04/2027, 30-04-2027, 2027-04-30,
    31 Januari 2027, 31 Jan 2027, January 31, 2027 (`services.dates`)."""
    try:
        return parse_date(text)
    except BadDate as exc:
        key = "actions_impossible_date" if exc.impossible else "actions_bad_date"
        raise ActionProblem(key, text.strip()[:30]) from None


def _clean(text: str, limit: int, key: str) -> str:
    cleaned = _SPACES.sub(" ", text).strip()
    if not cleaned or len(cleaned) > limit:
        raise ActionProblem(key, str(limit))
    return cleaned


def check_what(text: str) -> str:
    """Return an action's description cleaned, or ActionProblem."""
    return _clean(text, WHAT_MAX, "actions_bad_what")


def check_who(text: str) -> str:
    """Return a person in charge (a role title) cleaned, or ActionProblem."""
    return _clean(text, WHO_MAX, "actions_bad_who")


def parse_dimension(text: str) -> str | None:
    """Return a dimension's code from any name the bot shows or accepts; None when empty."""
    if not text.strip():
        return None
    dimension = dimension_named(text)
    if dimension is None:
        raise ActionProblem("actions_bad_dimension", text.strip()[:40])
    return dimension.value


def parse_status(text: str) -> ActionStatus:
    """Return a status from any name the bot shows ("Berjalan", "in progress"); empty:
    planned."""
    if not text.strip():
        return ActionStatus.PLANNED
    status = status_named(text)
    if status is None:
        raise ActionProblem("actions_bad_status", text.strip()[:30])
    return status


def new_action(
    unit_code: str,
    what: str,
    who: str,
    due: str | date,
    *,
    dimension: str = "",
    recommendation: str = "",
    status: str = "planned",
    note: str = "",
) -> NewAction:
    """Check and build an action to add (ActionProblem names what is wrong)."""
    return NewAction(
        unit_code=unit_code.strip().upper(),
        what=check_what(what),
        who=check_who(who),
        due_on=due if isinstance(due, date) else parse_due(due),
        dimension=parse_dimension(dimension),
        recommendation=_SPACES.sub(" ", recommendation).strip()[:WHAT_MAX],
        status=parse_status(status),
        note=_SPACES.sub(" ", note).strip()[:NOTE_MAX],
    )


async def add_for(engine: AsyncEngine, viewer: Viewer, new: NewAction, now: datetime) -> Change:
    """Add an action if the viewer heads that unit (or is an admin)."""
    if not (viewer.admin or viewer.unit_code == new.unit_code):
        return Change(Outcome.REFUSED, None)
    try:
        return Change(Outcome.DONE, await storage.actions.add_action(engine, new, now))
    except storage.errors.NotFound:
        return Change(Outcome.NOT_FOUND, None)


async def find_action(engine: AsyncEngine, action_id: int) -> Action | None:
    """Return one action, or None."""
    return await storage.actions.get_action(engine, action_id)


async def list_for(engine: AsyncEngine, unit_code: str | None) -> tuple[Action, ...]:
    """Return one unit's actions (None: every unit's), soonest due first."""
    return await storage.actions.list_actions(engine, unit_code=unit_code)


def may_manage(viewer: Viewer, action: Action) -> bool:
    """Unit heads manage their own unit's actions; admins any; leadership only looks."""
    return viewer.admin or viewer.unit_code == action.unit_code


def may_see(viewer: Viewer, unit_code: str) -> Decision:
    """Leadership and admins see every unit's actions; a unit head their own."""
    return viewer.unit(unit_code)


async def set_status_for(
    engine: AsyncEngine,
    viewer: Viewer,
    action_id: int,
    version: int,
    now: datetime,
    *,
    status: ActionStatus | None = None,
    note: str | None = None,
    document_file_id: str | None = None,
    evidence_kind: str | None = None,
    who: str | None = None,
    due_on: date | None = None,
) -> Change:
    """Change an action's status, note, evidence, person in charge or due date, if the
    viewer may (only what is given changes)."""
    action = await storage.actions.get_action(engine, action_id)
    if action is None:
        return Change(Outcome.NOT_FOUND, None)
    if not may_manage(viewer, action):
        return Change(Outcome.REFUSED, None)
    keep = storage.values.UNCHANGED
    try:
        changed = await storage.actions.update_action(
            engine,
            action_id,
            version=version,
            now=now,
            status=keep if status is None else status,
            note=keep if note is None else note.strip()[:NOTE_MAX],
            document_file_id=keep if document_file_id is None else document_file_id,
            evidence_kind=keep if document_file_id is None else evidence_kind or "document",
            who=keep if who is None else who,
            due_on=keep if due_on is None else due_on,
        )
    except storage.errors.NotFound:
        return Change(Outcome.NOT_FOUND, None)
    if changed is None:
        return Change(Outcome.STALE, await storage.actions.get_action(engine, action_id))
    return Change(Outcome.DONE, changed)
