"""Check a question's ``show_if`` against the questions before it and build its expression.

Pure. ``show_if`` is written either as the mapping ``{question: q, in: [...]}`` (or
``not_in``), or as an XLSForm ``relevant`` expression string (surveys.expressions). Both end
up as the same expression objects, so the survey flow evaluates one thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from surveys.expressions import (
    Compare,
    Expression,
    ExpressionError,
    Not,
    Selected,
    any_of,
    parse_expression,
)
from surveys.model import QuestionType

__all__ = ["CHOICE_TYPES", "Earlier", "check_show_if", "leaf_problem", "leaves"]

CHOICE_TYPES: Final = (QuestionType.LIKERT, QuestionType.SINGLE, QuestionType.MULTIPLE)


@dataclass(frozen=True, slots=True)
class Earlier:
    """What show_if needs to know about a question that came before (None: unknown)."""

    type: QuestionType | None
    values: tuple[str, ...] | None


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _reference_problem(
    source: str, qid: str, earlier: Mapping[str, Earlier], all_ids: Sequence[object]
) -> str | None:
    if source == qid:
        return "show_if refers to the question itself"
    if source in earlier:
        return None
    if source in all_ids:
        return (
            f"show_if refers to {source!r}, which comes later; a condition can only "
            "depend on an earlier question"
        )
    return f"show_if refers to unknown question {source!r}"


def check_show_if(
    raw: object, qid: str, earlier: Mapping[str, Earlier], all_ids: Sequence[object]
) -> tuple[Expression | None, list[str]]:
    """Return the expression (None when absent or broken) and every problem found."""
    if raw is None:
        return None, []
    if isinstance(raw, str):
        return _check_expression(raw, qid, earlier, all_ids)
    if not isinstance(raw, Mapping):
        return None, [
            "show_if must be an expression or a mapping with 'question' and 'in' or "
            f"'not_in', got {'a list' if isinstance(raw, list) else _show(raw)}"
        ]
    return _check_mapping(raw, qid, earlier, all_ids)


def _check_mapping(
    raw: Mapping[object, object],
    qid: str,
    earlier: Mapping[str, Earlier],
    all_ids: Sequence[object],
) -> tuple[Expression | None, list[str]]:
    problems = [
        f"show_if: unknown key {_show(key)} (allowed: question, in, not_in)"
        for key in raw
        if key not in ("question", "in", "not_in")
    ]
    source = raw.get("question")
    if ("in" in raw) == ("not_in" in raw):
        return None, [*problems, "show_if needs exactly one of 'in' and 'not_in'"]
    negate = "not_in" in raw
    key = "not_in" if negate else "in"
    values = raw[key]
    if isinstance(values, str | int) and not isinstance(values, bool):
        values = [values]  # a single value is accepted as a one-item list
    if not isinstance(values, list) or not values:
        return None, [*problems, f"show_if {key!r} must be a non-empty list of option values"]
    values = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
    if not isinstance(source, str):
        return None, [*problems, f"show_if 'question' must be a question id, got {_show(source)}"]
    reference = _reference_problem(source, qid, earlier, all_ids)
    if reference is not None:
        return None, [*problems, reference]
    info = earlier[source]
    if info.type is not None and info.type not in CHOICE_TYPES:
        return None, [
            *problems,
            f"show_if: {source!r} is a {info.type} question; a condition needs a "
            "likert, single or multiple question",
        ]
    for value in values:
        if info.values is not None and value not in info.values:
            problems.append(
                f"show_if: {_show(value)} is not an option of {source!r} "
                f"(options: {', '.join(info.values)})"
            )
    if problems or info.values is None:
        return None, problems
    return any_of(source, tuple(str(v) for v in values), negate=negate), []


def leaves(expression: Expression) -> list[Compare | Selected]:
    """Return the comparisons and selected() calls an expression is made of."""
    if isinstance(expression, Compare | Selected):
        return [expression]
    if isinstance(expression, Not):
        return leaves(expression.operand)
    return [leaf for part in expression.operands for leaf in leaves(part)]


def _check_expression(
    text: str, qid: str, earlier: Mapping[str, Earlier], all_ids: Sequence[object]
) -> tuple[Expression | None, list[str]]:
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        return None, [f"show_if: {exc}"]
    problems: list[str] = []
    for node in leaves(expression):
        reference = _reference_problem(node.question, qid, earlier, all_ids)
        if reference is not None:
            problems.append(reference)
            continue
        problem = leaf_problem(node, earlier[node.question])
        if problem is not None:
            problems.append(f"show_if: {problem}")
    return (None if problems else expression), list(dict.fromkeys(problems))


def leaf_problem(node: Compare | Selected, info: Earlier) -> str | None:
    """Check that one comparison or selected() makes sense for its source question."""
    source = node.question
    if info.type is None:
        return None  # the source question is broken; that was reported already
    choice = info.type in CHOICE_TYPES
    if isinstance(node, Selected):
        if not choice:
            return f"selected() needs a choice question; {source!r} is a {info.type} question"
        value: str | float = node.value
    else:
        value = node.value
        if isinstance(value, float) and info.type is not QuestionType.NUMBER:
            return f"{node} compares {source!r} with a number, but it is a {info.type} question" + (
                "; quote the option value" if choice else ""
            )
        if isinstance(value, str) and info.type is QuestionType.NUMBER and value != "":
            return f"{node}: {source!r} is a number question; compare it with a number"
        if value == "" or not choice:
            return None
    if info.values is not None and value not in info.values:
        return f"{value!r} is not an option of {source!r} (options: {', '.join(info.values)})"
    return None
