"""Write a questionnaire back out as plain data in the YAML format, and as YAML text.

Pure. Loading the written text gives an equal questionnaire (tests/test_surveys_xlsform.py
checks this on the bundled questionnaires). Shared option lists come back as ``scales``;
the ``dont_know`` option and even likert spacing are written the short way
(``dont_know: true``, no scores), as an author would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from surveys.checks import DONT_KNOW_LABEL, DONT_KNOW_VALUE, likert_scores
from surveys.consistency import pair_data
from surveys.model import Option, Question, Questionnaire, QuestionType, Text

__all__ = ["OptionList", "option_lists", "questionnaire_data", "questionnaire_yaml", "written"]


@dataclass(frozen=True, slots=True)
class OptionList:
    """A question's options as an author writes them: without *tidak tahu* and spacing."""

    options: tuple[Option, ...]
    scored: bool  # write scores (False: none written, the loader fills in likert spacing)
    dont_know: bool


_DONT_KNOW = Option(DONT_KNOW_VALUE, DONT_KNOW_LABEL, None)


def written(question: Question) -> OptionList:
    """Return the options of a choice question the way they would be written."""
    options = question.options
    dont_know = len(options) > 2 and options[-1] == _DONT_KNOW
    if dont_know:
        options = options[:-1]
    scores = tuple(o.score for o in options)
    if question.type is QuestionType.LIKERT and len(options) >= 2:
        scored = scores != likert_scores(len(options))
    else:
        scored = any(s is not None for s in scores)
    return OptionList(options, scored, dont_know)


def option_lists(questionnaire: Questionnaire) -> tuple[dict[str, OptionList], dict[str, str]]:
    """Name every choice question's option list: (lists by name, list name by question id).

    A question keeps the scale it was loaded from when that name is free; otherwise its list
    is named after the question itself.
    """
    lists: dict[str, OptionList] = {}
    used_by: dict[str, str] = {}
    for q in questionnaire.questions:
        if not q.options:
            continue
        mine = written(q)
        names = [n for n in (q.scale, q.id) if n] + [f"{q.id}_{i}" for i in range(2, 99)]
        for name in names:
            if name not in lists or _same(lists[name], mine):
                lists.setdefault(name, mine)
                used_by[q.id] = name
                break
    return lists, used_by


def _same(a: OptionList, b: OptionList) -> bool:
    return a.options == b.options and a.scored == b.scored


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _text(text: Text) -> dict[str, str]:
    return {"id": text.id, "en": text.en}


def _options(options: OptionList) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for o in options.options:
        item: dict[str, Any] = {"value": o.value, "label": _text(o.label)}
        if options.scored:
            item["score"] = None if o.score is None else _number(o.score)
        result.append(item)
    return result


def _question(q: Question, list_name: str | None, shared: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": q.id, "type": q.type.value}
    if q.dimension is not None:
        item["dimension"] = q.dimension.value
    item["text"] = _text(q.text)
    if list_name is not None:
        options = written(q)
        if shared:
            item["scale"] = list_name
        else:
            item["options"] = _options(options)
        if options.dont_know:
            item["dont_know"] = True
    if q.reverse:
        item["reverse"] = True
    if not q.required:
        item["required"] = False
    if q.show_if is not None:
        item["show_if"] = str(q.show_if)
    if q.integer:
        item["integer"] = True
    if q.min_value is not None:
        item["min"] = _number(q.min_value)
        if q.min_exclusive:
            item["min_exclusive"] = True
    if q.max_value is not None:
        item["max"] = _number(q.max_value)
        if q.max_exclusive:
            item["max_exclusive"] = True
    if q.max_length is not None:
        item["max_length"] = q.max_length
    if q.hint is not None:
        item["hint"] = {lang: text for lang, text in _text(q.hint).items() if text}
    return item


def questionnaire_data(
    questionnaire: Questionnaire, shared: Sequence[str] | None = None
) -> dict[str, Any]:
    """Return the questionnaire as the mapping its YAML file holds.

    Option lists named in `shared` (default: those used by more than one question, or
    loaded from a scale) are written under ``scales``; the others inline.
    """
    lists, used_by = option_lists(questionnaire)
    if shared is None:
        counts = {name: list(used_by.values()).count(name) for name in lists}
        scale_names = {q.scale for q in questionnaire.questions if q.scale}
        shared = [n for n in lists if counts[n] > 1 or n in scale_names]
    data: dict[str, Any] = {
        "id": questionnaire.id,
        "version": questionnaire.version,
        "group": questionnaire.group.value,
        "title": _text(questionnaire.title),
        "intro": _text(questionnaire.intro),
    }
    if shared:
        data["scales"] = {name: _options(lists[name]) for name in lists if name in shared}
    data["questions"] = [
        _question(q, used_by.get(q.id), used_by.get(q.id) in shared)
        for q in questionnaire.questions
    ]
    if questionnaire.consistency:
        data["consistency"] = [pair_data(p) for p in questionnaire.consistency]
    return data


def questionnaire_yaml(data: dict[str, Any]) -> str:
    """Render questionnaire data as YAML text the loader reads back unchanged."""
    # safe_dump quotes every string a YAML 1.1 reader would take for a bool or a number
    # ("yes", "1_5"), so other YAML tools see the same file as our loader.
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
