"""`spibot invites status` and `spibot remind`: output, dry runs and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.test_cli_admin import env, units_csv

__all__ = ["env"]


def test_invites_status_and_remind_dry_run(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invites", "status"]) == 1
    assert "no wave yet" in capsys.readouterr().err
    assert main(["units", "import", str(units_csv())]) == 0
    assert main(["remind", "--dry-run"]) == 0
    assert "no wave is open" in capsys.readouterr().out
    assert main(["wave", "open", "2026-S1"]) == 0
    roster = env / "pegawai.csv"
    roster.write_text("nama,unit\nSari,DINKES\nBudi,DINKES\nTono,KEC-SOOKO\n", encoding="utf-8")
    out = env / "links.csv"
    args = ["invites", "create", "--group", "internal", "--roster", str(roster), "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()

    assert main(["invites", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "wave 2026-S1: personal invitation links per unit"
    dinkes = next(line for line in lines if line.startswith("DINKES "))
    assert dinkes.split()[1:5] == ["internal", "2", "0", "0"]
    assert lines[-1].split() == ["total", "3", "0", "0"]

    assert main(["remind", "--wave", "2026-S1", "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert "nothing sent" in output  # a dry run, or quiet hours if the test runs at night


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remind", "--wave", "nope", "--dry-run"], "no wave named 'nope'"),
        (["remind", "--wave", "2026-S0", "--dry-run"], "is closed"),
        (["invites", "status", "--wave", "nope"], "no wave named 'nope'"),
    ],
)
def test_refusals_name_the_problem(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    assert main(["wave", "open", "2026-S0"]) == 0
    assert main(["wave", "close"]) == 0
    capsys.readouterr()
    assert main(argv) == 1
    assert message in capsys.readouterr().err
