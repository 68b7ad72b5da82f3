"""The inspectorate officer's questionnaire lifecycle (issue 22.1), with the real CLI and the
bot against the sandbox: a Kobo form written the way Kobo and ODK users write it (a plain
form_title, hints, ". > 0") is checked, imported, listed as unused, chosen for a wave, shown,
and answered by a resident who sees its hint and its bound."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

import storage.db
import storage.waves
from bot.cli import main
from sandbox import SandboxServer
from sandbox.demo import sandbox_settings
from services.admin import import_units_csv
from services.settings import Settings
from tests.e2e_fixtures import Clock, Harness, reply
from tests.test_e2e_survey import open_survey, tap_action
from tests.xlsform_fixtures import write_xlsform

pytestmark = pytest.mark.e2e

LABELS = ("label::Indonesian (id)", "label::English (en)")


def _label(id_text: str, en_text: str) -> dict[str, object]:
    return dict(zip(LABELS, (id_text, en_text), strict=True))


# A form as a Kobo user writes it: one plain form_title, hints in one or both languages, a
# strict bound on a decimal question.
LAYANAN = [
    {"type": "note", "name": "intro", **_label("Terima kasih.", "Thank you.")},
    {
        "type": "decimal",
        "name": "biaya",
        **_label("Berapa biaya yang Anda bayar (ribu rupiah)?", "How much did you pay (thousand)?"),
        "hint::Indonesian (id)": "Lihat kuitansi Anda.",
        "hint::English (en)": "See your receipt.",
        "constraint": ". > 0",
        "required": "yes",
    },
    {
        "type": "select_one ya_tidak",
        "name": "ti_diminta",
        **_label("Apakah Anda diminta membayar lebih?", "Were you asked to pay more?"),
        "dimension": "task_integrity",
        "reverse": "yes",
        "required": "yes",
    },
    {
        "type": "text",
        "name": "saran",
        **_label("Apa saran Anda?", "What do you suggest?"),
        "relevant": "${ti_diminta} = 'ya'",
        "required": "no",
    },
]
CHOICES = [("ya_tidak", "ya", "Ya", "Yes", 100), ("ya_tidak", "tidak", "Tidak", "No", 0)]
SETTINGS = {"form_title": "Survei Layanan Publik", "form_id": "layanan", "version": "1"}


def cli(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture
def officer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url_for: Callable[[Path], str]
) -> Path:
    """The officer's shell: settings in the environment, a database with the 49 units."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url_for(tmp_path))
    monkeypatch.setenv("SPIBOT_SECRET", secrets.token_urlsafe(32))
    monkeypatch.setenv("BOT_USERNAME", "spi_sandbox_bot")
    units = Path(__file__).parents[1] / "sandbox" / "data" / "mojokerto-units.csv"
    assert cli("units", "import", str(units)) == 0
    return tmp_path


