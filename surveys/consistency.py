"""Consistency pairs: two answers a questionnaire declares cannot both be true (issue 24).

Pure. A questionnaire lists them under ``consistency`` (YAML) or on a ``consistency`` sheet
(XLSForm, surveys.xlsform_consistency); the survey-integrity rules count the responses that
give both answers of a pair (scoring.integrity). Each side is a skip-logic expression
(surveys.expressions) that reads exactly one question, and the two sides read different
questions. docs/questionnaire-format.md, "Consistency pairs", has the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from surveys.checks import _ID_RE, _ID_RULE, MAX_QUESTION_ID_LENGTH, BaseChecker, _show
from surveys.expressions import ExpressionError, parse_expression
from surveys.model import ConsistencyPair, Expression, QuestionType
from surveys.skip_logic import Earlier, leaf_problem, leaves

__all__ = ["MAX_PAIRS", "MAX_PAIR_TEXT_LENGTH", "PAIR_KEYS", "check_pairs", "pair_data"]

MAX_PAIRS: Final = 30  # more than a reader can keep in mind, and each costs a pass per response
MAX_PAIR_TEXT_LENGTH: Final = 200
PAIR_KEYS: Final = ("id", "not_both", "text")


def _where(pair_id: object) -> str:
    return f"consistency pair {_show(pair_id)}"


def _side(
    checker: BaseChecker, where: str, raw: object, infos: Mapping[str, Earlier]
) -> tuple[Expression | None, str | None]:
    """Check one side; return its expression and the question it reads (None when broken)."""
    if not isinstance(raw, str) or not raw.strip():
        checker.add(None, f"{where}: each side must be an expression text, got {_show(raw)}")
        return None, None
    try:
        expression = parse_expression(raw)
    except ExpressionError as exc:
        checker.add(None, f"{where}: {exc}")
        return None, None
    read = list(dict.fromkeys(expression.references()))
    if len(read) != 1:
        checker.add(
            None,
            f"{where}: {raw.strip()!r} reads {', '.join(map(repr, read))}; each side reads "
            "exactly one question",
        )
        return None, None
    question = read[0]
    info = infos.get(question)
    if info is None:
        checker.add(None, f"{where}: refers to unknown question {question!r}")
        return None, None
    if info.type is QuestionType.TEXT:
        checker.add(
            None,
            f"{where}: {question!r} is a text question; a pair compares choice or number answers",
        )
        return None, None
    problems = [p for node in leaves(expression) if (p := leaf_problem(node, info)) is not None]
    for problem in dict.fromkeys(problems):
        checker.add(None, f"{where}: {problem}")
    return (None, None) if problems else (expression, question)


def _pair(
    checker: BaseChecker, raw: object, number: int, infos: Mapping[str, Earlier]
) -> ConsistencyPair | None:
    if not isinstance(raw, Mapping):
        checker.add(None, f"consistency pair #{number} must be a mapping, got {_show(raw)}")
        return None
    pair_id = raw.get("id")
    where = _where(pair_id) if pair_id is not None else f"consistency pair #{number}"
    start = len(checker.problems)
    checker.unknown_keys(raw, PAIR_KEYS, None, f"{where}: ")
    if not (
        isinstance(pair_id, str)
        and _ID_RE.fullmatch(pair_id)
        and len(pair_id) <= MAX_QUESTION_ID_LENGTH
    ):
        checker.add(None, f"{where}: id must be {_ID_RULE}")
    sides = raw.get("not_both")
    expressions: list[Expression] = []
    if not isinstance(sides, list) or len(sides) != 2:
        got = f"{len(sides)}" if isinstance(sides, list) else _show(sides)
        checker.add(None, f"{where}: 'not_both' must list exactly two expressions, got {got}")
    else:
        read: list[str] = []
        for side in sides:
            expression, question = _side(checker, where, side, infos)
            if expression is not None and question is not None:
                expressions.append(expression)
                read.append(question)
        if len(read) == 2 and read[0] == read[1]:
            checker.add(None, f"{where}: both sides read {read[0]!r}; a pair needs two questions")
    text = None
    if "text" not in raw:
        checker.add(None, f"{where}: missing 'text' (what cannot be both, in id and en)")
    else:
        text = checker.text(raw["text"], f"{where}: text", None, MAX_PAIR_TEXT_LENGTH)
    if len(checker.problems) > start or text is None or len(expressions) != 2:
        return None
    assert isinstance(pair_id, str)
    return ConsistencyPair(pair_id, expressions[0], expressions[1], text)


def check_pairs(
    checker: BaseChecker, raw: object, infos: Mapping[str, Earlier]
) -> tuple[ConsistencyPair, ...]:
    """Check the ``consistency`` list against the questions (`infos`: every question by id);
    report every problem to `checker` and return the valid pairs."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        checker.add(None, f"consistency must be a list of pairs, got {_show(raw)}")
        return ()
    if len(raw) > MAX_PAIRS:
        checker.add(None, f"consistency lists {len(raw)} pairs; at most {MAX_PAIRS} are allowed")
    pairs: list[ConsistencyPair] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        pair_id = item.get("id") if isinstance(item, Mapping) else None
        duplicate = isinstance(pair_id, str) and pair_id in seen
        if duplicate:
            checker.add(
                None, f"{_where(pair_id)}: duplicate id (pair #{seen[str(pair_id)]} has it too)"
            )
        elif isinstance(pair_id, str):
            seen[pair_id] = number
        pair = _pair(checker, item, number, infos)
        if pair is not None and not duplicate:
            pairs.append(pair)
    return tuple(pairs)


def pair_data(pair: ConsistencyPair) -> dict[str, Any]:
    """Return a pair as its YAML mapping (what `check_pairs` reads back equal)."""
    return {
        "id": pair.id,
        "not_both": [str(pair.first), str(pair.second)],
        "text": {"id": pair.text.id, "en": pair.text.en},
    }
