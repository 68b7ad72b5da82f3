"""How a survey ends, and how the ending shows again when its button is tapped again.

Submitting, declining and cancelling delete the session, so the same button tapped again
finds none: a double tap, or the same update redelivered because the process that handled it
died before showing the result (webhook mode, several processes). That tap shows the ending
again, as the first one did (an identical edit changes nothing), never "no survey in
progress" over the thank-you. The submit button carries what its thank-you needs
(`submit_arg`); the thank-you is shown only if the submission is on record. Any other button
of a survey that is over goes to `Turns.no_session_tap`.
"""

from __future__ import annotations

import html
from typing import Final

import storage.sessions
from services import callbacks, reach
from services.respondent.screens import Action, Button, Screen, TapResult
from services.respondent.session import Actor, Turns
from surveys import Group

__all__ = ["again", "thanks"]

# Buttons that end a session with a fixed text: (action, arg) -> catalog key.
_TEXT_ENDINGS: Final = {
    (Action.ELIGIBLE, "n"): "not_eligible",
    (Action.CONSENT, "n"): "consent_declined",
    (Action.CANCEL, "y"): "cancelled",
}


def thanks(turns: Turns, pseudonym: str, language: str, grp: str, unit_id: int) -> Screen:
    """Return the thank-you screen; employees may opt in to outreach there (issue 10), with a
    button signed for them like every other."""
    institution = html.escape(turns.services.settings.institution_name)
    text = turns.t(language, "submitted", institution=institution)
    if grp != Group.INTERNAL:
        return Screen(text)
    label = turns.t(language, "btn_outreach_opt_in")
    data = reach.opt_in_data(turns.services.secret, pseudonym, unit_id)
    return Screen(text, ((Button(label, data),),))


async def again(turns: Turns, actor: Actor, press: callbacks.Callback) -> TapResult:
    """Answer a survey button tapped when the person has no session."""
    key = _TEXT_ENDINGS.get((press.action, press.arg))
    if key is not None:
        return TapResult(screen=Screen(turns.t(actor.language, key)))
    if press.action == Action.SUBMIT:
        wave, _, rest = press.arg.partition("-")
        grp, _, unit = rest.partition("-")
        if (
            wave.isdigit()
            and unit.isdigit()
            and grp in tuple(Group)
            and await storage.sessions.has_completed(
                turns.engine, actor.pseudonym, int(wave), grp, int(unit)
            )
        ):
            toast = turns.t(actor.language, "already_sent")
            screen = thanks(turns, actor.pseudonym, actor.language, grp, int(unit))
            return TapResult(toast=toast, screen=screen)
    return await turns.no_session_tap(actor)
