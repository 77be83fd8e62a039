"""Hotspots: a real rise is flagged with its evidence, normal variation is not; the forecast is
measured against naive baselines on held-out weeks."""

from __future__ import annotations

import io
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


@pytest.fixture
def hot_client(world, monkeypatch):
    """The commander's client on the hotspots endpoint, counting real computations."""
    from django.core.cache import cache
    from django.test import Client

    from wangge.analytics import hotspots

    cache.clear()
    calls: list[int] = []
    real = hotspots.compute_hotspot_data

    def counted(*args, **kwargs):
        calls.append(args[0].pk)
        return real(*args, **kwargs)

    monkeypatch.setattr(hotspots, "compute_hotspot_data", counted)
    client = Client()
    client.force_login(world.commander)
    yield client, calls
    cache.clear()


def _load(client, area):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/analytics/hotspots.json?area={area.code}")
    assert response.status_code == 200
    rollup_reads = [q for q in ctx.captured_queries if "analytics_caserollup" in q["sql"]]
    return response.json(), len(rollup_reads)


def test_a_second_page_load_reads_the_stored_answer(world, hot_client):
    client, calls = hot_client
    first, reads = _load(client, world.tree.county)
    assert calls == [world.tree.county.pk] and reads > 0 and first["cached"] is False
    second, reads = _load(client, world.tree.county)
    assert calls == [world.tree.county.pk] and reads == 0 and second["cached"] is True
    assert second["computed_at"] == first["computed_at"] and second["summary"] == first["summary"]


def test_a_new_case_makes_the_next_load_recompute_its_areas_only(
    world, hot_client, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from .helpers import report

    client, calls = hot_client
    east = world.tree.streets[1]
    _load(client, world.tree.county)
    _load(client, east)
    assert calls == [world.tree.county.pk, east.pk]
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        report(world, now=timezone.now())  # in grid 0, street 0
    assert after_commit == []  # the case write itself marks nothing
    again, _reads = _load(client, world.tree.county)  # folds: the fold marks the areas
    assert again["cached"] is False and calls[-1] == world.tree.county.pk
    _load(client, east)  # nothing changed under the other street
    assert calls == [world.tree.county.pk, east.pk, world.tree.county.pk]


def test_a_rollup_rebuild_invalidates_every_area(world, hot_client):
    from django.core.management import call_command

    client, calls = hot_client
    _load(client, world.tree.county)
    make_case(world, grid=world.grid, matter="06010")  # written directly: no event
    assert _load(client, world.tree.county)[0]["cached"] is True
    call_command("analytics", "rebuild-rollups", stdout=io.StringIO())
    assert _load(client, world.tree.county)[0]["cached"] is False
    assert len(calls) == 2
