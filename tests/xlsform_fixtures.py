"""Build real XLSForm workbooks with openpyxl, laid out the way KoboToolbox exports them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

SURVEY_HEADER = (
    "type",
    "name",
    "label::Indonesian (id)",
    "label::English (en)",
    "hint::Indonesian (id)",
    "hint::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Indonesian (id)",
    "appearance",
    "dimension",
    "reverse",
    "dont_know",
)
CHOICES_HEADER = ("list_name", "name", "label::Indonesian (id)", "label::English (en)", "score")
SETTINGS_HEADER = (
    "form_title",
    "form_title::English (en)",
    "form_id",
    "version",
    "group",
    "default_language",
)

# One row per line: type, name, id label, en label, then the named extra columns.
KOBO_SURVEY: list[dict[str, object]] = [
    {"type": "start", "name": "start"},
    {"type": "end", "name": "end"},
    {
        "type": "note",
        "name": "intro",
        "label::Indonesian (id)": "Terima kasih telah mengisi survei layanan kecamatan.",
        "label::English (en)": "Thank you for answering the sub-district service survey.",
    },
    {
        "type": "integer",
        "name": "umur",
        "label::Indonesian (id)": "Berapa umur Anda?",
        "label::English (en)": "How old are you?",
        "hint::English (en)": "In years",
        "required": "true",
        "constraint": ". >= 17 and . <= 99",
        "constraint_message::Indonesian (id)": "Umur 17 sampai 99",
    },
    {
        "type": "select_one peran",
        "name": "peran",
        "label::Indonesian (id)": "Anda datang sebagai?",
        "label::English (en)": "You came as?",
        "required": "yes",
    },
    {"type": "begin_group", "name": "layanan", "relevant": "${peran} = 'warga'"},
    {
        "type": "select_one setuju",
        "name": "tr_biaya",
        "label::Indonesian (id)": "Biaya resmi diumumkan dengan jelas.",
        "label::English (en)": "The official fee is clearly announced.",
        "required": "yes",
        "appearance": "likert",
        "dimension": "transparency",
        "dont_know": "yes",
    },
    {
        "type": "select_one ya_tidak",
        "name": "ti_diminta",
        "label::Indonesian (id)": "Apakah Anda diminta membayar di luar biaya resmi?",
        "label::English (en)": "Were you asked to pay beyond the official fee?",
        "required": "yes",
        "dimension": "task_integrity",
        "reverse": "TRUE",
    },
    {"type": "end_group"},
    {
        "type": "select_multiple kanal",
        "name": "kanal",
        "label::Indonesian (id)": "Ke mana Anda akan melapor?",
        "label::English (en)": "Where would you report?",
        "required": "false",
        "relevant": "selected(${ti_diminta}, 'ya') and ${umur} >= 21",
    },
    {
        "type": "text",
        "name": "saran",
        "label::Indonesian (id)": "Apa saran Anda?",
        "label::English (en)": "What do you suggest?",
        "constraint": "string-length(.) <= 500",
    },
]

KOBO_CHOICES: list[tuple[object, ...]] = [
    ("peran", "warga", "Warga", "Resident", None),
    ("peran", "penyedia", "Penyedia", "Supplier", None),
    ("setuju", "ts", "Tidak setuju", "Disagree", None),
    ("setuju", "s", "Setuju", "Agree", None),
    ("setuju", "ss", "Sangat setuju", "Strongly agree", None),
    ("ya_tidak", "ya", "Ya", "Yes", 100),
    ("ya_tidak", "tidak", "Tidak", "No", 0),
    ("kanal", "wa", "WhatsApp", "WhatsApp", None),
    ("kanal", "loket", "Loket pengaduan", "Complaints desk", None),
]

KOBO_SETTINGS: dict[str, object] = {
    "form_title": "Survei Layanan Kecamatan",
    "form_title::English (en)": "Sub-district Service Survey",
    "form_id": "kecamatan",
    "version": "2",
    "group": "external",
    "default_language": "Indonesian (id)",
}


def write_xlsform(
    path: Path,
    survey: Sequence[dict[str, object]] = KOBO_SURVEY,
    choices: Sequence[tuple[object, ...]] = KOBO_CHOICES,
    settings: dict[str, object] | None = None,
    survey_header: Sequence[str] = SURVEY_HEADER,
) -> Path:
    """Write a workbook with survey, choices and settings sheets; return its path."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    header = list(survey_header)
    for row in survey:
        header.extend(c for c in row if c not in header)
    sheet.append(header)
    for row in survey:
        sheet.append([row.get(column) for column in header])
    choice_sheet = book.create_sheet("choices")
    choice_sheet.append(CHOICES_HEADER)
    for choice in choices:
        choice_sheet.append(list(choice))
    settings_sheet = book.create_sheet("settings")
    values = KOBO_SETTINGS if settings is None else settings
    settings_sheet.append(list(values))
    settings_sheet.append(list(values.values()))
    book.save(path)
    return path
