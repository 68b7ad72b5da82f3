"""Settings read once at start-up (environment or `.env`) and passed down explicitly."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:  # scoring pulls in pandas: imported where the rules are read
    from scoring.config import IntegrityConfig, YearRules

__all__ = ["ConfigError", "Settings", "load_settings"]

TELEGRAM_API: Final = "https://api.telegram.org/bot"
TELEGRAM_FILE_API: Final = "https://api.telegram.org/file/bot"
# Telegram's rule for setWebhook's secret_token.
_WEBHOOK_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable in one line."""


class Settings(BaseSettings):
    """Every setting of the bot; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API
    telegram_api_base_file_url: str | None = None
    database_url: str = "sqlite+aiosqlite:///./spibot.db"
    spibot_secret: SecretStr | None = None
    admin_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    timezone: str = "Asia/Jakarta"
    default_language: Literal["id", "en"] = "id"
    bot_username: str = ""
    session_expiry_days: int = Field(default=14, ge=1, le=365)
    free_text_max_length: int = Field(default=1000, ge=10, le=4000)
    small_cell_k: int = Field(default=5, ge=1, le=100)
    institution_name: str = "Pemerintah Kabupaten Mojokerto"
    institution_level: Literal["kabupaten", "kota", "provinsi", "kementerian", "lembaga"] = (
        "kabupaten"
    )
    # SPI weights and category thresholds per year, over the built-in table (docs/scoring.md).
    spi_year_rules_file: Path | None = None
    # Thresholds of the survey-integrity signals (issue 24; docs/scoring.md §11): TOML.
    integrity_rules_file: Path | None = None
    # Updates handled at the same time (different chats; one chat's updates stay in order).
    concurrent_updates: int = Field(default=32, ge=1, le=512)
    # Bulk sends (pushes, reminders) per second in total; replies to a person are not paced.
    rate_limit_per_second: float = Field(default=30.0, gt=0)
    # A Bot API call that fails transiently (429, 5xx, network) is retried for this long.
    bot_api_retry_seconds: float = Field(default=10.0, ge=0, le=120)
    bot_api_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A chat sending faster than this is slowed down; beyond the backlog its updates drop.
    chat_updates_per_second: float = Field(default=5.0, gt=0, le=100)
    chat_backlog_limit: int = Field(default=50, ge=1, le=10_000)
    # Scheduled pushes: off for processes that must not send (e.g. a one-off admin shell).
    scheduler_enabled: bool = True
    # A digest with nothing new since the last one: skip it (True) or say so in one line.
    digest_skip_unchanged: bool = False
    # A push missed while the bot was down is still sent at start-up if at most this late.
    schedule_catch_up_hours: float = Field(default=6.0, gt=0, le=168)
    # Nightly backups by the bot itself (docs/operations.md): off unless a folder is given.
    backup_dir: Path | None = None
    backup_time: str = "01:30"  # local time (TIMEZONE), HH:MM
    backup_keep: int = Field(default=14, ge=1, le=3650)
    # Reminders to people with an unfinished survey of the open wave (issue 10): hours of
    # inactivity before each round, at most `reminder_max_rounds` rounds, never during quiet
    # hours (local time, from start to end hour) nor on Sundays when `reminder_quiet_sunday`.
    reminders_enabled: bool = True
    reminder_delays_hours: Annotated[tuple[float, ...], NoDecode] = (24.0, 72.0)
    reminder_max_rounds: int = Field(default=2, ge=0, le=10)
    reminder_quiet_start_hour: int = Field(default=20, ge=0, le=23)
    reminder_quiet_end_hour: int = Field(default=7, ge=0, le=23)
    reminder_quiet_sunday: bool = True
    # Due-date reminders of follow-up actions to unit heads (3 days before, on the day, weekly
    # while late), in the same quiet hours.
    action_reminders_enabled: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # text for a terminal, json (one object a line) for a log collector.
    log_format: Literal["text", "json"] = "text"
    # Webhook mode (`spibot run --webhook`): where the ASGI server listens, the public HTTPS
    # base URL Telegram posts to (setWebhook on start when set), and the shared secret
    # Telegram sends back in X-Telegram-Bot-Api-Secret-Token.
    webhook_listen: str = "127.0.0.1:8080"
    webhook_public_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # An update claimed by a process that never finished it is taken over after this long.
    update_claim_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # PostgreSQL connections per bot process: pool size plus overflow, times the number of
    # processes, must stay under the server's max_connections (100 by default).
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=5, ge=0, le=100)
    # PostgreSQL: a pooled connection idle longer than this is pinged before use (a connection
    # the server closed is replaced at no cost; see storage/db.py), and every connection is
    # replaced after DB_POOL_RECYCLE_SECONDS.
    db_ping_idle_seconds: float = Field(default=30.0, ge=0, le=86_400)
    db_pool_recycle_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    # PostgreSQL: rewrite responses/answers/completions hourly in random-key order (webhook
    # mode), so their physical order does not tell submission order. See docs/deploy.md.
    heap_reshuffle: bool = True
    # Issue 20: a role link not opened within this many days expires (`spibot grant`,
    # /akses); /jadwal refuses a crontab that fires more often than this.
    role_link_ttl_days: int = Field(default=7, ge=1, le=90)
    schedule_min_interval_minutes: int = Field(default=60, ge=1, le=1440)
    # The Mini App dashboard (docs/miniapp.md). WEB_LISTEN (HOST:PORT, 0 = any free port) makes
    # `spibot run` (polling) serve it; in webhook mode it is served beside the webhook on
    # WEBHOOK_LISTEN. WEB_PUBLIC_URL is the https base address Telegram clients open (the
    # reverse proxy in front); without it there is no menu button and /dasbor says so.
    # WEB_AUTH_MAX_AGE: seconds Telegram's launch data stays valid (auth_date).
    web_listen: str | None = None
    web_public_url: str | None = None
    web_auth_max_age: int = Field(default=86_400, ge=60, le=30 * 86_400)
    # Seconds between a submission (or a cancelled or expired survey) and the scrub that wipes
    # its deleted session from the database files; a burst of submissions shares one scrub.
    # docs/privacy.md promises at most a minute, retries included.
    scrub_delay_seconds: float = Field(default=5.0, ge=0, le=30)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return tuple(int(p) for p in parts if p)
        return value

    @field_validator("reminder_delays_hours", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(p) for p in value.replace(";", ",").split(",") if p.strip())
        return value

    @field_validator("reminder_delays_hours")
    @classmethod
    def _increasing_delays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(hours <= 0 for hours in value) or list(value) != sorted(set(value)):
            raise ValueError("use increasing positive hours, e.g. 24,72")
        return value

    @field_validator("spi_year_rules_file", "integrity_rules_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("integrity_rules_file")
    @classmethod
    def _readable_integrity_rules(cls, value: Path | None) -> Path | None:
        if value is not None:
            _read_integrity_rules(value, _mtime(value))
        return value

    @property
    def integrity_config(self) -> IntegrityConfig:
        """Return the survey-integrity thresholds: the defaults with INTEGRITY_RULES_FILE's."""
        from scoring.config import IntegrityConfig

        path = self.integrity_rules_file
        return IntegrityConfig() if path is None else _read_integrity_rules(path, _mtime(path))

    @field_validator("spi_year_rules_file")
    @classmethod
    def _readable_rules(cls, value: Path | None) -> Path | None:
        if value is not None:
            _read_year_rules(value, _mtime(value))
        return value

    @property
    def year_rules(self) -> Mapping[int, YearRules]:
        """Return the SPI rules per year: the built-in table with SPI_YEAR_RULES_FILE's years."""
        from scoring.config import RULES_BY_YEAR

        path = self.spi_year_rules_file
        return RULES_BY_YEAR if path is None else _read_year_rules(path, _mtime(path))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("backup_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{value!r} is not a time of day like 01:30")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("use HOST:PORT, e.g. 127.0.0.1:8080")
        return value

    @field_validator("webhook_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (Telegram only posts to HTTPS)")
        return value.rstrip("/")

    @field_validator("web_listen")
    @classmethod
    def _web_host_port(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("use HOST:PORT, e.g. 127.0.0.1:8081")
        return value.strip()

    @field_validator("web_public_url")
    @classmethod
    def _web_public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (Telegram opens Mini Apps over HTTPS)")
        return value.strip().rstrip("/")

    @property
    def web_host_port(self) -> tuple[str, int] | None:
        """Return WEB_LISTEN as (host, port), or None when polling serves no Mini App."""
        if self.web_listen is None:
            return None
        host, _, port = self.web_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def dashboard_url(self) -> str | None:
        """Return the address Telegram clients open for the Mini App (None: not configured)."""
        return None if self.web_public_url is None else self.web_public_url + "/app/"

    @property
    def webhook_host_port(self) -> tuple[str, int]:
        """Return WEBHOOK_LISTEN as (host, port)."""
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    def require_webhook_secret(self) -> str:
        """Return the webhook secret; ConfigError when it is missing or malformed."""
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            raise ConfigError(
                "WEBHOOK_SECRET: required in webhook mode; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        secret = self.webhook_secret.get_secret_value()
        if not _WEBHOOK_SECRET.match(secret):
            raise ConfigError("WEBHOOK_SECRET: use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if len(secret) < 16:
            raise ConfigError("WEBHOOK_SECRET: too short; use at least 16 characters")
        return secret

    @property
    def role_link_ttl(self) -> timedelta:
        """Return how long a role link may wait to be opened."""
        return timedelta(days=self.role_link_ttl_days)

    @property
    def zone(self) -> ZoneInfo:
        """Return the configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def file_base_url(self) -> str:
        """Return the Bot API file URL matching the configured base URL."""
        if self.telegram_api_base_file_url:
            return self.telegram_api_base_file_url
        if self.telegram_api_base_url == TELEGRAM_API:
            return TELEGRAM_FILE_API
        return self.telegram_api_base_url.removesuffix("/bot") + "/file/bot"

    def secret_bytes(self) -> bytes:
        """Return the server secret; ConfigError when it is not set."""
        if self.spibot_secret is None or not self.spibot_secret.get_secret_value():
            raise ConfigError(
                "SPIBOT_SECRET: not set; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        secret = self.spibot_secret.get_secret_value()
        if len(secret) < 16:
            raise ConfigError("SPIBOT_SECRET: too short; use at least 16 characters")
        return secret.encode()

    def require_token(self) -> str:
        """Return the bot token; ConfigError when it is not set."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set; get one from @BotFather")
        return self.telegram_bot_token.get_secret_value()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None


@functools.lru_cache(maxsize=4)
def _read_year_rules(path: Path, _mtime: float) -> Mapping[int, YearRules]:
    """Parse a rules file (TOML, one table per year); cached until the file changes."""
    from scoring.config import year_rules_from_mapping

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return year_rules_from_mapping(data)


@functools.lru_cache(maxsize=4)
def _read_integrity_rules(path: Path, _mtime: float) -> IntegrityConfig:
    """Parse an integrity rules file (TOML, flat keys); cached until the file changes."""
    from scoring.config import integrity_config_from_mapping

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return integrity_config_from_mapping(data)


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Read settings, turning validation failures into one clear ConfigError line."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"{name}: {first['msg']}") from None
