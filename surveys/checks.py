"""Field-level questionnaire checks shared by the YAML and XLSForm loaders: limits, texts,
option lists and scales, scoring and bounds. Pure; every problem is collected, none raised."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from surveys.model import LANGUAGES, Dimension, Option, QuestionType, Text
from surveys.skip_logic import CHOICE_TYPES

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
    "BaseChecker",
    "Problem",
    "QuestionnaireError",
    "likert_scores",
]

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
    # YAML reads .inf and .nan as floats: a bound or a score must be a finite number.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


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


class BaseChecker:
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

    def hint(self, raw: object, qid: str | None) -> Text | None:
        """Check a hint: a text for both languages, or {id:, en:} with at least one of them.

        Kobo and ODK forms often carry a hint in one language only; the other language then
        shows none (an empty string), rather than a hint in a language the reader chose not to.
        """
        if isinstance(raw, str):
            raw = {"id": raw, "en": raw}
        if not isinstance(raw, Mapping):
            self.add(
                qid, f"hint must be a text or a mapping with 'id' and/or 'en', got {_show(raw)}"
            )
            return None
        texts: dict[str, str] = {}
        for key, value in raw.items():
            if key not in LANGUAGES:
                self.add(qid, f"hint: unknown language {_show(key)} (expected id, en)")
            elif value is not None and not isinstance(value, str):
                self.add(qid, f"hint: {key!r} text must be a string, got {_show(value)}")
            elif value and len(value.strip()) > MAX_QUESTION_TEXT_LENGTH:
                self.add(
                    qid,
                    f"hint: {key!r} text is {len(value.strip())} characters; the limit is "
                    f"{MAX_QUESTION_TEXT_LENGTH}",
                )
            else:
                texts[str(key)] = (value or "").strip()
        if not any(texts.values()):
            self.add(qid, "hint: give a text in at least one language (id, en)")
            return None
        return Text(id=texts.get("id", ""), en=texts.get("en", ""))

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
        strict = raw.get("min_exclusive") is True or raw.get("max_exclusive") is True
        if low is not None and high is not None and low > high:
            self.add(qid, f"min {raw['min']} is greater than max {raw['max']}")
        elif low is not None and high is not None and low == high and strict:
            self.add(qid, f"no number is above min and below max ({raw['min']})")
        for key, bound in (("min_exclusive", "min"), ("max_exclusive", "max")):
            if raw.get(key) is True and bound not in raw:
                self.add(qid, f"{key}: true needs {bound!r}")
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
