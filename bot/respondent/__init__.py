"""The respondent journey: ways in, the survey conversation, review and submission."""

from bot.respondent.flow import RespondentFlow
from bot.respondent.screens import Button, Screen, TapResult

__all__ = ["Button", "RespondentFlow", "Screen", "TapResult"]
