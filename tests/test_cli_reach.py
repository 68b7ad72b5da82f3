"""`spibot invites status` and `spibot remind`: output, dry runs and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import EXIT_ERROR, main
from tests.test_cli_admin import env, units_csv

__all__ = ["env"]


def test_invites_status_and_remind_dry_run(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invites", "status"]) == EXIT_ERROR
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
    assert main(argv) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_broadcast_previews_and_can_be_declined(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    message = env / "msg.md"
    message.write_text("Sosialisasi gratifikasi: Senin 09.00 di aula.\n", encoding="utf-8")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    capsys.readouterr()
    assert main(["broadcast", "--file", str(message), "--units", "DINKES"]) == 0
    out = capsys.readouterr().out
    assert "preview (0 opted-in people, DINKES)" in out
    assert "Sosialisasi gratifikasi" in out
    assert out.strip().endswith("not sent")


@pytest.mark.parametrize(
    ("text", "units", "message"),
    [
        ("", None, "text is empty"),
        ("halo", "NOPE", "unknown unit code(s): NOPE"),
        ("x" * 5000, None, "at most"),
    ],
)
def test_broadcast_refuses_bad_input(
    env: Path, capsys: pytest.CaptureFixture[str], text: str, units: str | None, message: str
) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    file = env / "msg.md"
    file.write_text(text, encoding="utf-8")
    argv = ["broadcast", "--file", str(file), *(["--units", units] if units else []), "--yes"]
    capsys.readouterr()
    assert main(argv) == EXIT_ERROR
    assert message in capsys.readouterr().err
    assert main(["broadcast", "--file", str(env / "missing.md")]) == EXIT_ERROR
    assert "cannot read" in capsys.readouterr().err


def test_wave_plan_and_reopen(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    assert main(["wave", "plan", "2026-S2", "--opens", "2026-03-10 07:00"]) == 0
    assert "planned: opens 2026-03-10T00:00:00+00:00" in capsys.readouterr().out  # 07:00 WIB
    assert main(["wave", "plan", "2026-S2", "--opens", "besok"]) == EXIT_ERROR
    assert "like 2026-03-10 07:00" in capsys.readouterr().err
    argv = ["wave", "plan", "2026-S3", "--opens", "2026-03-10 07:00", "--closes", "2026-03-09"]
    assert main(argv) == EXIT_ERROR
    assert "close after it opens" in capsys.readouterr().err
    assert main(["wave", "open", "2026-S1"]) == 0
    assert main(["wave", "plan", "2026-S1", "--opens", "2026-03-10 07:00"]) == EXIT_ERROR
    assert "already exists" in capsys.readouterr().err
    assert main(["wave", "reopen", "2026-S1"]) == 0
    assert "is open" in capsys.readouterr().out
    assert main(["wave", "close"]) == 0
    assert main(["wave", "reopen", "2026-S1"]) == 0
    assert "open again" in capsys.readouterr().out
    assert main(["wave", "reopen", "nope"]) == EXIT_ERROR
