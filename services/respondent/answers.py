"""Pure answer logic of the survey flow: typed-answer validation, multiple-choice toggles,
and where skip logic goes next. No database, no Telegram: unit-tested directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from services.untrusted import clean_typed
from surveys import Question, Questionnaire, QuestionType
from surveys.model import MULTI_SEPARATOR

__all__ = ["Advance", "Problem", "bounds_kind", "plan_advance", "toggle", "validate_typed"]

_NUMBER_RE: Final = re.compile(r"^[+-]?\d{1,12}([.,]\d{1,6})?$")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a typed answer was refused: a catalog key and its values."""

    key: str
    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class Advance:
    """The move after answering: the next question (None: review) and answers to drop."""

    next_question: str | None
    drop: tuple[str, ...]


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def bounds_kind(question: Question) -> str | None:
    """Name a number question's bounds for its messages: None (no bounds), "range" (both,
    inclusive), "min", "min_strict", "max", "max_strict", or "range_strict_min",
    "range_strict_max", "range_strict" (both, one or both strict: XLSForm's ``. > 0``)."""
    low, high = question.min_value is not None, question.max_value is not None
    if low and high:
        if question.min_exclusive and question.max_exclusive:
            return "range_strict"
        if question.min_exclusive:
            return "range_strict_min"
        return "range_strict_max" if question.max_exclusive else "range"
    if low:
        return "min_strict" if question.min_exclusive else "min"
    if high:
        return "max_strict" if question.max_exclusive else "max"
    return None


def bound_values(question: Question) -> dict[str, object]:
    """Return the bounds as the messages show them."""
    values: dict[str, object] = {}
    if question.min_value is not None:
        values["min"] = _fmt(question.min_value)
    if question.max_value is not None:
        values["max"] = _fmt(question.max_value)
    return values


def validate_typed(question: Question, text: str, default_limit: int) -> str | Problem:
    """Return the value to store for a typed answer, or the Problem to tell the respondent.

    Control and bidi characters are dropped first (`services.untrusted.clean_typed`): an
    answer must read the same to every official who sees it, and drive no terminal.
    """
    cleaned = clean_typed(text).strip()
    if question.type is QuestionType.NUMBER:
        if not _NUMBER_RE.match(cleaned):
            shown = cleaned if len(cleaned) <= 20 else cleaned[:20] + "…"
            return Problem("number_invalid", {"value": shown})
        number = float(cleaned.replace(",", "."))  # Indonesian writes 2,5
        if question.integer and not number.is_integer():
            return Problem("number_not_whole", {"value": cleaned})
        if not question.accepts(number):
            kind = bounds_kind(question)
            key = "number_out_of_range" if kind == "range" else f"number_out_of_range_{kind}"
            return Problem(key, bound_values(question))
        return _fmt(number)
    limit = question.max_length or default_limit
    if not cleaned:
        return Problem("text_empty", {})
    if len(cleaned) > limit:
        return Problem("text_too_long", {"length": len(cleaned), "limit": limit})
    return cleaned


def toggle(question: Question, current: str | None, index: int) -> str | None:
    """Return a multiple-choice answer with option `index` flipped (None when nothing is left)."""
    chosen = {v for v in (current or "").split(MULTI_SEPARATOR) if v}
    value = question.options[index].value
    chosen ^= {value}
    ordered = [o.value for o in question.options if o.value in chosen]
    return MULTI_SEPARATOR.join(ordered) if ordered else None


def plan_advance(
    questionnaire: Questionnaire, question: Question, answers: dict[str, str], value: str | None
) -> Advance:
    """Plan the move after answering `question` with `value` (None: skipped).

    Changing an earlier answer can hide later questions: their answers are dropped so they
    never count, and the next question is found with the new answers.
    """
    updated = dict(answers)
    if value is None:
        updated.pop(question.id, None)
    else:
        updated[question.id] = value
    kept = questionnaire.relevant_answers(updated)
    drop = tuple(q for q in updated if q not in kept)
    if value is None and question.id in answers:
        drop += (question.id,)
    following = questionnaire.next_question(kept, question.id)
    return Advance(following.id if following else None, drop)
