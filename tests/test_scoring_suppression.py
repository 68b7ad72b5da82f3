"""Small-cell suppression: the k boundary, complementary suppression, and no leaks anywhere."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import GROUP_ORDER, ScoringConfig, build_report
from surveys.model import Dimension, Group
from tests.test_scoring_support import answers_frame, likert, questionnaire, units

IN, EX = Group.INTERNAL, Group.EXTERNAL
# Few Likert items, so the quality rules (≥ 8 items, ≥ 5 answers) stay out of the way.
QS = [likert("a", Dimension.TRANSPARENCY), likert("b", Dimension.PROCUREMENT, reverse=True)]
QNS = {g: questionnaire(g, QS) for g in Group}


def rows_for(unit, group, count, start=0, value="4"):
    return [
        (f"{unit}-{group.value}-{start + i}", group, unit, 300, {"a": value, "b": str(i % 5 + 1)})
        for i in range(count)
    ]


def report_for(rows, unit_codes, k=5):
    return build_report(
        answers_frame(rows),
        QNS,
        ScoringConfig(min_cell_size=k),
        wave="w",
        wave_open=True,
        units=units(*unit_codes),
    )


def test_k_boundary_four_is_suppressed_five_is_shown():
    four = report_for(rows_for("A", IN, 4), ["A"])
    cell = four.unit("A").group(IN)
    assert (cell.n, cell.suppressed, cell.score, cell.moe) == (4, True, None, None)
    assert all(d.score is None for d in cell.dimensions)
    assert four.institution.group(IN).suppressed  # 4 in the whole institution, too
    assert four.unit("A").suppressed
    assert four.unit("A").partial_index is None
    five = report_for(rows_for("A", IN, 5), ["A"])
    cell = five.unit("A").group(IN)
    assert (cell.n, cell.suppressed) == (5, False)
    assert cell.score is not None
    assert five.unit("A").partial_index == cell.score


def test_one_small_unit_also_hides_the_smallest_other_unit():
    # A (4) is suppressed; institution (4 + 6 + 9 = 19) minus B and C would reveal A's mean,
    # so the smallest shown unit (B, 6) is hidden as well; C stays.
    rows = rows_for("A", IN, 4) + rows_for("B", IN, 6) + rows_for("C", IN, 9)
    report = report_for(rows, ["A", "B", "C"])
    assert [report.unit(u).group(IN).suppressed for u in "ABC"] == [True, True, False]
    assert report.institution.group(IN).score is not None


def test_small_units_that_pool_to_k_need_no_extra_hiding():
    rows = rows_for("A", IN, 3) + rows_for("B", IN, 2) + rows_for("C", IN, 9)
    report = report_for(rows, ["A", "B", "C"])
    assert [report.unit(u).group(IN).suppressed for u in "ABC"] == [True, True, False]
    rows = rows_for("A", IN, 3) + rows_for("B", IN, 2) + rows_for("C", IN, 9)
    rows += rows_for("D", IN, 6)
    report = report_for(rows, ["A", "B", "C", "D"])
    assert [report.unit(u).group(IN).suppressed for u in "ABCD"] == [True, True, False, False]


def test_unit_index_is_suppressed_if_any_needed_cell_is():
    rows = rows_for("A", IN, 5) + rows_for("A", EX, 3) + rows_for("A", Group.EXPERT, 5)
    rows += rows_for("B", EX, 10)
    unit = report_for(rows, ["A", "B"]).unit("A")
    assert unit.suppressed
    assert unit.index is None
    assert unit.category is None
    assert unit.index_moe is None
    assert unit.groups_included == (IN, Group.EXPERT)


def walk(obj):
    """Yield every dict in a to_dict() tree."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def assert_blank(cell):
    assert cell.score is None
    assert cell.moe is None
    assert all(d.score is None for d in cell.dimensions)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=4
    ),
    k=st.integers(2, 6),
)
def test_suppression_never_leaks_a_small_cell(counts, k):
    codes = [f"U{i}" for i in range(len(counts))]
    rows = []
    for code, per_group in zip(codes, counts, strict=True):
        for group, count in zip(GROUP_ORDER, per_group, strict=True):
            rows += rows_for(code, group, count, value=str(len(rows) % 5 + 1))
    report = report_for(rows, codes, k=k)
    data = report.to_dict()
    scopes = [(report.institution, data["institution"])]
    scopes += [(report.unit(c), next(u for u in data["units"] if u["code"] == c)) for c in codes]
    for scope, scope_dict in scopes:
        small = False
        for cell, cell_dict in zip(scope.groups, scope_dict["groups"], strict=True):
            if 0 < cell.n < k:
                small = True
                assert cell.suppressed
            if cell.suppressed:
                assert_blank(cell)
                for d in walk(cell_dict):
                    assert d.get("score") is None
                    assert d.get("moe") is None
            for dim in cell.dimensions:
                assert dim.score is None or dim.n >= k
        if small:
            assert scope.index is None
            assert scope_dict["index"] is None
            assert scope.suppressed
    # Whatever is hidden per group holds either nothing or at least k responses.
    for gi in range(len(GROUP_ORDER)):
        hidden = sum(u.groups[gi].n for u in report.units if u.groups[gi].suppressed)
        assert hidden == 0 or hidden >= k or report.institution.groups[gi].suppressed
