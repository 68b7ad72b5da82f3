"""What the respondent sees: pure rendering of questions and steps into text and buttons."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from services.i18n import Catalog
from services.respondent.answers import bound_values, bounds_kind
from surveys import Question, Questionnaire, QuestionType
from surveys.model import MULTI_SEPARATOR

__all__ = [
    "Action",
    "Button",
    "Renderer",
    "Screen",
    "TapResult",
    "question_counter",
    "submit_arg",
]


class Action:
    """The survey's button actions: short, because callback data holds at most 64 bytes."""

    ELIGIBLE: Final = "el"  # y / n
    CONSENT: Final = "ok"  # y / n
    LANGUAGE: Final = "lg"  # id / en
    OPTION: Final = "a"  # option index of a single-choice question
    TOGGLE: Final = "m"  # option index of a multiple-choice question
    MULTI_DONE: Final = "md"
    SKIP: Final = "sk"
    BACK: Final = "bk"
    SUBMIT: Final = "sb"  # wave-group-unit (see submit_arg)
    CANCEL: Final = "cx"  # y / n


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: label and (signed) callback data."""

    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Screen:
    """One message to show. `retire` names an older message whose buttons must go."""

    text: str
    keyboard: Keyboard = ()
    retire: int | None = None


@dataclass(frozen=True, slots=True)
class TapResult:
    """The answer to a button press: a short toast and/or the tapped message's new content."""

    toast: str | None = None
    screen: Screen | None = None
    follow_up: Screen | None = None  # sent as a new message after the edit
    retire: int | None = None  # an older message whose buttons must go (it is no longer live)


def submit_arg(wave_id: int, grp: str, unit_id: int) -> str:
    """Return the submit button's argument: what its thank-you needs if it is tapped again."""
    return f"{wave_id}-{grp}-{unit_id}"


# Signs (version, action, arg) into callback data for the current respondent.
Signer = Callable[[str, str], str]


