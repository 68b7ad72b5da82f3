"""The /tindaklanjut dialogue: add an action step by step, attach a note, document or photo,
or change an action's due date or person in charge.

State lives in `action_drafts` (one row per official), so a restart resumes the question
that was asked. A draft about an existing action carries its id and the version the official
saw: its step names the field asked for (`note`, `due`, `who`), and a change someone made in
between is refused as stale. Permissions are checked again when the action is saved: a role
revoked mid-dialogue saves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

import storage.actions
from services.access import Viewer
from services.actions.plans import (
    ActionProblem,
    Outcome,
    add_for,
    check_who,
    new_action,
    parse_due,
    set_status_for,
)
from services.dates import format_day
from services.untrusted import clean_typed
from storage.actions import Action, ActionDraft
from storage.db import AsyncEngine
from surveys.model import Dimension

__all__ = [
    "DRAFT_TTL",
    "Reply",
    "Step",
    "answer",
    "attach_document",
    "cancel",
    "in_progress",
    "start_add",
    "start_edit",
    "start_note",
]

# A dialogue left alone this long is forgotten: the next message is an ordinary one again.
DRAFT_TTL: Final = timedelta(hours=2)


class Step(StrEnum):
    """The question a draft waits on."""

    WHAT = "what"
    WHO = "who"
    DUE = "due"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to tell the official: a catalog key with its values, and the action when saved."""

    key: str
    values: dict[str, str] = field(default_factory=dict)
    action: Action | None = None
    asking: bool = False  # the dialogue goes on: offer the cancel button


async def start_add(
    engine: AsyncEngine,
    viewer: Viewer,
    pseudonym: str,
    dimension: str | None,
    language: str,
    now: datetime,
) -> Reply:
    """Begin adding an action to the viewer's own unit (unit heads only)."""
    if viewer.unit_code is None:
        return Reply("actions_add_unit_heads_only")
    if dimension is not None and dimension not in {d.value for d in Dimension}:
        return Reply("actions_button_stale")
    await storage.actions.put_action_draft(
        engine,
        ActionDraft(pseudonym, viewer.unit_code, Step.WHAT, language, now, dimension=dimension),
    )
    return Reply("actions_ask_what", asking=True)


async def start_note(
    engine: AsyncEngine,
    viewer: Viewer,
    pseudonym: str,
    action: Action,
    language: str,
    now: datetime,
) -> Reply:
    """Begin attaching a note or document to an action the viewer manages."""
    if viewer.unit_code != action.unit_code and not viewer.admin:
        return Reply("actions_refused")
    draft = ActionDraft(
        pseudonym,
        action.unit_code,
        Step.NOTE,
        language,
        now,
        action_id=action.id,
        action_version=action.version,
    )
    await storage.actions.put_action_draft(engine, draft)
    return Reply("actions_ask_note", {"number": str(action.id)}, asking=True)


async def start_edit(
    engine: AsyncEngine,
    viewer: Viewer,
    pseudonym: str,
    action: Action,
    step: Step,
    language: str,
    now: datetime,
) -> Reply:
    """Begin changing an action's due date (`Step.DUE`) or person in charge (`Step.WHO`)."""
    if viewer.unit_code != action.unit_code and not viewer.admin:
        return Reply("actions_refused")
    draft = ActionDraft(
        pseudonym,
        action.unit_code,
        step,
        language,
        now,
        action_id=action.id,
        action_version=action.version,
    )
    await storage.actions.put_action_draft(engine, draft)
    if step is Step.DUE:
        current = format_day(action.due_on, language)
        return Reply(
            "actions_ask_new_due", {"number": str(action.id), "current": current}, asking=True
        )
    return Reply(
        "actions_ask_new_who", {"number": str(action.id), "current": action.who}, asking=True
    )


async def in_progress(engine: AsyncEngine, pseudonym: str, now: datetime) -> bool:
    """Tell whether the official is in the middle of a dialogue (one cheap lookup)."""
    return await _live_draft(engine, pseudonym, now) is not None


async def cancel(engine: AsyncEngine, pseudonym: str) -> bool:
    """End the official's dialogue; False when there was none."""
    return await storage.actions.delete_action_draft(engine, pseudonym)


async def _live_draft(engine: AsyncEngine, pseudonym: str, now: datetime) -> ActionDraft | None:
    draft = await storage.actions.get_action_draft(engine, pseudonym)
    if draft is not None and now - draft.updated_at > DRAFT_TTL:
        await storage.actions.delete_action_draft(engine, pseudonym)
        return None
    return draft


