"""The /simulasi request parser and the what-if and peers texts (no Telegram here)."""

from __future__ import annotations

import json
import re

import pytest

from scoring import build_report
from scoring.config import ScoringConfig
from scoring.peers import standings
from scoring.whatif import Lift, reach_category, what_if
from services.reports import (
    BadRequest,
    OurInstitution,
    display_name,
    parse_request,
    peers_json,
    peers_text,
)
from services.reports.whatif import plan_text, whatif_text
from surveys.model import Dimension, Group
from tests.test_scoring_report import HAND, hand_report
from tests.test_scoring_support import answers_frame, two_dimension_questionnaires, units

IN, EX, XP = Group.INTERNAL, Group.EXTERNAL, Group.EXPERT
MOJOKERTO = OurInstitution("Pemerintah Kabupaten Mojokerto", "kabupaten")


def test_parse_a_lift():
    request = parse_request(["pengadaan", "5", "pegawai", "eksper"])
    assert request.unit is None
    assert request.lift == Lift(Dimension.PROCUREMENT, 5.0, (IN, XP))
    request = parse_request(["Procurement", "+2,5", "unit", "dinkes"])
    assert request.unit == "DINKES"
    assert request.lift is not None
    assert request.lift.delta == 2.5
    assert request.lift.groups == (IN, EX, XP)
    assert request.lift.unit == "DINKES"
    assert parse_request(["anggaran", "−3"]).lift == Lift(Dimension.BUDGET_MANAGEMENT, -3.0)


def test_parse_the_plan():
    assert parse_request([]).lift is None
    assert parse_request(["unit", "DINKES"]) == parse_request(["UNIT", "dinkes"])


@pytest.mark.parametrize(
    ("words", "key"),
    [
        (["korupsi", "5"], "whatif_bad_dimension"),
        (["pengadaan"], "whatif_bad_delta"),
        (["pengadaan", "lima"], "whatif_bad_delta"),
        (["pengadaan", "500"], "whatif_bad_delta"),
        (["pengadaan", "nan"], "whatif_bad_delta"),
        (["pengadaan", "inf"], "whatif_bad_delta"),
        (["pengadaan", "5", "warga"], "whatif_bad_group"),
        (["pengadaan", "5", "unit"], "whatif_missing_unit"),
        (["pengadaan", "5", "unit", "A", "B"], "whatif_missing_unit"),
    ],
)
def test_confused_requests_are_named(words, key):
    with pytest.raises(BadRequest) as caught:
        parse_request(words)
    assert caught.value.key == key


def test_a_hostile_word_is_cut_short():
    with pytest.raises(BadRequest) as caught:
        parse_request(["<script>" * 50, "5"])
    assert len(caught.value.value) <= 40


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+[.,]\d\d", text))


def test_whatif_text_by_hand():
    report = hand_report()
    result = what_if(report, Lift(Dimension.TASK_INTEGRITY, 10.0, (IN, XP)))
    text = whatif_text(result, report, "id")
    assert "Integritas dalam pelaksanaan tugas" in text
    assert "naik 10,00 poin" in text
    assert "Indeks 64,74 🔴 Rentan → <b>68,10 🔴 Rentan</b> (+3,36)" in text
    assert "Pegawai: 50,00 → 55,00" in text
    english = whatif_text(result, report, "en")
    assert "Index 64.74 🔴 Vulnerable → <b>68.10 🔴 Vulnerable</b>" in english


def test_suppressed_unit_text_shows_no_number():
    report = build_report(
        answers_frame(HAND),
        two_dimension_questionnaires(),
        ScoringConfig(min_cell_size=3),
        wave="2025-1",
        wave_open=True,
        units=units("A", "B"),
    )
    result = what_if(report, Lift(Dimension.TRANSPARENCY, 10.0, unit="A"))
    text = whatif_text(result, report, "id")
    assert _numbers(text) == {"10,00"}  # only the lift the asker typed
    assert "data belum cukup" in text
    plan = reach_category(report, unit="A")
    text = plan_text(plan, report.unit("A"), report, "id")
    assert _numbers(text) == set()
    assert "Belum ada indeks lengkap" in text


def test_plan_text_by_hand():
    report = hand_report()
    text = plan_text(reach_category(report), report.institution, report, "id")
    assert "Menuju Terjaga" in text
    assert "1. Integritas dalam pelaksanaan tugas (59,48): +27,40 poin → 78,00" in text
    assert "2. Transparansi (72,99): +35,90 poin → 78,00" in text
    from scoring.index import WASPADA

    there = plan_text(
        reach_category(report, unit="A", target=WASPADA), report.unit("A"), report, "en"
    )
    assert "already Alert" in there


def test_peers_text_and_json():
    found = standings(MOJOKERTO.name, level=MOJOKERTO.level)
    text = peers_text(MOJOKERTO, found, "id", year=2022)
    assert (
        "SPI 2022: <b>74,00</b> 🟡 Waspada · persentil 72 (peringkat 112 dari 410 kabupaten)"
        in text
    )
    assert "<b>Kab. Mojokerto</b>: 74,00" in text
    assert "rata-rata kabupaten 70,63 · nasional 71,94" in text
    data = peers_json(MOJOKERTO, found)
    json.dumps(data)
    year_2022 = next(y for y in data["years"] if y["year"] == 2022)
    assert year_2022["percentile"] == 72.44
    assert year_2022["index"] == 74.0
    assert len(year_2022["peers"]) == 5


def test_peers_not_found():
    text = peers_text(OurInstitution("Pemerintah Kota <b>X</b>", "kota"), (), "en")
    assert "&lt;b&gt;X&lt;/b&gt;" in text
    assert peers_json(OurInstitution("X", "kota"), ())["found"] is False


def test_display_names():
    assert display_name("PEMERINTAH KABUPATEN MOJOKERTO") == "Kab. Mojokerto"
    assert display_name("PEMERINTAH KOTA BATU") == "Kota Batu"
    assert display_name("BANK INDONESIA (BI)") == "BANK INDONESIA (BI)"
