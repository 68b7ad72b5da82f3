"""The deployment files (docs/deploy.md): docker cannot run here, so they are parsed and
checked: services, commands, and the settings each bot process would start with."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.webhook import WEBHOOK_PATH
from services.settings import load_settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ENV = {
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "SPIBOT_SECRET": "s" * 32,
    "WEBHOOK_SECRET": "w" * 32,
    "POSTGRES_PASSWORD": "pw",
    "SPIBOT_DOMAIN": "spi.example.go.id",
}
BOTS = ("bot1", "bot2", "bot3")


def _substitute(value: str) -> str:
    """Expand ${VAR}, ${VAR:?message} and ${VAR:-default} as docker compose does."""

    def one(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        name = name.split(":?", 1)[0]
        return ENV.get(name, default)

    return re.sub(r"\$\{([^}]+)\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {key: _substitute(str(value)) for key, value in service["environment"].items()}


def test_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", *BOTS, "caddy"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["caddy"]["image"].startswith("caddy:")
    assert "443:443" in services["caddy"]["ports"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in BOTS:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_every_command_is_one_the_cli_knows(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name in (*BOTS, "migrate"):
        command = compose["services"][name]["command"]
        assert command[0] == "spibot"
        parser.parse_args(command[1:])  # exits (SystemExit) on an unknown command
    assert all(compose["services"][name]["command"][1:] == ["run", "--webhook"] for name in BOTS)


def test_each_bot_process_starts_with_valid_webhook_settings(compose: dict[str, Any]) -> None:
    public = []
    connections = 0
    for name in BOTS:
        env = _environment(compose["services"][name])
        settings = load_settings(None, **{key.lower(): value for key, value in env.items()})
        assert settings.require_webhook_secret() == ENV["WEBHOOK_SECRET"]
        assert settings.database_url.startswith("postgresql+asyncpg://spibot:pw@postgres:5432/")
        assert settings.webhook_host_port == ("0.0.0.0", 8080)
        assert settings.log_format == "json"
        assert settings.concurrent_updates > 1
        connections += settings.db_pool_size + settings.db_max_overflow
        if settings.webhook_public_url:
            public.append(settings.webhook_public_url)
    # One process calls setWebhook, with the domain the proxy serves.
    assert public == [f"https://{ENV['SPIBOT_DOMAIN']}"]
    assert connections < 100  # PostgreSQL's default max_connections, with room to spare


def test_the_proxy_sends_only_the_webhook_to_every_bot() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert f"handle {WEBHOOK_PATH} {{" in caddyfile
    proxy = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert proxy is not None
    assert proxy.group(1).split() == [f"{name}:8080" for name in BOTS]
    assert "health_uri /readyz" in caddyfile
    assert "respond 404" in caddyfile  # /metrics and the probes stay inside


def test_the_proxy_sends_the_dashboard_to_every_bot(compose: dict[str, Any]) -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    dashboard = caddyfile.split("handle /app/* {", 1)[1].split("\n\t}", 1)[0]
    proxy = re.search(r"reverse_proxy ([^{]+)\{", dashboard)
    assert proxy is not None
    assert proxy.group(1).split() == [f"{name}:8080" for name in BOTS]
    for name in BOTS:
        env = _environment(compose["services"][name])
        settings = load_settings(None, **{key.lower(): value for key, value in env.items()})
        assert settings.dashboard_url == f"https://{ENV['SPIBOT_DOMAIN']}/app/"


def test_the_image_holds_every_package() -> None:
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {
        line.split()[1]
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    }
    assert {name.rstrip("*") for name in packages} <= copied


def test_the_systemd_unit_polls_on_sqlite() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read(DEPLOY / "spibot.service")
    service = unit["Service"]
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    assert shlex.split(service["ExecStartPre"])[1:] == ["db", "upgrade"]
    build_parser().parse_args(["run"])
    assert service["Restart"] == "on-failure"
    assert service["User"] == "spibot"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_keeps_its_files_private_and_can_write_backups() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read(DEPLOY / "spibot.service")
    service = unit["Service"]
    assert service["UMask"] == "0077"
    assert service["StateDirectoryMode"] == "0700"
    # The folder the unit's env comment names for BACKUP_DIR is one systemd creates writable.
    assert "spibot/backups" in service["StateDirectory"].split()
    assert "/var/lib/spibot" in service["ReadWritePaths"].split()
    assert "BACKUP_DIR=/var/lib/spibot/backups" in (DEPLOY / "spibot.service").read_text()
