"""Message catalogs: every user-facing string, in Bahasa Indonesia and English.

Catalogs are YAML files under `bot/locales/<lang>/`, one file per feature, merged at load.
Indonesian is the reference: every key must exist in every language (a test checks it).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final

import yaml

__all__ = ["LANGUAGES", "Catalog", "catalog", "pick_language"]

LANGUAGES: Final = ("id", "en")


class Catalog:
    """Look up a message by key and language, formatting `{placeholders}`."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self._messages = messages

    def t(self, language: str, key: str, /, **values: object) -> str:
        """Return message `key` in `language` (falling back to Indonesian), formatted."""
        table = self._messages.get(language) or self._messages["id"]
        template = table.get(key) or self._messages["id"][key]
        return template.format(**values) if values else template

    def keys(self, language: str) -> set[str]:
        """Return every key defined for a language."""
        return set(self._messages.get(language, {}))


def _load_language(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = resources.files("services.locales").joinpath(language)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for key, text in data.items():
            if key in merged:
                raise ValueError(f"locales/{language}/{entry.name}: duplicate key {key!r}")
            merged[str(key)] = str(text).rstrip("\n")
    return merged


@functools.cache
def catalog() -> Catalog:
    """Return the bundled catalog (loaded once)."""
    return Catalog({lang: _load_language(lang) for lang in LANGUAGES})


def pick_language(telegram_code: str | None, default: str) -> str:
    """Map Telegram's `language_code` (e.g. "en-US") to a supported language."""
    if telegram_code:
        base = telegram_code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
        if base in ("ms", "jv", "su"):  # Malay, Javanese, Sundanese readers: Indonesian
            return "id"
    return default
