"""The respondent's state for one move, and how the current step looks.

`Turns` is the one component every respondent event uses: `load` reads everything a move
needs in one transaction (`storage.load_turn`), `move` writes the move in one transaction and
updates the answers in memory (nothing just written is read back), and `current` renders the
step the session is on. The ways in (`Entry`) and the survey steps (`RespondentFlow`) are
composed from it; nothing here handles an update itself.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass, field, replace
from datetime import datetime

import storage.db
import storage.questionnaires
import storage.sessions
import storage.tap_rows
import storage.turns
import storage.units
from services import callbacks
from services.context import Services
from services.people import Person, choose_language
from services.respondent.screens import Action, Renderer, Screen, TapResult, submit_arg
from storage.respondents import SurveySession as Session
from storage.values import UNCHANGED
from surveys import Questionnaire, load_questionnaire_text

__all__ = [
    "CONSENT",
    "ELIGIBILITY_DIRECT",
    "ELIGIBILITY_RECENT",
    "LANGUAGE",
    "QUESTION",
    "REVIEW",
    "Actor",
    "Live",
    "Session",
    "SessionEnded",
    "Turns",
    "retiring",
    "with_notice",
]

# Session steps before the questions.
ELIGIBILITY_RECENT = "eligibility"
ELIGIBILITY_DIRECT = "eligibility2"
CONSENT = "consent"
LANGUAGE = "language"
QUESTION = "question"
REVIEW = "review"

Actor = Person  # who is acting in the survey: pseudonym and display language


class SessionEnded(Exception):
    """The respondent's session ended on its own (expired, wave closed): tell them why."""

    def __init__(self, key: str, language: str) -> None:
        super().__init__(key)
        self.key = key
        self.language = language


@dataclass(frozen=True, slots=True)
class Live:
    """One respondent at the start (or after) a move: who, their session and answers."""

    actor: Actor
    session: Session | None
    questionnaire: Questionnaire | None = None
    answers: dict[str, str] = field(default_factory=dict)


