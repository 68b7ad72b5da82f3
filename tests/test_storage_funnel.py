"""The /progres funnel in storage: surveys in progress, stopped, abandoned (counted when their
partial response is deleted) and completed, per unit and group, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage.funnel import unit_funnel
from storage.sessions import cancel_session, expire_sessions, start_session, submit
from storage.turns import move_session
from tests.storage_fixtures import NOW, SurveySetup


def names(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(1, n + 1)]


async def test_funnel_counts_each_survey_where_it_is(survey_setup: SurveySetup) -> None:
    engine = survey_setup.db.engine
    wave, units = survey_setup.wave, survey_setup.units
    people = names(7)

    async def start(person: str, unit: str, grp: str, when=NOW):
        return await start_session(
            engine, person, wave.id, grp, units[unit].id, None, "id", "consent", when
        )

    busy = await start(people[0], "PKM-01", "external")
    await start(people[1], "PKM-01", "external")  # idle since NOW: stopped
    await start(people[2], "PKM-01", "external")
    await start(people[3], "PKM-01", "external", NOW - timedelta(days=30))  # will expire
    await start(people[4], "DINKES", "internal")
    await start(people[5], "DINKES", "internal")
    await start(people[6], "DINKES", "expert")
    later = NOW + timedelta(days=2)
    await move_session(engine, busy, now=later, step="question")
    assert await submit(engine, people[2], later, later.date())
    assert await cancel_session(engine, people[4])
    assert await submit(engine, people[5], later, later.date())
    assert await expire_sessions(engine, NOW.date()) == 1
    # Two more cancellations in one unit and group add up.
    await start(people[4], "DINKES", "internal", later)
    assert await cancel_session(engine, people[4])

    funnel = await unit_funnel(engine, wave.id, idle_before=later - timedelta(hours=24))
    found = {
        (f.unit_code, f.grp): (f.in_progress, f.stopped, f.abandoned, f.completed, f.started)
        for f in funnel
    }
    assert found == {
        ("PKM-01", "external"): (1, 1, 1, 1, 4),
        ("DINKES", "internal"): (0, 0, 2, 1, 3),
        ("DINKES", "expert"): (0, 1, 0, 0, 1),
    }
    assert {f.unit_name for f in funnel} == {"Puskesmas 1", "Dinas Kesehatan"}
    # Another wave's funnel is empty.
    assert await unit_funnel(engine, wave.id + 1, idle_before=later) == []
