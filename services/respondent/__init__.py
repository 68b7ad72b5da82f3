"""The respondent journey: ways in, the survey conversation, review and submission."""

from services.respondent.flow import RespondentFlow
from services.respondent.screens import Button, Screen, TapResult

__all__ = ["Button", "RespondentFlow", "Screen", "TapResult"]
