"""Load and validate questionnaires written in YAML; report every problem at once.

Pure: no telegram, no database, no clock. The full format is described in
``docs/questionnaire-format.md``; in short::

    id: internal                 # [a-z][a-z0-9_]*, at most 40 characters
    version: 1                   # integer >= 1; bump it whenever the questions change
    group: internal              # internal | external | expert
    title: {id: "Survei ...", en: "Survey ..."}
    intro: {id: "...", en: "..."}
    scales:                      # optional: named, reusable option lists
      agree4:                    # listed worst -> best; no scores -> 0, 33.3, 66.7, 100
        - {value: strongly_disagree, label: {id: Sangat tidak setuju, en: Strongly disagree}}
        - ...
    questions:
      - id: ti_gratification     # unique, [a-z][a-z0-9_]*, at most 40 characters
        type: likert             # likert | single | multiple | number | text
        dimension: task_integrity   # one of the seven SPI dimensions; absent = unscored
        text: {id: "Seberapa sering ...?", en: "How often ...?"}
        scale: freq4             # or options: [{value, label: {id, en}, score}]
        reverse: true            # negatively phrased: score becomes 100 - score
        dont_know: true          # adds "Tidak tahu / Don't know" (value dont_know, no score)
        required: true           # default true
        show_if: {question: earlier_qid, in: [yes]}   # or not_in: [...], or an XLSForm
                                 # relevant expression: "${q} = 'yes' and ${visits} >= 2"
      - {id: visits, type: number, text: {...}, min: 1, max: 365, integer: true}
      - {id: saran, type: text, text: {...}, max_length: 1000, required: false}

Scoring conventions:

* An option's ``score`` is a number from 0 to 100, or ``null`` for "no score" (the answer is
  kept but does not count, like *tidak tahu*). Either every option of a list has a ``score``
  key or none has.
* A ``likert`` option list without scores is scored evenly from 0 to 100 in the order it is
  listed, which must be worst to best for a positively phrased item (4 points: 0, 33.33,
  66.67, 100). A ``single``/``multiple`` list without scores is unscored.
* Scores are always written for the positive reading of the item; an item phrased so that
  the listed "best" answer means *less* integrity ("How often have you seen ...?") sets
  ``reverse: true`` instead of re-scoring its options.

YAML booleans follow YAML 1.2: only ``true``/``false`` are booleans, so ``yes``, ``no``,
``on`` and ``off`` stay strings and can be used as option values. Duplicate mapping keys are
a syntax error rather than a silent overwrite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from surveys.model import (
    DIMENSIONS,
    LANGUAGES,
    Dimension,
    Group,
    Option,
    Question,
    Questionnaire,
    QuestionType,
    Text,
)
from surveys.skip_logic import CHOICE_TYPES, Earlier, check_show_if

__all__ = [
    "DONT_KNOW_LABEL",
    "DONT_KNOW_VALUE",
    "MAX_LABEL_LENGTH",
    "MAX_OPTIONS",
    "MAX_OPTION_VALUE_LENGTH",
    "MAX_QUESTION_ID_LENGTH",
    "MAX_QUESTION_TEXT_LENGTH",
    "MAX_TEXT_ANSWER_LENGTH",
    "RECOMMENDED_LABEL_LENGTH",
    "RECOMMENDED_MAX_OPTIONS",
    "Problem",
    "QuestionnaireError",
    "likert_scores",
    "load_questionnaire",
    "load_questionnaire_text",
    "style_problems",
]

logger = logging.getLogger(__name__)

# Identifiers stay short for the database (question ids are String(60) columns) and for
# readable exports. Buttons carry an option's index, never its value or the question id
# (services/callbacks.py), so Telegram's 64-byte callback data does not bound these.
MAX_QUESTION_ID_LENGTH: Final = 40
MAX_OPTION_VALUE_LENGTH: Final = 20
MAX_QUESTION_TEXT_LENGTH: Final = 900
MAX_TITLE_LENGTH: Final = 120
MAX_INTRO_LENGTH: Final = 3000
MAX_LABEL_LENGTH: Final = 60
RECOMMENDED_LABEL_LENGTH: Final = 40
MAX_OPTIONS: Final = 10
RECOMMENDED_MAX_OPTIONS: Final = 5
# Telegram messages are at most 4096 characters; keep room for the bot's own words.
MAX_TEXT_ANSWER_LENGTH: Final = 4000

DONT_KNOW_VALUE: Final = "dont_know"
DONT_KNOW_LABEL: Final = Text(id="Tidak tahu", en="Don't know")

_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_VALUE_RE: Final = re.compile(r"[a-z0-9_]+")

_TOP_REQUIRED: Final = ("id", "version", "group", "title", "intro", "questions")
_TOP_KEYS: Final = ("id", "version", "group", "title", "intro", "scales", "questions")
_QUESTION_KEYS: Final = (
    "id",
    "type",
    "dimension",
    "text",
    "scale",
    "options",
    "dont_know",
    "reverse",
    "required",
    "show_if",
    "min",
    "max",
    "integer",
    "max_length",
)
_OPTION_KEYS: Final = ("value", "label", "score")
_CHOICE_TYPES: Final = CHOICE_TYPES
_ID_RULE: Final = (
    f"lowercase letters, digits and '_', starting with a letter, "
    f"at most {MAX_QUESTION_ID_LENGTH} characters"
)
_VALUE_RULE: Final = (
    f"lowercase letters, digits and '_', at most {MAX_OPTION_VALUE_LENGTH} characters"
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a questionnaire file; `question_id` is None for file-level ones."""

    source: str
    question_id: str | None
    message: str

    def __str__(self) -> str:
        where = "" if self.question_id is None else f"question {self.question_id!r}: "
        return f"{self.source}: {where}{self.message}"


