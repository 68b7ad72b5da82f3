"""Shared pytest fixtures: each area keeps its own in tests/<area>_fixtures.py."""

from tests.storage_fixtures import *  # noqa: F403
