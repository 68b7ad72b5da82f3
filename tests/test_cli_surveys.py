"""`spibot survey import/export`: XLSForm files through the command line."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from services.settings import Settings
from surveys import bundled_questionnaires, load_questionnaire
from surveys.xlsform_import import load_xlsform
from tests.xlsform_fixtures import KOBO_SURVEY, write_xlsform


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment with a SQLite database in tmp_path; returns the folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SPIBOT_SECRET", "cli-test-secret-0123456789")
    return tmp_path


def test_import_stores_an_xlsform_and_export_writes_it_back(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = write_xlsform(env / "kecamatan.xlsx")
    assert main(["survey", "import", str(form)]) == 0
    assert capsys.readouterr().out.strip() == (
        "stored kecamatan v2 (external, 6 questions) as questionnaire #1; no wave uses it until "
        "one chooses it: spibot wave open NAME --questionnaire external=kecamatan"
    )
    # Importing the same form again is the same version, not a conflict.
    assert main(["survey", "import", str(form)]) == 0
    assert "as questionnaire #1" in capsys.readouterr().out
    out = env / "out.xlsx"
    assert main(["survey", "export", "kecamatan", "--xlsx", str(out), "--yaml", "k.yaml"]) == 0
    assert capsys.readouterr().out.strip() == "wrote kecamatan v2 to " + f"{out}, k.yaml"
    assert load_xlsform(out) == load_xlsform(form)
    assert load_questionnaire(env / "k.yaml") == load_xlsform(form)
    assert openpyxl.load_workbook(out).sheetnames == ["survey", "choices", "settings"]


def test_bundled_questionnaire_exports_before_any_wave(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["survey", "export", "internal", "--xlsx", "internal.xlsx"]) == 0
    assert load_xlsform(env / "internal.xlsx") == load_questionnaire_internal()
    # Re-importing an unchanged export of a bundled questionnaire stores it once.
    assert main(["survey", "import", "internal.xlsx"]) == 0
    assert main(["survey", "import", "internal.xlsx"]) == 0
    assert capsys.readouterr().out.count("as questionnaire #1") == 2


def load_questionnaire_internal():
    return next(q for q in bundled_questionnaires().values() if q.id == "internal")


def test_check_only_validates(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    form = write_xlsform(env / "kecamatan.xlsx")
    assert main(["survey", "import", "--check", str(form)]) == 0
    assert capsys.readouterr().out.strip() == f"{form}: ok: kecamatan v2 (external, 6 questions)"
    assert not (env / "cli.db").exists()


def test_bad_input_gets_one_clear_line_each(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repeat: list[dict[str, object]] = [
        *KOBO_SURVEY,
        {"type": "begin_repeat", "name": "r"},
        {"type": "end_repeat"},
    ]
    form = write_xlsform(env / "bad.xlsx", repeat)
    assert main(["survey", "import", str(form)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{form}: sheet 'survey', row 13, column 'type': repeats are not supported"
    )
    assert main(["survey", "import", "missing.xlsx"]) == 2
    assert capsys.readouterr().err.strip() == "error: missing.xlsx: cannot read: no such file"
    assert main(["survey", "export", "nope", "--xlsx", "x.xlsx"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no questionnaire named 'nope' (known: expert, external, internal)"
    )
    assert main(["survey", "export", "internal"]) == 2
    assert "give --xlsx OUT" in capsys.readouterr().err
    assert main(["survey", "export", "internal", "--xlsx", str(env / "no" / "x.xlsx")]) == 2
    assert capsys.readouterr().err.startswith("cannot write: ")


def test_a_changed_form_with_the_same_version_is_refused(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["survey", "import", str(write_xlsform(env / "a.xlsx"))]) == 0
    changed = [dict(r) for r in KOBO_SURVEY]
    changed[3]["label::English (en)"] = "Your age?"
    assert main(["survey", "import", str(write_xlsform(env / "b.xlsx", changed))]) == 2
    assert "raise its version number" in capsys.readouterr().err
