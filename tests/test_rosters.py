"""Roster parsing shared by `spibot invites create` and a roster sent in chat: line numbers,
Excel's habits (BOM, semicolons, quoted line breaks), and the group a file names."""

from __future__ import annotations

import pytest

from services.admin import guess_group, looks_like_csv
from services.admin.survey import RosterError, parse_roster
from storage.units import Unit
from surveys import Group

UNITS = {
    code: Unit(i, code, code.title(), "opd", None, False, None)
    for i, code in enumerate(["DINKES", "BAPPEDA"], start=1)
}


def test_excel_csv_with_bom_semicolons_and_a_quoted_line_break() -> None:
    data = '\ufeffNama;Unit;Catatan\nSari;dinkes;"dua\nbaris"\nBudi;BAPPEDA;\n'.encode()
    rows = parse_roster(data, UNITS, "x.csv")
    assert rows == [
        {"unit": "DINKES", "nama": "Sari", "catatan": "dua\nbaris"},
        {"unit": "BAPPEDA", "nama": "Budi", "catatan": ""},
    ]


def test_problems_carry_the_line_a_spreadsheet_shows() -> None:
    data = b'nama,unit\n"Sari\nDewi",NOPE\n\nBudi,\nTono,DINKES\n'
    with pytest.raises(RosterError) as raised:
        parse_roster(data, UNITS, "x.csv")
    problems = [(p.line, p.kind, p.value) for p in raised.value.problems]
    assert problems == [(3, "unknown_unit", "NOPE"), (5, "no_unit", "")]
    assert str(raised.value) == "x.csv: line 3: unknown unit code 'NOPE'; line 5: no unit code"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "empty"),
        (b"nama,unit\n", "empty"),
        (b"nama,kantor\nSari,DINKES\n", "no_unit_column"),
        ("nama,unit\nJosé,DINKES\n".encode("latin-1"), "not_utf8"),
    ],
)
def test_whole_file_problems(data: bytes, kind: str) -> None:
    with pytest.raises(RosterError) as raised:
        parse_roster(data, UNITS, "x.csv")
    assert [p.kind for p in raised.value.problems] == [kind]
    assert raised.value.problems[0].line is None


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.admin.survey.MAX_ROSTER_ROWS", 3)
    data = ("nama,unit\n" + "P,DINKES\n" * 4).encode()
    with pytest.raises(RosterError, match="more than 3 rows"):
        parse_roster(data, UNITS, "x.csv")


@pytest.mark.parametrize(
    ("caption", "name", "group"),
    [
        (None, "pegawai-dinkes.csv", Group.INTERNAL),
        (None, "Daftar_ASN_2026.csv", Group.INTERNAL),
        ("daftar eksper", "daftar.csv", Group.EXPERT),
        (None, "pakar.csv", Group.EXPERT),
        (None, "daftar.csv", None),
        ("pegawai dan eksper", "daftar.csv", None),  # both: ask
        (None, "pegawaian.csv", None),  # words, not substrings
    ],
)
def test_the_group_a_file_names(caption: str | None, name: str, group: Group | None) -> None:
    assert guess_group(caption, name) is group


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("a.CSV", None, True),
        ("a.txt", "text/csv", True),
        ("a", "text/comma-separated-values", True),
        ("a.xlsx", "application/vnd.ms-excel", False),
        (None, None, False),
    ],
)
def test_what_counts_as_a_csv(name: str | None, mime: str | None, expected: bool) -> None:
    assert looks_like_csv(name, mime) is expected
