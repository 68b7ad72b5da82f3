"""Simulated respondents for the demo and tests: people who tap, type, go back and give up.

A simulated person only sees what a real one sees in the sandbox: the bot's messages and
their buttons. It reads the action code of our own callback data to tell an answer button
from a navigation button (that format is ours, see `services.callbacks`).
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
from dataclasses import dataclass, field
from enum import StrEnum

from sandbox import SandboxUser
from sandbox.models import Button, SandboxError, SentMessage
from surveys import Question, QuestionType, bundled_questionnaires

__all__ = ["Outcome", "Persona", "simulate_respondent"]


class Outcome(StrEnum):
    """How a simulated respondent's visit ended."""

    COMPLETED = "completed"
    ABANDONED = "abandoned"
    INELIGIBLE = "ineligible"
    DECLINED = "declined"
    REFUSED = "refused"  # the bot refused the link (used, closed, forged…)


@dataclass(frozen=True)
class Persona:
    """How one simulated person behaves."""

    leaning: float  # 0 = picks the first options, 1 = picks the last ones
    rng: random.Random = field(repr=False, compare=False)
    abandon_at: int | None = None  # stop after this many answers
    goes_back: bool = False
    ineligible: bool = False
    language: str = "id"
    says: str | None = None  # what they type as a suggestion (None: one of a few stock ones)


_PROGRESS_RE = re.compile(r"(Pertanyaan \d+ dari \d+|Question \d+ of \d+)")
_TERMINAL = (
    "Terima kasih!",
    "Thank you!",
    "Tidak apa-apa",
    "That's fine",
    "Survei ini khusus",
    "This survey is for",
)


def _action(button: Button) -> str:
    parts = (button.data or "").split(".")
    return parts[1] if len(parts) == 4 else ""


def _arg(button: Button) -> str:
    parts = (button.data or "").split(".")
    return parts[2] if len(parts) == 4 else ""


@functools.cache
def _questions_by_text() -> dict[str, Question]:
    """Index the bundled questions by their text in both languages (what a person reads)."""
    index: dict[str, Question] = {}
    for questionnaire in bundled_questionnaires().values():
        for question in questionnaire.questions:
            index[question.text.id] = question
            index[question.text.en] = question
    return index


def _question_in(text: str) -> Question | None:
    for line in text.splitlines():
        question = _questions_by_text().get(line.strip())
        if question is not None:
            return question
    return None


def _pick(persona: Persona, options: list[Button], question: Question | None) -> Button:
    """Pick an option the way this person sees things: near their leaning, with noise.

    A person with a good experience gives the answers that score well, whatever the
    wording (reverse-scored items included); now and then someone does not know.
    """
    position = min(1.0, max(0.0, persona.rng.gauss(persona.leaning, 0.2)))
    if question is None or not question.scored:
        return options[round(position * (len(options) - 1))]
    scored: list[tuple[float, Button]] = []
    unscored: list[Button] = []
    for button in options:
        option = question.options[int(_arg(button))]
        score = question.item_score(option.value)
        if score is None:
            unscored.append(button)
        else:
            scored.append((score, button))
    if unscored and persona.rng.random() < 0.05:
        return persona.rng.choice(unscored)
    ranked = [button for _, button in sorted(scored, key=lambda pair: pair[0])]
    return ranked[round(position * (len(ranked) - 1))]


async def _settled(
    user: SandboxUser, timeout: float, orphans: set[int] | None = None
) -> SentMessage:
    """Wait for the bot's reply to the last action and for it to finish replying.

    Finished means quiet for a moment and, as the bot promises, at most one message with
    live buttons: after a new question message the old one loses its keyboard, and that
    edit must not be mistaken for the reply to the person's next action. A keyboard still
    live when `timeout` runs out is an orphan (a process killed after sending a screen but
    before recording it leaves one nobody knows of): it goes into `orphans` and is not
    waited for again, so one orphan costs one wait, not one per step.
    """
    ignored = orphans if orphans is not None else set()
    reply = await user.wait_for_reply(timeout=timeout)
    chat = user.chat
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        stamp = chat.last_bot_activity
        await asyncio.sleep(0.02)
        if chat.last_bot_activity != stamp:
            continue
        live = [m for m in chat.messages if m.flat_buttons and m.message_id not in ignored]
        if len(live) <= 1:
            return _looked_at(user, ignored) or reply
        if loop.time() > deadline:
            ignored.update(m.message_id for m in live[:-1])
            return _looked_at(user, ignored) or reply


def _looked_at(user: SandboxUser, orphans: set[int] | None = None) -> SentMessage | None:
    """The message a person answers: the newest one with live buttons, else the newest one.

    After a restart a tap on an older message can make that message the live one again
    (the bot answers in the message that was tapped); the newest message is then bare.
    Known orphans (see `_settled`) are looked at only when nothing else has buttons.
    """
    live = [message for message in user.chat.messages if message.flat_buttons]
    current = [m for m in live if orphans is None or m.message_id not in orphans]
    if current or live:
        return (current or live)[-1]
    return user.chat.last_message


