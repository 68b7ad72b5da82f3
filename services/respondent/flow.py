"""The survey conversation as a state machine over database rows.

Every move is one read (`Turns.load`) and one write (`Turns.move`), guarded by the session's
version counter, so a double tap, a stale button or a second bot process can never record an
answer twice or skip a question. Whatever a person does on any of our messages, they see the
step they are actually on, in the message they are looking at: a stale button re-renders the
current step in place (with a short toast), it is never silently ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import storage.respondents
import storage.sessions
import storage.turns
from services import callbacks, reach
from services.context import Services
from services.respondent import endings
from services.respondent.answers import Problem, plan_advance, toggle, validate_typed
from services.respondent.entry import PAGE_ACTION, UNIT_ACTION, Entry
from services.respondent.screens import Action, Screen, TapResult
from services.respondent.session import (
    CONSENT,
    ELIGIBILITY_DIRECT,
    ELIGIBILITY_RECENT,
    LANGUAGE,
    QUESTION,
    REVIEW,
    Live,
    SessionEnded,
    Turns,
    retiring,
)
from surveys import Question, QuestionType

__all__ = ["RespondentFlow"]

logger = logging.getLogger(__name__)

Step = Callable[[Live, str, int | None], Awaitable[TapResult]]
# The steps before the questions: the step "y" leads to, and what "n" is told.
_GATES = {
    ELIGIBILITY_RECENT: (ELIGIBILITY_DIRECT, "not_eligible"),
    ELIGIBILITY_DIRECT: (CONSENT, "not_eligible"),
    CONSENT: (LANGUAGE, "consent_declined"),
}


class RespondentFlow:
    """Handle every respondent event and return what to show."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.turns = Turns(services)
        self.entry = Entry(self.turns)
        self._steps: dict[str, Step] = {
            Action.ELIGIBLE: self._tap_gate,
            Action.CONSENT: self._tap_gate,
            Action.LANGUAGE: self._tap_language,
            Action.OPTION: self._tap_option,
            Action.TOGGLE: self._tap_toggle,
            Action.MULTI_DONE: self._tap_multi_done,
            Action.SKIP: self._tap_skip,
            Action.BACK: self._tap_back,
            Action.SUBMIT: self._tap_submit,
            Action.CANCEL: self._tap_cancel,
        }

    def _t(self, language: str, key: str, /, **values: object) -> str:
        return self.turns.t(language, key, **values)

    # -- public entry points: a session that ended on its own is explained, never a crash --

    async def start(
        self, user_id: int, telegram_language: str | None, payload: str | None
    ) -> list[Screen]:
        """Handle /start with or without a deep-link payload."""
        try:
            live = await self.turns.load(user_id, telegram_language)
            screens = await self.entry.start(live, payload)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]
        if payload is not None:
            await self._keep_contact(user_id, live)
        return screens

    async def _keep_contact(self, user_id: int, before: Live) -> None:
        """Keep the chat id (encrypted) of someone who just began a survey, for reminders."""
        if before.session is None:
            await reach.remember_survey(self.services, user_id)

    async def tap(
        self,
        user_id: int,
        telegram_language: str | None,
        data: str | None,
        message_id: int | None = None,
    ) -> TapResult:
        """Handle a press of an inline button on message `message_id`."""
        try:
            return await self._tap(user_id, telegram_language, data, message_id)
        except SessionEnded as ended:
            return TapResult(screen=Screen(self._t(ended.language, ended.key)))

    async def text(self, user_id: int, telegram_language: str | None, text: str) -> list[Screen]:
        """Handle a typed message: an answer to a text/number question, or a re-prompt."""
        try:
            return await self._text(await self.turns.load(user_id, telegram_language), text)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]

    async def non_text(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle a sticker, photo, voice note or other non-text message."""
        try:
            live = await self.turns.load(user_id, telegram_language)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]
        if live.session is None:
            notice = Screen(self._t(live.actor.language, "not_text"))
            return [notice, *await self.entry.plain_start(live.actor)]
        notice_text = self._t(live.session.language, "not_text")
        return [retiring(await self.turns.current(live, notice_text), live.session)]

    async def cancel(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle /batal: ask for confirmation."""
        try:
            live = await self.turns.load(user_id, telegram_language)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]
        if live.session is None:
            return [Screen(self._t(live.actor.language, "cancel_nothing"))]
        render = self.turns.renderer(live.actor, live.session.version, live.session.language)
        return [retiring(render.cancel_confirm(), live.session)]

    async def choose_language(self, user_id: int, telegram_language: str | None) -> Screen:
        """Handle /bahasa: offer the two languages."""
        try:
            live = await self.turns.load(user_id, telegram_language)
        except SessionEnded as ended:
            return Screen(self._t(ended.language, ended.key))
        if live.session is None:
            return self.turns.renderer(live.actor, 0).choose_language()
        render = self.turns.renderer(live.actor, live.session.version)
        return retiring(render.choose_language(), live.session)

    async def bind_message(self, user_id: int, message_id: int) -> None:
        """Remember which message carries the live buttons (so it can be retired later)."""
        await storage.turns.set_session_message(
            self.turns.engine, self.services.pseudonym(user_id), message_id
        )

    # -- button presses --------------------------------------------------------------------

    async def _tap(
        self, user_id: int, telegram_language: str | None, data: str | None, message_id: int | None
    ) -> TapResult:
        live = await self.turns.load(user_id, telegram_language)
        actor = live.actor
        press = callbacks.decode(self.services.secret, actor.pseudonym, data)
        if press is None:
            logger.warning("refused callback data that this bot did not issue")
            return TapResult(toast=self._t(actor.language, "forged_button"))
        if press.action == UNIT_ACTION:
            picked = await self.entry.pick_unit(live, press.arg)
            await self._keep_contact(user_id, live)
            if message_id is not None and picked.screen is not None and picked.screen.keyboard:
                # The survey that just began lives in the tapped message.
                await storage.turns.set_session_message(
                    self.turns.engine, actor.pseudonym, message_id
                )
            return picked
        if press.action == PAGE_ACTION:
            wave_part, _, page_part = press.arg.partition("-")
            if not (wave_part.isdigit() and page_part.isdigit()):
                return TapResult(toast=self._t(actor.language, "forged_button"))
            return TapResult(
                screen=await self.entry.unit_page(actor, int(wave_part), int(page_part))
            )
        session = live.session
        if press.action == Action.LANGUAGE and press.version == 0 and session is None:
            if press.arg not in ("id", "en"):
                return TapResult(toast=self._t(actor.language, "forged_button"))
            await storage.respondents.set_respondent_language(
                self.turns.engine, actor.pseudonym, press.arg
            )
            return TapResult(screen=Screen(self._t(press.arg, "language_set")))
        step = self._steps.get(press.action)
        if session is None:  # a survey that is over, or its ending tapped again
            return await endings.again(self.turns, actor, press)
        if press.version != session.version or step is None:
            return await self._reshow(live, message_id)
        return await step(live, press.arg, message_id)

    async def _reshow(self, live: Live, message_id: int | None) -> TapResult:
        """Show the current step in the tapped message; it becomes the live one."""
        assert live.session is not None
        retire = live.session.message_id
        if message_id is not None:
            await self.turns.bind(live, message_id)
        return TapResult(
            toast=self._t(live.actor.language, "stale_reshown"),
            screen=await self.turns.current(live),
            retire=retire if retire != message_id else None,
        )

    async def _moved(self, before: Live, after: Live | None, message_id: int | None) -> TapResult:
        """Show where a move ended; a lost race shows where the session really is."""
        if after is None:  # another update moved the session first
            fresh = await self.turns.reload(before)
            if fresh.session is None:  # the update that ended it shows its own screen
                return TapResult(toast=self._t(before.actor.language, "stale_button"))
            return await self._reshow(fresh, message_id)
        retire = before.session.message_id if before.session else None
        return TapResult(
            screen=await self.turns.current(after),
            retire=retire if retire not in (None, message_id) else None,
        )

    async def _move(self, live: Live, message_id: int | None, **move: object) -> TapResult:
        after = await self.turns.move(live, message_id=message_id, **move)  # type: ignore[arg-type]
        return await self._moved(live, after, message_id)

    async def _tap_gate(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        """Eligibility and consent: "n" ends the visit politely, "y" goes to the next step."""
        session = live.session
        assert session is not None
        gate = _GATES.get(session.step)
        if gate is None or arg not in ("y", "n"):
            return await self._reshow(live, message_id)
        following, declined = gate
        if arg == "n":
            await storage.sessions.cancel_session(self.turns.engine, live.actor.pseudonym)
            return TapResult(screen=Screen(self._t(session.language, declined)))
        return await self._move(live, message_id, step=following)

    async def _tap_language(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        session = live.session
        assert session is not None
        assert live.questionnaire is not None
        if arg not in ("id", "en"):
            return TapResult(toast=self._t(live.actor.language, "forged_button"))
        await storage.respondents.set_respondent_language(
            self.turns.engine, live.actor.pseudonym, arg
        )
        if session.step != LANGUAGE:  # /bahasa in the middle of the survey: stay where we are
            return await self._move(
                live, message_id, step=session.step, question_id=session.question_id, language=arg
            )
        first = live.questionnaire.next_question({}, None)
        return await self._move(
            live,
            message_id,
            step=QUESTION if first else REVIEW,
            question_id=first.id if first else None,
            language=arg,
        )

    def _question(self, live: Live) -> Question | None:
        session = live.session
        if session is None or session.step != QUESTION or session.question_id is None:
            return None
        assert live.questionnaire is not None
        return live.questionnaire.question(session.question_id)

    async def _advance(
        self, live: Live, question: Question, value: str | None, message_id: int | None
    ) -> TapResult:
        """Record `value` (None: skipped) and move to the next shown question or the review."""
        assert live.questionnaire is not None
        plan = plan_advance(live.questionnaire, question, live.answers, value)
        return await self._move(
            live,
            message_id,
            step=QUESTION if plan.next_question else REVIEW,
            question_id=plan.next_question,
            # None records the item as passed unanswered (paradata; it is no answer).
            answer=(question.id, value),
            drop=plan.drop,
        )

    async def _tap_option(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        question = self._question(live)
        if question is None or not arg.isdigit():
            return await self._reshow(live, message_id)
        index = int(arg)
        if question.type is QuestionType.MULTIPLE or index >= len(question.options):
            return TapResult(toast=self._t(live.actor.language, "forged_button"))
        return await self._advance(live, question, question.options[index].value, message_id)

    async def _tap_toggle(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        question = self._question(live)
        if question is None or not arg.isdigit():
            return await self._reshow(live, message_id)
        index = int(arg)
        if question.type is not QuestionType.MULTIPLE or index >= len(question.options):
            return TapResult(toast=self._t(live.actor.language, "forged_button"))
        # A tick is not yet an answer (`partial`): the Done button confirms it; ticking every
        # option off again leaves the item unanswered.
        value = toggle(question, live.answers.get(question.id), index)
        return await self._move(
            live,
            message_id,
            step=QUESTION,
            question_id=question.id,
            answer=(question.id, value),
            partial=True,
        )

    async def _tap_multi_done(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        question = self._question(live)
        if question is None:
            return await self._reshow(live, message_id)
        if question.id not in live.answers:
            if question.required:
                assert live.session is not None
                return TapResult(toast=self._t(live.session.language, "multi_empty"))
            return await self._advance(live, question, None, message_id)
        return await self._advance(live, question, live.answers[question.id], message_id)

    async def _tap_skip(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        question = self._question(live)
        if question is None or question.required:
            return await self._reshow(live, message_id)
        return await self._advance(live, question, None, message_id)

    async def _tap_back(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        session, questionnaire = live.session, live.questionnaire
        assert session is not None
        assert questionnaire is not None
        if session.step not in (QUESTION, REVIEW):
            return await self._reshow(live, message_id)
        if session.step == REVIEW or session.question_id is None:
            visible = questionnaire.visible(live.answers)
            target = visible[-1] if visible else None
        else:
            target = questionnaire.previous_question(live.answers, session.question_id)
        if target is None:
            return await self._reshow(live, message_id)
        return await self._move(live, message_id, step=QUESTION, question_id=target.id)

    async def _tap_submit(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        session, questionnaire = live.session, live.questionnaire
        assert session is not None
        assert questionnaire is not None
        if session.step != REVIEW:
            return await self._reshow(live, message_id)
        visible = questionnaire.visible(live.answers)
        missing = [q for q in visible if q.required and q.id not in live.answers]
        if missing:  # cannot happen through the buttons; guard against a hand-edited database
            return await self._move(live, message_id, step=QUESTION, question_id=missing[0].id)
        now = self.turns.now()
        today = now.astimezone(self.services.settings.zone).date()
        submitted = await storage.sessions.submit(
            self.turns.engine,
            live.actor.pseudonym,
            now,
            today,
            expected_version=session.version,
        )
        if not submitted:
            return await self._moved(live, None, message_id)
        thanks = endings.thanks(
            self.turns, live.actor.pseudonym, session.language, session.grp, session.unit_id
        )
        return TapResult(screen=thanks)

    async def _tap_cancel(self, live: Live, arg: str, message_id: int | None) -> TapResult:
        assert live.session is not None
        if arg == "y":
            await storage.sessions.cancel_session(self.turns.engine, live.actor.pseudonym)
            return TapResult(screen=Screen(self._t(live.session.language, "cancelled")))
        return await self._reshow(live, message_id)

    # -- typed messages --------------------------------------------------------------------

    async def _text(self, live: Live, text: str) -> list[Screen]:
        """Handle a typed message: an answer to a text/number question, or a re-prompt."""
        session = live.session
        if session is None:
            return await self.entry.start(live, None)
        question = self._question(live)
        if question is None or question.type not in (QuestionType.TEXT, QuestionType.NUMBER):
            notice = self._t(session.language, "use_buttons")
            return [retiring(await self.turns.current(live, notice), session)]
        value = validate_typed(question, text, self.services.settings.free_text_max_length)
        if isinstance(value, Problem):
            notice = self._t(session.language, value.key, **value.values)
            return [retiring(await self.turns.current(live, notice), session)]
        result = await self._advance(live, question, value, None)
        if result.screen is None:
            return [Screen(self._t(live.actor.language, "no_session"))]
        return [retiring(result.screen, session)]
