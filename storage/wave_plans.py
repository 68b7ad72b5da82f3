"""Interim re-exports: the wave calendar now lives in `storage.waves` with the waves it
plans. Callers outside storage/ keep importing it from here until the
storage-imports rewrite points them at `storage.waves` and deletes this module."""

from __future__ import annotations

from storage.waves import (
    NewPlannedInvitation,
    PlanOverlap,
    cancel_plan,
    create_planned_invitations,
    get_wave_plan,
    list_wave_plans,
    mark_plan_opened,
    move_planned_invitations,
    plan_opening_for_token,
    plan_wave,
    planned_invitation_counts,
    reopen_wave,
)

__all__ = [
    "NewPlannedInvitation",
    "PlanOverlap",
    "cancel_plan",
    "create_planned_invitations",
    "get_wave_plan",
    "list_wave_plans",
    "mark_plan_opened",
    "move_planned_invitations",
    "plan_opening_for_token",
    "plan_wave",
    "planned_invitation_counts",
    "reopen_wave",
]
