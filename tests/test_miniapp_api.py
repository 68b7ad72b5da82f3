"""The dashboard's API over real HTTP: Telegram's launch data (valid, forged, changed, stale,
missing), who sees what (no role, a unit head, leadership, admins), one source of numbers with
/skor, the release rule of an open wave, suppressed cells, the what-if, headers and logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.cli.common import LIBRARIES_WITH_CONTENT_IN_DEBUG
from sandbox.demo import SANDBOX_TOKEN
from scoring.whatif import Lift, what_if
from services.actions.plans import new_action
from services.admin import create_invitations
from services.i18n import catalog
from services.miniapp.auth import launch_key
from services.numbers import format_number
from services.reports import load_report
from storage.actions import add_action
from storage.roles import Role
from surveys import Group
from surveys.model import Dimension
from tests.e2e_fixtures import reply
from tests.miniapp_fixtures import ADMIN_ID, Dash, seed_scores
from tests.score_data import add_responses

pytestmark = pytest.mark.e2e

GET_VIEWS = (
    "/app/api/overview",
    "/app/api/units",
    "/app/api/trend",
    "/app/api/whatif",
    "/app/api/progress",
    "/app/api/actions",
    "/app/api/uptake",
)
STRANGER = 4_242_424


def _t(language: str, key: str, **values: object) -> str:
    return catalog().t(language, key, **values)


async def _report(dash: Dash):
    bundle = await load_report(dash.h.engine, dash.h.settings, today=dash.today())
    assert bundle is not None
    return bundle.report


def _numbers(value: Any) -> list[float]:
    """Every int or float anywhere in a JSON value (booleans aside)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _hidden_cells(value: Any) -> list[dict[str, Any]]:
    """Every object the API marks as not shown."""
    found = []
    if isinstance(value, dict):
        if value.get("shown") is False:
            found.append(value)
        for v in value.values():
            found += _hidden_cells(v)
    elif isinstance(value, list):
        for v in value:
            found += _hidden_cells(v)
    return found


# -- Telegram's launch data -----------------------------------------------------------------


async def test_a_leadership_member_gets_the_overview_with_the_numbers_of_skor(dash: Dash) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)

    answer = await dash.get("/app/api/overview", dash.launch(boss.id))

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["me"]["role"] == "leadership"
    assert body["me"]["views"] == ["overview", "units", "trend", "whatif", "progress", "actions"]
    report = await _report(dash)
    inst = report.institution
    assert inst.index is not None
    head = body["scope"]["headline"]
    assert head["text"] == format_number(inst.index, "id")  # decimal comma: "61,23"
    assert "," in head["text"]
    assert head["category"]["key"] == inst.category.key
    assert [g["text"] for g in body["scope"]["groups"]] == [
        format_number(c.score, "id") for c in inst.groups if c.score is not None
    ]
    assert body["wave"]["provisional"] is True
    # The bot's /skor says the same number.
    await boss.command("skor")
    caption = (await reply(boss)).plain_text
    assert f"Indeks {head['text']}" in caption


TAMPERS = (
    "missing",
    "empty",
    "other_scheme",
    "garbage",
    "forged_hash",
    "changed_user",
    "changed_auth_date",
    "other_bot_token",
    "stale",
    "from_the_future",
    "duplicate_field",
    "no_user",
    "oversized",
)


def _tampered(dash: Dash, user_id: int, tamper: str) -> dict[str, str]:
    """Return the headers of a request whose launch data was tampered with as named."""
    good = dash.launch(user_id)
    fields = dict(parse_qsl(good))
    now = dash.h.clock()
    max_age = timedelta(seconds=dash.h.settings.web_auth_max_age)
    value = f"tma {good}"
    if tamper == "missing":
        return {}
    if tamper == "empty":
        value = "tma"
    elif tamper == "other_scheme":
        value = f"Bearer {good}"
    elif tamper == "garbage":
        value = "tma %%%&&&=="
    elif tamper == "forged_hash":
        flipped = fields["hash"][:-1] + ("0" if fields["hash"][-1] != "0" else "1")
        value = "tma " + urlencode({**fields, "hash": flipped})
    elif tamper == "changed_user":
        user = json.loads(fields["user"])
        user["id"] = ADMIN_ID  # someone else's id, the old signature
        value = "tma " + urlencode({**fields, "user": json.dumps(user, separators=(",", ":"))})
    elif tamper == "changed_auth_date":
        later = str(int(fields["auth_date"]) + 3600)
        value = "tma " + urlencode({**fields, "auth_date": later})
    elif tamper == "other_bot_token":
        value = "tma " + dash.launch(user_id, token="654321:OTHER-bot-token")
    elif tamper == "stale":
        value = "tma " + dash.launch(user_id, auth_date=now - max_age - timedelta(seconds=1))
    elif tamper == "from_the_future":
        value = "tma " + dash.launch(user_id, auth_date=now + timedelta(hours=1))
    elif tamper == "duplicate_field":
        value = f"tma {good}&auth_date={fields['auth_date']}"
    elif tamper == "no_user":
        # Signed with the right token, as Telegram signs, but nobody in it.
        signed = {k: v for k, v in fields.items() if k not in ("user", "hash")}
        signed["hash"] = hmac.new(
            launch_key(SANDBOX_TOKEN),
            "\n".join(f"{k}={signed[k]}" for k in sorted(signed)).encode(),
            hashlib.sha256,
        ).hexdigest()
        value = "tma " + urlencode(signed)
    elif tamper == "oversized":
        value = "tma " + dash.launch(user_id, query_id="x" * 5000)
    return {"Authorization": value}


