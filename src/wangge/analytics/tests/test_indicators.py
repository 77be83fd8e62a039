"""Each indicator on a hand-built case history, with the expected values worked out by hand.

Working time: 08:00–12:00 and 14:00–18:00 on workdays; 2–6 November 2026 is a plain Mon–Fri
week. Matter 91001 (邻里纠纷) is handled by the community with the default limits (受理 2 工作时,
派遣 2 工作时, 处置 5 工作日, 核查 1 工作日); 06010 (暴露垃圾) is a grid matter with a 4-hour
handling limit that grid workers may resolve on the spot."""

from __future__ import annotations

from datetime import date

import pytest

from wangge.analytics.periods import date_range, parse_period
from wangge.analytics.selectors import area_indicators
from wangge.cases.services import case_create
from wangge.cases.tests.factories import centre

from .helpers import act, at, report, walk

pytestmark = pytest.mark.django_db

H = 3600


@pytest.fixture
def history(world):
    w = world
    mon = at(2026, 11, 2, 0, 0)
    cases = {}
    # A: the plain loop, rated 5. Response 1 h; handling Mon 11:00 → Tue 09:00 = 1+4+1 = 6 h.
    cases["A"] = walk(
        w,
        report(w, now=at(2026, 11, 2, 9)),
        [
            ("accept", 10, {}),
            ("dispatch", 11, {"assignee": w.worker.pk}),
            ("claim", 11.5, {}),
            ("handle", 24 + 9, {"result": "已调解"}),
            ("verify", 24 + 10, {}),
            ("close", 24 + 11, {}),
            ("rate", 24 + 12, {"score": 5}),
        ],
        mon,
    )
    # B: grid matter, handled late (5 h of a 4 h limit), failed verification (rework), handled
    # again on time, closed, rated 2, reopened, handled late again (Wed 10:00, due Wed 09:00),
    # closed. Response 0.5 h; handling Mon 10:00 → Wed 10:00 = 2+4+8+2 = 16 h.
    cases["B"] = walk(
        w,
        report(w, now=at(2026, 11, 2, 9), matter="06010"),
        [
            ("accept", 9.5, {}),
            ("dispatch", 10, {"assignee": w.worker.pk}),
            ("claim", 10.2, {}),
            ("handle", 17, {"result": "已清理"}),
            ("verify_fail", 24 + 9, {"reason": "仍有残留"}),
            ("handle", 24 + 11, {"result": "再次清理"}),
            ("verify", 24 + 11.5, {}),
            ("close", 24 + 14, {}),
            ("rate", 24 + 14.5, {"score": 2}),
            ("reopen", 24 + 15, {"reason": "又堆了"}),
            ("handle", 48 + 10, {"result": "第三次清理"}),
            ("verify", 48 + 10.5, {}),
            ("close", 48 + 11, {}),
        ],
        mon,
    )
    # C: resolved on the spot by the grid worker (self-resolved, zero durations).
    lon, lat = centre(w.grid)
    cases["C"] = case_create(
        actor=w.worker,
        source="patrol",
        title="垃圾暴露",
        lon=lon,
        lat=lat,
        matter_type_code="06010",
        on_spot_result="已现场清理",
        now=at(2026, 11, 2, 14),
    ).case
    # D: dispatched, returned (a wrong dispatch), dispatched again, then suspended (挂账).
    d = walk(
        w,
        report(w, now=at(2026, 11, 2, 10)),
        [
            ("accept", 10.5, {}),
            ("dispatch", 11, {"assignee": w.worker.pk}),
            ("return", 14, {"reason": "不属于本网格"}),
            ("dispatch", 14.5, {"assignee": w.worker2.pk}),
            ("claim", 15, {}),
        ],
        mon,
    )
    d = act(w.dispatcher, d, "request_suspend", at(2026, 11, 3, 9), reason="待产权确认")
    cases["D"] = act(w.commander, d, "approve_suspend", at(2026, 11, 3, 9))
    # E: suspended Mon 11:00 → resumed Wed 09:00 (1+4+8+1 = 14 working hours stopped), handled
    # Wed 10:00: 16 h since dispatch minus 14 h = 2 h; verified and closed on time.
    e = walk(
        w,
        report(w, now=at(2026, 11, 2, 9)),
        [("accept", 9.5, {}), ("dispatch", 10, {"assignee": w.worker.pk}), ("claim", 10.5, {})],
        mon,
    )
    e = act(w.dispatcher, e, "request_suspend", at(2026, 11, 2, 11), reason="等待")
    e = act(w.commander, e, "approve_suspend", at(2026, 11, 2, 11))
    cases["E"] = walk(
        w,
        e,
        [
            ("resume", 48 + 9, {}),
            ("handle", 48 + 10, {"result": "已处理"}),
            ("verify", 48 + 10.5, {}),
            ("close", 48 + 11, {}),
        ],
        mon,
    )
    # F: accepted then cancelled (作废): not filed.
    cases["F"] = walk(
        w,
        report(w, now=at(2026, 11, 2, 11)),
        [("accept", 11.5, {}), ("cancel", 14, {"reason": "录入错误"})],
        mon,
    )
    # G: a duplicate of A, merged.
    cases["G"] = walk(
        w,
        report(w, now=at(2026, 11, 2, 12)),
        [("merge", 14, {"duplicate_of": cases["A"].pk})],
        mon,
    )
    # H: rejected (不予立案).
    cases["H"] = walk(
        w, report(w, now=at(2026, 11, 2, 13)), [("reject", 14, {"reason": "不属实"})], mon
    )
    # I: accepted after 10 minutes, dispatched, never handled: overdue by 16 November.
    cases["I"] = walk(
        w,
        report(w, now=at(2026, 11, 2, 9)),
        [("accept", 9 + 1 / 6, {}), ("dispatch", 9 + 1 / 3, {"assignee": w.worker.pk})],
        mon,
    )
    # Out of the area asked about below, and out of the period: must not count.
    report(w, now=at(2026, 11, 3, 9), grid=w.other_grid)
    report(w, now=at(2026, 10, 30, 9))
    return cases


