"""The questionnaires shipped with spi-bot, one per respondent group, read as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from surveys.loader import load_questionnaire_text
from surveys.model import Group, Questionnaire

__all__ = ["bundled_path", "bundled_questionnaires"]


def _resource(group: Group | str) -> Traversable:
    return resources.files("surveys") / "questionnaires" / f"{Group(group).value}.yaml"


def bundled_path(group: Group | str) -> Path:
    """Return the file system path of the bundled questionnaire for `group`.

    Raises ValueError for an unknown group, and RuntimeError when the package is not installed
    as plain files (e.g. imported from a zip), where `bundled_questionnaires()` still works.
    """
    resource = _resource(group)
    if not isinstance(resource, Path):
        raise RuntimeError(f"{resource} is not a file on disk; use bundled_questionnaires()")
    return resource


@cache
def _load(group: Group) -> Questionnaire:
    resource = _resource(group)
    return load_questionnaire_text(resource.read_text(encoding="utf-8"), source=resource.name)


def bundled_questionnaires() -> dict[Group, Questionnaire]:
    """Load and validate the bundled questionnaires (parsed once per process)."""
    return {group: _load(group) for group in Group}