async def test_launch_data_that_proves_nothing_gets_401(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)
    assert (await dash.get("/app/api/overview", dash.launch(boss.id))).status_code == 200

    for tamper in TAMPERS:
        headers = _tampered(dash, boss.id, tamper)
        for path in GET_VIEWS:
            answer = await dash.http.get(path, headers=headers)
            assert answer.status_code == 401, (tamper, path, answer.text)
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["www-authenticate"].startswith("tma")
            body = answer.json()
            assert body["error"] == "unauthorized"
            assert body["message"] == _t("id", "miniapp_unauthorized")


async def test_launch_data_just_inside_its_age_is_accepted(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)
    max_age = timedelta(seconds=dash.h.settings.web_auth_max_age)
    almost = dash.h.clock() - max_age + timedelta(seconds=30)

    answer = await dash.get("/app/api/overview", dash.launch(boss.id, auth_date=almost))

    assert answer.status_code == 200


async def test_a_refusal_is_worded_in_the_language_the_launch_data_claims(dash: Dash) -> None:
    forged = dash.launch(STRANGER, "en", token="654321:OTHER-bot-token")

    answer = await dash.get("/app/api/overview", forged)

    assert answer.status_code == 401
    assert answer.json()["message"] == _t("en", "miniapp_unauthorized")


async def test_a_person_without_a_role_is_refused_politely_everywhere(dash: Dash) -> None:
    launch = dash.launch(STRANGER)

    for path in GET_VIEWS:
        answer = await dash.get(path, launch)
        assert answer.status_code == 403, path
        body = answer.json()
        assert body["title"] == _t("id", "miniapp_forbidden_title")
        assert body["message"] == _t("id", "access_denied")
    for path, params in (("/app/api/unit", {"code": "DINKES"}), ("/app/api/whatif", {})):
        answer = await dash.get(path, launch, **params)
        assert answer.status_code == 403
    answer = await dash.post("/app/api/whatif", launch, {"dimension": "procurement", "delta": 5})
    assert answer.status_code == 403
    assert not _numbers(answer.json() | {"language": None})


async def test_a_revoked_role_no_longer_opens_the_dashboard(dash: Dash) -> None:
    import storage.roles

    boss = await dash.official(Role.LEADERSHIP)
    launch = dash.launch(boss.id)
    assert (await dash.get("/app/api/overview", launch)).status_code == 200
    services = dash.h.app.bot_data.services
    await storage.roles.revoke_role(dash.h.engine, services.pseudonym(boss.id), Role.LEADERSHIP)

    assert (await dash.get("/app/api/overview", launch)).status_code == 403


# -- who sees what ------------------------------------------------------------------------------


async def _actions_for_two_units(dash: Dash) -> None:
    for unit, what in (("DINKES", "Publikasi SOP layanan"), ("DISPENDUKCAPIL", "Antrean daring")):
        await add_action(
            dash.h.engine,
            new_action(unit, what, "Sekretaris", dash.today() + timedelta(days=30)),
            dash.h.clock(),
        )


