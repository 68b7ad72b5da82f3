"""Write a questionnaire as an XLSForm workbook (survey, choices, settings and, when it has
consistency pairs, consistency sheets).

Pure apart from building an in-memory openpyxl workbook; the caller saves it. The columns
are the ones surveys.xlsform_import reads, so export then import gives an equal
questionnaire. Format: docs/questionnaire-format.md, "XLSForm".
"""

from __future__ import annotations

from typing import Final

from openpyxl import Workbook

from surveys.model import Question, Questionnaire, QuestionType, Text
from surveys.writer import option_lists, written
from surveys.xlsform_consistency import write_consistency

__all__ = [
    "CHOICES_COLUMNS",
    "INTRO_NAME",
    "LABEL_EN",
    "LABEL_ID",
    "LANGUAGE_EN",
    "LANGUAGE_ID",
    "SETTINGS_COLUMNS",
    "SURVEY_COLUMNS",
    "questionnaire_workbook",
]

LANGUAGE_ID: Final = "Indonesian (id)"
LANGUAGE_EN: Final = "English (en)"
LABEL_ID: Final = f"label::{LANGUAGE_ID}"
LABEL_EN: Final = f"label::{LANGUAGE_EN}"
HINT_ID: Final = f"hint::{LANGUAGE_ID}"
HINT_EN: Final = f"hint::{LANGUAGE_EN}"
# The introduction travels as a note before the first question.
INTRO_NAME: Final = "intro"

SURVEY_COLUMNS: Final = (
    "type",
    "name",
    LABEL_ID,
    LABEL_EN,
    HINT_ID,
    HINT_EN,
    "required",
    "relevant",
    "constraint",
    "appearance",
    "dimension",
    "reverse",
    "dont_know",
)
CHOICES_COLUMNS: Final = ("list_name", "name", LABEL_ID, LABEL_EN, "score")
SETTINGS_COLUMNS: Final = (
    "form_title",
    f"form_title::{LANGUAGE_EN}",
    "form_id",
    "version",
    "group",
    "default_language",
)


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _type(question: Question, list_name: str | None) -> str:
    match question.type:
        case QuestionType.LIKERT | QuestionType.SINGLE:
            return f"select_one {list_name}"
        case QuestionType.MULTIPLE:
            return f"select_multiple {list_name}"
        case QuestionType.NUMBER:
            return "integer" if question.integer else "decimal"
        case QuestionType.TEXT:
            return "text"


def _constraint(question: Question) -> str | None:
    parts: list[str] = []
    if question.min_value is not None:
        op = ">" if question.min_exclusive else ">="
        parts.append(f". {op} {_number(question.min_value)}")
    if question.max_value is not None:
        op = "<" if question.max_exclusive else "<="
        parts.append(f". {op} {_number(question.max_value)}")
    if question.max_length is not None:
        parts.append(f"string-length(.) <= {question.max_length}")
    return " and ".join(parts) or None


def _labels(text: Text) -> dict[str, str]:
    return {LABEL_ID: text.id, LABEL_EN: text.en}


def questionnaire_workbook(questionnaire: Questionnaire) -> Workbook:
    """Build the XLSForm workbook of a questionnaire."""
    lists, used_by = option_lists(questionnaire)
    book = Workbook()
    survey = book.active
    assert survey is not None  # a new workbook always has one sheet
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)
    rows: list[dict[str, object]] = [
        {"type": "note", "name": INTRO_NAME, **_labels(questionnaire.intro)}
    ]
    for q in questionnaire.questions:
        list_name = used_by.get(q.id)
        row: dict[str, object] = {
            "type": _type(q, list_name),
            "name": q.id,
            **_labels(q.text),
            HINT_ID: q.hint.id or None if q.hint is not None else None,
            HINT_EN: q.hint.en or None if q.hint is not None else None,
            "required": "yes" if q.required else "no",
            "relevant": str(q.show_if) if q.show_if is not None else None,
            "constraint": _constraint(q),
            "appearance": "likert" if q.type is QuestionType.LIKERT else None,
            "dimension": q.dimension.value if q.dimension is not None else None,
            "reverse": "yes" if q.reverse else None,
            "dont_know": "yes" if q.options and written(q).dont_know else None,
        }
        rows.append(row)
    for row in rows:
        survey.append([row.get(column) for column in SURVEY_COLUMNS])

    choices = book.create_sheet("choices")
    choices.append(CHOICES_COLUMNS)
    for name, options in lists.items():
        for o in options.options:
            score = None if o.score is None or not options.scored else _number(o.score)
            choices.append([name, o.value, o.label.id, o.label.en, score])
    # dont_know belongs to the question, not the list: two questions may share a list and
    # differ in it, so it is written per question in the survey sheet.

    settings = book.create_sheet("settings")
    settings.append(SETTINGS_COLUMNS)
    settings.append(
        [
            questionnaire.title.id,
            questionnaire.title.en,
            questionnaire.id,
            questionnaire.version,
            questionnaire.group.value,
            LANGUAGE_ID,
        ]
    )
    write_consistency(book, questionnaire)
    return book
