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

# BEGIN interim re-exports: tables for callers outside storage/ that still import them from
# here. The storage-imports rewrite points those callers at the family modules and deletes
# everything between BEGIN and END.
# isort: split
from storage.actions import action_drafts, actions
from storage.answers import answers, draft_answers, responses
from storage.broadcasts import broadcast_claims, broadcasts
from storage.contacts import contacts, reminder_claims
from storage.corrections import corrections
from storage.funnel import dropouts
from storage.integrity import excluded_responses, integrity_exclusions
from storage.invitations import invitations
from storage.paradata import ITEM_TIME_BANDS, arrivals, item_paradata
from storage.questionnaires import questionnaires
from storage.report_revisions import report_revisions
from storage.respondents import completions, respondents, survey_contacts, survey_sessions
from storage.roles import role_grants, roles
from storage.rosters import roster_uploads
from storage.schedules import scheduled_pushes, schedules
from storage.subscriptions import subscriptions
from storage.units import institution, units
from storage.wave_targets import wave_targets
from storage.waves import planned_invitations, wave_plans, wave_questionnaires, waves

# END interim re-exports

__all__ = ["metadata"]
# BEGIN interim re-exports
__all__ += [
    "ITEM_TIME_BANDS",
    "action_drafts",
    "actions",
    "answers",
    "arrivals",
    "broadcast_claims",
    "broadcasts",
    "completions",
    "contacts",
    "corrections",
    "draft_answers",
    "dropouts",
    "excluded_responses",
    "institution",
    "integrity_exclusions",
    "invitations",
    "item_paradata",
    "planned_invitations",
    "questionnaires",
    "reminder_claims",
    "report_revisions",
    "respondents",
    "responses",
    "role_grants",
    "roles",
    "roster_uploads",
    "scheduled_pushes",
    "schedules",
    "subscriptions",
    "survey_contacts",
    "survey_sessions",
    "units",
    "wave_plans",
    "wave_questionnaires",
    "wave_targets",
    "waves",
]
# END interim re-exports