async def test_a_unit_head_never_sees_another_unit(dash: Dash) -> None:
    await seed_scores(dash.h)
    await _actions_for_two_units(dash)
    head = await dash.official(Role.UNIT_HEAD, "DINKES")
    launch = dash.launch(head.id)
    others = ("DISPENDUKCAPIL", "Kependudukan", "DPUPR", "Pekerjaan Umum", "Antrean daring")

    overview = await dash.get("/app/api/overview", launch)
    assert overview.status_code == 200
    body = overview.json()
    assert body["me"]["role"] == "unit_head"
    assert body["me"]["views"] == ["overview", "whatif", "progress", "actions"]
    assert body["scope"]["code"] == "DINKES"
    assert "weakest_units" not in body
    report = await _report(dash)
    assert body["scope"]["headline"]["text"] == format_number(report.unit("DINKES").index, "id")

    for path, params in (
        ("/app/api/overview", {}),
        ("/app/api/unit", {"code": "DINKES"}),
        ("/app/api/whatif", {}),
        ("/app/api/progress", {}),
        ("/app/api/actions", {}),
    ):
        answer = await dash.get(path, launch, **params)
        assert answer.status_code == 200, path
        assert not [name for name in others if name in answer.text], path
    simulated = await dash.post("/app/api/whatif", launch, {"dimension": "procurement", "delta": 3})
    assert simulated.status_code == 200
    assert simulated.json()["scope"]["code"] == "DINKES"
    actions = (await dash.get("/app/api/actions", launch)).json()
    assert [a["what"] for a in actions["rows"]] == ["Publikasi SOP layanan"]

    institution_only = _t("id", "access_institution_only", unit="Dinas Kesehatan")
    for path in ("/app/api/units", "/app/api/trend", "/app/api/uptake"):
        answer = await dash.get(path, launch)
        assert answer.status_code == 403, path
        assert answer.json()["message"] == institution_only
    other_unit = _t("id", "access_other_unit", unit="Dinas Kesehatan")
    for code in ("DISPENDUKCAPIL", "NO-SUCH-UNIT"):  # an unknown unit is refused the same way
        answer = await dash.get("/app/api/unit", launch, code=code)
        assert answer.status_code == 403
        assert answer.json()["message"] == other_unit
        answer = await dash.get("/app/api/whatif", launch, unit=code)
        assert answer.status_code == 403
        answer = await dash.post(
            "/app/api/whatif", launch, {"dimension": "procurement", "delta": 3, "unit": code}
        )
        assert answer.status_code == 403
        assert not [name for name in others if name in answer.text]


async def test_leadership_sees_every_unit_but_not_the_invitations(dash: Dash) -> None:
    await seed_scores(dash.h)
    await _actions_for_two_units(dash)
    boss = await dash.official(Role.LEADERSHIP)
    launch = dash.launch(boss.id)

    units = (await dash.get("/app/api/units", launch)).json()
    report = await _report(dash)
    ranked = sorted((u for u in report.units if u.index is not None), key=lambda u: -u.index)
    assert [u["code"] for u in units["ranked"]] == [u.code for u in ranked]
    assert [u["text"] for u in units["ranked"]] == [format_number(u.index, "id") for u in ranked]
    one = await dash.get("/app/api/unit", launch, code="DISPENDUKCAPIL")
    assert one.json()["scope"]["name"] == report.unit("DISPENDUKCAPIL").name
    actions = (await dash.get("/app/api/actions", launch)).json()
    assert len(actions["rows"]) == 2
    assert (await dash.get("/app/api/unit", launch, code="NO-SUCH")).status_code == 404

    uptake = await dash.get("/app/api/uptake", launch)
    assert uptake.status_code == 403
    assert uptake.json()["message"] == _t("id", "miniapp_admins_only")


async def test_admins_also_see_invitation_uptake(dash: Dash) -> None:
    await create_invitations(
        dash.h.engine,
        wave=dash.h.wave,
        group=Group.INTERNAL,
        roster=[{"unit": "DINKES"}, {"unit": "DINKES"}],
        bot_username="spi_sandbox_bot",
        now=dash.h.clock(),
    )
    launch = dash.launch(ADMIN_ID)

    overview = (await dash.get("/app/api/overview", launch)).json()
    assert overview["me"]["role"] == "admin"
    assert overview["me"]["views"][-1] == "uptake"
    uptake = (await dash.get("/app/api/uptake", launch)).json()
    assert uptake["rows"][0]["unit"] == "Dinas Kesehatan"
    assert uptake["rows"][0]["text"] == "2 dibagikan · 0 dibuka · 0 selesai"


# -- numbers: the release rule and small cells -------------------------------------------------


