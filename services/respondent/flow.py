"""The survey conversation as a state machine over database rows.

Every move is one transaction guarded by the session's version counter, so a double tap, a
stale button or a second bot process can never record an answer twice or skip a question.
Nothing lives in process memory except immutable questionnaire versions.
"""

from __future__ import annotations

import html
import logging
import re

import storage
from services import callbacks, links
from services.respondent.answers import Problem, plan_advance, toggle, validate_typed
from services.respondent.screens import Button, Screen, TapResult
from services.respondent.session import (
    CONSENT,
    ELIGIBILITY_DIRECT,
    ELIGIBILITY_RECENT,
    LANGUAGE,
    QUESTION,
    REVIEW,
    Actor,
    Session,
    SessionBase,
    SessionEnded,
    retiring,
)
from services.security import token_hash
from storage.models import ClaimStatus
from surveys import Group, Question, Questionnaire, QuestionType

__all__ = ["RespondentFlow"]

logger = logging.getLogger(__name__)

UNITS_PER_PAGE = 8  # one unit a row: long agency names stay readable on a phone


class RespondentFlow(SessionBase):
    """Handle every respondent event and return what to show."""

    # -- public entry points: a session that ended on its own is explained, never a crash --

    async def start(
        self, user_id: int, telegram_language: str | None, payload: str | None
    ) -> list[Screen]:
        """Handle /start with or without a deep-link payload."""
        try:
            return await self._start(user_id, telegram_language, payload)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]

    async def tap(self, user_id: int, telegram_language: str | None, data: str | None) -> TapResult:
        """Handle an inline button press."""
        try:
            return await self._tap(user_id, telegram_language, data)
        except SessionEnded as ended:
            return TapResult(screen=Screen(self._t(ended.language, ended.key)))

    async def text(self, user_id: int, telegram_language: str | None, text: str) -> list[Screen]:
        """Handle a typed message: an answer to a text/number question, or a re-prompt."""
        try:
            return await self._text(user_id, telegram_language, text)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]

    async def non_text(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle a sticker, photo, voice note or other non-text message."""
        try:
            return await self._non_text(user_id, telegram_language)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]

    async def cancel(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle /batal: ask for confirmation."""
        try:
            return await self._cancel(user_id, telegram_language)
        except SessionEnded as ended:
            return [Screen(self._t(ended.language, ended.key))]

    async def choose_language(self, user_id: int, telegram_language: str | None) -> Screen:
        """Handle /bahasa: offer the two languages."""
        try:
            return await self._choose_language(user_id, telegram_language)
        except SessionEnded as ended:
            return Screen(self._t(ended.language, ended.key))

    # -- ways in ---------------------------------------------------------------------------

    async def _start(
        self, user_id: int, telegram_language: str | None, payload: str | None
    ) -> list[Screen]:
        """Handle /start with or without a deep-link payload."""
        actor = await self._actor(user_id, telegram_language)
        await storage.ensure_respondent(self._engine, actor.pseudonym)
        session = await self._live_session(actor)
        if payload is None:
            if session is not None:
                return [
                    Screen(self._t(actor.language, "resume")),
                    await self._current(actor, session),
                ]
            return await self._plain_start(actor)
        link = links.parse_payload(self.services.secret, payload)
        if isinstance(link, links.InvitationLink):
            return await self._open_invitation(actor, session, link.token)
        if isinstance(link, links.UnitLink):
            return await self._open_unit_link(actor, session, link)
        if payload.startswith((links.UNIT_PREFIX, links.WAVE_UNIT_PREFIX)):
            logger.warning("refused an open unit link with a bad signature")
        return [Screen(self._t(actor.language, "link_invalid"))]

    async def _open_unit_link(
        self, actor: Actor, session: Session | None, link: links.UnitLink
    ) -> list[Screen]:
        """Open a unit's link: the wave it names, or whichever wave is open now."""
        unit = await storage.get_unit(self._engine, link.unit_code)
        if unit is None:
            return [Screen(self._t(actor.language, "link_invalid"))]
        if link.wave_id is None:
            wave = await storage.current_wave(self._engine)
            if wave is None:  # a poster between waves: nothing is wrong with it
                return [Screen(self._t(actor.language, "no_open_wave"))]
        else:
            wave = await storage.get_wave_by_id(self._engine, link.wave_id)
            if wave is None:
                return [Screen(self._t(actor.language, "link_invalid"))]
        return await self._open_unit(actor, session, wave, unit)

    async def _plain_start(self, actor: Actor) -> list[Screen]:
        wave = await storage.current_wave(self._engine)
        welcome = self._t(
            actor.language,
            "welcome",
            institution=html.escape(self.services.settings.institution_name),
        )
        if wave is None:
            return [Screen(welcome), Screen(self._t(actor.language, "no_open_wave"))]
        return [Screen(welcome), await self._unit_page(actor, wave.id, 0)]

    async def _unit_page(self, actor: Actor, wave_id: int, page: int) -> Screen:
        """Return one page of the open wave's public units as buttons (a phone-sized list)."""
        units = [u for u in await storage.list_units(self._engine) if u.serves_public]
        text = self._t(actor.language, "how_to_take_part")
        if not units:
            return Screen(text)
        pages = max(1, -(-len(units) // UNITS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        render = self._renderer(actor, 0)
        shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
        rows: list[tuple[Button, ...]] = [
            (Button(u.name[:60], render.sign("pu", f"{wave_id}-{u.id}")),) for u in shown
        ]
        nav = []
        if page > 0:
            nav.append(Button("‹", render.sign("pp", f"{wave_id}-{page - 1}")))
        if page < pages - 1:
            nav.append(Button("›", render.sign("pp", f"{wave_id}-{page + 1}")))
        if nav:
            rows.append(tuple(nav))
        text += "\n\n" + self._t(actor.language, "pick_unit_page", page=page + 1, pages=pages)
        return Screen(text, tuple(rows))

    async def _open_invitation(
        self, actor: Actor, session: Session | None, token: str
    ) -> list[Screen]:
        lang = actor.language
        invitation = await storage.get_invitation(self._engine, token_hash(token))
        if invitation is None:
            logger.warning("refused an unknown invitation link")
            return [Screen(self._t(lang, "link_invalid"))]
        if session is not None:
            if session.invitation_id == invitation.id:
                return [Screen(self._t(lang, "resume")), await self._current(actor, session)]
            return [Screen(self._t(lang, "other_in_progress")), await self._current(actor, session)]
        if invitation.used:
            return [Screen(self._t(lang, "link_used"))]
        wave = await storage.get_wave_by_id(self._engine, invitation.wave_id)
        if wave is None or wave.status != "open":
            return [Screen(self._t(lang, "wave_closed"))]
        group = Group(invitation.grp)
        if await storage.has_completed(self._engine, actor.pseudonym, wave.id, group):
            return [Screen(self._t(lang, "already_done"))]
        claim = await storage.claim_invitation(self._engine, token_hash(token))
        if claim.status is not ClaimStatus.CLAIMED:
            return [Screen(self._t(lang, "link_used"))]  # lost a race with another tap
        return await self._begin(actor, wave.id, group, invitation.unit_id, invitation.id, CONSENT)

    async def _open_unit(
        self, actor: Actor, session: Session | None, wave: storage.Wave, unit: storage.Unit
    ) -> list[Screen]:
        lang = actor.language
        if session is not None:
            if (
                session.wave_id == wave.id
                and session.unit_id == unit.id
                and session.grp == Group.EXTERNAL
            ):
                return [Screen(self._t(lang, "resume")), await self._current(actor, session)]
            return [Screen(self._t(lang, "other_in_progress")), await self._current(actor, session)]
        if wave.status != "open":
            return [Screen(self._t(lang, "wave_closed"))]
        if not unit.serves_public:
            return [Screen(self._t(lang, "unit_not_public"))]
        if await storage.has_completed(self._engine, actor.pseudonym, wave.id, Group.EXTERNAL):
            return [Screen(self._t(lang, "already_done"))]
        return await self._begin(actor, wave.id, Group.EXTERNAL, unit.id, None, ELIGIBILITY_RECENT)

    async def _begin(
        self,
        actor: Actor,
        wave_id: int,
        group: Group,
        unit_id: int,
        invitation_id: int | None,
        step: str,
    ) -> list[Screen]:
        session = await storage.start_session(
            self._engine,
            pseudonym=actor.pseudonym,
            wave_id=wave_id,
            grp=group,
            unit_id=unit_id,
            invitation_id=invitation_id,
            language=actor.language,
            step=step,
            now=self._now(),
            expires_after_days=self.services.settings.session_expiry_days,
        )
        return [await self._current(actor, session)]

    # -- button presses --------------------------------------------------------------------

    async def _tap(
        self, user_id: int, telegram_language: str | None, data: str | None
    ) -> TapResult:
        """Handle an inline button press."""
        actor = await self._actor(user_id, telegram_language)
        press = callbacks.decode(self.services.secret, actor.pseudonym, data)
        if press is None:
            logger.warning("refused callback data that this bot did not issue")
            return TapResult(toast=self._t(actor.language, "forged_button"))
        if press.action == "pu":
            return await self._pick_unit(actor, press.arg)
        if press.action == "pp":
            wave_part, _, page_part = press.arg.partition("-")
            if not (wave_part.isdigit() and page_part.isdigit()):
                return TapResult(toast=self._t(actor.language, "forged_button"))
            page = await self._unit_page(actor, int(wave_part), int(page_part))
            return TapResult(screen=page)
        session = await self._live_session(actor)
        if press.action == "lg" and press.version == 0 and session is None:
            if press.arg not in ("id", "en"):
                return TapResult(toast=self._t(actor.language, "forged_button"))
            await storage.set_respondent_language(self._engine, actor.pseudonym, press.arg)
            return TapResult(screen=Screen(self._t(press.arg, "language_set")))
        if session is None or press.version != session.version:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        handler = {
            "el": self._tap_eligibility,
            "ok": self._tap_consent,
            "lg": self._tap_language,
            "a": self._tap_option,
            "m": self._tap_toggle,
            "md": self._tap_multi_done,
            "sk": self._tap_skip,
            "bk": self._tap_back,
            "sb": self._tap_submit,
            "cx": self._tap_cancel,
        }.get(press.action)
        if handler is None:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        return await handler(actor, session, press.arg)

    async def _pick_unit(self, actor: Actor, arg: str) -> TapResult:
        wave_part, _, unit_part = arg.partition("-")
        if not (wave_part.isdigit() and unit_part.isdigit()):
            return TapResult(toast=self._t(actor.language, "forged_button"))
        wave = await storage.get_wave_by_id(self._engine, int(wave_part))
        unit = await storage.get_unit_by_id(self._engine, int(unit_part))
        if wave is None or unit is None:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        session = await self._live_session(actor)
        screens = await self._open_unit(actor, session, wave, unit)
        return (
            TapResult(screen=screens[-1])
            if len(screens) == 1
            else TapResult(toast=_strip_tags(screens[0].text)[:190], follow_up=screens[-1])
        )

    async def _tap_eligibility(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if session.step not in (ELIGIBILITY_RECENT, ELIGIBILITY_DIRECT) or arg not in ("y", "n"):
            return TapResult(toast=self._t(actor.language, "stale_button"))
        if arg == "n":
            await storage.cancel_session(self._engine, actor.pseudonym)
            return TapResult(screen=Screen(self._t(session.language, "not_eligible")))
        following = ELIGIBILITY_DIRECT if session.step == ELIGIBILITY_RECENT else CONSENT
        return await self._move(actor, session, step=following)

    async def _tap_consent(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if session.step != CONSENT or arg not in ("y", "n"):
            return TapResult(toast=self._t(actor.language, "stale_button"))
        if arg == "n":
            await storage.cancel_session(self._engine, actor.pseudonym)
            return TapResult(screen=Screen(self._t(session.language, "consent_declined")))
        return await self._move(actor, session, step=LANGUAGE)

    async def _tap_language(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if arg not in ("id", "en"):
            return TapResult(toast=self._t(actor.language, "forged_button"))
        await storage.set_respondent_language(self._engine, actor.pseudonym, arg)
        if session.step != LANGUAGE:  # /bahasa in the middle of the survey: stay where we are
            return await self._move(
                actor, session, step=session.step, question_id=session.question_id, language=arg
            )
        questionnaire = await self._session_questionnaire(session)
        first = questionnaire.next_question({}, None)
        step = QUESTION if first else REVIEW
        return await self._move(
            actor, session, step=step, question_id=first.id if first else None, language=arg
        )

    async def _advance(
        self,
        actor: Actor,
        session: Session,
        questionnaire: Questionnaire,
        question: Question,
        answers: dict[str, str],
        value: str | None,
    ) -> TapResult:
        """Record `value` (None: skipped) and move to the next shown question or the review."""
        plan = plan_advance(questionnaire, question, answers, value)
        return await self._move(
            actor,
            session,
            step=QUESTION if plan.next_question else REVIEW,
            question_id=plan.next_question,
            answer=(question.id, value) if value is not None else None,
            drop=plan.drop,
        )

    async def _tap_option(self, actor: Actor, session: Session, arg: str) -> TapResult:
        context = await self._question_context(session)
        if context is None or not arg.isdigit():
            return TapResult(toast=self._t(actor.language, "stale_button"))
        questionnaire, question, answers = context
        index = int(arg)
        if question.type is QuestionType.MULTIPLE or index >= len(question.options):
            return TapResult(toast=self._t(actor.language, "forged_button"))
        return await self._advance(
            actor, session, questionnaire, question, answers, question.options[index].value
        )

    async def _tap_toggle(self, actor: Actor, session: Session, arg: str) -> TapResult:
        context = await self._question_context(session)
        if context is None or not arg.isdigit():
            return TapResult(toast=self._t(actor.language, "stale_button"))
        _questionnaire, question, answers = context
        index = int(arg)
        if question.type is not QuestionType.MULTIPLE or index >= len(question.options):
            return TapResult(toast=self._t(actor.language, "forged_button"))
        value = toggle(question, answers.get(question.id), index)
        if value is not None:
            return await self._move(
                actor, session, step=QUESTION, question_id=question.id, answer=(question.id, value)
            )
        return await self._move(
            actor, session, step=QUESTION, question_id=question.id, drop=(question.id,)
        )

    async def _tap_multi_done(self, actor: Actor, session: Session, arg: str) -> TapResult:
        context = await self._question_context(session)
        if context is None:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        questionnaire, question, answers = context
        if question.id not in answers:
            if question.required:
                return TapResult(toast=self._t(session.language, "multi_empty"))
            return await self._advance(actor, session, questionnaire, question, answers, None)
        return await self._advance(
            actor, session, questionnaire, question, answers, answers[question.id]
        )

    async def _tap_skip(self, actor: Actor, session: Session, arg: str) -> TapResult:
        context = await self._question_context(session)
        if context is None or context[1].required:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        return await self._advance(actor, session, *context, None)

    async def _tap_back(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if session.step not in (QUESTION, REVIEW):
            return TapResult(toast=self._t(actor.language, "stale_button"))
        questionnaire = await self._session_questionnaire(session)
        answers = await self._answers(session)
        if session.step == REVIEW or session.question_id is None:
            visible = questionnaire.visible(answers)
            target = visible[-1] if visible else None
        else:
            target = questionnaire.previous_question(answers, session.question_id)
        if target is None:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        return await self._move(actor, session, step=QUESTION, question_id=target.id)

    async def _tap_submit(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if session.step != REVIEW:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        questionnaire = await self._session_questionnaire(session)
        answers = await self._answers(session)
        missing = [q for q in questionnaire.visible(answers) if q.required and q.id not in answers]
        if missing:  # cannot happen through the buttons; guard against a hand-edited database
            return await self._move(actor, session, step=QUESTION, question_id=missing[0].id)
        now = self._now()
        duration = max(0, int((now - session.started_at).total_seconds()))
        today = now.astimezone(self.services.settings.zone).date()
        submitted = await storage.submit(
            self._engine, actor.pseudonym, today, duration, expected_version=session.version
        )
        if not submitted:
            return TapResult(toast=self._t(actor.language, "stale_button"))
        text = self._t(
            session.language,
            "submitted",
            institution=html.escape(self.services.settings.institution_name),
        )
        return TapResult(screen=Screen(text))

    async def _tap_cancel(self, actor: Actor, session: Session, arg: str) -> TapResult:
        if arg == "y":
            await storage.cancel_session(self._engine, actor.pseudonym)
            return TapResult(screen=Screen(self._t(session.language, "cancelled")))
        return TapResult(screen=await self._current(actor, session))

    # -- typed messages --------------------------------------------------------------------

    async def _text(self, user_id: int, telegram_language: str | None, text: str) -> list[Screen]:
        """Handle a typed message: an answer to a text/number question, or a re-prompt."""
        actor = await self._actor(user_id, telegram_language)
        session = await self._live_session(actor)
        if session is None:
            return await self.start(user_id, telegram_language, None)
        context = await self._question_context(session)
        if context is None or context[1].type not in (QuestionType.TEXT, QuestionType.NUMBER):
            notice = self._t(session.language, "use_buttons")
            return [retiring(await self._current(actor, session, notice), session)]
        questionnaire, question, answers = context
        value = validate_typed(question, text, self.services.settings.free_text_max_length)
        if isinstance(value, Problem):
            notice = self._t(session.language, value.key, **value.values)
            return [retiring(await self._current(actor, session, notice), session)]
        result = await self._advance(actor, session, questionnaire, question, answers, value)
        if result.screen is None:  # another update moved the session first: show where it is
            moved = await self._live_session(actor)
            if moved is None:
                return await self._start(user_id, telegram_language, None)
            return [retiring(await self._current(actor, moved), moved)]
        return [retiring(result.screen, session)]

    async def _non_text(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle a sticker, photo, voice note or other non-text message."""
        actor = await self._actor(user_id, telegram_language)
        session = await self._live_session(actor)
        if session is None:
            return [Screen(self._t(actor.language, "not_text"))] + await self._plain_start(actor)
        notice = self._t(session.language, "not_text")
        return [retiring(await self._current(actor, session, notice), session)]

    # -- commands --------------------------------------------------------------------------

    async def _cancel(self, user_id: int, telegram_language: str | None) -> list[Screen]:
        """Handle /batal: ask for confirmation."""
        actor = await self._actor(user_id, telegram_language)
        session = await self._live_session(actor)
        if session is None:
            return [Screen(self._t(actor.language, "cancel_nothing"))]
        render = self._renderer(actor, session.version, session.language)
        return [retiring(render.cancel_confirm(), session)]

    async def _choose_language(self, user_id: int, telegram_language: str | None) -> Screen:
        """Handle /bahasa: offer the two languages."""
        actor = await self._actor(user_id, telegram_language)
        session = await self._live_session(actor)
        if session is None:
            return self._renderer(actor, 0).choose_language()
        return retiring(self._renderer(actor, session.version).choose_language(), session)

    async def bind_message(self, user_id: int, message_id: int) -> None:
        """Remember which message carries the live buttons (so it can be retired later)."""
        await storage.set_session_message(
            self._engine, self.services.pseudonym(user_id), message_id
        )


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
