"""A questionnaire in words, for the people who run the survey (`spibot survey show`).

Pure. Every question as a respondent meets it, in both languages: its text and hint, its
options with their scores, what a typed answer must be, whether it may be skipped, and its
skip logic in words ("shown only if 'peran' is “Warga / Resident”") rather than XPath.
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys.expressions import And, Compare, Expression, Not, Or, Selected
from surveys.model import Question, Questionnaire, QuestionType, Text

__all__ = ["describe_questionnaire", "skip_logic_in_words"]

_COMPARE_WORDS: Mapping[str, str] = {
    "=": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
}
_TYPE_WORDS: Mapping[QuestionType, str] = {
    QuestionType.LIKERT: "scale (one answer)",
    QuestionType.SINGLE: "one answer",
    QuestionType.MULTIPLE: "one or more answers",
    QuestionType.NUMBER: "a typed number",
    QuestionType.TEXT: "a typed text",
}


def _both(text: Text) -> str:
    return text.id if text.id == text.en else f"{text.id} / {text.en}"


def _number(value: float) -> str:
    """Write a number as people read it: 33.33, 1, 2.5 (two decimals at most)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _value_words(questionnaire: Questionnaire, question_id: str, value: str) -> str:
    """Name an option by its labels when the question has it, else quote the raw value."""
    try:
        option = questionnaire.question(question_id).option(value)
    except KeyError:
        option = None
    return f"“{_both(option.label)}”" if option is not None else f"“{value}”"


def skip_logic_in_words(questionnaire: Questionnaire, expression: Expression) -> str:
    """Say when a question is shown, e.g. “'umur' is at least 21 and 'kanal' includes …”."""
    match expression:
        case Compare(question=q, op=op, value=""):
            return f"'{q}' is answered" if op == "!=" else f"'{q}' is not answered"
        case Compare(question=q, op=op, value=str(value)):
            return f"'{q}' {_COMPARE_WORDS[op]} {_value_words(questionnaire, q, value)}"
        case Compare(question=q, op=op, value=value):
            return f"'{q}' {_COMPARE_WORDS[op]} {_number(float(value))}"
        case Selected(question=q, value=value):
            return f"'{q}' includes {_value_words(questionnaire, q, value)}"
        case Not(operand=operand):
            return f"not ({skip_logic_in_words(questionnaire, operand)})"
        case And(operands=operands):
            parts = [skip_logic_in_words(questionnaire, o) for o in operands]
            return " and ".join(
                f"({p})" if isinstance(o, Or) else p for o, p in zip(operands, parts, strict=True)
            )
        case Or(operands=operands):
            return " or ".join(skip_logic_in_words(questionnaire, o) for o in operands)
    raise TypeError(f"not a skip-logic expression: {expression!r}")


def _answer_rule(question: Question) -> str | None:
    """Say what a typed answer must be (None for choice questions)."""
    if question.type is QuestionType.TEXT:
        return f"at most {question.max_length} characters" if question.max_length else None
    if question.type is not QuestionType.NUMBER:
        return None
    parts = ["whole number"] if question.integer else []
    if question.min_value is not None:
        word = "more than" if question.min_exclusive else "at least"
        parts.append(f"{word} {_number(question.min_value)}")
    if question.max_value is not None:
        word = "less than" if question.max_exclusive else "at most"
        parts.append(f"{word} {_number(question.max_value)}")
    return ", ".join(parts) or None


def _question_lines(questionnaire: Questionnaire, number: int, question: Question) -> list[str]:
    facts = [_TYPE_WORDS[question.type]]
    if question.dimension is not None and question.scored:
        facts.append(
            f"scored: {question.dimension.value}" + (", reversed" if question.reverse else "")
        )
    else:
        facts.append("not scored")
    facts.append("required" if question.required else "may be skipped")
    lines = [f"{number}. {question.id} · {' · '.join(facts)}"]
    lines.append(f"   id: {question.text.id}")
    lines.append(f"   en: {question.text.en}")
    if question.hint is not None:
        for language, text in (("id", question.hint.id), ("en", question.hint.en)):
            lines.append(f"   hint {language}: {text or '(none: no hint in this language)'}")
    rule = _answer_rule(question)
    if rule:
        lines.append(f"   answer: {rule}")
    if question.options:
        lines.append("   options:")
        width = max(len(o.value) for o in question.options)
        for option in question.options:
            score = "no score" if option.score is None else f"score {_number(option.score)}"
            lines.append(f"     {option.value:<{width}}  {_both(option.label)}  ({score})")
    if question.show_if is not None:
        lines.append(f"   shown only if {skip_logic_in_words(questionnaire, question.show_if)}")
    return lines


def describe_questionnaire(questionnaire: Questionnaire) -> list[str]:
    """Return the questionnaire as lines of plain text, in the order respondents see it."""
    scored = sum(q.scored for q in questionnaire.questions)
    lines = [
        f"{questionnaire.id} v{questionnaire.version} · group {questionnaire.group.value} · "
        f"{len(questionnaire.questions)} questions, {scored} scored",
        f"title id: {questionnaire.title.id}",
        f"title en: {questionnaire.title.en}",
        f"intro id: {questionnaire.intro.id}",
        f"intro en: {questionnaire.intro.en}",
    ]
    for number, question in enumerate(questionnaire.questions, start=1):
        lines += ["", *_question_lines(questionnaire, number, question)]
    return lines
