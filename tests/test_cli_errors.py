"""Every `spibot` command answers a bad argument with one clear line and exit code 2.

The table below has a bad call for each subcommand, and a test checks that the table covers
every subcommand the parser has, so a new command cannot skip this.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from services.settings import Settings
from surveys import Group, bundled_path

SECRET = "cli-test-secret-0123456789"


def _leaf_commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> set[tuple[str, ...]]:
    """Return every runnable command path, e.g. ("wave", "open")."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {prefix}
    out: set[tuple[str, ...]] = set()
    for name, child in subs[0].choices.items():
        out |= _leaf_commands(child, (*prefix, name))
    return out


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database with the sample units and an open wave 2026-S1; returns the folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    # Settings come from ./.env only, so --env-file really decides (the environment would win).
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'cli.db'}\n"
        f"SPIBOT_SECRET={SECRET}\nBOT_USERNAME=spi_mojokerto_bot\n",
        encoding="utf-8",
    )
    units = resources.files("sandbox.data").joinpath("mojokerto-units.csv")
    with resources.as_file(units) as path:
        assert main(["units", "import", str(path)]) == 0
    assert main(["wave", "open", "2026-S1"]) == 0
    # The same id and version as the stored bundled questionnaire, with other content (a
    # comment alone is the same questionnaire written differently: no conflict).
    source = bundled_path(Group.EXPERT).read_text(encoding="utf-8")
    edited = source.replace("Integrity Assessment Survey — Experts", "Integrity Survey — Experts")
    assert edited != source
    (tmp_path / "conflict.yaml").write_text(edited)
    (tmp_path / "bad-db.env").write_text("DATABASE_URL=mysql://root@localhost/spibot\n")
    (tmp_path / "a-file").write_text("not a folder\n")
    return tmp_path


# One bad call per command; each must end in exit code 2 with a one-line explanation.
BAD_CALLS: dict[tuple[str, ...], list[str]] = {
    ("run",): ["--env-file", "/nonexistent/.env", "run"],
    ("demo",): ["demo", "--respondents", "0"],
    ("db", "upgrade"): ["--env-file", "bad-db.env", "db", "upgrade"],
    ("survey", "validate"): ["survey", "validate", "missing.yaml"],
    ("survey", "load"): ["survey", "load", "conflict.yaml"],
    ("units", "import"): ["units", "import", "missing.csv"],
    ("units", "list"): ["--env-file", "nowhere.env", "units", "list"],
    ("wave", "open"): ["wave", "open", "2026-S1"],
    ("wave", "close"): ["wave", "close", "1999"],
    ("wave", "list"): ["--env-file", "bad-db.env", "wave", "list"],
    ("invites", "create"): [
        *("invites", "create", "--group", "internal", "--roster", "missing.csv"),
        *("--out", "links.csv"),
    ],
    ("link",): ["link", "--unit", "NOPE"],
    ("score",): ["score", "--unit", "NOPE"],
    ("correction", "set"): [
        *("correction", "set", "--integrity", "inf", "--prevalence", "0", "--note", "x"),
    ],
    ("correction", "list"): ["correction", "list", "--wave", "1999"],
    ("grant",): ["grant", "--role", "unit_head"],
    ("report",): ["report", "--out", "a-file"],
    ("actions", "export"): ["actions", "export", "--out", "a-file/x.csv"],
    ("actions", "import"): ["actions", "import", "missing.csv"],
    ("broadcast",): ["broadcast", "--file", "missing.md"],
    ("comments",): ["comments", "--wave", "1999"],
    ("db", "backup"): ["db", "backup", "a-file"],
    ("db", "reshuffle"): ["--env-file", "bad-db.env", "db", "reshuffle"],
    ("db", "restore"): ["db", "restore", "missing.db", "--yes"],
    ("export",): ["export", "--wave", "1999", "--out", "out"],
    ("invites", "status"): ["invites", "status", "--wave", "1999"],
    ("invites", "renew"): [
        *("invites", "renew", "--from", "2026-S1", "--roster", "missing.csv"),
        *("--out", "links.csv"),
    ],
    ("peers",): ["peers", "--year", "next"],
    ("remind",): ["remind", "--wave", "1999"],
    ("survey", "export"): ["survey", "export", "nope", "--xlsx", "out.xlsx"],
    ("survey", "import"): ["survey", "import", "missing.xlsx"],
    ("survey", "list"): ["--env-file", "bad-db.env", "survey", "list"],
    ("survey", "show"): ["survey", "show", "nope"],
    ("wave", "plan"): ["wave", "plan", "2026-S9", "--opens", "not-a-date"],
    ("wave", "reopen"): ["wave", "reopen", "1999"],
    ("whatif",): ["whatif", "--dimension", "nope", "--delta", "5"],
    ("quality", "exclude"): [
        *("quality", "exclude", "--unit", "NOPE", "--group", "internal", "--kind", "burst"),
        *("--reason", "x"),
    ],
    ("quality", "restore"): ["quality", "restore", "--exclusion", "7", "--yes"],
}


def test_every_command_has_a_bad_call() -> None:
    assert set(BAD_CALLS) == _leaf_commands(build_parser())


@pytest.mark.parametrize("command", sorted(BAD_CALLS), ids=" ".join)
def test_a_bad_argument_gives_one_line_and_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    capsys.readouterr()
    try:
        code = main(BAD_CALLS[command])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
        err = capsys.readouterr().err
        assert err.splitlines()[-1].startswith("usage: ") or ": error: " in err
    else:
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(("error: ", "configuration error: ")), err
    assert code == 2
    assert "Traceback" not in err


def test_a_named_settings_file_must_exist(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No silent fallback to the defaults (which would create ./spibot.db)."""
    capsys.readouterr()
    assert main(["--env-file", "typo.env", "wave", "list"]) == 2
    assert capsys.readouterr().err == "configuration error: --env-file typo.env: does not exist\n"
    assert main(["--env-file", str(env), "wave", "list"]) == 2  # a folder
    assert "is not a file" in capsys.readouterr().err
    assert not (env / "spibot.db").exists()


def test_a_survey_load_conflict_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["survey", "load", "conflict.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "expert" in err
    assert err.count("\n") == 1


def test_link_for_a_closed_wave_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A link bound to a closed wave never works: one line, exit 2, no link printed."""
    assert main(["wave", "close"]) == 0
    capsys.readouterr()
    assert main(["link", "--unit", "DINKES", "--wave", "2026-S1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: --wave: 2026-S1 is closed; a link bound to it never works\n"


def test_score_json_into_a_closed_pipe_has_no_traceback(env: Path) -> None:
    """`spibot score --json | head`: the reader is gone when the report is written."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "score", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=env,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.close()  # before the report is ready, so its first write meets a closed pipe
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in err
    assert "BrokenPipe" not in err
    assert err == ""


def test_run_against_an_unreachable_bot_api_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """No traceback from PTB's start-up retry loop: getMe is asked first, and answered in a line."""
    settings = (env / ".env").read_text(encoding="utf-8")
    (env / "closed-port.env").write_text(
        settings + "TELEGRAM_BOT_TOKEN=1:abc\nTELEGRAM_API_BASE_URL=http://127.0.0.1:9/bot\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["--env-file", "closed-port.env", "run"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: cannot reach the Bot API at http://127.0.0.1:9")
    assert "Traceback" not in err
    assert not [r for r in caplog.records if r.exc_info]
