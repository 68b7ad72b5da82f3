"""Settings: defaults, parsing, and one clear line per bad variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settings import ConfigError, Settings, load_settings

SECRET = "s" * 32


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults() -> None:
    settings = load_settings(None)
    assert settings.database_url == "sqlite+aiosqlite:///./spibot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.file_base_url == "https://api.telegram.org/file/bot"
    assert settings.timezone == "Asia/Jakarta"
    assert settings.default_language == "id"
    assert settings.admin_user_ids == ()


def test_env_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", "11, 22;33")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("SPIBOT_SECRET", SECRET)
    settings = load_settings(None)
    assert settings.admin_user_ids == (11, 22, 33)
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"
    assert settings.secret_bytes() == SECRET.encode()


def test_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DEFAULT_LANGUAGE=en\nTIMEZONE=Asia/Makassar\n")
    settings = load_settings(env)
    assert settings.default_language == "en"
    assert settings.zone.key == "Asia/Makassar"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_USER_IDS", "12,abc"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("DATABASE_URL", "mysql://root@localhost/spi"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("SMALL_CELL_K", "0"),
        ("WEBHOOK_LISTEN", "8080"),
        ("WEBHOOK_LISTEN", "127.0.0.1:http"),
        ("WEBHOOK_PUBLIC_URL", "bot.example.go.id"),
        ("LOG_FORMAT", "xml"),
        ("DB_POOL_SIZE", "0"),
    ],
)
def test_malformed_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    message = str(info.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_secret_and_token_required_for_run() -> None:
    settings = load_settings(None)
    with pytest.raises(ConfigError, match=r"^SPIBOT_SECRET: not set"):
        settings.secret_bytes()
    with pytest.raises(ConfigError, match=r"^TELEGRAM_BOT_TOKEN: not set"):
        settings.require_token()
    with pytest.raises(ConfigError, match=r"^SPIBOT_SECRET: too short"):
        load_settings(None, spibot_secret="short").secret_bytes()


def test_webhook_settings() -> None:
    settings = load_settings(None)
    assert settings.webhook_host_port == ("127.0.0.1", 8080)
    assert settings.webhook_public_url is None
    assert settings.log_format == "text"
    custom = load_settings(
        None,
        webhook_listen="0.0.0.0:9000",
        webhook_public_url="https://spi.example.go.id/",
        webhook_secret="A" * 20,
    )
    assert custom.webhook_host_port == ("0.0.0.0", 9000)
    assert custom.webhook_public_url == "https://spi.example.go.id"
    assert custom.require_webhook_secret() == "A" * 20


@pytest.mark.parametrize(
    ("secret", "problem"),
    [(None, "required in webhook mode"), ("short_secret", "too short"), ("x" * 20 + "!", "use")],
)
def test_webhook_secret_is_required_and_checked(secret: str | None, problem: str) -> None:
    settings = load_settings(None, webhook_secret=secret)
    with pytest.raises(ConfigError, match=rf"^WEBHOOK_SECRET: {problem}"):
        settings.require_webhook_secret()


def test_year_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).year_rules[2024].weights.internal == 0.305  # built in
    rules = tmp_path / "spi-rules.toml"
    rules.write_text(
        "# KPK 2022 report, p. 12\n"
        "[2022]\nsangat_rentan_below = 55.0\n\n"
        "[2024]\nweights = { internal = 0.3, external = 0.3, expert = 0.4 }\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SPI_YEAR_RULES_FILE", str(rules))
    settings = load_settings(None)
    assert settings.year_rules[2022].thresholds.sangat_rentan_below == 55.0
    assert settings.year_rules[2024].weights.expert == 0.4
    assert settings.year_rules[2023].weights.internal == 0.3046


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("[2022\n", "cannot read"),
        ("[2022]\nwaspada_from = 90\n", "year 2022: waspada_from must not exceed terjaga_from"),
        ("[next]\n", "'next' is not a year"),
    ],
)
def test_bad_year_rules_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, problem: str
) -> None:
    rules = tmp_path / "spi-rules.toml"
    if content is not None:
        rules.write_text(content, encoding="utf-8")
    monkeypatch.setenv("SPI_YEAR_RULES_FILE", str(rules))
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    message = str(info.value)
    assert message.startswith("SPI_YEAR_RULES_FILE:")
    assert problem in message
    assert "\n" not in message


def test_integrity_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).integrity_config.burst_min_share == 0.7  # the default
    rules = tmp_path / "integrity.toml"
    rules.write_text("burst_min_share = 0.6\nrushing_floor_seconds = 4\n", encoding="utf-8")
    monkeypatch.setenv("INTEGRITY_RULES_FILE", str(rules))
    config = load_settings(None).integrity_config
    assert (config.burst_min_share, config.rushing_floor_seconds) == (0.6, 4)
    assert config.uniform_agreement == 0.9  # not given: the default
    rules.write_text("rushing_floor_seconds = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^INTEGRITY_RULES_FILE: .*pace band edge"):
        load_settings(None)
    monkeypatch.setenv("INTEGRITY_RULES_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"^INTEGRITY_RULES_FILE: .*cannot read"):
        load_settings(None)
