"""The whole schema, for Alembic (`storage/migrations/env.py`) and `create_all`.

Each table family module (`storage.actions`, `storage.waves`, ...) defines its tables on the one
`storage.metadata.metadata`; importing every one of them here makes `metadata` complete.
No table is defined in this module.

Anonymity by construction (DESIGN.md §3): Telegram ids appear nowhere; people are known only
by `pseudonym` (HMAC-SHA256 of the Telegram id). No table joins a pseudonym to a response
id: a survey in progress is `survey_sessions` (`storage.respondents`) and `draft_answers`
(`storage.answers`), keyed by pseudonym, and submitting files the answers under a fresh
random id and deletes both in one transaction. `responses` and `answers` never hold a
pseudonym, a Telegram id or a time of day. Group chat ids for leadership subscriptions are
not respondents and are stored as they are.
"""

# ruff: noqa: F401 (the imports register the tables; the modules are not used here)

from __future__ import annotations

# Each family module defines its tables on `metadata` when imported.
import storage.action_reminders
import storage.actions
import storage.answers
import storage.broadcasts
import storage.contacts
import storage.corrections
import storage.funnel
import storage.integrity
import storage.invitations
import storage.paradata
import storage.questionnaires
import storage.report_revisions
import storage.respondents
import storage.roles
import storage.rosters
import storage.schedules
import storage.subscriptions
import storage.units
import storage.updates
import storage.wave_targets
import storage.waves
from storage.metadata import metadata

__all__ = ["metadata"]