async def simulate_respondent(
    user: SandboxUser, payload: str | None, persona: Persona, *, timeout: float = 15.0
) -> tuple[Outcome, int]:
    """Play one respondent from opening a link to the end; return the outcome and answer count."""
    if payload is None:
        await user.command("start")
    else:
        await user.open_deep_link(payload)
    answered = 0
    orphans: set[int] = set()  # keyboards a killed process left behind (see `_settled`)
    went_back = False
    looks = 0  # second looks at a screen without buttons
    look_again = False
    for _ in range(200):  # a bound: no questionnaire needs this many moves
        if look_again and (seen := _looked_at(user, orphans)) is not None:
            message, look_again = seen, False
        else:
            message = await _settled(user, timeout, orphans)
        text = message.plain_text
        buttons = message.flat_buttons
        actions = {_action(b): b for b in buttons}
        is_question = _PROGRESS_RE.search(text) is not None
        question = _question_in(text)
        typed = question is None or question.type in (QuestionType.TEXT, QuestionType.NUMBER)
        if is_question and not typed and not ({"a", "m"} & actions.keys()):
            # A choice question without buttons: a copy whose keyboard was just removed.
            # A person looks at the message that has the buttons instead.
            await asyncio.sleep(0.1)
            look_again = _looked_at(user, orphans) is not message
            continue
        if not ({"a", "m"} & actions.keys()) and is_question:  # typed answer expected
            if persona.abandon_at is not None and answered >= persona.abandon_at:
                return Outcome.ABANDONED, answered
            await user.send(_typed_answer(persona, text))
            answered += 1
            continue
        if text.startswith(("Terima kasih!", "Thank you!")):  # may carry an outreach opt-in
            return Outcome.COMPLETED, answered
        if not buttons:
            if any(marker in text for marker in _TERMINAL):
                return _terminal_outcome(text), answered
            if looks < 3:  # the bot may still be replying: a person looks again shortly
                looks += 1
                look_again = True
                await asyncio.sleep(0.2)
                continue
            return Outcome.REFUSED, answered
        looks = 0
        if "el" in actions:
            label = "Tidak" if persona.ineligible else "Ya"
            if persona.language == "en":
                label = "No" if persona.ineligible else "Yes"
            await user.tap(message, text=label)
        elif "ok" in actions:
            agree = next((b for b in buttons if _action(b) == "ok" and _arg(b) == "y"), None)
            if agree is None:  # a consent screen without its Yes: look again
                look_again = True
                continue
            await user.tap(message, data=agree.data)
        elif "lg" in actions:
            await user.tap(
                message, text="English" if persona.language == "en" else "Bahasa Indonesia"
            )
        elif "sb" in actions:
            await user.tap(message, data=actions["sb"].data)
        elif "a" in actions or "m" in actions:
            if persona.abandon_at is not None and answered >= persona.abandon_at:
                return Outcome.ABANDONED, answered
            if persona.goes_back and not went_back and answered == 3 and "bk" in actions:
                went_back = True
                await user.tap(message, data=actions["bk"].data)
                continue
            options = [b for b in buttons if _action(b) in ("a", "m")]
            await user.tap(message, data=_pick(persona, options, _question_in(text)).data)
            if "m" in actions:  # multiple choice: one pick, then Done
                await _settled(user, timeout, orphans)
                try:
                    done = user.chat.message(message.message_id).flat_buttons
                except SandboxError:  # the message was deleted (a newer screen replaced it)
                    done = []
                finish = next((b.data for b in done if _action(b) == "md"), None)
                if finish is None:
                    # The screen moved on without a Done button (a restarted bot redrew it,
                    # or a stale copy lost its keyboard): look at the live screen again.
                    look_again = True
                    continue
                await user.tap(message, data=finish)
            answered += 1
        elif "pu" in actions:
            await user.tap(message, data=persona.rng.choice(buttons).data)
        else:
            return Outcome.REFUSED, answered
    return Outcome.ABANDONED, answered


def _typed_answer(persona: Persona, prompt: str) -> str:
    if "angka" in prompt or "number" in prompt:
        return str(persona.rng.randint(1, 5))
    if persona.says is not None:
        return persona.says
    suggestions = [
        "Pelayanan sudah cukup baik, tetapi antrean masih panjang.",
        "Mohon informasi biaya dipasang lebih jelas di loket.",
        "Petugas ramah dan cepat.",
        "Perlu layanan daring agar tidak perlu datang berkali-kali.",
    ]
    return persona.rng.choice(suggestions)


def _terminal_outcome(text: str) -> Outcome:
    if text.startswith(("Terima kasih!", "Thank you!")):
        return Outcome.COMPLETED
    if "khusus" in text or "is for" in text:
        return Outcome.INELIGIBLE
    return Outcome.DECLINED
