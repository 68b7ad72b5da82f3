"""A year of waves as the inspectorate runs it (issue 22.4), with the real CLI and the bot
against the sandbox: plans that never overlap, listed and cancelled; links issued for a
planned wave before it opens; the next wave's links for the same roster in one step."""

from __future__ import annotations

import asyncio
import csv
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import storage.db
import storage.waves
from bot.cli import main
from sandbox import SandboxServer
from sandbox.demo import sandbox_settings
from services.settings import Settings
from tests.e2e_fixtures import Clock, Harness, action_buttons, reply

pytestmark = pytest.mark.e2e

UNITS = Path(__file__).parents[1] / "sandbox" / "data" / "mojokerto-units.csv"
# The CLI plans on the real clock: the year of waves is next year, whenever the test runs.
Y = datetime.now(UTC).year + 1
S2_OPENS = datetime(Y, 7, 1, 0, 0, tzinfo=UTC)  # 07:00 WIB


async def cli(*argv: str) -> int:
    """Run `spibot …` as the officer would, beside the running bot."""
    return await asyncio.to_thread(main, list(argv))


def write_roster(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as source:
        return list(csv.DictReader(source))


PEGAWAI = [
    {"nama": "Sri Wahyuni", "nip": "198001012005012001", "unit": "DINKES"},
    {"nama": "Agus Salim", "nip": "197905052006041002", "unit": "DINKES"},
    {"nama": "Dewi Lestari", "nip": "198512122010012003", "unit": "BAPPEDA"},
]


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The officer's environment (the bot reads the same database)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_a_year_of_waves_plans_and_renewed_links(
    shell: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url_for: Callable[[Path], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = secrets.token_urlsafe(32)
    async with SandboxServer() as sandbox:
        settings = sandbox_settings(sandbox, database_url_for(shell), secret)
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        monkeypatch.setenv("SPIBOT_SECRET", secret)
        monkeypatch.setenv("BOT_USERNAME", "spi_sandbox_bot")
        assert await cli("units", "import", str(UNITS)) == 0
        assert await cli("wave", "open", "2026-S1") == 0
        roster = write_roster(shell / "pegawai.csv", PEGAWAI)
        args = ("--group", "internal", "--roster", str(roster), "--out", "s1.csv")
        assert await cli("invites", "create", *args) == 0
        capsys.readouterr()

        # -- the calendar of the year -----------------------------------------------------
        s2 = ("--opens", f"{Y}-07-01 07:00", "--closes", f"{Y}-07-31 17:00")
        assert await cli("wave", "plan", "2026-S2", *s2) == 0
        out, err = capsys.readouterr()
        assert f"planned: opens {Y}-07-01 07:00, closes {Y}-07-31 17:00" in out
        assert "wave '2026-S1' is open with no planned close" in err
        overlapping = ("--opens", f"{Y}-07-15 07:00", "--closes", f"{Y}-08-15 17:00")
        assert await cli("wave", "plan", "2026-S2b", *overlapping) == 2
        err = capsys.readouterr().err
        assert f"overlaps wave '2026-S2' ({Y}-07-01 07:00 to {Y}-07-31 17:00)" in err
        assert await cli("wave", "plan", "2026-S3", "--opens", f"{Y}-10-01 07:00") == 0
        assert await cli("wave", "plan", "2027-S1", "--opens", f"{Y + 1}-01-05 07:00") == 2
        assert f"overlaps wave '2026-S3' (from {Y}-10-01 07:00, with no closing time)" in (
            capsys.readouterr().err
        )
        s3 = ("--opens", f"{Y}-10-01 07:00", "--closes", f"{Y}-10-31 17:00")
        assert await cli("wave", "plan", "2026-S3", *s3) == 0  # re-planned with a close
        assert await cli("wave", "plan", "2027-S1", "--opens", f"{Y + 1}-01-05 07:00") == 0
        assert await cli("wave", "plan", "2026-S1", "--opens", f"{Y}-12-01 07:00") == 2
        assert "a wave named '2026-S1' already exists" in capsys.readouterr().err

        # -- links for planned waves ----------------------------------------------------------
        assert (
            await cli(
                "invites", "renew", "--from", "2026-S1", "--roster", "s1.csv", "--out", "s2.csv"
            )
            == 0
        )
        out = capsys.readouterr().out
        assert (
            f"3 personal links for wave '2026-S2' (3 internal, working from {Y}-07-01 07:00)" in out
        )
        assert "'2026-S1' issued 3 internal; 0 rows had no link from it" in out
        s1_rows, s2_rows = read_rows(shell / "s1.csv"), read_rows(shell / "s2.csv")
        assert [r["nama"] for r in s2_rows] == [r["nama"] for r in s1_rows]
        assert all(a["link"] != b["link"] for a, b in zip(s1_rows, s2_rows, strict=True))

        # HR adds a person and someone edits a link: every bad line is named, nothing issued.
        edited = [dict(r) for r in s2_rows]
        edited[1]["link"] = edited[1]["link"][:-3] + "xyz"
        edited.append(
            {"nama": "Budi Santoso", "nip": "199001012015011001", "unit": "DINKES", "link": ""}
        )
        write_roster(shell / "s2-hr.csv", edited)
        renew = (
            "invites",
            "renew",
            "--from",
            "2026-S2",
            "--roster",
            "s2-hr.csv",
            "--out",
            "s3.csv",
        )
        assert await cli(*renew) == 2
        err = capsys.readouterr().err
        assert "no wave named '2026-S2'" in err  # a plan is not a wave yet: nothing to renew from
        renew = (
            "invites",
            "renew",
            "--from",
            "2026-S1",
            "--to",
            "2026-S3",
            "--roster",
            "s2-hr.csv",
        )
        assert await cli(*renew, "--out", "s3.csv") == 2
        err = capsys.readouterr().err
        assert "line 2: the link is not one of the --from wave's" in err
        assert "line 3: the link is not one of the --from wave's" in err
        assert "line 5: no link from wave '2026-S1': a new person? give --group" in err
        assert not (shell / "s3.csv").exists()

        eksper = write_roster(shell / "eksper.csv", [{"nama": "Prof. Hadi", "unit": "INSPEKTORAT"}])
        args = ("--group", "expert", "--roster", str(eksper), "--out", "s3-eksper.csv")
        assert await cli("invites", "create", *args, "--wave", "2026-S3") == 0
        assert f"(planned: they work from {Y}-10-01 07:00)" in capsys.readouterr().out
        assert await cli("wave", "plan", "--list") == 0
        listing = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in listing[1:]] == ["2026-S2", "2026-S3", "2027-S1"]
        s2_line = next(line for line in listing if line.startswith("2026-S2"))
        assert "planned" in s2_line
        assert " 3  defaults" in s2_line
        assert " 1  defaults" in next(line for line in listing if line.startswith("2026-S3"))
        assert await cli("wave", "plan", "--cancel", "2026-S3") == 2
        assert "1 personal links were issued for '2026-S3'" in capsys.readouterr().err
        assert await cli("wave", "plan", "--cancel", "2026-S3", "--yes") == 0
        assert "its 1 personal links no longer work" in capsys.readouterr().out
        assert await cli("wave", "plan", "--cancel", "2026-S3") == 2
        assert "no planned wave named '2026-S3'" in capsys.readouterr().err

        # -- the employees' side ------------------------------------------------------------
        clock = Clock()
        async with storage.db.Database(settings.database_url) as db:
            s1 = await storage.waves.get_wave(db.engine, "2026-S1")
        assert s1 is not None
        h = Harness(sandbox=sandbox, settings=settings, clock=clock, wave=s1)
        await h.start()
        try:
            employee = h.user()
            s2_link = s2_rows[0]["link"].split("start=", 1)[1]
            await employee.open_deep_link(s2_link)
            early = (await reply(employee)).plain_text
            assert "belum dibuka" in early
            assert f"1 Juli {Y} pukul 07.00" in early
            expert = h.user("en")
            await expert.open_deep_link(read_rows(shell / "s3-eksper.csv")[0]["link"].split("=")[1])
            assert "not valid" in (await reply(expert)).plain_text  # its plan was cancelled

            assert await cli("wave", "close") == 0
            clock.now = S2_OPENS
            assert h.app is not None
            await h.app.bot_data.scheduler.tick()
            current = await storage.waves.current_wave(h.engine)
            assert current is not None
            assert current.name == "2026-S2"
            await employee.open_deep_link(s2_link)
            assert action_buttons(await reply(employee), "ok")  # consent: the survey begins
            colleague = h.user()
            await colleague.open_deep_link(s1_rows[1]["link"].split("start=", 1)[1])
            assert "sudah ditutup" in (await reply(colleague)).plain_text
        finally:
            await h.stop()
