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
    assert "planned: opens 2026-03-10 07:00" in capsys.readouterr().out  # local time (WIB)
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


def test_broadcast_preview_describes_the_picture(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from PIL import Image

    assert main(["units", "import", str(units_csv())]) == 0
    picture = env / "poster.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (0, 90, 160)).save(buffer, format="JPEG")
    picture.write_bytes(buffer.getvalue())
    message = env / "msg.md"
    message.write_text("Aksi antikorupsi. " * 80, encoding="utf-8")  # 1,440 characters
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    capsys.readouterr()
    assert main(["broadcast", "--file", str(message), "--photo", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "[picture: " in out
    assert "JPEG 600x400 px" in out
    assert "sent first; the text below follows as a second message" in out
    assert out.strip().endswith("not sent")
    assert main(["broadcast", "--photo", str(picture)]) == 0
    assert "sent alone]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the picture file is empty"),
        (b"%PDF-1.4 not a picture", "not an image file"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not an image file"),
    ],
)
def test_broadcast_refuses_a_bad_picture(
    env: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    picture = env / "poster.png"
    picture.write_bytes(content)
    text = env / "msg.md"
    text.write_text("halo", encoding="utf-8")
    capsys.readouterr()
    assert main(["broadcast", "--file", str(text), "--photo", str(picture), "--yes"]) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_broadcast_refuses_odd_pictures_and_files(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from PIL import Image

    assert main(["units", "import", str(units_csv())]) == 0
    banner = env / "banner.png"
    buffer = io.BytesIO()
    Image.new("RGB", (4200, 100), (0, 0, 0)).save(buffer, format="PNG")
    banner.write_bytes(buffer.getvalue())
    capsys.readouterr()
    assert main(["broadcast", "--photo", str(banner), "--yes"]) == EXIT_ERROR
    assert "at most 20 times the other" in capsys.readouterr().err
    huge = env / "huge.png"
    huge.write_bytes(b"\x89PNG" + b"\x00" * (10 * 1024 * 1024))
    assert main(["broadcast", "--photo", str(huge), "--yes"]) == EXIT_ERROR
    assert "Telegram takes photos up to 10 MB" in capsys.readouterr().err
    assert main(["broadcast", "--yes"]) == EXIT_ERROR
    assert "--file MSG.md" in capsys.readouterr().err
    latin = env / "latin.md"
    latin.write_bytes("Sosialisasi café".encode("latin-1"))
    assert main(["broadcast", "--file", str(latin), "--yes"]) == EXIT_ERROR
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["broadcast", "--photo", str(env / "missing.png")]) == EXIT_ERROR
    assert "cannot read the picture" in capsys.readouterr().err
