"""The `spibot` command line: configuration errors, questionnaires, units, waves, links."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from bot.cli import main
from services.security import verify_signed_payload
from services.settings import Settings
from surveys import Group, bundled_path, bundled_questionnaires

SECRET = "cli-test-secret-0123456789"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment with a SQLite database in tmp_path; returns the folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SPIBOT_SECRET", SECRET)
    monkeypatch.setenv("BOT_USERNAME", "spi_mojokerto_bot")
    return tmp_path


def units_csv() -> Path:
    with resources.as_file(resources.files("sandbox.data").joinpath("mojokerto-units.csv")) as path:
        return Path(path)


def test_help_is_fast_and_lists_commands() -> None:
    # Fast means: no pandas, matplotlib or SQLAlchemy imported just to print help.
    code = (
        "import sys; from bot.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('pandas', 'matplotlib', 'sqlalchemy', 'telegram')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    for command in ("run", "demo", "db", "survey", "units", "wave", "invites", "link"):
        assert command in out.stdout


def test_run_without_token_names_the_variable(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "configuration error: TELEGRAM_BOT_TOKEN: not set; get one from @BotFather"


def test_run_without_secret_names_the_variable(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.delenv("SPIBOT_SECRET")
    assert main(["run"]) == 2
    assert capsys.readouterr().err.startswith("configuration error: SPIBOT_SECRET: not set")


def test_malformed_setting_stops_with_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMEZONE", "Jakarta")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("configuration error: TIMEZONE:")


def test_survey_validate(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [str(bundled_path(g)) for g in Group]
    assert main(["survey", "validate", *good]) == 0
    assert capsys.readouterr().out.count(": ok (") == 3
    broken = env / "broken.yaml"
    broken.write_text("id: x\nversion: 0\ngroup: citizens\n")
    assert main(["survey", "validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err
    assert "group" in err
    assert main(["survey", "validate", str(env / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_survey_load_then_wave_uses_it(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = bundled_path(Group.EXPERT).read_text(encoding="utf-8")
    version = bundled_questionnaires()[Group.EXPERT].version
    newer = env / "expert-newer.yaml"
    bumped = source.replace(f"version: {version}", f"version: {version + 1}", 1)
    newer.write_text(bumped, encoding="utf-8")
    assert main(["survey", "load", str(newer)]) == 0
    assert f"v{version + 1}" in capsys.readouterr().out
    assert main(["survey", "load", str(newer)]) == 0  # idempotent


def test_units_waves_invitations_and_links(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "import", str(units_csv())]) == 0
    assert capsys.readouterr().out.strip() == "units: 49 created, 0 updated"
    assert main(["units", "import", str(units_csv())]) == 0
    assert capsys.readouterr().out.strip() == "units: 0 created, 49 updated"

    assert (
        main(["invites", "create", "--group", "internal", "--roster", "x.csv", "--out", "y.csv"])
        == 2
    )
    assert "no wave is open" in capsys.readouterr().err

    assert main(["wave", "open", "2026-S1"]) == 0
    assert "is open" in capsys.readouterr().out
    assert main(["wave", "open", "2026-S2"]) == 2
    assert "already open" in capsys.readouterr().err

    roster = env / "pegawai.csv"
    roster.write_text("nama;unit;nip\nSari;DINKES;1980\nBudi;kec-sooko;1975\n", encoding="utf-8")
    out = env / "links.csv"
    assert (
        main(
            ["invites", "create", "--group", "internal", "--roster", str(roster), "--out", str(out)]
        )
        == 0
    )
    assert "2 personal links" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["nama"] for r in rows] == ["Sari", "Budi"]
    assert all(r["link"].startswith("https://t.me/spi_mojokerto_bot?start=i") for r in rows)
    assert rows[0]["link"] != rows[1]["link"]
    assert "Sari" not in (env / "cli.db").read_bytes().decode("latin-1")  # no names stored

    bad = env / "bad.csv"
    bad.write_text("nama,unit\nA,NOPE\n", encoding="utf-8")
    assert (
        main(["invites", "create", "--group", "expert", "--roster", str(bad), "--out", str(out)])
        == 2
    )
    assert "line 2: unknown unit code 'NOPE'" in capsys.readouterr().err

    poster = env / "poster.png"
    assert main(["link", "--unit", "dispendukcapil", "--qr", str(poster)]) == 0
    link = capsys.readouterr().out.splitlines()[0]
    payload = link.split("start=", 1)[1]
    assert len(payload) <= 64
    # A poster names no wave: it keeps working for every later wave.
    assert verify_signed_payload(SECRET.encode(), payload) == "pDISPENDUKCAPIL"
    assert poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["link", "--unit", "INSPEKTORAT"]) == 2
    assert "does not serve the public" in capsys.readouterr().err

    assert main(["wave", "list"]) == 0
    assert "2026-S1" in capsys.readouterr().out
    assert main(["wave", "close"]) == 0
    assert "is closed" in capsys.readouterr().out
    # Between waves a poster link still prints (it works again when the next wave opens)...
    assert main(["link", "--unit", "DINKES"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("https://t.me/")
    assert "no wave is open" in err
    # ...but a link bound to a closed wave would never work: refused.
    assert main(["link", "--unit", "DINKES", "--wave", "2026-S1"]) == 2
    assert "closed" in capsys.readouterr().err


def test_units_import_reports_bad_rows(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = env / "units.csv"
    bad.write_text("code,name,kind,parent,serves_public\nA,Satu,opd,ZZZ,yes\n", encoding="utf-8")
    assert main(["units", "import", str(bad)]) == 2
    assert "ZZZ" in capsys.readouterr().err


def test_units_import_takes_population_counts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = env / "units.csv"
    units.write_text(
        "code,name,kind,parent,serves_public,staff_count,expert_count,service_user_count\n"
        "DINKES,Dinas Kesehatan,opd,,yes,420,9,25000\n"
        "KEC-PURI,Kecamatan Puri,kecamatan,,yes,,5,\n",
        encoding="utf-8",
    )
    assert main(["units", "import", str(units)]) == 0
    capsys.readouterr()
    assert main(["units", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "staff/expert/users" in lines[0]
    assert "420/9/25000" in lines[1]
    assert "-/5/-" in lines[2]
    units.write_text(
        "code,name,kind,parent,serves_public,expert_count\nA,Satu,opd,,no,banyak\n",
        encoding="utf-8",
    )
    assert main(["units", "import", str(units)]) == 2
    assert "expert_count must be a whole number" in capsys.readouterr().err