def test_an_imported_form_is_listed_chosen_shown_and_its_choice_kept_by_a_plan(
    officer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = write_xlsform(
        officer / "layanan.xlsx", LAYANAN, CHOICES, {**SETTINGS, "group": "external"}
    )
    assert cli("survey", "import", str(form), "--check") == 0
    assert "ok: layanan v1 (external, 3 questions)" in capsys.readouterr().out
    assert cli("survey", "import", str(form)) == 0
    out = capsys.readouterr().out
    assert "no wave uses it until one chooses it" in out
    assert "--questionnaire external=layanan" in out

    assert cli("survey", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    layanan = next(line for line in listing if line.startswith("layanan "))
    assert "xlsform: layanan.xlsx" in layanan
    assert "none: no wave used it" in layanan
    internal = next(line for line in listing if line.startswith("internal "))
    assert "bundled" in internal
    assert "the next wave uses it by default" in internal

    # The first wave takes the defaults, and says which, and that layanan waits unused.
    assert cli("wave", "open", "2026-S1") == 0
    opened = capsys.readouterr().out
    assert "external: external v3 (bundled)" in opened
    assert "note: layanan v1 (external) is stored but no wave uses it" in opened
    assert cli("wave", "close") == 0

    # A wrong choice is refused clearly, before anything opens.
    assert cli("wave", "open", "2026-S2", "--questionnaire", "internal=layanan") == 2
    assert "layanan is a questionnaire for the external group" in capsys.readouterr().err
    assert cli("wave", "open", "2026-S2", "--questionnaire", "external=layanann") == 2
    assert "no such questionnaire (external, layanan)" in capsys.readouterr().err
    assert cli("wave", "open", "2026-S2", "--questionnaire", "layanan") == 2
    assert "write GROUP=NAME" in capsys.readouterr().err
    assert cli("wave", "list") == 0
    assert "2026-S2" not in capsys.readouterr().out

    assert cli("wave", "open", "2026-S2", "--questionnaire", "external=layanan") == 0
    opened = capsys.readouterr().out
    assert "external: layanan v1 (xlsform: layanan.xlsx)" in opened
    assert "internal: internal v3 (bundled)" in opened
    assert "note:" not in opened
    assert cli("survey", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert "2026-S2" in next(line for line in listing if line.startswith("layanan "))
    external = next(line for line in listing if line.startswith("external "))
    assert "2026-S1" in external
    assert "2026-S2" not in external

    assert cli("survey", "show", "layanan") == 0
    shown = capsys.readouterr().out
    assert "layanan v1 · group external · 3 questions, 1 scored" in shown
    assert "title en: Survei Layanan Publik" in shown  # a plain form_title titles both
    assert "hint id: Lihat kuitansi Anda." in shown
    assert "hint en: See your receipt." in shown
    assert "answer: more than 0" in shown
    assert "Ya / Yes  (score 100)" in shown
    assert "shown only if 'ti_diminta' is “Ya / Yes”" in shown
    assert cli("survey", "show", "layanan@7") == 2
    assert "no questionnaire named 'layanan@7'" in capsys.readouterr().err

    # A planned wave stores its choice, and opening it (by hand here) uses it.
    assert cli("wave", "close") == 0
    args = ["wave", "plan", "2026-S3", "--opens", "2026-09-01 07:00"]
    assert cli(*args, "--questionnaire", "external=layanan@1") == 0
    assert "questionnaires: external=layanan@1" in capsys.readouterr().out
    assert cli("wave", "plan", "--list") == 0
    assert "external=layanan@1" in capsys.readouterr().out
    assert cli("survey", "list") == 0
    layanan = next(line for line in capsys.readouterr().out.splitlines() if "layanan " in line)
    assert "2026-S3 (planned)" in layanan
    assert cli("wave", "open", "2026-S3") == 0
    assert "external: layanan v1" in capsys.readouterr().out


def test_the_check_warns_of_a_form_that_scores_nothing(
    officer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unscored = [row for row in LAYANAN if row["name"] != "ti_diminta"]
    for row in unscored:
        row.pop("relevant", None)
    form = write_xlsform(
        officer / "tanpa-skor.xlsx", unscored, CHOICES, {**SETTINGS, "group": "external"}
    )
    assert cli("survey", "import", str(form), "--check") == 0
    captured = capsys.readouterr()
    assert "ok: layanan v1" in captured.out
    assert "warning:" in captured.err
    assert "no question is scored" in captured.err


def test_every_unsupported_feature_is_reported_in_one_run(
    officer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        *LAYANAN[:2],
        {**LAYANAN[2], "type": "select_one ya_tidak or_other"},  # row 4
        {"type": "calculate", "name": "total", "calculation": "${biaya} * 2"},  # row 5
        {**LAYANAN[3], "constraint": "regex(., '^[a-z]+$')"},  # row 6
        {"type": "begin_repeat", "name": "anggota", **_label("Anggota", "Member")},  # row 7
        {"type": "integer", "name": "umur", **_label("Umur", "Age")},
        {"type": "end_repeat"},
    ]
    form = write_xlsform(officer / "kobo.xlsx", rows, CHOICES, {**SETTINGS, "group": "external"})
    assert cli("survey", "import", str(form), "--check") == 2
    err = capsys.readouterr().err
    assert "row 4, column 'type': 'or_other' is not supported" in err
    assert "row 5, column 'type': calculations are not supported" in err
    assert "row 6, column 'constraint': unsupported constraint" in err
    assert "row 7, column 'type': repeats are not supported" in err
    assert len(err.strip().splitlines()) == 4, err
    assert cli("survey", "list") == 0
    assert "layanan" not in capsys.readouterr().out  # nothing was stored


async def test_a_resident_sees_the_hint_and_the_strict_bound(
    tmp_path: Path, database_url_for: Callable[[Path], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    form = write_xlsform(
        tmp_path / "layanan.xlsx", LAYANAN, CHOICES, {**SETTINGS, "group": "external"}
    )
    secret = secrets.token_urlsafe(32)
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(sandbox, database_url_for(tmp_path), secret)
        for name in Settings.model_fields:
            monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        monkeypatch.setenv("SPIBOT_SECRET", secret)
        monkeypatch.chdir(tmp_path)
        units = Path(__file__).parents[1] / "sandbox" / "data" / "mojokerto-units.csv"
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            await import_units_csv(db.engine, units)
        assert await asyncio.to_thread(main, ["survey", "import", str(form)]) == 0
        code = await asyncio.to_thread(
            main, ["wave", "open", "2026-S1", "--questionnaire", "external=layanan"]
        )
        assert code == 0
        async with storage.db.Database(settings.database_url) as db:
            wave = await storage.waves.current_wave(db.engine)
        assert wave is not None
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=wave)
        await h.start()
        try:
            user = h.user()
            question = await open_survey(h, user, h.unit_payload())
            assert "Berapa biaya yang Anda bayar" in question.plain_text
            assert "Lihat kuitansi Anda." in question.plain_text  # the form's hint
            assert "lebih dari 0" in question.plain_text
            await user.send("0")
            assert "Angka harus lebih dari 0" in (await reply(user)).plain_text
            await user.send("12,5")
            question = await reply(user)
            assert "diminta membayar lebih" in question.plain_text
            question = await tap_action(user, "a", 0)  # ya: the suggestion follows
            assert "Apa saran Anda?" in question.plain_text

            english = h.user("en")
            question = await open_survey(h, english, h.unit_payload())
            assert "See your receipt." in question.plain_text
            assert "greater than 0" in question.plain_text
        finally:
            await h.stop()