def _changed(outcome: Outcome, action: Action | None) -> Reply:
    if outcome is Outcome.DONE:
        return Reply("actions_note_saved", {"number": str(action.id if action else "")}, action)
    if outcome is Outcome.STALE:
        return Reply("actions_stale")
    if outcome is Outcome.REFUSED:
        return Reply("actions_refused")
    return Reply("actions_button_stale")


async def answer(
    engine: AsyncEngine, viewer: Viewer, pseudonym: str, text: str, now: datetime, today: date
) -> Reply | None:
    """Take the official's text as the answer to the draft's question.

    None when there is no dialogue in progress: the message is someone else's business.
    """
    draft = await _live_draft(engine, pseudonym, now)
    if draft is None:
        return None
    text = clean_typed(text)  # what leadership reads must show as typed (no bidi tricks)
    step = Step(draft.step)
    if draft.action_id is not None and step is not Step.NOTE:
        return await _edit(engine, viewer, draft, step, text, now, today)
    try:
        if step is Step.NOTE:
            assert draft.action_id is not None
            assert draft.action_version is not None
            await storage.actions.delete_action_draft(engine, pseudonym)
            change = await set_status_for(
                engine, viewer, draft.action_id, draft.action_version, now, note=text
            )
            return _changed(change.outcome, change.action)
        if step is Step.WHAT:
            checked = new_action(draft.unit_code, text, "-", today)
            await storage.actions.put_action_draft(
                engine, _next(draft, Step.WHO, now, what=checked.what)
            )
            return Reply("actions_ask_who", asking=True)
        if step is Step.WHO:
            checked = new_action(draft.unit_code, draft.what or "-", text, today)
            await storage.actions.put_action_draft(
                engine, _next(draft, Step.DUE, now, who=checked.who)
            )
            return Reply("actions_ask_due", asking=True)
        due = parse_due(text)
        if due < today:
            return Reply("actions_due_past", {"detail": text.strip()[:20]}, asking=True)
        new = new_action(
            draft.unit_code, draft.what or "", draft.who or "", due, dimension=draft.dimension or ""
        )
    except ActionProblem as problem:
        return Reply(problem.key, {"detail": problem.detail}, asking=True)
    await storage.actions.delete_action_draft(engine, pseudonym)
    added = await add_for(engine, viewer, new, now)
    if added.outcome is not Outcome.DONE or added.action is None:
        return Reply("actions_refused")
    return Reply("actions_added", {"number": str(added.action.id)}, added.action)


async def _edit(
    engine: AsyncEngine,
    viewer: Viewer,
    draft: ActionDraft,
    step: Step,
    text: str,
    now: datetime,
    today: date,
) -> Reply:
    """Save a new due date or person in charge of an existing action."""
    assert draft.action_id is not None
    assert draft.action_version is not None
    due: date | None = None
    who: str | None = None
    try:
        if step is Step.DUE:
            due = parse_due(text)
            if due < today:
                return Reply("actions_due_past", {"detail": text.strip()[:20]}, asking=True)
        else:
            who = check_who(text)
    except ActionProblem as problem:
        return Reply(problem.key, {"detail": problem.detail}, asking=True)
    await storage.actions.delete_action_draft(engine, draft.pseudonym)
    change = await set_status_for(
        engine, viewer, draft.action_id, draft.action_version, now, due_on=due, who=who
    )
    if change.outcome is Outcome.DONE and change.action is not None:
        action = change.action
        values = {
            "number": str(action.id),
            "due": format_day(action.due_on, draft.language),
            "who": action.who,
        }
        return Reply("actions_edit_saved", values, action)
    return _changed(change.outcome, change.action)


def _next(draft: ActionDraft, step: Step, now: datetime, **changes: str) -> ActionDraft:
    return ActionDraft(
        pseudonym=draft.pseudonym,
        unit_code=draft.unit_code,
        step=step,
        language=draft.language,
        updated_at=now,
        dimension=draft.dimension,
        what=changes.get("what", draft.what),
        who=changes.get("who", draft.who),
    )


async def attach_document(
    engine: AsyncEngine,
    viewer: Viewer,
    pseudonym: str,
    file_id: str,
    now: datetime,
    kind: str = "document",
) -> Reply | None:
    """Attach a document or a photo (`kind`) as the evidence of the action a note is asked
    for (None: no such question pending, so the file is someone else's business)."""
    draft = await _live_draft(engine, pseudonym, now)
    if draft is None or draft.step != Step.NOTE:
        return None
    assert draft.action_id is not None
    assert draft.action_version is not None
    await storage.actions.delete_action_draft(engine, pseudonym)
    change = await set_status_for(
        engine,
        viewer,
        draft.action_id,
        draft.action_version,
        now,
        document_file_id=file_id,
        evidence_kind=kind,
    )
    return _changed(change.outcome, change.action)
