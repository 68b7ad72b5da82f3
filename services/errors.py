"""Errors that services raise for a caller to explain in one line."""

__all__ = ["AdminError"]


class AdminError(Exception):
    """A problem with an admin request, explained in one line."""
