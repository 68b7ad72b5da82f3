"""Read an XLSForm (KoboToolbox, ODK, SurveyCTO spreadsheets) into a questionnaire.

Pure apart from reading the given file. ``pyxform`` parses the workbook into its JSON form
(no Java, no ODK Validate); we map that onto our questionnaire format, write it as YAML and
validate it with the YAML loader, so both formats obey exactly the same rules and the
database keeps one format. Features the bot cannot run are refused with the sheet, row and
column named, all of them in one run. Mapping: docs/questionnaire-format.md, "XLSForm".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from surveys.checks import Problem, QuestionnaireError
from surveys.constraints import parse_constraint
from surveys.expressions import ExpressionError
from surveys.loader import load_questionnaire_text
from surveys.model import Questionnaire
from surveys.writer import questionnaire_yaml
from surveys.xlsform_consistency import (
    CONSISTENCY_SHEET,
    locate_pair_problem,
    read_consistency,
)
from surveys.xlsform_export import INTRO_NAME

__all__ = ["load_xlsform"]

_TRUE: Final = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE: Final = frozenset({"", "no", "false", "false()", "0", "n"})
_LANGUAGE_RE: Final = re.compile(r"\((id|en)\)\s*$")
_METADATA: Final = frozenset(
    {"start", "end", "today", "deviceid", "username", "simserial", "subscriberid"}
    | {"phonenumber", "email", "audit", "start-geopoint"}
)
_MEDIA: Final = frozenset(
    {"photo", "image", "audio", "video", "file", "background-audio", "barcode", "signature"}
)
_SUPPORTED: Final = "select_one, select_multiple, integer, decimal, text, note, begin/end group"
# Columns whose meaning the bot cannot honour. `hint` is shown under the question; the other
# presentational ones (constraint_message, required_message, guidance_hint) are ignored: the
# bot words its own refusals in the respondent's language.
_REFUSED_COLUMNS: Final = {
    "calculation": "calculations are not supported",
    "choice_filter": "choice filters are not supported",
    "repeat_count": "repeats are not supported",
    "default": "default answers are not supported",
    "trigger": "triggers are not supported",
    "read_only": "read-only questions are not supported",
    "parameters": "question parameters are not supported",
}
_MEDIA_COLUMN_RE: Final = re.compile(r"^(media::)?(image|big-image|audio|video)(::.*)?$")


class _Reader:
    """Collect problems, naming the sheet, row and column, while mapping the parsed form."""

    def __init__(self, path: Path, raw: DefinitionData) -> None:
        self.path = path
        self.raw = raw
        self.problems: list[Problem] = []
        self.rows_with_problems: set[tuple[str, int | None]] = set()
        # pyxform keeps empty rows as {} in the raw sheet, so list index + 2 is the row.
        self.row_of: dict[str, int] = {}
        # pyxform adds a text question "<name>_other" after a select with or_other: it is
        # not in the sheet, and or_other is refused on its own row.
        self.generated: set[str] = set()
        for index, row in enumerate(raw.survey or []):
            name = str(row.get("name", "") or "").strip()
            if name and name not in self.row_of:
                self.row_of[name] = index + 2
            if name and "or_other" in str(row.get("type") or "").split():
                self.generated.add(f"{name}_other")

    def add(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        self.rows_with_problems.add((sheet, row))
        where = f"sheet {sheet!r}" + (f", row {row}" if row else "")
        where += f", column {column!r}" if column else ""
        self.problems.append(Problem(str(self.path), None, f"{where}: {message}"))

    # -- raw sheets --

    def check_columns(self) -> None:
        """Refuse cells in columns the bot cannot honour (an empty column is fine)."""
        for sheet, rows in (("survey", self.raw.survey), ("choices", self.raw.choices)):
            for index, row in enumerate(rows or []):
                if sheet == "survey" and "or_other" in str(row.get("type") or "").split():
                    self.add(
                        sheet,
                        index + 2,
                        "type",
                        "'or_other' is not supported: add an 'other' choice to the list and a "
                        "text question with relevant selected(${question}, 'other')",
                    )
                for column, value in row.items():
                    if value in (None, ""):
                        continue
                    if column == "calculation" and row.get("type") == "calculate":
                        continue  # refused once, by its type
                    if column in _REFUSED_COLUMNS and sheet == "survey":
                        self.add(sheet, index + 2, column, _REFUSED_COLUMNS[column])
                    elif _MEDIA_COLUMN_RE.match(column):
                        self.add(sheet, index + 2, column, "media are not supported")

    def settings(self) -> dict[str, Any]:
        rows = self.raw.settings or []
        row: Mapping[str, Any] = rows[0] if rows else {}
        data: dict[str, Any] = {}
        for key, column in (("id", "form_id"), ("version", "version"), ("group", "group")):
            value = str(row.get(column) or "").strip()
            if not value:
                self.add("settings", 2, column, f"missing (the questionnaire's {key})")
            data[key] = value
        if data["version"] and not (data["version"].isdigit() and int(data["version"]) >= 1):
            self.add(
                "settings", 2, "version", f"must be a whole number ≥ 1, got {data['version']!r}"
            )
        elif data["version"]:
            data["version"] = int(data["version"])
        titles = {
            column.split("::", 1)[1] if "::" in column else "default": value
            for column, value in row.items()
            if column.split("::", 1)[0] == "form_title" and value
        }
        # ODK's form_title has no language: a plain one titles the form in both languages
        # (a language-specific one, as Kobo allows, wins for its language).
        if "default" in titles:
            titles.setdefault("English (en)", titles["default"])
        data["title"] = self.texts(titles, "settings", 2, "form_title")
        return data

    # -- parsed form --

    def texts(self, raw: object, sheet: str, row: int | None, column: str) -> dict[str, str]:
        """Map pyxform's label (a text, or language -> text) onto {id:, en:}."""
        if isinstance(raw, str):
            raw = {"default": raw}
        found: dict[str, str] = {}
        for language, text in (raw or {}).items() if isinstance(raw, Mapping) else ():
            code = "id" if language == "default" else _language(language)
            if code is None:
                self.add(
                    sheet,
                    row,
                    f"{column}::{language}",
                    "only Indonesian (id) and English (en) are supported",
                )
            elif code not in found or language != "default":
                found[code] = str(text)
        for code, header in (("id", "Indonesian (id)"), ("en", "English (en)")):
            if not found.get(code, "").strip():
                self.add(sheet, row, f"{column}::{header}", "missing text")
        return found

    def hint(self, raw: object, row: int | None) -> dict[str, str] | None:
        """Map a hint (a text, or language -> text); one language may be missing."""
        if isinstance(raw, str):
            raw = {"default": raw}
        if not isinstance(raw, Mapping):
            return None
        found: dict[str, str] = {}
        for language, text in raw.items():
            code = "id" if language == "default" else _language(str(language))
            if code is None:
                self.add(
                    "survey",
                    row,
                    f"hint::{language}",
                    "only Indonesian (id) and English (en) are supported",
                )
            elif str(text or "").strip() and (code not in found or language != "default"):
                found[code] = str(text).strip()
        return found or None

    def flag(self, raw: object, row: int | None, column: str) -> bool:
        value = str(raw if raw is not None else "").strip().lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.add("survey", row, column, f"{raw!r} must be yes or no")
        return False

    def children(self, children: list[dict[str, Any]], relevant: str | None) -> list[dict]:
        """Flatten groups (their relevance joins each child's) and map every question."""
        questions: list[dict[str, Any]] = []
        for child in children:
            kind, name = child.get("type", ""), child.get("name", "")
            row = self.row_of.get(name)
            own = (child.get("bind") or {}).get("relevant")
            parts = [r for r in (relevant, own) if r]
            joined = " and ".join(f"({r})" for r in parts) if len(parts) > 1 else own or relevant
            if kind == "group" and name == "meta" and (child.get("control") or {}).get("bodyless"):
                continue  # pyxform's own instanceID (and audit) metadata
            if name in self.generated and row is None:
                continue  # pyxform's text question of an or_other (refused on its own row)
            if kind == "group":
                questions.extend(self.children(child.get("children", []), joined))
            elif kind == "repeat":
                self.add("survey", row, "type", "repeats are not supported")
            elif kind == "calculate":
                self.add("survey", row, "type", "calculations are not supported")
            elif kind in _MEDIA:
                self.add("survey", row, "type", f"media questions ({kind}) are not supported")
            elif kind in _METADATA:
                continue  # collected by Kobo/ODK clients; a Telegram survey has none
            elif kind == "note":
                label = self.texts(child.get("label"), "survey", row, "label")
                questions.append({"note": label, "row": row})
            elif kind in ("select one", "select all that apply", "integer", "decimal", "text"):
                question = self.question(child, row, joined)
                if question is not None:
                    questions.append(question)
            else:
                self.add("survey", row, "type", f"{kind!r} is not supported ({_SUPPORTED})")
        return questions

    def question(self, child: Mapping[str, Any], row: int | None, relevant: str | None) -> dict:
        kind, name = child["type"], child["name"]
        bind = child.get("bind") or {}
        appearance = str((child.get("control") or {}).get("appearance") or "")
        item: dict[str, Any] = {"id": name}
        if kind == "select one":
            item["type"] = "likert" if "likert" in appearance.split() else "single"
        elif kind == "select all that apply":
            item["type"] = "multiple"
        else:
            item["type"] = "text" if kind == "text" else "number"
        if kind == "integer":
            item["integer"] = True
        if child.get("dimension"):
            item["dimension"] = str(child["dimension"]).strip()
        item["text"] = self.texts(child.get("label"), "survey", row, "label")
        hint = self.hint(child.get("hint"), row)
        if hint:
            item["hint"] = hint
        if kind.startswith("select"):
            item["scale"] = child.get("list_name") or child.get("itemset")
            if re.search(r"\.(csv|xml|geojson)$", str(item["scale"])):
                self.add("survey", row, "type", "choices from a file are not supported")
            if self.flag(child.get("dont_know"), row, "dont_know"):
                item["dont_know"] = True
        if self.flag(child.get("reverse"), row, "reverse"):
            item["reverse"] = True
        required = str(bind.get("required") or "").strip()
        if required.lower() not in _TRUE | _FALSE:
            self.add("survey", row, "required", "a conditional 'required' is not supported")
        elif not self.flag(required, row, "required"):
            item["required"] = False
        if relevant:
            item["show_if"] = relevant
        if bind.get("constraint"):
            self.constraint(item, str(bind["constraint"]), row)
        return item

    def constraint(self, item: dict[str, Any], text: str, row: int | None) -> None:
        try:
            limit = parse_constraint(text)
        except ExpressionError as exc:
            self.add("survey", row, "constraint", str(exc))
            return
        if limit.max_length is not None:
            if item["type"] != "text":
                self.add("survey", row, "constraint", "string-length() applies to text only")
            item["max_length"] = limit.max_length
            return
        if item["type"] != "number":
            self.add("survey", row, "constraint", "bounds apply to integer and decimal only")
        for key, bound, strict in (
            ("min", limit.min_value, limit.min_exclusive),
            ("max", limit.max_value, limit.max_exclusive),
        ):
            if bound is not None:
                item[key] = _whole(bound)
                if strict:  # ". > 0": the bound itself is refused
                    item[f"{key}_exclusive"] = True

    def choice_lists(self, lists: Mapping[str, list[dict[str, Any]]]) -> dict[str, list]:
        rows: dict[tuple[str, str], int] = {}
        for index, row in enumerate(self.raw.choices or []):
            key = (str(row.get("list_name", "")).strip(), str(row.get("name", "")).strip())
            rows.setdefault(key, index + 2)
        result: dict[str, list[dict[str, Any]]] = {}
        for list_name, choices in lists.items():
            scored = any(str(c.get("score") or "").strip() for c in choices)
            options: list[dict[str, Any]] = []
            for choice in choices:
                value = str(choice.get("name", ""))
                row = rows.get((list_name, value))
                option: dict[str, Any] = {
                    "value": value,
                    "label": self.texts(choice.get("label"), "choices", row, "label"),
                }
                if scored:
                    option["score"] = self.score(choice.get("score"), row)
                options.append(option)
            result[list_name] = options
        return result

    def score(self, raw: object, row: int | None) -> float | int | None:
        text = str(raw or "").strip()
        if not text:
            return None
        try:
            return _whole(float(text))
        except ValueError:
            self.add("choices", row, "score", f"{text!r} is not a number")
            return None


