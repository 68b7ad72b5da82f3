"""XLSForm in and out: a Kobo-style form, every refused feature, and the YAML round trip."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from surveys import (
    DONT_KNOW_VALUE,
    Dimension,
    Group,
    QuestionnaireError,
    QuestionType,
    bundled_questionnaires,
    load_questionnaire_text,
)
from surveys.writer import questionnaire_data, questionnaire_yaml
from surveys.xlsform_export import questionnaire_workbook
from surveys.xlsform_import import load_xlsform
from tests.xlsform_fixtures import KOBO_CHOICES, KOBO_SETTINGS, KOBO_SURVEY, write_xlsform

S = KOBO_SURVEY


def test_a_kobo_form_imports_with_both_languages_relevance_and_constraints(tmp_path: Path):
    qn = load_xlsform(write_xlsform(tmp_path / "kecamatan.xlsx"))
    assert (qn.id, qn.version, qn.group) == ("kecamatan", 2, Group.EXTERNAL)
    assert qn.title.en == "Sub-district Service Survey"
    assert qn.intro.id.startswith("Terima kasih")
    assert [q.id for q in qn.questions] == [
        "umur",
        "peran",
        "tr_biaya",
        "ti_diminta",
        "kanal",
        "saran",
    ]
    umur = qn.question("umur")
    assert (umur.type, umur.integer, umur.min_value, umur.max_value) == (
        QuestionType.NUMBER,
        True,
        17.0,
        99.0,
    )
    biaya = qn.question("tr_biaya")
    assert biaya.type is QuestionType.LIKERT
    assert biaya.dimension is Dimension.TRANSPARENCY
    assert [o.score for o in biaya.options] == [0.0, 50.0, 100.0, None]
    assert biaya.options[-1].value == DONT_KNOW_VALUE
    diminta = qn.question("ti_diminta")
    assert diminta.reverse
    assert diminta.item_score("ya") == 0.0
    assert diminta.text.en == "Were you asked to pay beyond the official fee?"
    kanal = qn.question("kanal")
    assert not kanal.required
    assert qn.question("saran").max_length == 500
    # The group's relevance reaches its questions; the kanal expression is evaluated as is.
    assert qn.is_shown(biaya, {"peran": "warga"})
    assert not qn.is_shown(biaya, {"peran": "penyedia"})
    assert qn.is_shown(kanal, {"umur": "30", "ti_diminta": "ya"})
    assert not qn.is_shown(kanal, {"umur": "18", "ti_diminta": "ya"})
    # What is stored is YAML, which loads to the same questionnaire.
    assert load_questionnaire_text(qn.source) == qn


def _replace(row: int, **columns: object) -> list[dict[str, object]]:
    """The Kobo survey with extra or changed columns on one data row (0-based)."""
    return [{**r, **columns} if i == row else r for i, r in enumerate(S)]


def _label(name: str) -> dict[str, object]:
    return {"label::Indonesian (id)": name, "label::English (en)": name}


REFUSED = [
    (
        "repeat",
        [
            *S,
            {"type": "begin_repeat", "name": "anak", **_label("Anak")},
            {"type": "integer", "name": "x", **_label("X")},
            {"type": "end_repeat"},
        ],
        None,
        None,
        "sheet 'survey', row 13, column 'type': repeats are not supported",
    ),
    (
        "calculate",
        [*S, {"type": "calculate", "name": "c", "calculation": "1 + 1"}],
        None,
        None,
        "sheet 'survey', row 13, column 'type': calculations are not supported",
    ),
    (
        "media_question",
        [*S, {"type": "image", "name": "foto", **_label("Foto")}],
        None,
        None,
        "sheet 'survey', row 13, column 'type': media questions (photo) are not supported",
    ),
    (
        "media_column",
        _replace(3, **{"media::image::English (en)": "umur.png"}),
        None,
        None,
        "sheet 'survey', row 5, column 'media::image::English (en)': media are not supported",
    ),
    (
        "or_other",
        _replace(4, type="select_one peran or_other"),
        None,
        None,
        "sheet 'survey', row 6, column 'type': 'or_other' is not supported: add an 'other'",
    ),
    (
        "date_question",
        [*S, {"type": "date", "name": "tgl", **_label("Tanggal")}],
        None,
        None,
        "sheet 'survey', row 13, column 'type': 'date' is not supported",
    ),
    (
        "note_in_the_middle",
        [*S[:5], {"type": "note", "name": "n2", **_label("Catatan")}, *S[5:]],
        None,
        None,
        "sheet 'survey', row 7, column 'type': a note is only supported before the first",
    ),
    (
        "third_language",
        _replace(3, **{"label::Javanese (jv)": "Pinten yuswa?"}),
        None,
        None,
        "sheet 'survey', row 5, column 'label::Javanese (jv)': only Indonesian (id) and "
        "English (en) are supported",
    ),
    (
        "missing_english",
        _replace(3, **{"label::English (en)": None}),
        None,
        None,
        "sheet 'survey', row 5, column 'label::English (en)': missing text",
    ),
    (
        "not_equal_constraint",
        _replace(3, constraint=". != 16"),
        None,
        None,
        "sheet 'survey', row 5, column 'constraint': unsupported constraint '. != 16'",
    ),
    (
        "bounds_on_text",
        _replace(10, constraint=". <= 3"),
        None,
        None,
        "sheet 'survey', row 12, column 'constraint': bounds apply to integer and decimal only",
    ),
    (
        "bad_flag",
        _replace(6, dont_know="maybe"),
        None,
        None,
        "sheet 'survey', row 8, column 'dont_know': 'maybe' must be yes or no",
    ),
    (
        "conditional_required",
        _replace(4, required="${umur} > 20"),
        None,
        None,
        "sheet 'survey', row 6, column 'required': a conditional 'required' is not supported",
    ),
    (
        "choice_filter",
        _replace(4, choice_filter="umur > 1"),
        None,
        None,
        "sheet 'survey', row 6, column 'choice_filter': choice filters are not supported",
    ),
    (
        "unknown_dimension",
        _replace(6, dimension="transparansi"),
        None,
        None,
        "sheet 'survey', row 8: question 'tr_biaya': dimension 'transparansi' is not one of",
    ),
    (
        "text_compared_with_number",
        _replace(9, relevant="${umur} > 'x'"),
        None,
        None,
        "sheet 'survey', row 11: question 'kanal': relevant: '>' compares numbers",
    ),
    (
        "relevant_on_a_later_question",
        _replace(3, relevant="${saran} != ''"),
        None,
        None,
        "sheet 'survey', row 5: question 'umur': relevant refers to 'saran', which comes later",
    ),
    (
        "score_not_a_number",
        S,
        [*KOBO_CHOICES[:5], ("ya_tidak", "ya", "Ya", "Yes", "banyak"), *KOBO_CHOICES[6:]],
        None,
        "sheet 'choices', row 7, column 'score': 'banyak' is not a number",
    ),
    (
        "no_introduction",
        [*S[:2], *S[3:]],
        None,
        None,
        "sheet 'survey': add a note (e.g. named 'intro') before the first question",
    ),
    (
        "version_not_a_number",
        S,
        None,
        {**KOBO_SETTINGS, "version": "v2"},
        "sheet 'settings', row 2, column 'version': must be a whole number ≥ 1, got 'v2'",
    ),
    (
        "title_in_indonesian_only",
        S,
        None,
        {
            "form_title::Indonesian (id)": "Survei",
            **{k: v for k, v in KOBO_SETTINGS.items() if not k.startswith("form_title")},
        },
        "sheet 'settings', row 2, column 'form_title::English (en)': missing text",
    ),
    (
        "unknown_choice_list",
        _replace(4, type="select_one nope"),
        None,
        None,
        "not a valid XLSForm: [row : 6] List name not in choices sheet: nope",
    ),
]


@pytest.mark.parametrize(
    ("survey", "choices", "settings", "expected"),
    [r[1:] for r in REFUSED],
    ids=[r[0] for r in REFUSED],
)
def test_each_unsupported_feature_is_refused_precisely(
    tmp_path: Path, survey, choices, settings, expected: str
):
    path = write_xlsform(tmp_path / "form.xlsx", survey, choices or KOBO_CHOICES, settings)
    with pytest.raises(QuestionnaireError) as caught:
        load_xlsform(path)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{path}: ")
    assert expected in messages[0]


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path):
    path = tmp_path / "form.xlsx"
    path.write_text("id,name\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="not a valid XLSForm"):
        load_xlsform(path)


BUNDLED = list(bundled_questionnaires().values())


@pytest.mark.parametrize("questionnaire", BUNDLED, ids=[q.id for q in BUNDLED])
def test_yaml_to_xlsform_to_yaml_is_lossless(tmp_path: Path, questionnaire):
    path = tmp_path / f"{questionnaire.id}.xlsx"
    questionnaire_workbook(questionnaire).save(path)
    imported = load_xlsform(path)
    assert imported == questionnaire
    again = load_questionnaire_text(imported.source)
    assert again == questionnaire
    # Shared scales stay shared, so the YAML an import stores reads like the original.
    assert set(questionnaire_data(again).get("scales", {})) == {"agree4", "freq4", "yes_no"}


@pytest.mark.parametrize("questionnaire", BUNDLED, ids=[q.id for q in BUNDLED])
def test_written_yaml_loads_to_the_same_questionnaire(questionnaire):
    text = questionnaire_yaml(questionnaire_data(questionnaire))
    assert load_questionnaire_text(text) == questionnaire


def test_exported_workbook_reads_like_a_kobo_form(tmp_path: Path):
    external = bundled_questionnaires()[Group.EXTERNAL]
    path = tmp_path / "external.xlsx"
    questionnaire_workbook(external).save(path)
    book = openpyxl.load_workbook(path)
    # Our own sheet for the questionnaire's consistency pairs sits after XLSForm's three.
    assert book.sheetnames == ["survey", "choices", "settings", "consistency"]
    pairs = list(book["consistency"].iter_rows(values_only=True))
    assert pairs[0] == ("name", "first", "second", "label::Indonesian (id)", "label::English (en)")
    assert pairs[1][:3] == (
        "no_favours_vs_influence",
        "${tii_kenalan} = 'never'",
        "${tii_izin} = 'always'",
    )
    rows = list(book["survey"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("type", "name", "label::Indonesian (id)", "label::English (en)")
    by_name = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_name["intro"]["type"] == "note"
    assert by_name["kunjungan"]["constraint"] == ". >= 1 and . <= 365"
    assert by_name["ti_membayar"]["relevant"] == "selected(${ti_diminta}, 'yes')"
    settings = list(book["settings"].iter_rows(values_only=True))
    assert dict(zip(settings[0], settings[1], strict=True))["form_id"] == "external"


def test_an_expression_and_not_in_survive_the_round_trip(tmp_path: Path):
    text = """\
