"""Hotspots: a real rise is flagged with its evidence, normal variation is not; the forecast is
measured against naive baselines on held-out weeks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from wangge.analytics.hotspots import forecast_for, hotspots_for
from wangge.analytics.rollups import rollups_rebuild
from wangge.cases.tests.factories import make_case

from .helpers import SH

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def _cases(world, grid, matter, day, n):
    for i in range(n):
        make_case(
            world, grid=grid, matter=matter, now=datetime.combine(day, time(9 + i % 8), tzinfo=SH)
        )


def test_a_rising_grid_and_matter_is_flagged_and_steady_ones_are_not(world):
    rising, steady = world.grid, world.tree.grids[1]
    for week in range(1, 9):  # the 8 baseline weeks: one report a week in each grid
        day = TODAY - timedelta(days=7 + 7 * week - 3)
        _cases(world, rising, "06010", day, 1)
        _cases(world, steady, "06010", day, 2)
    _cases(world, rising, "06010", TODAY - timedelta(days=2), 9)  # this week: 9 against ~1
    _cases(world, steady, "06010", TODAY - timedelta(days=2), 3)  # 3 against ~2: noise
    rollups_rebuild(samples=0)
    result = hotspots_for(world.tree.county, today=TODAY)
    assert result.tested == 2
    assert [h.grid_code for h in result.hotspots] == [rising.code]
    top = result.hotspots[0]
    assert (top.current, top.baseline_weekly) == (9, 1.0)
    assert top.p_value < 1e-4 and top.q_value < 0.05
    assert "本周9件" in top.text()


def test_the_forecast_reports_its_error_and_the_baselines(world):
    for week in range(30):
        day = TODAY - timedelta(days=TODAY.weekday()) - timedelta(weeks=week + 1)
        _cases(world, world.grid, "06010", day, 3 + (week % 2))
    rollups_rebuild(samples=0)
    f = forecast_for(world.grid, today=TODAY)  # the grid alone: no empty grids to average in
    assert f.weeks_used == 30 and 0 < f.alpha < 1
    assert f.mae_model is not None and f.mae_last_week is not None and f.mae_mean4 is not None
    # Alternating 3, 4, 3, 4 …: last week is always off by 1, a 4-week mean by 0.5.
    assert f.mae_last_week == pytest.approx(1.0) and f.mae_mean4 == pytest.approx(0.5)
    assert 3 <= f.next_week[world.grid.code] <= 4