def _values(region, period, now):
    data = area_indicators(region, period, now=now)
    return {i["code"]: i["value"] for i in data["indicators"]}, data["sums"]


def test_each_indicator_matches_the_hand_computed_value(world, history):
    assert history["B"].handling_level == "grid" and history["A"].handling_level == "community"
    values, sums = _values(world.tree.streets[0], parse_period("2026-11"), at(2026, 11, 16, 9))
    assert sums["reported"] == 9
    assert (sums["rejected"], sums["merged"], sums["cancelled"], sums["suspended"]) == (1, 1, 1, 1)
    assert values["filed"] == 6  # A B C D E I
    assert values["overdue"] == 1  # I (D is suspended: its clock stands still)
    assert values["close_rate"] == pytest.approx(4 / 5)  # A B C E of (4 closed + 1 overdue)
    assert values["on_time_close_rate"] == pytest.approx(3 / 5)  # A C E
    assert values["on_time_handle_rate"] == pytest.approx(3 / 4)  # A C E of A B C E
    assert values["rework_rate"] == pytest.approx(1 / 4)  # B
    assert values["dispatch_accuracy"] == pytest.approx(5 / 6)  # 6 dispatches, 1 returned
    assert values["avg_response_hours"] == pytest.approx((1 + 0.5 + 0 + 0.5 + 0.5 + 1 / 6) / 6)
    assert values["avg_handle_hours"] == pytest.approx((6 + 16 + 0 + 2) / 4)
    assert values["satisfaction"] == pytest.approx(1.0)  # only A's 5 stands; B's 2 was reopened
    assert values["self_resolve_rate"] == pytest.approx(2 / 4)  # B (grid level), C (on the spot)
    assert values["first_time_rate"] == pytest.approx(3 / 4)  # A C E
    assert values["repeat_rate"] == pytest.approx(1 / 8)  # G of 9 reports less 1 cancelled


def test_a_date_range_and_a_grid_see_the_same_cohort(world, history):
    by_month, _ = _values(world.grid, parse_period("2026-11"), at(2026, 11, 16, 9))
    by_days, _ = _values(
        world.grid, date_range(date(2026, 11, 2), date(2026, 11, 2)), at(2026, 11, 16, 9)
    )
    assert by_month == by_days
    # Before anything was due, nothing is overdue and 应结案数 is just the closed cases.
    early, _ = _values(world.grid, parse_period("2026-11"), at(2026, 11, 4, 12))
    assert early["overdue"] == 0 and early["close_rate"] == pytest.approx(1.0)


def test_other_areas_and_periods_are_not_counted(world, history):
    values, sums = _values(world.tree.streets[1], parse_period("2026-11"), at(2026, 11, 16, 9))
    # One report, never accepted: its 受理 step (2 工作时) is long overdue, so 应结案数 = 1.
    assert (sums["reported"], values["filed"], values["overdue"]) == (1, 0, 1)
    assert values["close_rate"] == 0.0 and values["satisfaction"] is None
    _, october = _values(world.grid, parse_period("2026-10"), at(2026, 11, 16, 9))
    assert october["reported"] == 1


def test_indicators_break_down_by_department_and_worker(world, history):
    from wangge.analytics.choices import Dim
    from wangge.analytics.selectors import breakdown

    by_worker = breakdown(world.tree.county, parse_period("2026-11"), Dim.WORKER)
    assert by_worker[str(world.worker.pk)]["closed"] == 4  # A B C E
    assert by_worker[str(world.worker2.pk)]["suspended"] == 1  # D
    by_type = breakdown(world.tree.county, parse_period("2026-11"), Dim.TYPE)
    assert by_type[str(world.matters["06010"].pk)]["reported"] == 2


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 10, 1), date(2026, 11, 30)),  # whole months only: month rows
        (date(2026, 10, 20), date(2026, 12, 5)),  # day rows at both edges, a month between
        (date(2026, 11, 2), date(2026, 11, 20)),  # inside one month: day rows only
    ],
)
def test_a_range_read_from_month_and_edge_day_rows_equals_its_days(world, history, first, last):
    from wangge.analytics.selectors import sums_by_region, trend

    period = date_range(first, last)
    for region in (world.tree.county, world.grid):
        sums = sums_by_region([region.pk], period)[region.pk]
        days = trend(region, period)
        assert sums["reported"] > 0
        assert sums == {m: sum(s[m] for _d, s in days) for m in sums}


def test_map_polygons_are_kept_until_the_region_changes(world, django_assert_num_queries):
    from wangge.analytics.selectors import boundaries, grids_under
    from wangge.geo.models import Region

    grids = list(grids_under(world.tree.county).defer("boundary"))
    first = boundaries(grids)
    assert first[world.grid.pk] == Region.objects.get(pk=world.grid.pk).boundary
    with django_assert_num_queries(0):
        assert boundaries(grids) == first
    world.grid.boundary = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    world.grid.save()
    grids = list(grids_under(world.tree.county).defer("boundary"))
    assert boundaries(grids)[world.grid.pk] == Region.objects.get(pk=world.grid.pk).boundary