id: rt
version: 3
group: internal
title: {id: Judul, en: Title}
intro: {id: Halo, en: Hello}
questions:
  - id: a
    type: single
    options:
      - {value: x, label: {id: X, en: X}, score: null}
      - {value: y, label: {id: Y, en: Y}, score: 50}
    dimension: procurement
    text: {id: A, en: A}
  - id: b
    type: number
    min: 0.5
    text: {id: B, en: B}
  - id: c
    type: text
    show_if: {question: a, not_in: [x]}
    text: {id: C, en: C}
  - id: d
    type: text
    show_if: >-
      not(${b} < 2 or ${c} = "it's") and ${a} != ''
    text: {id: D, en: D}
"""
    qn = load_questionnaire_text(text)
    path = tmp_path / "rt.xlsx"
    questionnaire_workbook(qn).save(path)
    assert load_xlsform(path) == qn


def test_kobo_conventions_a_plain_title_hints_and_strict_bounds(tmp_path: Path):
    """What Kobo and ODK users write: one form_title, hints (in one language or both),
    `. > 0` on a decimal and `. < 100` on an integer; and it survives export → import."""
    rows = [
        *S[:4],
        {
            "type": "decimal",
            "name": "biaya",
            **_label("Biaya"),
            "hint::Indonesian (id)": "Dalam ribu rupiah",
            "hint::English (en)": "In thousands",
            "constraint": ". > 0",
        },
        {
            "type": "integer",
            "name": "hari",
            **_label("Hari"),
            "hint::English (en)": "Working days",
            "constraint": ". >= 1 and . < 100",
        },
        *S[4:],
    ]
    settings = {"form_title": "Survei Kecamatan", "form_id": "kec", "version": "1"}
    path = write_xlsform(
        tmp_path / "kobo.xlsx", rows, KOBO_CHOICES, {**settings, "group": "external"}
    )
    qn = load_xlsform(path)
    assert (qn.title.id, qn.title.en) == ("Survei Kecamatan", "Survei Kecamatan")
    biaya, hari = qn.question("biaya"), qn.question("hari")
    assert biaya.hint is not None
    assert (biaya.hint.id, biaya.hint.en) == ("Dalam ribu rupiah", "In thousands")
    assert (biaya.min_value, biaya.min_exclusive, biaya.max_value) == (0.0, True, None)
    assert not biaya.accepts(0)
    assert biaya.accepts(0.01)
    assert hari.hint is not None
    assert (hari.hint.id, hari.hint.en) == ("", "Working days")
    assert (hari.min_value, hari.min_exclusive, hari.max_value, hari.max_exclusive) == (
        1.0,
        False,
        100.0,
        True,
    )
    assert hari.accepts(99)
    assert not hari.accepts(100)
    assert qn.question("umur").hint is not None  # the fixture's English-only hint
    # What is stored (YAML) and what is exported (XLSForm) give the same questionnaire back.
    assert load_questionnaire_text(qn.source) == qn
    out = tmp_path / "again.xlsx"
    questionnaire_workbook(qn).save(out)
    assert load_xlsform(out) == qn


def test_a_bad_hint_or_a_strict_bound_without_a_bound_is_refused():
    base = """\
id: h
version: 1
group: internal
title: {id: Judul, en: Title}
intro: {id: Halo, en: Hello}
questions:
  - id: a
    type: number
    text: {id: A, en: A}
"""
    for extra, expected in [
        ("    hint: {jv: Pinten}\n", "hint: unknown language 'jv'"),
        ("    hint: {id: '', en: ''}\n", "hint: give a text in at least one language"),
        ("    min_exclusive: true\n", "min_exclusive: true needs 'min'"),
        ("    min: 5\n    max: 5\n    max_exclusive: true\n", "no number is above min"),
    ]:
        with pytest.raises(QuestionnaireError, match=expected):
            load_questionnaire_text(base + extra)
