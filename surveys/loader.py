"""Load and validate questionnaires written in YAML; report every problem at once.

Pure: no telegram, no database, no clock. The full format is described in
``docs/questionnaire-format.md``; in short::

    id: internal                 # [a-z][a-z0-9_]*, at most 40 characters
    version: 1                   # integer >= 1; bump it whenever the questions change
    group: internal              # internal | external | expert
    title: {id: "Survei ...", en: "Survey ..."}
    intro: {id: "...", en: "..."}
    scales: {agree4: [...]}      # optional: named, reusable option lists, worst -> best
    consistency:                 # optional: answer pairs that cannot both be true
      - {id: merit_vs_bought, not_both: ["${hr_merit} = 'strongly_agree'",
         "${hr_bought} = 'yes'"], text: {id: "...", en: "..."}}
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
        hint: {id: "...", en: "..."}   # optional, shown under the question (one language ok)
      - {id: visits, type: number, text: {...}, min: 1, max: 365, integer: true}
      - {id: paid, type: number, text: {...}, min: 0, min_exclusive: true}   # XLSForm ". > 0"
      - {id: saran, type: text, text: {...}, max_length: 1000, required: false}

Scoring conventions (option scores 0-100 or null, likert spacing, ``reverse``) are in
the format document; field-level checks live in surveys.checks.

YAML booleans follow YAML 1.2: only ``true``/``false`` are booleans, so ``yes``, ``no``,
``on`` and ``off`` stay strings and can be used as option values. Duplicate mapping keys are
a syntax error rather than a silent overwrite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from surveys.checks import (
    _ID_RE,
    _ID_RULE,
    MAX_INTRO_LENGTH,
    MAX_QUESTION_ID_LENGTH,
    MAX_QUESTION_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    RECOMMENDED_LABEL_LENGTH,
    RECOMMENDED_MAX_OPTIONS,
    BaseChecker,
    Problem,
    QuestionnaireError,
    _OptionList,
    _show,
)
from surveys.consistency import check_pairs
from surveys.model import (
    DIMENSIONS,
    LANGUAGES,
    Dimension,
    Group,
    Question,
    Questionnaire,
    QuestionType,
    Text,
)
from surveys.skip_logic import Earlier, check_show_if

# Problem, QuestionnaireError and the limits live in surveys.checks (also via `surveys`).
__all__ = ["load_questionnaire", "load_questionnaire_text", "style_problems"]

_TOP_REQUIRED: Final = ("id", "version", "group", "title", "intro", "questions")
_TOP_KEYS: Final = (
    "id",
    "version",
    "group",
    "title",
    "intro",
    "scales",
    "questions",
    "consistency",
)
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
    "hint",
    "min_exclusive",
    "max_exclusive",
)
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


class _Checker(BaseChecker):
    """Turn parsed YAML into a questionnaire, collecting every problem."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        # What consistency pairs may read of each question (filled by `questions`).
        self.infos: dict[str, Earlier] = {}

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
        hint = self.hint(raw["hint"], qid) if "hint" in raw else None
        min_exclusive = self.flag(raw, "min_exclusive", qid)
        max_exclusive = self.flag(raw, "max_exclusive", qid)
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
            hint=hint,
            min_exclusive=bool(min_exclusive),
            max_exclusive=bool(max_exclusive),
        )
        return question, info

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
        consistency = check_pairs(self, data.get("consistency"), self.infos)

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
            consistency=consistency,
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
            self.infos[qid] = info
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

    These are not errors: the bot handles them, but they make the survey slower on a phone,
    leave a language without a hint, or (no scored item) add nothing to the index.
    """
    found: list[Problem] = []
    if not any(q.scored for q in questionnaire.questions):
        found.append(
            Problem(
                source,
                None,
                "no question is scored (none has a dimension and options with scores): "
                "its answers add nothing to the index",
            )
        )
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
        if q.hint is not None:
            for lang in LANGUAGES:
                if not q.hint.get(lang):
                    found.append(
                        Problem(source, q.id, f"hint has no {lang!r} text: readers in it see none")
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
