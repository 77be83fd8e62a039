"""The command centre's page data (``dashboard_data``, ``map_data``) read in a few plain SQL
statements after one fold: the same numbers as the general-purpose selectors, and few queries.

Issue 6: the grid page must stay ≥ 20× faster than a raw GROUP BY at 5,000,000 cases, which
leaves ≈2 ms for the whole page — these tests pin the numbers, the statement count and (on
PostgreSQL) that the statements keep one text, so that they are prepared once per connection
(decision 0024)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wangge.analytics.choices import Dim
from wangge.analytics.models import RollupDelta
from wangge.analytics.periods import date_range, parse_period
from wangge.analytics.selectors import (
    breakdowns,
    children,
    dashboard_data,
    grids_under,
    map_data,
    open_by_grid,
    overdue_by,
    overdue_cases,
    overdue_groups,
    sums_by_region,
    trend,
)
from wangge.cases.choices import MatterKind
from wangge.cases.models import Case, MatterType

from .helpers import at, report
from .test_indicators import history  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

NOW = at(2026, 11, 16, 12)
_ROLLUP = "analytics_caserollup"


def _reference(region: Any, period: Any) -> dict[str, Any]:
    """The page's numbers from the general-purpose selectors (one ORM query each); the map's
    numbers per grid twice: in map.geojson (read once) and in data.json (polled)."""
    kids = children(region)
    sums = sums_by_region([region.pk, *(k.pk for k in kids)], period)
    parts = breakdowns(region, period, (Dim.DEPT, Dim.STATE, Dim.TYPE, Dim.SOURCE))
    rows = overdue_groups(region.path, now=NOW, period=period)
    opened = open_by_grid(region.path)
    grids = list(grids_under(region))
    grid_paths = {g.pk: g.path for g in grids}
    overdue_list = list(overdue_cases(region.path, now=NOW).order_by("due_at", "id")[:20])
    out = {
        "totals": sums[region.pk],
        "overdue_total": sum(n for _p, _d, n in rows),
        "sub_areas": {
            k.code: (
                sums[k.pk]["reported"],
                sums[k.pk]["closed"],
                sum(n for g, n in opened.items() if grid_paths.get(g, "").startswith(k.path)),
                sum(n for p, _d, n in rows if p.startswith(k.path)),
            )
            for k in kids
        },
        "by_state": {v: s["reported"] for v, s in parts[Dim.STATE].items() if s["reported"]},
        "by_source": {v: s["reported"] for v, s in parts[Dim.SOURCE].items() if s["reported"]},
        "by_type": {
            MatterType.objects.get(pk=int(v)).name: s["reported"]
            for v, s in parts[Dim.TYPE].items()
            if s["reported"]
        },
        "departments": {v: (s["filed"], s["closed"]) for v, s in parts[Dim.DEPT].items()},
        "trend": [
            (str(d), s["reported"], s["filed"], s["closed"]) for d, s in trend(region, period)
        ],
        "overdue": [
            (c.tracking_code, timezone.localtime(c.due_at).strftime("%Y-%m-%d %H:%M"))
            for c in overdue_list
        ],
        "latest": Case.objects.filter(region_path__startswith=region.path).order_by("-id")[0].pk,
        "map": {
            g.code: (opened.get(g.pk, 0), overdue_by(region.path, now=NOW, period=None,
                                                       field="grid_id").get(g.pk, 0),
                     sums_by_region([g.pk], period)[g.pk]["reported"])
            for g in grids
        },
    }  # fmt: skip
    out["polled_map"] = out["map"]
    return out


def _page(region: Any, period: Any) -> dict[str, Any]:
    data = dashboard_data(None, region, period, now=NOW)
    geo = map_data(region, period, now=NOW)
    return {
        "totals": data["totals"],
        "overdue_total": data["overdue_total"],
        "sub_areas": {
            a["code"]: (a["reported"], a["closed"], a["open_now"], a["overdue"])
            for a in data["sub_areas"]
        },
        "by_state": {r["value"]: r["n"] for r in data["by_state"]},
        "by_source": {r["value"]: r["n"] for r in data["by_source"]},
        "by_type": {r["label"]: r["n"] for r in data["by_type"]},
        "departments": {r["id"]: (r["filed"], r["closed"]) for r in data["departments"]},
        "trend": list(
            zip(
                data["trend"]["days"],
                data["trend"]["reported"],
                data["trend"]["filed"],
                data["trend"]["closed"],
                strict=True,
            )
        ),
        "overdue": [(c["code"], c["due_at"]) for c in data["overdue"]],
        "latest": data["latest_case"],
        "map": {
            f["properties"]["code"]: (
                f["properties"]["open"],
                f["properties"]["overdue"],
                f["properties"]["reported"],
            )
            for f in geo["features"]
            if f["properties"]["layer"] == "grid"
        },
        "polled_map": {code: tuple(numbers) for code, numbers in data["grids"].items()},
    }


@pytest.mark.parametrize("period", ["2026-11", "range"])
def test_the_page_shows_the_numbers_of_the_general_selectors(world, history, period):  # noqa: F811
    period = (
        date_range(at(2026, 10, 30).date(), at(2026, 11, 3).date())
        if period == "range"
        else parse_period(period)
    )
    for region in (world.tree.county, world.tree.streets[0], world.grid):
        page = _page(region, period)
        assert page == _reference(region, period)
    page = _page(world.grid, parse_period("2026-11"))
    assert page["overdue"], "case I is overdue on 16 November"
    assert page["overdue_total"] >= 1
    assert page["by_type"]["邻里纠纷"] > 0


def test_the_overdue_list_links_each_case(world, history):  # noqa: F811
    data = dashboard_data(None, world.grid, parse_period("2026-11"), now=NOW)
    first = Case.objects.get(tracking_code=data["overdue"][0]["code"])
    assert data["overdue"][0]["url"] == reverse("cases:detail", args=[first.pk])
    assert data["overdue"][0]["grid"] == first.grid.name
    assert data["overdue"][0]["state"] == first.get_state_display()


def test_a_grid_page_folds_once_and_reads_in_a_few_statements(
    world,
    history,  # noqa: F811
    django_assert_max_num_queries,
):
    period = parse_period("2026-11")
    # The catalogue copy and the grid polygons are kept per process.
    dashboard_data(None, world.grid, period, now=NOW)
    map_data(world.grid, period, now=NOW)
    # one statement: rollups (head, breakdowns with department names, trend), live cases
    # (overdue groups, the overdue list, the latest case id) and the journal check
    with django_assert_max_num_queries(1):
        dashboard_data(None, world.grid, period, now=NOW)
    # the grid's reported count, open and overdue per grid, the journal check
    with django_assert_max_num_queries(1):
        map_data(world.grid, period, now=NOW)
    # an area with sub-areas: those (without polygons), then the same one statement, which
    # also counts the open cases per area path for the sub-areas' load
    dashboard_data(None, world.tree.county, period, now=NOW)
    with django_assert_max_num_queries(2):
        dashboard_data(None, world.tree.county, period, now=NOW)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_rollup_statements_keep_one_text_and_are_prepared(world, history):  # noqa: F811
    """The county's, a street's and a grid's pages read with a few statement texts (ids as
    arrays, prefixes as ranges), which the connection has prepared: the page's statement of an
    area with sub-areas, the page's statement of a grid (it finds the grid's latest case by
    grid, not by path) and the map's — three prepared statements on the rollups, not one per
    area."""
    period = parse_period("2026-11")
    dashboard_data(None, world.grid, period, now=NOW)  # folds the history's case writes
    for region in (world.tree.county, world.tree.streets[0], world.grid, world.tree.county):
        with CaptureQueriesContext(connection) as ctx:
            dashboard_data(None, region, period, now=NOW)
            map_data(region, period, now=NOW)
        assert len([q for q in ctx.captured_queries if _ROLLUP in q["sql"]]) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len([text for text in prepared if _ROLLUP in text]) == 3


def test_a_pending_case_write_is_on_the_page(world, history):  # noqa: F811
    period = parse_period("2026-11")
    before = dashboard_data(None, world.grid, period, now=NOW)["totals"]["reported"]
    case = report(world, now=at(2026, 11, 10, 9))
    assert RollupDelta.objects.exists()  # journaled, not folded yet
    data = dashboard_data(None, world.grid, period, now=NOW + timedelta(minutes=1))
    assert data["totals"]["reported"] == before + 1
    assert data["latest_case"] == case.pk
    assert not RollupDelta.objects.exists()


def test_the_type_chart_keeps_the_largest_counts_and_breaks_ties_by_name(db):
    """The top of the type chart labels only the rows it shows; ties at the cut are broken by
    name exactly as a full sort would, and the rest sums into one "其他" row."""
    from wangge.analytics.selectors.page import TOP_TYPES, _counted

    # Names in the opposite order of the ids, so a tie broken by id would show.
    types = MatterType.objects.bulk_create(
        MatterType(code=f"T{i:02d}", name=f"类型{99 - i:02d}", group_code="T", group_name="测试",
                   kind=MatterKind.MATTER)
        for i in range(TOP_TYPES + 6)
    )  # fmt: skip
    # Eight types tie at 3 around the cut (12th place), a few count more, one counts nothing.
    counts = {str(t.pk): 3 for t in types[:8]}
    counts.update({str(t.pk): 10 + i for i, t in enumerate(types[8:16])})
    counts[str(types[16].pk)] = 1
    counts[str(types[17].pk)] = 0
    full = sorted(
        ({"value": v, "label": MatterType.objects.get(pk=int(v)).name, "n": n}
         for v, n in counts.items() if n),
        key=lambda r: (-r["n"], r["label"]),
    )  # fmt: skip
    rows = _counted(Dim.TYPE, counts, TOP_TYPES)
    assert rows[:TOP_TYPES] == full[:TOP_TYPES]
    assert rows[TOP_TYPES]["label"] == "其他"
    assert rows[TOP_TYPES]["n"] == sum(r["n"] for r in full[TOP_TYPES:]) == 3 * 4 + 1
    assert len(rows) == TOP_TYPES + 1
    small = {str(types[0].pk): 2, str(types[1].pk): 5}
    assert [r["n"] for r in _counted(Dim.TYPE, small, TOP_TYPES)] == [5, 2]
