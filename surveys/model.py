"""Questionnaire model: frozen dataclasses shared by the loader, the survey flow and scoring.

Pure: no telegram, no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from surveys.expressions import MULTI_SEPARATOR, Expression

__all__ = [
    "DIMENSIONS",
    "LANGUAGES",
    "MULTI_SEPARATOR",
    "ConsistencyPair",
    "Dimension",
    "Group",
    "Option",
    "Question",
    "QuestionType",
    "Questionnaire",
    "Text",
]

LANGUAGES: Final = ("id", "en")


class Group(StrEnum):
    """The three SPI respondent groups."""

    INTERNAL = "internal"
    EXTERNAL = "external"
    EXPERT = "expert"


class Dimension(StrEnum):
    """The seven SPI dimensions (DESIGN.md §2)."""

    TRANSPARENCY = "transparency"
    TASK_INTEGRITY = "task_integrity"
    PROCUREMENT = "procurement"
    HR_MANAGEMENT = "hr_management"
    TRADING_IN_INFLUENCE = "trading_in_influence"
    BUDGET_MANAGEMENT = "budget_management"
    ANTICORRUPTION_OUTREACH = "anticorruption_outreach"


DIMENSIONS: Final = tuple(Dimension)


class QuestionType(StrEnum):
    """How a question is answered."""

    LIKERT = "likert"
    SINGLE = "single"
    MULTIPLE = "multiple"
    NUMBER = "number"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Text:
    """A label in every supported language."""

    id: str
    en: str

    def get(self, language: str) -> str:
        """Return the label in `language`, falling back to Indonesian."""
        return self.en if language == "en" else self.id


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option. `score` is 0-100, or None for "no score" (e.g. *tidak tahu*)."""

    value: str
    label: Text
    score: float | None


@dataclass(frozen=True, slots=True)
class Question:
    """One questionnaire item.

    `show_if` is the skip logic (surveys.expressions): the question is asked only when it
    holds for the answers so far. `integer` makes a number question refuse fractions;
    `min_exclusive` / `max_exclusive` make a bound strict (XLSForm's ``. > 0``). `hint` is
    shown under the question; a language without a hint text has an empty string.
    `scale` names the shared option list the options came from (for writing the
    questionnaire back out); it is not part of the question's identity.
    """

    id: str
    type: QuestionType
    text: Text
    dimension: Dimension | None = None
    options: tuple[Option, ...] = ()
    required: bool = True
    reverse: bool = False
    show_if: Expression | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    integer: bool = False
    scale: str | None = field(default=None, compare=False)
    hint: Text | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    @property
    def scored(self) -> bool:
        """Tell whether this item contributes to a dimension score."""
        return self.dimension is not None and any(o.score is not None for o in self.options)

    def accepts(self, number: float) -> bool:
        """Tell whether a number lies within this question's bounds (strict ones excluded)."""
        low, high = self.min_value, self.max_value
        if low is not None and (number <= low if self.min_exclusive else number < low):
            return False
        return not (high is not None and (number >= high if self.max_exclusive else number > high))

    def option(self, value: str) -> Option | None:
        """Return the option with this value, if any."""
        for opt in self.options:
            if opt.value == value:
                return opt
        return None

    def item_score(self, raw: str | None) -> float | None:
        """Score a raw stored answer 0-100; None when missing, unscored or *tidak tahu*.

        Reverse-scored items are flipped (100 - score). A multiple-choice answer scores the
        mean of its scored selected options.
        """
        if raw is None or not self.scored:
            return None
        values = raw.split(MULTI_SEPARATOR) if self.type is QuestionType.MULTIPLE else [raw]
        scores = [
            o.score for v in values if (o := self.option(v)) is not None and o.score is not None
        ]
        if not scores:
            return None
        score = sum(scores) / len(scores)
        return 100.0 - score if self.reverse else score


@dataclass(frozen=True, slots=True)
class ConsistencyPair:
    """Two answers that cannot both be true: a response giving both contradicts itself.

    Each side is an expression (surveys.expressions) that reads one question, and the two
    sides read different questions. The pair is contradicted only by answers actually given:
    a side about an unanswered or hidden question never holds, whatever the expression says
    (``not(…)`` of an empty answer included). `text` says in words what cannot be both.
    """

    id: str
    first: Expression
    second: Expression
    text: Text

    def contradicted_by(self, answers: Mapping[str, str]) -> bool:
        """Tell whether these answers (question id -> raw value) give both sides."""
        for side in (self.first, self.second):
            if not all(answers.get(q, "") != "" for q in side.references()):
                return False
            if not side.holds(answers):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A versioned questionnaire for one respondent group."""

    id: str
    version: int
    group: Group
    title: Text
    intro: Text
    questions: tuple[Question, ...]
    source: str = field(default="", compare=False)
    # Answer pairs that cannot both be true (the survey-integrity contradiction signal).
    consistency: tuple[ConsistencyPair, ...] = ()

    def question(self, question_id: str) -> Question:
        """Return the question with this id (KeyError when unknown)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def index_of(self, question_id: str) -> int:
        """Return the position of a question in the questionnaire."""
        for i, q in enumerate(self.questions):
            if q.id == question_id:
                return i
        raise KeyError(question_id)

    def is_shown(self, question: Question, answers: Mapping[str, str]) -> bool:
        """Tell whether skip logic shows this question given the answers so far."""
        return question.show_if is None or question.show_if.holds(answers)

    def visible(self, answers: Mapping[str, str]) -> tuple[Question, ...]:
        """Return the questions that skip logic shows for these answers, in order."""
        return tuple(q for q in self.questions if self.is_shown(q, answers))

    def next_question(self, answers: Mapping[str, str], after: str | None) -> Question | None:
        """Return the first shown question after `after` (or the first one); None at the end."""
        start = 0 if after is None else self.index_of(after) + 1
        for q in self.questions[start:]:
            if self.is_shown(q, answers):
                return q
        return None

    def previous_question(self, answers: Mapping[str, str], before: str) -> Question | None:
        """Return the last shown question before `before`; None at the start."""
        for q in reversed(self.questions[: self.index_of(before)]):
            if self.is_shown(q, answers):
                return q
        return None

    def relevant_answers(self, answers: Mapping[str, str]) -> dict[str, str]:
        """Drop answers to questions that skip logic now hides (after going back and changing)."""
        kept: dict[str, str] = {}
        for q in self.questions:
            if q.id in answers and self.is_shown(q, kept):
                kept[q.id] = answers[q.id]
        return kept

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """Return the dimensions this questionnaire scores, in canonical order."""
        present = {q.dimension for q in self.questions if q.scored}
        return tuple(d for d in DIMENSIONS if d in present)