class QuestionnaireError(ValueError):
    """A questionnaire file is invalid; `problems` lists everything found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- YAML ----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and an error on duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key that appears twice (merge keys excepted)."""
        seen: set[str] = set()
        for key_node, _ in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Describe a YAML error with its (1-based) line and column when PyYAML knows them."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "syntax error"
        if mark is not None:
            return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}"
        return f"invalid YAML: {what}"
    return f"invalid YAML: {exc}"


def _show(value: object) -> str:
    """Render a YAML value the way its author wrote it, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def likert_scores(count: int) -> tuple[float, ...]:
    """Return `count` evenly spaced scores from 0 to 100 (worst to best)."""
    if count < 2:
        raise ValueError("a likert scale needs at least 2 points")
    return tuple(100.0 * i / (count - 1) for i in range(count))


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OptionList:
    """An option list as written: options with their scores, and whether any score was given."""

    options: tuple[Option, ...]
    scored_explicitly: bool


class _Checker:
    """Collect problems while turning parsed YAML into model objects."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, question_id: str | None, message: str) -> None:
        self.problems.append(Problem(self.source, question_id, message))

    # -- small values --

    def text(
        self, raw: object, where: str, qid: str | None, limit: int, *, label: bool = False
    ) -> Text | None:
        """Check a {id:, en:} text; `where` names it in messages ("title", "option 'x': label")."""
        if not isinstance(raw, Mapping):
            self.add(qid, f"{where} must be a mapping with 'id' and 'en' texts, got {_show(raw)}")
            return None
        ok = True
        for key in raw:
            if key not in LANGUAGES:
                self.add(qid, f"{where}: unknown language {_show(key)} (expected id, en)")
                ok = False
        texts: dict[str, str] = {}
        for lang in LANGUAGES:
            if lang not in raw:
                self.add(qid, f"{where}: missing {lang!r} text")
                ok = False
                continue
            value = raw[lang]
            if not isinstance(value, str) or not value.strip():
                self.add(
                    qid, f"{where}: {lang!r} text must be a non-empty string, got {_show(value)}"
                )
                ok = False
                continue
            value = value.strip()
            if len(value) > limit:
                self.add(
                    qid,
                    f"{where}: {lang!r} text is {len(value)} characters; the limit is {limit}"
                    + (f" (at most {RECOMMENDED_LABEL_LENGTH} is recommended)" if label else ""),
                )
                ok = False
            texts[lang] = value
        return Text(id=texts["id"], en=texts["en"]) if ok else None

    def flag(self, raw: Mapping[str, Any], key: str, qid: str | None) -> bool | None:
        """Return a true/false setting, False when absent, None (reported) when invalid."""
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.add(qid, f"{key} must be true or false, got {_show(value)}")
            return None
        return value

    def unknown_keys(
        self, raw: Mapping[Any, Any], allowed: Sequence[str], qid: str | None, where: str = ""
    ) -> None:
        for key in raw:
            if key not in allowed:
                self.add(qid, f"{where}unknown key {_show(key)} (allowed: {', '.join(allowed)})")

    # -- options --

    def option_list(self, raw: object, where: str, qid: str | None) -> _OptionList | None:
        """Check an option list as written (scores not yet filled in for likert)."""
        if not isinstance(raw, list) or not raw:
            self.add(qid, f"{where} must be a non-empty list of options, got {_show(raw)}")
            return None
        options: list[Option] = []
        with_score: list[bool] = []
        seen: set[str] = set()
        ok = True
        for number, item in enumerate(raw, start=1):
            name = f"{where}option #{number}"
            if not isinstance(item, Mapping):
                self.add(qid, f"{name} must be a mapping with value, label and score")
                ok = False
                continue
            value = item.get("value")
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                value = str(value)
            if value is None:
                self.add(qid, f"{name}: missing 'value'")
                ok = False
            elif not isinstance(value, str) or not _VALUE_RE.fullmatch(value):
                self.add(qid, f"{name}: value {_show(value)} must be {_VALUE_RULE}")
                ok = False
            elif len(value) > MAX_OPTION_VALUE_LENGTH:
                self.add(qid, f"{name}: value {value!r} must be {_VALUE_RULE}")
                ok = False
            else:
                name = f"{where}option {value!r}"
                if value in seen:
                    self.add(qid, f"{where}duplicate option value {value!r}")
                    ok = False
                seen.add(value)
            self.unknown_keys(item, _OPTION_KEYS, qid, f"{name}: ")
            label = self.text(
                item.get("label"), f"{name}: label", qid, MAX_LABEL_LENGTH, label=True
            )
            score: float | None = None
            if "score" in item:
                raw_score = item["score"]
                if raw_score is not None and not _is_number(raw_score):
                    self.add(
                        qid,
                        f"{name}: score must be a number from 0 to 100 or null, "
                        f"got {_show(raw_score)}",
                    )
                    ok = False
                elif raw_score is not None and not 0 <= raw_score <= 100:
                    self.add(qid, f"{name}: score {raw_score} is not between 0 and 100")
                    ok = False
                elif raw_score is not None:
                    score = float(raw_score)
            with_score.append("score" in item)
            if label is None or not isinstance(value, str):
                ok = False
                continue
            options.append(Option(value=value, label=label, score=score))
        if any(with_score) and not all(with_score):
            missing = [str(i) for i, has in enumerate(with_score, start=1) if not has]
            self.add(
                qid,
                f"{where}option #{', #'.join(missing)} has no score while others do; give "
                "every option a score (null for none) or none at all",
            )
            ok = False
        if len(raw) > MAX_OPTIONS:
            self.add(qid, f"{where}has {len(raw)} options; the limit is {MAX_OPTIONS}")
            ok = False
        if not ok:
            return None
        return _OptionList(tuple(options), scored_explicitly=any(with_score))

    def scales(self, raw: object) -> dict[str, _OptionList | None]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.add(
                None, f"scales must be a mapping of scale name to option list, got {_show(raw)}"
            )
            return {}
        result: dict[str, _OptionList | None] = {}
        for name, options in raw.items():
            if not isinstance(name, str) or not _ID_RE.fullmatch(name):
                self.add(None, f"scale name {_show(name)} must be {_ID_RULE}")
                continue
            result[name] = self.option_list(options, f"scale {name!r}: ", None)
        return result

    # -- questions --

    def question(
        self,
        raw: Mapping[str, Any],
        qid: str,
        scales: Mapping[str, _OptionList | None],
        earlier: Mapping[str, Earlier],
        all_ids: Sequence[object],
    ) -> tuple[Question | None, Earlier]:
        """Check one question; return it (None when broken) and what show_if may use of it."""
        start = len(self.problems)
        self.unknown_keys(raw, _QUESTION_KEYS, qid)

        qtype: QuestionType | None = None
        if "type" not in raw:
            self.add(qid, "missing 'type'")
        else:
            try:
                qtype = QuestionType(raw["type"])
            except ValueError:
                self.add(
                    qid,
                    f"type {_show(raw['type'])} is not one of "
                    + ", ".join(t.value for t in QuestionType),
                )

        dimension: Dimension | None = None
        if raw.get("dimension") is not None:
            try:
                dimension = Dimension(raw["dimension"])
            except ValueError:
                self.add(
                    qid,
                    f"dimension {_show(raw['dimension'])} is not one of "
                    + ", ".join(d.value for d in DIMENSIONS),
                )

        text: Text | None = None
        if "text" not in raw:
            self.add(qid, "missing 'text'")
        else:
            text = self.text(raw["text"], "text", qid, MAX_QUESTION_TEXT_LENGTH)

        required = self.flag(raw, "required", qid) if "required" in raw else True
        reverse = self.flag(raw, "reverse", qid)
        dont_know = self.flag(raw, "dont_know", qid)

        options = self._options(raw, qid, qtype, scales, bool(dont_know))
        self._scoring(raw, qid, qtype, dimension, options, bool(reverse))
        min_value, max_value, max_length = self._limits(raw, qid, qtype)
        show_if, problems = check_show_if(raw.get("show_if"), qid, earlier, all_ids)
        for problem in problems:
            self.add(qid, problem)
        integer = self.flag(raw, "integer", qid)
        if integer and qtype is not None and qtype is not QuestionType.NUMBER:
            self.add(qid, "'integer' applies only to number questions")
        for key, bound in (("min", min_value), ("max", max_value)):
            if integer and bound is not None and not bound.is_integer():
                self.add(qid, f"{key} {raw[key]} is not a whole number (integer: true)")

        # With a broken dont_know flag the final options are unknown: skip show_if value checks.
        known = options is not None and dont_know is not None
        info = Earlier(qtype, tuple(o.value for o in options or ()) if known else None)
        if len(self.problems) > start or qtype is None or text is None:
            return None, info
        question = Question(
            id=qid,
            type=qtype,
            text=text,
            dimension=dimension,
            options=options or (),
            required=bool(required),
            reverse=bool(reverse),
            show_if=show_if,
            min_value=min_value,
            max_value=max_value,
            max_length=max_length,
            integer=bool(integer),
            scale=raw["scale"] if isinstance(raw.get("scale"), str) else None,
        )
        return question, info

    def _options(
        self,
        raw: Mapping[str, Any],
        qid: str,
        qtype: QuestionType | None,
        scales: Mapping[str, _OptionList | None],
        dont_know: bool,
    ) -> tuple[Option, ...] | None:
        """Resolve `scale`/`options` into the final options (likert spacing, *tidak tahu*)."""
        has_scale, has_options = "scale" in raw, "options" in raw
        if qtype is None:
            return None
        if qtype not in _CHOICE_TYPES:
            for key in ("scale", "options", "dont_know"):
                if key in raw:
                    self.add(qid, f"a {qtype} question takes no {key!r}")
            return ()
        if has_scale and has_options:
            self.add(qid, "give either 'scale' or 'options', not both")
            return None
        if not has_scale and not has_options:
            self.add(qid, f"a {qtype} question needs 'scale' or 'options'")
            return None
        written: _OptionList | None
        if has_scale:
            name = raw["scale"]
            if not isinstance(name, str) or name not in scales:
                defined = ", ".join(scales) if scales else "no scales are defined"
                self.add(qid, f"unknown scale {_show(name)} (defined: {defined})")
                return None
            written = scales[name]  # its own problems were reported once, under scales
        else:
            written = self.option_list(raw["options"], "", qid)
        if written is None:
            return None

        options = written.options
        if qtype is QuestionType.LIKERT and not written.scored_explicitly and len(options) >= 2:
            spaced = likert_scores(len(options))
            options = tuple(
                Option(o.value, o.label, score) for o, score in zip(options, spaced, strict=True)
            )
        if dont_know:
            if any(o.value == DONT_KNOW_VALUE for o in options):
                self.add(qid, f"dont_know: an option {DONT_KNOW_VALUE!r} already exists")
                return None
            options = (*options, Option(DONT_KNOW_VALUE, DONT_KNOW_LABEL, None))
        if len(options) < 2:
            self.add(qid, f"a {qtype} question needs at least 2 options")
            return None
        if qtype is QuestionType.LIKERT and sum(o.score is not None for o in options) < 2:
            self.add(qid, "a likert question needs at least 2 scored options")
            return None
        return options

    def _scoring(
        self,
        raw: Mapping[str, Any],
        qid: str,
        qtype: QuestionType | None,
        dimension: Dimension | None,
        options: tuple[Option, ...] | None,
        reverse: bool,
    ) -> None:
        """Check that dimension, scores and reverse agree with each other."""
        if qtype is not None and qtype not in _CHOICE_TYPES and dimension is not None:
            self.add(qid, f"a {qtype} question cannot be scored; remove 'dimension'")
            return
        if options is None:
            return  # the options are broken; that was reported already
        has_scores = any(o.score is not None for o in options)
        if dimension is not None and not has_scores:
            self.add(
                qid,
                f"has dimension {dimension.value!r} but none of its options has a score; "
                "add scores or remove the dimension",
            )
        elif reverse and raw.get("dimension") is None:
            self.add(qid, "reverse: true on an unscored question (it has no dimension)")
        elif reverse and not has_scores and qtype in _CHOICE_TYPES:
            self.add(qid, "reverse: true on an unscored question (none of its options has a score)")

    def _limits(
        self, raw: Mapping[str, Any], qid: str, qtype: QuestionType | None
    ) -> tuple[float | None, float | None, int | None]:
        bounds: dict[str, float | None] = {"min": None, "max": None}
        for key in bounds:
            if key not in raw:
                continue
            if qtype is not None and qtype is not QuestionType.NUMBER:
                self.add(qid, f"{key!r} applies only to number questions")
            elif not _is_number(raw[key]):
                self.add(qid, f"{key} must be a number, got {_show(raw[key])}")
            else:
                bounds[key] = float(raw[key])
        low, high = bounds["min"], bounds["max"]
        if low is not None and high is not None and low > high:
            self.add(qid, f"min {raw['min']} is greater than max {raw['max']}")
        max_length: int | None = None
        if "max_length" in raw:
            value = raw["max_length"]
            if qtype is not None and qtype is not QuestionType.TEXT:
                self.add(qid, "'max_length' applies only to text questions")
            elif (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 1 <= value <= MAX_TEXT_ANSWER_LENGTH
            ):
                self.add(
                    qid,
                    f"max_length must be an integer from 1 to {MAX_TEXT_ANSWER_LENGTH}, "
                    f"got {_show(value)}",
                )
            else:
                max_length = value
        return low, high, max_length

    # -- the whole file --

    def questionnaire(self, data: object, text: str) -> Questionnaire | None:
        if data is None:
            self.add(None, "the file is empty")
            return None
        if not isinstance(data, Mapping):
            self.add(None, f"the file must be a YAML mapping (key: value), got {_show(data)}")
            return None
        for key in _TOP_REQUIRED:
            if key not in data:
                self.add(None, f"missing required key {key!r}")
        self.unknown_keys(data, _TOP_KEYS, None)

        qn_id = data.get("id")
        if "id" in data and not (
            isinstance(qn_id, str)
            and _ID_RE.fullmatch(qn_id)
            and len(qn_id) <= MAX_QUESTION_ID_LENGTH
        ):
            self.add(None, f"id {_show(qn_id)} must be {_ID_RULE}")
        version = data.get("version")
        if "version" in data and not (
            isinstance(version, int) and not isinstance(version, bool) and version >= 1
        ):
            self.add(None, f"version must be an integer ≥ 1, got {_show(version)}")
        group: Group | None = None
        if "group" in data:
            try:
                group = Group(data["group"])
            except ValueError:
                self.add(
                    None,
                    f"group {_show(data['group'])} is not one of "
                    + ", ".join(g.value for g in Group),
                )
        title = intro = None
        if "title" in data:
            title = self.text(data["title"], "title", None, MAX_TITLE_LENGTH)
        if "intro" in data:
            intro = self.text(data["intro"], "intro", None, MAX_INTRO_LENGTH)
        scales = self.scales(data.get("scales"))
        questions = self.questions(data.get("questions"), scales) if "questions" in data else ()

        if (
            self.problems
            or not isinstance(qn_id, str)
            or not isinstance(version, int)
            or group is None
            or title is None
            or intro is None
        ):
            return None
        return Questionnaire(
            id=qn_id,
            version=version,
            group=group,
            title=title,
            intro=intro,
            questions=questions,
            source=text,
        )

    def questions(
        self, raw: object, scales: Mapping[str, _OptionList | None]
    ) -> tuple[Question, ...]:
        if not isinstance(raw, list):
            self.add(None, f"questions must be a list, got {_show(raw)}")
            return ()
        if not raw:
            self.add(None, "the questionnaire has no questions")
            return ()
        all_ids = [q.get("id") if isinstance(q, Mapping) else None for q in raw]
        first_at: dict[str, int] = {}
        earlier: dict[str, Earlier] = {}
        result: list[Question] = []
        for number, item in enumerate(raw, start=1):
            if not isinstance(item, Mapping):
                self.add(None, f"question #{number} must be a mapping, got {_show(item)}")
                continue
            qid = item.get("id")
            if qid is None:
                self.add(None, f"question #{number}: missing 'id'")
                continue
            if not isinstance(qid, str):
                self.add(None, f"question #{number}: id {_show(qid)} must be {_ID_RULE}")
                continue
            if not _ID_RE.fullmatch(qid) or len(qid) > MAX_QUESTION_ID_LENGTH:
                self.add(qid, f"id must be {_ID_RULE}")
            if qid in first_at:
                self.add(qid, f"duplicate question id (question #{first_at[qid]} has it too)")
                continue
            first_at[qid] = number
            question, info = self.question(item, qid, scales, earlier, all_ids)
            earlier[qid] = info
            if question is not None:
                result.append(question)
        return tuple(result)