def _language(name: str) -> str | None:
    match = _LANGUAGE_RE.search(name)
    return match.group(1) if match else None


def _whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _form_data(reader: _Reader, form: Mapping[str, Any]) -> dict[str, Any]:
    """Assemble the YAML-shaped mapping: settings, intro notes, scales, questions."""
    data = reader.settings()
    items = reader.children(list(form.get("children", [])), None)
    intro: list[dict[str, str]] = []
    while items and "note" in items[0]:
        intro.append(items.pop(0)["note"])
    if not intro:
        reader.add(
            "survey",
            None,
            None,
            f"add a note (e.g. named {INTRO_NAME!r}) before the "
            "first question: it is the survey's introduction",
        )
    data["intro"] = {c: "\n\n".join(n.get(c, "") for n in intro) for c in ("id", "en")}
    for item in items:
        if "note" in item:
            reader.add(
                "survey",
                item["row"],
                "type",
                "a note is only supported before the first "
                "question (where it becomes the introduction)",
            )
    questions = [item for item in items if "note" not in item]
    lists = reader.choice_lists(form.get("choices") or {})
    usage: dict[str, list[str]] = {}
    for q in questions:
        if "scale" in q:
            usage.setdefault(q["scale"], []).append(q["id"])
    scales = {}
    for q in questions:
        name = q.get("scale")
        if name is None:
            continue
        if usage[name] == [q["id"]] and name == q["id"]:
            q["options"] = lists.get(q.pop("scale"), [])  # the question's own list
        else:
            scales[name] = lists.get(name, [])
    if scales:
        data["scales"] = scales
    data["questions"] = questions
    return data


