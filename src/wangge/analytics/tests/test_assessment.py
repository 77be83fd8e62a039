"""Schemes as data: validation, scoring rules, grades, explained and ranked results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wangge.analytics.assessment import (
    DEFAULT_ITEMS,
    assessment_run_now,
    default_schemes_create,
    grade_for,
    item_share,
    scheme_save,
    score,
)
from wangge.analytics.models import AssessmentSchemeVersion
from wangge.core.exceptions import PermissionDenied, ValidationError

from .helpers import at, report, walk

pytestmark = pytest.mark.django_db

GRADES = [["A", 90], ["B", 75], ["C", 60], ["D", 40], ["E", 0]]


def test_rules_turn_values_into_shares_of_the_weight():
    assert item_share({"kind": "linear", "zero": 0.5, "full": 0.95}, 0.95) == 1
    assert item_share({"kind": "linear", "zero": 0.5, "full": 0.95}, 0.4) == 0
    assert item_share({"kind": "linear", "zero": 0.5, "full": 0.95}, 0.725) == pytest.approx(0.5)
    # Lower is better: full points at 2 % rework, none at 30 %.
    assert item_share({"kind": "linear", "zero": 0.3, "full": 0.02}, 0.16) == pytest.approx(0.5)
    bands = {"kind": "bands", "direction": "max", "bands": [[1, 1.0], [2, 0.8], [4, 0.5]]}
    assert [item_share(bands, v) for v in (0.5, 1.5, 3, 9)] == [1.0, 0.8, 0.5, 0.0]
    assert item_share({"kind": "threshold", "min": 0.9}, 0.91) == 1.0
    assert item_share({"kind": "threshold", "max": 0}, 1) == 0.0


def test_grades_follow_the_bands():
    assert [grade_for(s, GRADES) for s in (95, 90, 89.99, 75, 60, 40, 39.9, 0)] == list("AABBCDEE")


def test_a_score_explains_each_item_and_rescales_missing_data():
    items = [
        {
            "indicator": "on_time_close_rate",
            "weight": 30,
            "rule": {"kind": "linear", "zero": 0.5, "full": 1.0},
        },
        {"indicator": "satisfaction", "weight": 70, "rule": {"kind": "threshold", "min": 0.9}},
    ]
    s = score({"on_time_close_rate": 0.921, "satisfaction": 0.95}, items, GRADES)
    assert s.details[0]["text"] == "按期结案率 92.1% → 25.3 / 30"
    assert s.score == Decimal("95.26") and s.grade == "A"
    # No rated case: satisfaction is left out and the rest counts for 100.
    s = score({"on_time_close_rate": 0.921, "satisfaction": None}, items, GRADES)
    assert s.score == Decimal("84.20") and s.grade == "B"
    assert "无数据" in s.details[1]["text"]


@pytest.mark.parametrize(
    "items, problem",
    [
        ([], "empty"),
        (
            [{"indicator": "nope", "weight": 100, "rule": {"kind": "threshold", "min": 1}}],
            "unknown",
        ),
        (
            [
                {
                    "indicator": "filed",
                    "weight": 60,
                    "rule": {"kind": "linear", "zero": 0, "full": 9},
                },
                {
                    "indicator": "satisfaction",
                    "weight": 40,
                    "rule": {"kind": "threshold", "min": 0.9},
                },
            ],
            "satisfaction_weight",
        ),
        (
            [
                {
                    "indicator": "satisfaction",
                    "weight": 90,
                    "rule": {"kind": "threshold", "min": 0.9},
                }
            ],
            "sum",
        ),
        (
            [
                {
                    "indicator": "satisfaction",
                    "weight": 100,
                    "rule": {"kind": "linear", "zero": 1, "full": 1},
                }
            ],
            "rule",
        ),
        (
            [
                {
                    "indicator": "satisfaction",
                    "weight": 100,
                    "rule": {"kind": "bands", "bands": [[1, 2]]},
                }
            ],
            "rule",
        ),
    ],
)
def test_bad_schemes_are_refused_and_nothing_is_saved(world, items, problem):
    with pytest.raises(ValidationError) as exc:
        scheme_save(
            actor=world.commander,
            code="x",
            name="x",
            object_kind="grid",
            period_kind="month",
            region=world.tree.county,
            items=items,
        )
    assert problem in exc.value.errors["items"]
    assert not AssessmentSchemeVersion.objects.exists()


def test_default_schemes_weigh_satisfaction_above_activity(world):
    weights = {i["indicator"]: i["weight"] for i in DEFAULT_ITEMS}
    assert weights["satisfaction"] >= weights["filed"] and sum(weights.values()) == 100
    schemes = default_schemes_create(world.tree.county)
    assert {s.code for s in schemes} == {
        "community-monthly",
        "grid-monthly",
        "department-quarterly",
        "branch-monthly",
    }


def test_only_holders_of_the_permission_in_area_change_schemes(world):
    with pytest.raises(PermissionDenied):
        scheme_save(
            actor=world.dispatcher,
            code="x",
            name="x",
            object_kind="grid",
            period_kind="month",
            region=world.tree.streets[0],
            items=DEFAULT_ITEMS,
        )


def test_a_run_is_ranked_explained_and_keeps_the_scheme_version(world):
    t = at(2026, 11, 2)
    good = walk(
        world,
        report(world, now=at(2026, 11, 2, 9)),
        [
            ("accept", 1, {}),
            ("dispatch", 2, {"assignee": world.worker.pk}),
            ("claim", 3, {}),
            ("handle", 5, {"result": "ok"}),
            ("verify", 6, {}),
            ("close", 7, {}),
            ("rate", 8, {"score": 5}),
        ],
        t,
    )
    assert good.state == "rated"
    other = world.tree.grids[1]  # same community, nothing handled, overdue by December
    report(world, now=at(2026, 11, 3, 9), grid=other)
    scheme = scheme_save(
        actor=world.commander,
        code="grids",
        name="网格考核",
        object_kind="grid",
        period_kind="month",
        region=world.tree.streets[0],
        items=DEFAULT_ITEMS,
    )
    run = assessment_run_now(actor=world.commander, scheme=scheme, period_label="2026-11")
    results = list(run.results.order_by("rank"))
    assert [r.object_id for r in results][:2] == [world.grid.pk, other.pk] or results[
        0
    ].object_id == world.grid.pk
    top = results[0]
    assert top.object_id == world.grid.pk and top.rank == 1 and top.grade in "AB"
    assert any(d["text"].startswith("按期结案率 100.0% →") for d in top.details)
    assert run.scheme_version.version == 1
    # A new version does not change what the old run used.
    scheme_save(
        actor=world.commander,
        code="grids",
        name="网格考核",
        object_kind="grid",
        period_kind="month",
        region=world.tree.streets[0],
        items=[
            {"indicator": "satisfaction", "weight": 100, "rule": {"kind": "threshold", "min": 0.9}}
        ],
    )
    run.refresh_from_db()
    assert run.scheme_version.version == 1 and len(run.scheme_version.definition["items"]) == len(
        DEFAULT_ITEMS
    )
    with pytest.raises(ValidationError):  # monthly scheme, quarterly period
        assessment_run_now(actor=None, scheme=scheme, period_label="2026-Q4")


def test_department_scores_are_scoped_to_their_department(world):
    from wangge.analytics.selectors import access_run, result_list_for_user
    from wangge.core.exceptions import NotFound

    t = at(2026, 11, 2)
    walk(
        world,
        report(world, now=at(2026, 11, 2, 9)),
        [("accept", 1, {}), ("dispatch", 2, {"department": world.dept.pk})],
        t,
    )
    walk(
        world,
        report(world, now=at(2026, 11, 2, 9)),
        [("accept", 1, {}), ("dispatch", 2, {"department": world.dept2.pk})],
        t,
    )
    scheme = scheme_save(
        actor=None,
        code="depts",
        name="部门考核",
        object_kind="department",
        period_kind="quarter",
        region=world.tree.county,
        items=DEFAULT_ITEMS,
    )
    run = assessment_run_now(actor=None, scheme=scheme, period_label="2026-Q4")
    assert run.results.count() == 2
    mine = list(result_list_for_user(world.dept_user, run))
    assert [r.department_id for r in mine] == [world.dept.pk]
    assert [r.department_id for r in result_list_for_user(world.dept2_user, run)] == [
        world.dept2.pk
    ]
    assert result_list_for_user(world.commander, run).count() == 2
    with pytest.raises(NotFound):
        access_run(world.nobody, run.pk)