# --- public API ----------------------------------------------------------------------------


def load_questionnaire_text(text: str, source: str = "<string>") -> Questionnaire:
    """Parse and validate questionnaire YAML; raise QuestionnaireError listing every problem.

    `source` names the text in error messages (usually the file name). The returned
    questionnaire keeps `text` verbatim in `Questionnaire.source`.
    """
    checker = _Checker(source)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        checker.add(None, _yaml_problem(exc))
        raise QuestionnaireError(checker.problems) from exc
    questionnaire = checker.questionnaire(data, text)
    if questionnaire is None:
        raise QuestionnaireError(checker.problems)
    return questionnaire


def load_questionnaire(path: Path) -> Questionnaire:
    """Read a UTF-8 questionnaire file and validate it (OSError when it cannot be read)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = Problem(str(path), None, f"the file is not UTF-8 text ({exc.reason})")
        raise QuestionnaireError([problem]) from exc
    return load_questionnaire_text(text, source=str(path))


def style_problems(questionnaire: Questionnaire, source: str = "<questionnaire>") -> list[Problem]:
    """List recommendations a valid questionnaire misses (long button labels, many options).

    These are not errors: the bot handles them, but they make the survey slower on a phone.
    """
    found: list[Problem] = []
    for q in questionnaire.questions:
        if len(q.options) > RECOMMENDED_MAX_OPTIONS:
            found.append(
                Problem(
                    source,
                    q.id,
                    f"has {len(q.options)} options; at most {RECOMMENDED_MAX_OPTIONS} "
                    "is recommended",
                )
            )
        for option in q.options:
            for lang in LANGUAGES:
                label = option.label.get(lang)
                if len(label) > RECOMMENDED_LABEL_LENGTH:
                    found.append(
                        Problem(
                            source,
                            q.id,
                            f"option {option.value!r}: label {lang!r} text is {len(label)} "
                            f"characters; at most {RECOMMENDED_LABEL_LENGTH} is recommended",
                        )
                    )
    return found
