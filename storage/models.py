"""Interim re-exports: the dataclasses now live with their tables, one module per table
family (`storage.waves.Wave`, `storage.roles.Role`, ...). Callers outside storage/ keep
importing them from here until the storage-imports rewrite points them at the family
modules and deletes this module."""

from __future__ import annotations

from storage.answers import Response
from storage.broadcasts import Broadcast
from storage.contacts import Contact, ContactPurpose, DueReminder, ReminderStatus
from storage.corrections import Correction
from storage.frames import ResponseCount
from storage.funnel import UnitFunnel
from storage.invitations import Invitation, InvitationClaim, InvitationUptake, NewInvitation
from storage.questionnaires import StoredQuestionnaire
from storage.respondents import SurveySession
from storage.roles import GrantClaim, Role, RoleAssignment, RoleGrant
from storage.schedules import ChatSchedule, PushClaim, PushStatus, Schedule, ScheduleKind
from storage.subscriptions import Subscription
from storage.units import Institution, Unit, UnitImport
from storage.values import UNCHANGED, ClaimStatus, Unchanged
from storage.waves import Wave, WavePlan, WaveStatus

__all__ = [
    "UNCHANGED",
    "Broadcast",
    "ChatSchedule",
    "ClaimStatus",
    "Contact",
    "ContactPurpose",
    "Correction",
    "DueReminder",
    "GrantClaim",
    "Institution",
    "Invitation",
    "InvitationClaim",
    "InvitationUptake",
    "NewInvitation",
    "PushClaim",
    "PushStatus",
    "ReminderStatus",
    "Response",
    "ResponseCount",
    "Role",
    "RoleAssignment",
    "RoleGrant",
    "Schedule",
    "ScheduleKind",
    "StoredQuestionnaire",
    "Subscription",
    "SurveySession",
    "Unchanged",
    "Unit",
    "UnitFunnel",
    "UnitImport",
    "Wave",
    "WavePlan",
    "WaveStatus",
]
