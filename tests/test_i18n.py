"""Message catalogs: complete in both languages, placeholders consistent."""

from __future__ import annotations

import string

import pytest

from services.i18n import LANGUAGES, catalog, pick_language


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_every_language() -> None:
    messages = catalog()
    reference = messages.keys("id")
    assert reference
    for language in LANGUAGES:
        assert messages.keys(language) == reference, language


def test_placeholders_match_across_languages() -> None:
    messages = catalog()
    for key in messages.keys("id"):
        templates = {lang: messages._messages[lang][key] for lang in LANGUAGES}
        fields = {lang: _fields(text) for lang, text in templates.items()}
        assert fields["id"] == fields["en"], key


@pytest.mark.parametrize(
    ("code", "expected"),
    [("id", "id"), ("en", "en"), ("en-GB", "en"), ("ms", "id"), ("de", "id"), (None, "id")],
)
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code, "id") == expected


def test_unknown_language_falls_back_to_indonesian() -> None:
    assert catalog().t("fr", "unknown_command") == catalog().t("id", "unknown_command")
