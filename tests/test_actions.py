"""Follow-up plans: input checks, who may change what, and the matrix through the CLI."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
from openpyxl import load_workbook

import storage
from bot.cli import main
from services.access import Viewer
from services.actions import (
    MATRIX_COLUMNS,
    ActionProblem,
    Outcome,
    add_for,
    new_action,
    parse_due,
    read_matrix,
    set_status_for,
)
from services.admin import import_units_csv
from storage import ActionStatus

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
HEAD_DINKES = Viewer(unit_code="DINKES", unit_name="Dinas Kesehatan")
HEAD_BAPPEDA = Viewer(unit_code="BAPPEDA", unit_name="Bappeda")
LEADERSHIP = Viewer(leadership=True)


@pytest.mark.parametrize("text", ["2026-04-30", "30-04-2026", "30/04/2026", " 30.04.2026 "])
def test_due_dates_in_usual_forms(text):
    assert parse_due(text) == date(2026, 4, 30)


@pytest.mark.parametrize("text", ["", "besok", "2026-02-30", "31/13/2026", "2026-04-30T10:00"])
def test_bad_due_dates(text):
    with pytest.raises(ActionProblem) as caught:
        parse_due(text)
    assert caught.value.key == "actions_bad_date"


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
        async with storage.Database(url) as db:
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
    assert "actions: 2 added" in capsys.readouterr().out

    out_csv = tmp_path / "out.csv"
    assert _spibot(env_file, "actions", "export", str(out_csv)) == 0
    assert "wrote 2 actions" in capsys.readouterr().out
    rows = list(csv.reader(out_csv.open(encoding="utf-8")))
    assert rows[0] == list(MATRIX_COLUMNS.values())
    assert rows[1][1:3] == ["DINKES", "Dinas Kesehatan"]
    assert rows[1][7:9] == ["2026-04-30", "planned"]
    # The export reads back as it is.
    assert [a.what for a in read_matrix(out_csv)] == [
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
    assert [a.unit_code for a in read_matrix(out_xlsx)] == ["BAPPEDA"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["Unit", "Rencana aksi"]], "Missing columns: Kode unit, Penanggung jawab, Target waktu"),
        (
            [HEADER, ["DINKES", "", "Publish", "Kabid", "next week"]],
            "row 2: “next week” is not a date",
        ),
        ([HEADER, ["DINKES", "bribes", "Publish", "Kabid", "2026-04-30"]], "Unknown dimension"),
        ([HEADER, ["NOPE", "", "Publish", "Kabid", "2026-04-30"]], "unknown unit code 'NOPE'"),
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
