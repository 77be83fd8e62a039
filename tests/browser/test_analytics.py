"""Browser: the command centre draws its charts and map, drills down district → street →
community → grid by clicking, and picks up a new case without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR
from .test_login_map import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def city(transactional_db: Any) -> Any:
    from wangge.accounts.tests.factories import make_user
    from wangge.cases import classify, deadlines
    from wangge.cases.tests.factories import make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    locator.reset()
    classify.reset()
    deadlines.invalidate_calendar()
    world = make_world(make_tree())
    make_user("chief", role="district_commander", region=world.tree.county, display_name="指挥长")
    return world


def _file(world: Any, grid: Any, title: str) -> Any:
    from wangge.cases.services import case_create
    from wangge.cases.tests.factories import centre

    lon, lat = centre(grid)
    return case_create(
        actor=world.commander,
        source="hotline",
        title=title,
        lon=lon,
        lat=lat,
        matter_type_code="91001",
    ).case


def test_command_centre_drills_down_and_updates_live(
    browser: Any, live_server: Any, city: Any, password: str
) -> None:
    world = city
    for grid in world.tree.grids:
        _file(world, grid, "路灯不亮")
    street = world.tree.streets[0]
    community = next(c for c in world.tree.communities if c.parent_id == street.pk)
    grid = next(g for g in world.tree.grids if g.parent_id == community.pk)
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    maps: list[str] = []
    page.on("request", lambda r: maps.append(r.url) if "/analytics/map.geojson" in r.url else None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "chief", password)
    page.goto(f"{live_server.url}/analytics/?poll=1")
    page.wait_for_selector("#cc[data-ready=true]")
    page.wait_for_selector("#cc-map[data-ready=true]")
    assert page.locator("[data-testid=kpi-filed] [data-value]").inner_text() == "0"
    assert page.locator("#cc-map").get_attribute("data-grids") == str(len(world.tree.grids))
    assert page.locator("#cc-map path.leaflet-interactive").count() >= len(world.tree.grids)
    assert page.locator("[data-chart=state] canvas").count() == 1  # ECharts drew
    # The tooltip explains the formula.
    assert "应结案数" in page.locator("[data-testid=kpi-close_rate]").get_attribute("title")
    # The hotspot panel says when its (cached) analysis was computed.
    page.wait_for_function(
        "document.querySelector('[data-testid=hotspot-computed]').textContent.includes('计算于')"
    )
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_command_centre.png", full_page=True)

    # Live: a case filed now shows up without a reload (poll every second), on the map too,
    # whose polygons are read once (the polls carry its numbers).
    before = page.locator("#cc").get_attribute("data-latest")
    open_before = int(page.locator("#cc-map").get_attribute("data-open"))
    new = _file(world, grid, "井盖缺失")
    page.wait_for_function(
        f"document.getElementById('cc').dataset.latest === '{new.pk}'", timeout=15000
    )
    assert before != str(new.pk)
    page.wait_for_function(
        f"document.getElementById('cc-map').dataset.open === '{open_before + 1}'", timeout=15000
    )
    assert len(maps) == 1, maps

    # Drill down: district → street (table link) → community (map polygon) → grid.
    page.click(f"[data-testid=sub-areas] a[data-drill='{street.code}']")
    page.wait_for_url(re.compile(rf"area={street.code}"))
    page.wait_for_selector("#cc[data-ready=true]")
    assert street.name in page.locator("h1").inner_text()
    page.click(f"[data-testid=sub-areas] a[data-drill='{community.code}']")
    page.wait_for_url(re.compile(rf"area={community.code}"))
    page.wait_for_selector("#cc-map[data-ready=true]")
    assert page.locator("#cc-map").get_attribute("data-areas") == "0"  # grids are the leaves
    page.locator("#cc-map path.leaflet-interactive").first.click()
    page.wait_for_url(re.compile(r"area=\d{15}&"))
    page.wait_for_selector("#cc[data-ready=true]")
    crumbs = page.locator("[data-testid=cc-crumbs]").inner_text()
    assert street.name in crumbs and community.name in crumbs
    assert not errors, errors