class Turns:
    """Load, move and render a respondent's session."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._questionnaires: dict[int, asyncio.Future[Questionnaire]] = {}

    @property
    def engine(self) -> storage.db.AsyncEngine:
        """Return the database engine."""
        return self.services.db.engine

    def now(self) -> datetime:
        """Return the current time from the services' clock."""
        return self.services.clock()

    def t(self, language: str, key: str, /, **values: object) -> str:
        """Return a catalog message."""
        return self.services.messages.t(language, key, **values)

    def renderer(self, actor: Actor, version: int, language: str | None = None) -> Renderer:
        """Return a renderer whose buttons are signed for this actor and session version."""
        secret = self.services.secret

        def sign(action: str, arg: str) -> str:
            return callbacks.encode(secret, actor.pseudonym, version, action, arg)

        return Renderer(self.services.messages, language or actor.language, sign)

    async def questionnaire(self, questionnaire_id: int) -> Questionnaire:
        """Return a stored questionnaire version (cached: versions never change).

        Parsed once per process however many people start at the same moment: they all
        wait for the one parse (a few tens of milliseconds each, 500 times at 08:00).
        """
        cached = self._questionnaires.get(questionnaire_id)
        if cached is None:
            cached = asyncio.ensure_future(self._parse(questionnaire_id))
            self._questionnaires[questionnaire_id] = cached
        try:
            return await asyncio.shield(cached)
        except Exception:
            self._questionnaires.pop(questionnaire_id, None)  # the next person tries again
            raise

    async def _parse(self, questionnaire_id: int) -> Questionnaire:
        stored = await storage.questionnaires.get_questionnaire(self.engine, questionnaire_id)
        if stored is None:
            raise LookupError(f"questionnaire #{questionnaire_id} is missing")
        return load_questionnaire_text(stored.source_yaml, source=f"db:{questionnaire_id}")

    async def load(self, user_id: int, telegram_language: str | None) -> Live:
        """Read the respondent in one transaction; end (raising SessionEnded) a dead session."""
        pseudonym = self.services.pseudonym(user_id)
        turn = await storage.turns.load_turn(self.engine, pseudonym)
        default = self.services.settings.default_language
        actor = Person(pseudonym, choose_language(turn.chosen_language, telegram_language, default))
        return await self._live(actor, turn)

    async def reload(self, live: Live) -> Live:
        """Read the respondent again (after another update moved their session first)."""
        return await self._live(
            live.actor, await storage.turns.load_turn(self.engine, live.actor.pseudonym)
        )

    async def _live(self, actor: Actor, turn: storage.tap_rows.Turn) -> Live:
        pseudonym = actor.pseudonym
        session = turn.session
        if session is None:
            return Live(actor, None)
        age = self.now() - session.started_at
        if age.days >= self.services.settings.session_expiry_days:
            await storage.sessions.cancel_session(self.engine, pseudonym)
            raise SessionEnded("expired", session.language)
        if not turn.wave_open:
            # Answers to a closed wave never count: drop them and say why.
            await storage.sessions.cancel_session(self.engine, pseudonym)
            raise SessionEnded("wave_closed", session.language)
        questionnaire = await self.questionnaire(session.questionnaire_id)
        return Live(actor, session, questionnaire, turn.answers)

    async def move(
        self,
        live: Live,
        *,
        step: str,
        question_id: str | None = None,
        answer: tuple[str, str | None] | None = None,
        partial: bool = False,
        drop: tuple[str, ...] = (),
        language: str | None = None,
        message_id: int | None = None,
    ) -> Live | None:
        """Apply one move atomically; None when another update moved the session first.

        `answer` (question id, value) with value None passes the item unanswered; `partial`
        marks a multiple choice being ticked. `message_id` is the message that will show the
        new step (None: unchanged).
        """
        assert live.session is not None
        moved = await storage.turns.move_session(
            self.engine,
            live.session,
            step=step,
            question_id=question_id,
            answer=answer,
            partial=partial,
            drop_answers=drop,
            language=UNCHANGED if language is None else language,
            message_id=UNCHANGED if message_id is None else message_id,
            now=self.now(),
        )
        if moved is None:
            return None
        answers = {k: v for k, v in live.answers.items() if k not in drop}
        if answer is not None:
            question, value = answer
            if value is None:
                answers.pop(question, None)
            else:
                answers[question] = value
        return replace(live, session=moved, answers=answers)

    async def bind(self, live: Live, message_id: int) -> None:
        """Remember which message carries the live buttons (so it can be retired later)."""
        if live.session is not None and live.session.message_id != message_id:
            await storage.turns.set_session_message(self.engine, live.actor.pseudonym, message_id)

    async def no_session_tap(self, actor: Actor) -> TapResult:
        """A survey button with no survey behind it: already sent, or over some other way."""
        if await storage.sessions.completed_in_open_wave(self.engine, actor.pseudonym):
            # A second tap on "Kirim": the message keeps its thank-you; a toast says so.
            return TapResult(toast=self.t(actor.language, "already_sent"))
        # Ended otherwise (cancelled, expired): say so in that message, so it is not dead.
        toast = self.t(actor.language, "stale_button")
        return TapResult(toast=toast, screen=Screen(self.t(actor.language, "no_session")))

    async def current(self, live: Live, notice: str | None = None) -> Screen:
        """Render the step the session is on."""
        session, actor = live.session, live.actor
        assert session is not None
        render = self.renderer(actor, session.version, session.language)
        if session.step in (ELIGIBILITY_RECENT, ELIGIBILITY_DIRECT):
            if session.step == ELIGIBILITY_RECENT:
                unit = await storage.units.get_unit_by_id(self.engine, session.unit_id)
                text = render.t("eligibility_recent", unit=html.escape(unit.name) if unit else "")
            else:
                text = render.t("eligibility_direct")
            return Screen(with_notice(text, notice), render.yes_no(Action.ELIGIBLE))
        questionnaire = live.questionnaire
        assert questionnaire is not None
        if session.step == CONSENT:
            screen = render.consent(questionnaire, self.services.settings.small_cell_k)
            return Screen(with_notice(screen.text, notice), screen.keyboard)
        if session.step == LANGUAGE:
            screen = render.choose_language()
            return Screen(with_notice(screen.text, notice), screen.keyboard)
        answers = live.answers
        if session.step == REVIEW or session.question_id is None:
            visible = questionnaire.visible(answers)
            answered = sum(1 for q in visible if q.id in answers)
            ending = submit_arg(session.wave_id, session.grp, session.unit_id)
            screen = render.review(answered, len(visible) - answered, ending)
            return Screen(with_notice(screen.text, notice), screen.keyboard)
        return render.question(
            questionnaire,
            questionnaire.question(session.question_id),
            answers,
            text_limit=self.services.settings.free_text_max_length,
            notice=notice,
        )


def with_notice(text: str, notice: str | None) -> str:
    """Put a short warning above a screen's text."""
    return f"⚠️ {notice}\n\n{text}" if notice else text


def retiring(screen: Screen, session: Session | None) -> Screen:
    """Send `screen` as a new message and strip the buttons from the session's old one."""
    if session is None:
        return screen
    return Screen(screen.text, screen.keyboard, retire=session.message_id)