class Renderer:
    """Render survey screens in one language, with buttons signed for one respondent."""

    def __init__(self, messages: Catalog, language: str, sign: Signer) -> None:
        self.messages = messages
        self.language = language
        self.sign = sign

    def t(self, key: str, /, **values: object) -> str:
        """Return a catalog message in this renderer's language."""
        return self.messages.t(self.language, key, **values)

    def button(self, label_key: str, action: str, arg: str = "") -> Button:
        """Return a button with a catalog label."""
        return Button(self.t(label_key), self.sign(action, arg))

    def yes_no(self, action: str) -> Keyboard:
        """Return Yes / No buttons for an action."""
        return ((self.button("btn_yes", action, "y"), self.button("btn_no", action, "n")),)

    def consent(self, questionnaire: Questionnaire, k: int) -> Screen:
        """Return the consent screen: what, anonymous, how long.

        The length is said once, here, from the questions themselves (the bundled intros no
        longer give a second, different figure). With skip logic it is the most a respondent
        can be asked, the figure the question counter starts from.
        """
        count = len(questionnaire.questions)
        minutes = max(2, math.ceil(count * 20 / 60))  # ~20 s a question on a phone
        branching = any(q.show_if is not None for q in questionnaire.questions)
        questions = self.t("consent_up_to", n=count) if branching else str(count)
        text = self.t(
            "consent",
            title=html.escape(questionnaire.title.get(self.language)),
            intro=html.escape(questionnaire.intro.get(self.language)),
            k=k,
            questions=questions,
            minutes=minutes,
        )
        keyboard = (
            (self.button("btn_agree", Action.CONSENT, "y"),),
            (self.button("btn_decline", Action.CONSENT, "n"),),
        )
        return Screen(text, keyboard)

    def choose_language(self) -> Screen:
        """Return the survey language picker."""
        keyboard = (
            (
                Button("Bahasa Indonesia", self.sign(Action.LANGUAGE, "id")),
                Button("English", self.sign(Action.LANGUAGE, "en")),
            ),
        )
        return Screen(self.t("choose_language"), keyboard)

    def question(
        self,
        questionnaire: Questionnaire,
        question: Question,
        answers: Mapping[str, str],
        *,
        text_limit: int,
        notice: str | None = None,
    ) -> Screen:
        """Return a question with its progress line, buttons and any previous answer."""
        position, total = question_counter(questionnaire, question, answers)
        lines = []
        if notice:
            lines += [f"⚠️ {html.escape(notice)}", ""]
        lines += [
            f"<i>{self.t('progress', n=position, total=total)}</i>",
            "",
            f"<b>{html.escape(question.text.get(self.language))}</b>",
        ]
        previous = answers.get(question.id)
        # The author's hint (XLSForm's `hint` column) under the question, before the bot's.
        authored = question.hint.get(self.language) if question.hint is not None else ""
        if authored:
            lines += [html.escape(authored)]
        hint = self._hint(question, text_limit)
        if hint:
            lines += ["", f"<i>{hint}</i>"]
        if previous is not None and question.type in (QuestionType.TEXT, QuestionType.NUMBER):
            shown = previous if len(previous) <= 200 else previous[:200] + "…"
            lines += ["", self.t("previous_answer", answer=html.escape(shown))]
        rows: list[tuple[Button, ...]] = []
        if question.type is QuestionType.MULTIPLE:
            chosen = set(previous.split(MULTI_SEPARATOR)) if previous else set()
            for i, opt in enumerate(question.options):
                mark = "☑️" if opt.value in chosen else "⬜"
                rows.append(
                    (
                        Button(
                            f"{mark} {opt.label.get(self.language)}",
                            self.sign(Action.TOGGLE, str(i)),
                        ),
                    )
                )
            rows.append((self.button("btn_done", Action.MULTI_DONE),))
        elif question.options:
            for i, opt in enumerate(question.options):
                mark = "✅ " if opt.value == previous else ""
                rows.append(
                    (Button(mark + opt.label.get(self.language), self.sign(Action.OPTION, str(i))),)
                )
        nav: list[Button] = []
        if questionnaire.previous_question(answers, question.id) is not None:
            nav.append(self.button("btn_back", Action.BACK))
        if not question.required:
            nav.append(self.button("btn_skip", Action.SKIP))
        if nav:
            rows.append(tuple(nav))
        return Screen("\n".join(lines), tuple(rows))

    def _hint(self, question: Question, text_limit: int) -> str:
        if question.type is QuestionType.TEXT:
            return self.t("type_text", limit=question.max_length or text_limit)
        if question.type is QuestionType.NUMBER:
            kind = bounds_kind(question)
            if kind is None:
                return self.t("type_number")
            return self.t(f"type_number_{kind}", **bound_values(question))
        if question.type is QuestionType.MULTIPLE:
            return self.t("multi_hint")
        return ""

    def review(self, answered: int, skipped: int, submit_arg: str = "") -> Screen:
        """Return the review screen before submission (see `submit_arg` for the argument)."""
        extra = self.t("review_skipped", skipped=skipped) if skipped else ""
        keyboard = (
            (self.button("btn_submit", Action.SUBMIT, submit_arg),),
            (self.button("btn_back", Action.BACK),),
        )
        return Screen(self.t("review", answered=answered, skipped=extra), keyboard)

    def cancel_confirm(self) -> Screen:
        """Return the /batal confirmation."""
        keyboard = (
            (
                self.button("btn_cancel_yes", Action.CANCEL, "y"),
                self.button("btn_cancel_no", Action.CANCEL, "n"),
            ),
        )
        return Screen(self.t("cancel_confirm"), keyboard)


def question_counter(
    questionnaire: Questionnaire, question: Question, answers: Mapping[str, str]
) -> tuple[int, int]:
    """Return "question n of total" for a question, as a respondent expects it to move.

    n counts the questions shown up to this one, so it goes up by one per question. The total
    is n plus every later question that can still be asked: shown by the answers so far, or
    hanging on an answer not given yet (skip logic only reads earlier questions). It starts
    at the whole questionnaire and only comes down as answers rule questions out, never up
    while going forward: "1 of 14" followed by "11 of 17" cannot happen.
    """
    index = questionnaire.index_of(question.id)
    before = questionnaire.questions[:index]
    decided = {q.id for q in before}  # answers to these are given; later ones may change
    position = sum(1 for q in before if questionnaire.is_shown(q, answers)) + 1
    later = sum(
        1
        for q in questionnaire.questions[index + 1 :]
        if q.show_if is None
        or not set(q.show_if.references()) <= decided
        or questionnaire.is_shown(q, answers)
    )
    return position, position + later
