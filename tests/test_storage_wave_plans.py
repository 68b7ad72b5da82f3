"""The wave calendar on SQLite and PostgreSQL (issue 22): plans never overlap, invitations
issued for a plan become the wave's in the transaction that opens it, a plan is cancelled with
its links; where questionnaires came from and which waves used them; a follow-up matrix is
applied all or none."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from storage import waves as plans
from storage.actions import ActionEdit, ActionStatus, NewAction, apply_actions, list_actions
from storage.errors import NotFound, WaveConflict
from storage.invitations import get_invitation
from storage.questionnaires import list_questionnaires, save_questionnaire
from storage.units import import_units, list_units
from storage.waves import close_wave, open_wave, plan_wave, questionnaire_waves
from tests.storage_fixtures import NOW

DAY = timedelta(days=1)


async def _questionnaires(db) -> dict[str, int]:
    return {
        grp: (await save_questionnaire(db.engine, grp, 1, grp, grp, NOW, "bundled")).id
        for grp in ("internal", "external", "expert")
    }


async def test_plans_never_overlap(db) -> None:
    engine = db.engine
    await plan_wave(engine, "S2", NOW + 10 * DAY, NOW + 20 * DAY)
    for opens, closes in [
        (NOW + 15 * DAY, NOW + 25 * DAY),  # starts inside
        (NOW + 5 * DAY, NOW + 11 * DAY),  # ends inside
        (NOW + 5 * DAY, None),  # open-ended, before it
        (NOW + 12 * DAY, NOW + 13 * DAY),  # within
    ]:
        with pytest.raises(plans.PlanOverlap) as caught:
            await plan_wave(engine, "S2b", opens, closes)
        assert caught.value.other == "S2"
    # Back to back is fine: a wave may open the minute the last one closes.
    await plan_wave(engine, "S3", NOW + 20 * DAY, None)
    with pytest.raises(plans.PlanOverlap, match="no closing time"):
        await plan_wave(engine, "S4", NOW + 90 * DAY, NOW + 99 * DAY)
    # Re-planning a plan is checked against the others, never against itself.
    await plan_wave(engine, "S3", NOW + 21 * DAY, NOW + 30 * DAY, "external=layanan")
    await plan_wave(engine, "S4", NOW + 90 * DAY, NOW + 99 * DAY)
    listed = {p.name: p for p in await plans.list_wave_plans(engine)}
    assert listed["S3"].questionnaire_choice == "external=layanan"
    assert listed["S3"].closes_at == NOW + 30 * DAY
    with pytest.raises(ValueError, match="close after it opens"):
        await plan_wave(engine, "S5", NOW + 200 * DAY, NOW + 199 * DAY)


async def test_a_plan_against_the_open_wave(db) -> None:
    engine = db.engine
    ids = await _questionnaires(db)
    await plan_wave(engine, "S1", NOW - DAY, NOW + 10 * DAY)
    wave = await open_wave(engine, "S1", ids, NOW)
    # The open wave closes by plan at day 10: a plan before that overlaps it.
    with pytest.raises(plans.PlanOverlap) as caught:
        await plan_wave(engine, "S2", NOW + 5 * DAY, None)
    assert caught.value.other == "S1"
    await plan_wave(engine, "S2", NOW + 10 * DAY, NOW + 20 * DAY)
    # Once closed, the first wave's plan no longer counts.
    await close_wave(engine, wave.id, NOW + DAY)
    await plan_wave(engine, "S2", NOW + 2 * DAY, NOW + 20 * DAY)
    with pytest.raises(WaveConflict, match="already exists"):
        await plan_wave(engine, "S1", NOW + 50 * DAY, None)


async def test_invitations_for_a_plan_become_the_waves_when_it_opens(db) -> None:
    engine = db.engine
    await import_units(engine, [{"code": "DINKES", "name": "Dinkes", "kind": "opd"}])
    (unit,) = await list_units(engine)
    ids = await _questionnaires(db)
    await plan_wave(engine, "S2", NOW + DAY, NOW + 9 * DAY)
    new = [plans.NewPlannedInvitation(f"{i:064x}", "internal", unit.id) for i in range(3)]
    assert await plans.create_planned_invitations(engine, "S2", new, NOW) == 3
    assert await plans.planned_invitation_counts(engine) == {"S2": 3}
    assert await plans.plan_opening_for_token(engine, f"{1:064x}") == NOW + DAY
    assert await plans.plan_opening_for_token(engine, "f" * 64) is None
    assert await get_invitation(engine, f"{1:064x}") is None  # not a wave's link yet
    with pytest.raises(NotFound):
        await plans.create_planned_invitations(engine, "nope", new, NOW)

    wave = await open_wave(engine, "S2", ids, NOW + DAY)
    invitation = await get_invitation(engine, f"{1:064x}")
    assert invitation is not None
    assert invitation.wave_id == wave.id
    assert invitation.grp == "internal"
    assert not invitation.used
    assert await plans.planned_invitation_counts(engine) == {}
    (plan,) = await plans.list_wave_plans(engine)
    assert plan.wave_id == wave.id
    with pytest.raises(WaveConflict):
        await plans.create_planned_invitations(engine, "S2", new, NOW)
    with pytest.raises(WaveConflict, match="opened already"):
        await plans.cancel_plan(engine, "S2")


async def test_cancelling_a_plan_drops_its_links(db) -> None:
    engine = db.engine
    await import_units(engine, [{"code": "DINKES", "name": "Dinkes", "kind": "opd"}])
    (unit,) = await list_units(engine)
    await plan_wave(engine, "S2", NOW + DAY, None)
    new = [plans.NewPlannedInvitation("a" * 64, "expert", unit.id)]
    await plans.create_planned_invitations(engine, "S2", new, NOW)
    assert await plans.cancel_plan(engine, "S2") == 1
    assert await plans.list_wave_plans(engine) == []
    assert await plans.plan_opening_for_token(engine, "a" * 64) is None
    with pytest.raises(NotFound):
        await plans.cancel_plan(engine, "S2")


async def test_questionnaires_keep_their_origin_and_the_waves_that_used_them(db) -> None:
    engine = db.engine
    ids = await _questionnaires(db)
    form = await save_questionnaire(
        engine, "layanan", 1, "external", "text", NOW, "xlsform: layanan.xlsx"
    )
    first = await open_wave(engine, "S1", ids, NOW)
    await close_wave(engine, first.id, NOW + DAY)
    await open_wave(engine, "S2", {**ids, "external": form.id}, NOW + 2 * DAY)
    stored = {q.key: q for q in await list_questionnaires(engine)}
    assert stored["layanan"].origin == "xlsform: layanan.xlsx"
    assert stored["internal"].origin == "bundled"
    used = await questionnaire_waves(engine)
    assert used[ids["internal"]] == ["S1", "S2"]
    assert used[ids["external"]] == ["S1"]
    assert used[form.id] == ["S2"]


async def test_a_matrix_is_applied_all_or_none(db) -> None:
    engine = db.engine
    await import_units(engine, [{"code": "DINKES", "name": "Dinkes", "kind": "opd"}])
    due = date(2031, 1, 31)
    (first,), _ = await apply_actions(engine, [NewAction("DINKES", "RUP", "Kabid", due)], (), NOW)
    edit = ActionEdit(first.id, None, "", "RUP 2031", "Sekretaris", due, ActionStatus.DONE, "")
    added, edited = await apply_actions(
        engine, [NewAction("DINKES", "SOP", "Kasubag", due)], [edit], NOW
    )
    assert [a.what for a in added] == ["SOP"]
    assert (edited[0].what, edited[0].who, edited[0].status) == (
        "RUP 2031",
        "Sekretaris",
        ActionStatus.DONE,
    )
    assert edited[0].version == first.version + 1
    missing = ActionEdit(999, None, "", "x", "y", due, ActionStatus.PLANNED, "")
    with pytest.raises(NotFound):
        await apply_actions(engine, [NewAction("DINKES", "Lost", "Nobody", due)], [missing], NOW)
    assert [a.what for a in await list_actions(engine)] == ["RUP 2031", "SOP"]