async def test_an_open_wave_shows_whole_days_in_steps_of_k(dash: Dash) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)

    async def dinkes() -> str:
        body = (await dash.get("/app/api/unit", dash.launch(boss.id), code="DINKES")).json()
        return json.dumps(body["scope"]["groups"], ensure_ascii=False)

    before = await dinkes()
    # Today's responses are not shown today...
    await add_responses(
        dash.h.engine, dash.h.wave, "DINKES", Group.INTERNAL, 4, dash.h.clock(), level=0.1, seed=9
    )
    assert await dinkes() == before
    # ...nor tomorrow, while fewer than k have come in since the last step.
    dash.h.clock.advance(days=1)
    assert await dinkes() == before
    overview = (await dash.get("/app/api/overview", dash.launch(boss.id))).json()
    assert any("belum masuk" in note for note in overview["scope"]["notes"])
    # The k-th response completes the step: the day after, the result moves.
    await add_responses(
        dash.h.engine, dash.h.wave, "DINKES", Group.INTERNAL, 1, dash.h.clock(), level=0.1, seed=10
    )
    dash.h.clock.advance(days=1)
    after = await dinkes()
    assert after != before
    report = await _report(dash)
    internal = report.unit("DINKES").group(Group.INTERNAL)
    assert internal.n == 6 + 5
    assert format_number(internal.score, "id") in after


async def test_a_suppressed_cell_carries_no_number_anywhere(dash: Dash) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)
    launch = dash.launch(boss.id)
    report = await _report(dash)
    k = dash.h.settings.small_cell_k

    for code in ("DINKES", "DISPENDUKCAPIL", "DPUPR", "BAPPEDA"):
        body = (await dash.get("/app/api/unit", launch, code=code)).json()
        for cell, shown in zip(report.unit(code).groups, body["scope"]["groups"], strict=True):
            if cell.suppressed or cell.score is None:
                assert shown["shown"] is False
                assert set(shown) <= {"group", "label", "shown", "reason", "why"}
                assert re.findall(r"\d+", shown.get("why", "")) in ([], [str(k)])
            else:
                assert shown["text"] == format_number(cell.score, "id")
    bappeda = (await dash.get("/app/api/unit", launch, code="BAPPEDA")).json()
    assert bappeda["scope"]["headline"]["state"] == "insufficient"
    assert _numbers(bappeda["scope"]) == []
    assert bappeda["scope"]["scale"] is None
    assert bappeda["scope"]["dimensions_chart"] is None
    assert all(not d["shown"] for d in bappeda["scope"]["dimensions"])
    units = (await dash.get("/app/api/units", launch)).json()
    assert [u["code"] for u in units["insufficient"]] == ["BAPPEDA"]
    assert units["insufficient_why"] == _t("id", "miniapp_suppressed_why", k=k)
    for path in GET_VIEWS[:-1]:
        hidden = _hidden_cells((await dash.get(path, launch)).json())
        assert all(not _numbers(cell) for cell in hidden), path
    # The what-if leaves the small cell alone and says so.
    simulated = await dash.post(
        "/app/api/whatif", launch, {"dimension": "procurement", "delta": 5, "unit": "BAPPEDA"}
    )
    assert simulated.status_code == 200
    assert simulated.json()["after"]["state"] == "insufficient"
    assert _numbers(simulated.json()) == []


async def test_english_speakers_get_english_and_a_decimal_point(dash: Dash) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP, language="en")

    body = (await dash.get("/app/api/overview", dash.launch(boss.id, "en"))).json()

    assert body["me"]["language"] == "en"
    assert body["text"]["index"] == "Integrity Index"
    report = await _report(dash)
    assert body["scope"]["headline"]["text"] == format_number(report.institution.index, "en")
    assert "." in body["scope"]["headline"]["text"]


async def test_before_any_wave_the_overview_says_so(dash_without_wave: Dash) -> None:
    boss = await dash_without_wave.official(Role.LEADERSHIP)

    body = (
        await dash_without_wave.get("/app/api/overview", dash_without_wave.launch(boss.id))
    ).json()

    assert body["wave"] is None
    assert body["message"] == _t("id", "scores_no_wave")
    units = (
        await dash_without_wave.get("/app/api/units", dash_without_wave.launch(boss.id))
    ).json()
    assert units["message"] == _t("id", "scores_no_wave")


async def test_the_start_parameter_picks_the_first_view_only_among_allowed_ones(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)
    head = await dash.official(Role.UNIT_HEAD, "DINKES")

    def start(user_id: int, param: str) -> str:
        return dash.launch(user_id, start_param=param)

    assert (await dash.get("/app/api/overview", start(boss.id, "progress"))).json()["start"] == (
        "progress"
    )
    assert (await dash.get("/app/api/overview", start(head.id, "units"))).json()["start"] == (
        "overview"
    )


# -- the what-if --------------------------------------------------------------------------------


