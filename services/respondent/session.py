"""The respondent's session as the flow sees it: who is acting, where they are, and how the
current step looks. `RespondentFlow` builds on this; nothing here handles an update itself."""

from __future__ import annotations

import html
from datetime import datetime

import storage
from services import callbacks
from services.context import Services
from services.people import Person, person_for
from services.respondent.screens import Renderer, Screen, TapResult
from storage.models import UNCHANGED
from storage.models import SurveySession as Session
from surveys import Question, Questionnaire, load_questionnaire_text

__all__ = [
    "CONSENT",
    "ELIGIBILITY_DIRECT",
    "ELIGIBILITY_RECENT",
    "LANGUAGE",
    "QUESTION",
    "REVIEW",
    "Actor",
    "Session",
    "SessionBase",
    "SessionEnded",
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


class SessionEnded(Exception):
    """The respondent's session ended on its own (expired, wave closed): tell them why."""

    def __init__(self, key: str, language: str) -> None:
        super().__init__(key)
        self.key = key
        self.language = language


Actor = Person  # who is acting in the survey: pseudonym and display language


class SessionBase:
    """Session state and rendering shared by every respondent event."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._questionnaires: dict[int, Questionnaire] = {}

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _engine(self) -> storage.AsyncEngine:
        return self.services.db.engine

    async def _actor(self, user_id: int, telegram_language: str | None) -> Actor:
        return await person_for(self.services, user_id, telegram_language)

    def _renderer(self, actor: Actor, version: int, language: str | None = None) -> Renderer:
        secret = self.services.secret

        def sign(action: str, arg: str) -> str:
            return callbacks.encode(secret, actor.pseudonym, version, action, arg)

        return Renderer(self.services.messages, language or actor.language, sign)

    def _t(self, language: str, key: str, /, **values: object) -> str:
        return self.services.messages.t(language, key, **values)

    async def questionnaire(self, questionnaire_id: int) -> Questionnaire:
        """Return a stored questionnaire version (cached: versions never change)."""
        cached = self._questionnaires.get(questionnaire_id)
        if cached is None:
            stored = await storage.get_questionnaire(self._engine, questionnaire_id)
            if stored is None:
                raise LookupError(f"questionnaire #{questionnaire_id} is missing")
            cached = load_questionnaire_text(stored.source_yaml, source=f"db:{questionnaire_id}")
            self._questionnaires[questionnaire_id] = cached
        return cached

    async def _session_questionnaire(self, session: Session) -> Questionnaire:
        response = (
            await storage.get_response(self._engine, session.response_id)
            if session.response_id
            else None
        )
        if response is None:
            raise LookupError("the session has no response row")
        return await self.questionnaire(response.questionnaire_id)

    async def _answers(self, session: Session) -> dict[str, str]:
        if session.response_id is None:
            return {}
        return await storage.get_answers(self._engine, session.response_id)

    def _now(self) -> datetime:
        return self.services.clock()

    async def _live_session(self, actor: Actor) -> Session | None:
        """Return the actor's session; end it (raising SessionEnded) if expired or closed."""
        session = await storage.get_session(self._engine, actor.pseudonym)
        if session is None:
            return None
        age = self._now() - session.started_at
        if age.days >= self.services.settings.session_expiry_days:
            await storage.cancel_session(self._engine, actor.pseudonym)
            raise SessionEnded("expired", session.language)
        wave = await storage.get_wave_by_id(self._engine, session.wave_id)
        if wave is None or not wave.is_open:
            # Answers to a closed wave never count: drop them and say why.
            await storage.cancel_session(self._engine, actor.pseudonym)
            raise SessionEnded("wave_closed", session.language)
        return session

    # -- rendering the current step ---------------------------------------------------------

    async def _current(self, actor: Actor, session: Session, notice: str | None = None) -> Screen:
        """Render the step the session is on."""
        render = self._renderer(actor, session.version, session.language)
        if session.step in (ELIGIBILITY_RECENT, ELIGIBILITY_DIRECT):
            if session.step == ELIGIBILITY_RECENT:
                unit = await storage.get_unit_by_id(self._engine, session.unit_id)
                text = render.t("eligibility_recent", unit=html.escape(unit.name) if unit else "")
            else:
                text = render.t("eligibility_direct")
            return Screen(with_notice(text, notice), render.yes_no("el"))
        questionnaire = await self._session_questionnaire(session)
        if session.step == CONSENT:
            screen = render.consent(questionnaire, self.services.settings.small_cell_k)
            return Screen(with_notice(screen.text, notice), screen.keyboard)
        if session.step == LANGUAGE:
            return render.choose_language()
        answers = await self._answers(session)
        if session.step == REVIEW or session.question_id is None:
            return self._review(render, questionnaire, answers)
        question = questionnaire.question(session.question_id)
        return render.question(
            questionnaire,
            question,
            answers,
            text_limit=self.services.settings.free_text_max_length,
            notice=notice,
        )

    def _review(
        self, render: Renderer, questionnaire: Questionnaire, answers: dict[str, str]
    ) -> Screen:
        visible = questionnaire.visible(answers)
        answered = sum(1 for q in visible if q.id in answers)
        return render.review(answered, len(visible) - answered)

    async def _move(
        self,
        actor: Actor,
        session: Session,
        *,
        step: str,
        question_id: str | None = None,
        answer: tuple[str, str] | None = None,
        drop: tuple[str, ...] = (),
        language: str | None = None,
    ) -> TapResult:
        """Apply one move atomically; a lost race is a double tap and changes nothing."""
        moved = await storage.move_session(
            self._engine,
            session,
            step=step,
            question_id=question_id,
            answer=answer,
            drop_answers=drop,
            language=UNCHANGED if language is None else language,
            now=self._now(),
        )
        if moved is None:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        return TapResult(screen=await self._current(actor, moved))

    async def _question_context(
        self, session: Session
    ) -> tuple[Questionnaire, Question, dict[str, str]] | None:
        if session.step != QUESTION or session.question_id is None:
            return None
        questionnaire = await self._session_questionnaire(session)
        answers = await self._answers(session)
        return questionnaire, questionnaire.question(session.question_id), answers


def with_notice(text: str, notice: str | None) -> str:
    return f"⚠️ {notice}\n\n{text}" if notice else text


def retiring(screen: Screen, session: Session) -> Screen:
    """Send `screen` as a new message and strip the buttons from the session's old one."""
    return Screen(screen.text, screen.keyboard, retire=session.message_id)