def load_xlsform(path: Path) -> Questionnaire:
    """Read and validate an XLSForm; raise QuestionnaireError naming sheet, row and column.

    The returned questionnaire's `source` is its YAML text, which is what gets stored.
    """
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    try:
        raw = get_xlsform(str(path))
        form = workbook_to_json(raw, form_name="data", fallback_form_name=raw.fallback_form_name)
    except PyXFormError as exc:
        raise QuestionnaireError([Problem(str(path), None, f"not a valid XLSForm: {exc}")]) from exc
    reader = _Reader(path, raw)
    reader.check_columns()
    data = _form_data(reader, form)
    pairs, pair_rows, sheet_problems = read_consistency(path)
    reader.problems.extend(sheet_problems)
    if pairs:
        data["consistency"] = pairs
    try:
        questionnaire = load_questionnaire_text(questionnaire_yaml(data), source=str(path))
    except QuestionnaireError as exc:
        loader = [locate_pair_problem(p, pair_rows) or p for p in exc.problems]
        found = [*reader.problems, *_loader_problems(reader, loader)]
        raise QuestionnaireError(found) from exc
    if reader.problems:
        raise QuestionnaireError(reader.problems)
    return questionnaire


def _loader_problems(reader: _Reader, problems: list[Problem]) -> list[Problem]:
    """Return the YAML loader's problems that add to the reader's, pointed at their rows.

    Every problem of the form is reported in one run, but not twice: a row the reader
    already refused (its mapped question is incomplete), or the file-level echo of a
    settings or introduction problem, would only repeat it in the loader's words.
    """
    whole_form = any(sheet == "settings" or row is None for sheet, row in reader.rows_with_problems)
    kept: list[Problem] = []
    for problem in problems:
        row = reader.row_of.get(problem.question_id or "")
        located_pair = f"sheet {CONSISTENCY_SHEET!r}" in problem.source
        if problem.question_id is None and whole_form and not located_pair:
            continue
        if row is not None and ("survey", row) in reader.rows_with_problems:
            continue
        kept.append(_locate(problem, reader.row_of))
    return kept


def _locate(problem: Problem, row_of: Mapping[str, int]) -> Problem:
    """Point a YAML-loader problem at its survey row."""
    row = row_of.get(problem.question_id or "")
    if row is None:
        return problem
    message = problem.message.replace("show_if", "relevant")
    return Problem(f"{problem.source}: sheet 'survey', row {row}", problem.question_id, message)
