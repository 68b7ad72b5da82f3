"""Follow-up plans: input checks, who may change what, and the matrix through the CLI."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
from openpyxl import load_workbook

import storage.db
from bot.cli import main
from services.access import Viewer
from services.actions import ActionProblem, Outcome, read_matrix, set_status_for
from services.actions.matrix import MATRIX_COLUMNS
from services.actions.plans import add_for, new_action, parse_due
from services.admin import import_units_csv
from storage.actions import ActionStatus

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
HEAD_DINKES = Viewer(unit_code="DINKES", unit_name="Dinas Kesehatan")
HEAD_BAPPEDA = Viewer(unit_code="BAPPEDA", unit_name="Bappeda")
LEADERSHIP = Viewer(leadership=True)


@pytest.mark.parametrize(
    "text",
    [
        "2026-04-30",
        "30-04-2026",
        "30/04/2026",
        " 30.04.2026 ",
        "30 April 2026",
        "30 april 2026",
        "30 Apr 2026",
        "30 Apr. 2026",
        "April 30, 2026",
        "30  APRIL  2026",
    ],
)
def test_due_dates_in_usual_forms(text):
    assert parse_due(text) == date(2026, 4, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 Januari 2027", date(2027, 1, 31)),
        ("31 Jan 2027", date(2027, 1, 31)),
        ("17 Agustus 2027", date(2027, 8, 17)),
        ("17 Agu 2027", date(2027, 8, 17)),
        ("1 Mei 2027", date(2027, 5, 1)),
        ("1 May 2027", date(2027, 5, 1)),
        ("25 Desember 2027", date(2027, 12, 25)),
        ("25 December 2027", date(2027, 12, 25)),
        ("3 Okt 2027", date(2027, 10, 3)),
        ("29/02/2028", date(2028, 2, 29)),
    ],
)
def test_due_dates_with_month_names_in_both_languages(text, expected):
    assert parse_due(text) == expected


@pytest.mark.parametrize("text", ["", "besok", "2026-04-30T10:00", "30/04/26", "30 Foo 2026"])
def test_text_that_is_no_date(text):
    with pytest.raises(ActionProblem) as caught:
        parse_due(text)
    assert caught.value.key == "actions_bad_date"


@pytest.mark.parametrize(
    "text", ["2026-02-30", "31/13/2026", "31/02/2027", "31 April 2027", "29 Februari 2027"]
)
def test_a_date_that_cannot_exist_is_told_as_such(text):
    with pytest.raises(ActionProblem) as caught:
        parse_due(text)
    assert caught.value.key == "actions_impossible_date"
    assert "tidak ada di kalender" in caught.value.describe("id")


def test_new_action_checks_its_fields():
    action = new_action(
        " dinkes ", "  Publish   RUP ", "Kabid", "2026-04-30", dimension="Procurement"
    )
    assert action.unit_code == "DINKES"
    assert action.what == "Publish RUP"
    assert action.dimension == "procurement"
    for kwargs, key in [
        ({"what": " "}, "actions_bad_what"),
        ({"what": "x" * 501}, "actions_bad_what"),
        ({"who": ""}, "actions_bad_who"),
        ({"dimension": "bribery"}, "actions_bad_dimension"),
        ({"status": "finished"}, "actions_bad_status"),
    ]:
        fields = {"what": "Publish", "who": "Kabid", "dimension": "", "status": "planned", **kwargs}
        with pytest.raises(ActionProblem) as caught:
            new_action(
                "DINKES",
                fields["what"],
                fields["who"],
                "2026-04-30",
                dimension=fields["dimension"],
                status=fields["status"],
            )
        assert caught.value.key == key


async def _with_units(db) -> None:
    csv_file = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
    with resources.as_file(csv_file) as path:
        await import_units_csv(db.engine, path)


async def test_unit_head_manages_own_unit_only(db):
    await _with_units(db)
    new = new_action("DINKES", "Publish RUP", "Kabid Pengadaan", "2026-04-30")
    assert (await add_for(db.engine, HEAD_BAPPEDA, new, NOW)).outcome is Outcome.REFUSED
    assert (await add_for(db.engine, LEADERSHIP, new, NOW)).outcome is Outcome.REFUSED
    added = await add_for(db.engine, HEAD_DINKES, new, NOW)
    assert added.outcome is Outcome.DONE
    assert added.action is not None
    action = added.action

    other = await set_status_for(
        db.engine, HEAD_BAPPEDA, action.id, action.version, NOW, status=ActionStatus.DONE
    )
    assert other.outcome is Outcome.REFUSED
    assert other.action is None
    looked = await set_status_for(
        db.engine, LEADERSHIP, action.id, action.version, NOW, status=ActionStatus.DONE
    )
    assert looked.outcome is Outcome.REFUSED
    mine = await set_status_for(
        db.engine,
        HEAD_DINKES,
        action.id,
        action.version,
        NOW,
        status=ActionStatus.IN_PROGRESS,
        note="draft on the website",
    )
    assert mine.outcome is Outcome.DONE
    assert mine.action is not None
    assert mine.action.status is ActionStatus.IN_PROGRESS
    stale = await set_status_for(
        db.engine, HEAD_DINKES, action.id, action.version, NOW, status=ActionStatus.DONE
    )
    assert stale.outcome is Outcome.STALE
    assert stale.action == mine.action
    missing = await set_status_for(db.engine, HEAD_DINKES, 999, 1, NOW, status=ActionStatus.DONE)
    assert missing.outcome is Outcome.NOT_FOUND


# -- the matrix through `spibot actions` ----------------------------------------------------


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'actions.db'}"

    async def prepare() -> None:
        async with storage.db.Database(url) as db:
            await _with_units(db)

    asyncio.run(prepare())
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nSPIBOT_SECRET={'s' * 24}\n", encoding="utf-8")
    return env


def _spibot(env: Path, *args: str) -> int:
    return main(["--env-file", str(env), *args])


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


HEADER = [MATRIX_COLUMNS[k] for k in ("unit_code", "dimension", "what", "who", "due_on")]


def test_import_then_export_csv_and_xlsx(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = _write_csv(
        tmp_path / "in.csv",
        [
            HEADER,
            [
                "DINKES",
                "procurement",
                "Publish the procurement plan",
                "Kabid Pengadaan",
                "30/04/2026",
            ],
            ["BAPPEDA", "", "Conflict-of-interest declarations", "Sekretaris", "2026-05-15"],
        ],
    )
    assert _spibot(env_file, "actions", "import", str(matrix)) == 0
    assert "actions: 2 added, 0 updated, 0 unchanged" in capsys.readouterr().out

    out_csv = tmp_path / "out.csv"
    assert _spibot(env_file, "actions", "export", str(out_csv)) == 0
    assert "wrote 2 actions" in capsys.readouterr().out
    rows = list(csv.reader(out_csv.open(encoding="utf-8")))
    assert rows[0] == list(MATRIX_COLUMNS.values())
    assert rows[1][:4] == ["1", "DINKES", "Dinas Kesehatan", "Pengelolaan PBJ"]
    assert rows[1][7:9] == ["2026-04-30", "Direncanakan"]
    # The export reads back as it is, each row with its action's number.
    assert [(r.number, r.action.what) for r in read_matrix(out_csv)] == [
        (1, "Publish the procurement plan"),
        (2, "Conflict-of-interest declarations"),
    ]
    assert [r.action.what for r in read_matrix(out_csv)] == [
        "Publish the procurement plan",
        "Conflict-of-interest declarations",
    ]

    out_xlsx = tmp_path / "out.xlsx"
    assert _spibot(env_file, "actions", "export", str(out_xlsx), "--unit", "BAPPEDA") == 0
    sheet = load_workbook(out_xlsx).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2
    assert values[1][1] == "BAPPEDA"
    assert [r.action.unit_code for r in read_matrix(out_xlsx)] == ["BAPPEDA"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["Unit", "Rencana aksi"]], "Missing columns: Kode unit, Penanggung jawab, Target waktu"),
        (
            [HEADER, ["DINKES", "", "Publish", "Kabid", "next week"]],
            "line 2: “next week” is not a date",
        ),
        ([HEADER, ["DINKES", "bribes", "Publish", "Kabid", "2026-04-30"]], "Unknown dimension"),
        (
            [HEADER, ["NOPE", "", "Publish", "Kabid", "2026-04-30"]],
            "line 2: unknown unit code “NOPE”",
        ),
        ([], "The file is empty."),
    ],
)
def test_bad_matrix_adds_nothing(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], rows, message
) -> None:
    matrix = _write_csv(tmp_path / "bad.csv", rows)
    assert _spibot(env_file, "actions", "import", str(matrix)) == 2
    assert message in capsys.readouterr().err
    assert _spibot(env_file, "actions", "export", str(tmp_path / "empty.csv")) == 0
    assert "wrote 0 actions" in capsys.readouterr().out


def test_bad_paths(env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _spibot(env_file, "actions", "import", str(tmp_path / "missing.csv")) == 2
    assert "no such file" in capsys.readouterr().err
    assert _spibot(env_file, "actions", "export", str(tmp_path / "out.pdf")) == 2
    assert "use .csv or .xlsx" in capsys.readouterr().err
    assert _spibot(env_file, "actions", "export", str(tmp_path / "o.csv"), "--unit", "NOPE") == 2
    assert "unknown unit code" in capsys.readouterr().err


def test_actions_chart_is_a_phone_sized_png():
    import io

    from PIL import Image

    from scoring.charts.actions import actions_chart

    words = {
        "planned": "Direncanakan",
        "in_progress": "Berjalan",
        "done": "Selesai",
        "dropped": "X",
    }
    rows = [(f"Unit {i}", {"planned": i % 3, "done": i % 5, "in_progress": 1}) for i in range(40)]
    for data in (rows, []):
        png = actions_chart(data, title="Tindak lanjut", subtitle="2026-03-02", status_words=words)
        with Image.open(io.BytesIO(png)) as image:
            assert image.width == 1080
