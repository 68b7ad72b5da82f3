"""Errors raised by the storage layer: one base class, a subclass per thing callers handle."""

from __future__ import annotations

__all__ = [
    "AlreadyCompleted",
    "InvitationTaken",
    "NotFound",
    "QuestionnaireConflict",
    "SessionExists",
    "StorageError",
    "UnitImportError",
    "WaveConflict",
]


class StorageError(Exception):
    """The database refused an operation, or the configuration cannot reach one."""


class NotFound(StorageError):
    """A referenced row (wave, unit, questionnaire, session) does not exist."""


class UnitImportError(StorageError):
    """A unit list is malformed: bad row, unknown parent code, or a parent cycle."""


class QuestionnaireConflict(StorageError):
    """The same questionnaire key and version was saved before with different text."""


class WaveConflict(StorageError):
    """A wave is already open, or the wave name is taken."""


class SessionExists(StorageError):
    """The respondent already has a survey in progress."""


class AlreadyCompleted(StorageError):
    """The respondent has already submitted a response for this wave and group."""


class InvitationTaken(StorageError):
    """A personal link is in use by another survey in progress, or was already submitted on."""