async def test_the_what_if_is_the_scoring_code_on_the_skor_report(dash: Dash) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)
    launch = dash.launch(boss.id)

    answer = await dash.post(
        "/app/api/whatif",
        launch,
        {"dimension": "procurement", "delta": 7.5, "groups": ["internal", "expert"]},
    )

    assert answer.status_code == 200
    body = answer.json()
    report = await _report(dash)
    result = what_if(report, Lift(Dimension.PROCUREMENT, 7.5, (Group.INTERNAL, Group.EXPERT)))
    assert body["before"]["text"] == format_number(result.before.index, "id")
    assert body["after"]["text"] == format_number(result.after.index, "id")
    assert body["after"]["moe"] is None
    assert "Pengelolaan PBJ naik 7,50 poin" in body["lift"]
    form = (await dash.get("/app/api/whatif", launch)).json()
    assert [d["key"] for d in form["dimensions"]][:2] == ["transparency", "task_integrity"]
    assert form["plan"]["state"] in ("needs", "reached")


BAD_LIFTS = (
    (b"not json", 400),
    (b"[1, 2]", 400),
    ({"dimension": "corruption", "delta": 5}, 400),
    ({"dimension": "procurement", "delta": "5"}, 400),
    ({"dimension": "procurement", "delta": True}, 400),
    ({"dimension": "procurement", "delta": 1000}, 400),
    (b'{"dimension": "procurement", "delta": NaN}', 400),
    ({"dimension": "procurement", "delta": 5, "groups": ["citizens"]}, 400),
    ({"dimension": "procurement", "delta": 5, "groups": "internal"}, 400),
    ({"dimension": "procurement", "delta": 5, "unit": "../../etc/passwd"}, 400),
    ({"dimension": "procurement", "delta": 5, "unit": "NO-SUCH-UNIT"}, 404),
    (json.dumps({"dimension": "procurement", "delta": 5, "pad": "x" * 5000}).encode(), 400),
)


async def test_a_bad_what_if_gets_a_clear_answer(dash: Dash) -> None:
    boss = await dash.official(Role.LEADERSHIP)

    for body, status in BAD_LIFTS:
        answer = await dash.post("/app/api/whatif", dash.launch(boss.id), body)
        assert answer.status_code == status, body
        said = answer.json()
        assert said["message"]
        assert said["title"]


async def test_an_unauthenticated_what_if_is_refused_before_its_body_is_read(dash: Dash) -> None:
    answer = await dash.post("/app/api/whatif", None, b"x" * 100_000)

    assert answer.status_code == 401


# -- the shell, headers, logs ---------------------------------------------------------------------


async def test_the_shell_holds_no_data_and_every_response_is_locked_down(dash: Dash) -> None:
    shell = await dash.get("/app/")

    assert shell.status_code == 200
    csp = shell.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    # No origin but ours, and Telegram Web's to frame us.
    assert re.findall(r"https?://[^\s;]+", csp) == ["https://web.telegram.org"]
    assert shell.headers["x-content-type-options"] == "nosniff"
    assert shell.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in shell.text  # no inline script
    assert "Mojokerto" not in shell.text
    assert _t("id", "miniapp_shell_loading") in shell.text
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', shell.text)
    assert len(assets) == 2
    for asset in assets:
        answer = await dash.http.get("/app/" + asset)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-security-policy"] == csp
        unversioned = await dash.get("/app/" + asset.split("?")[0])
        assert unversioned.headers["cache-control"] == "no-cache"
    assert (await dash.get("/app/static/secrets.txt")).status_code == 404
    assert (await dash.get("/app/static/..%2Fshell.py")).status_code == 404
    assert (await dash.http.head("/app/")).status_code == 200


async def test_nothing_personal_reaches_the_logs(
    dash: Dash, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_scores(dash.h)
    boss = await dash.official(Role.LEADERSHIP)
    services = dash.h.app.bot_data.services
    caplog.set_level(logging.DEBUG)
    launches = [dash.launch(boss.id), dash.launch(STRANGER), dash.launch(boss.id, token="1:x")]

    for launch in launches:
        for path in GET_VIEWS:
            await dash.get(path, launch)
        await dash.post("/app/api/whatif", launch, {"dimension": "procurement", "delta": 5})

    # Libraries that log content at DEBUG are kept above it in production (bot/cli/common.py).
    ours = [r for r in caplog.records if not r.name.startswith(LIBRARIES_WITH_CONTENT_IN_DEBUG)]
    logged = "\n".join(r.getMessage() for r in ours)
    assert "dashboard: launch data refused (forged)" in logged
    assert "dashboard: refused a person without a role" in logged
    for secret in (str(boss.id), str(STRANGER), services.pseudonym(boss.id), "auth_date", "hash="):
        assert secret not in logged
