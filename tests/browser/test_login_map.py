"""Browser: sign in, open a region, see its grids drawn on the map and follow one; and the
shell on a 360 px phone. Playwright's sync API drives Debian's Chromium against live_server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def leader(transactional_db: Any) -> Any:
    """A region tree and a community secretary ``leader`` of street 1."""
    from wangge.accounts.tests.factories import make_user
    from wangge.geo.tests.factories import make_tree

    tree = make_tree(grids=3)
    make_user("gridder", role="grid_worker", region=tree.grids[0], display_name="网格员甲")
    make_user("leader", role="community_secretary", region=tree.streets[0], display_name="社区书记")
    return tree


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_login_then_grids_are_drawn_and_clickable(
    browser: Any, live_server: Any, leader: Any, password: str
) -> None:
    tree = leader
    community = tree.communities[0]
    grids = [g for g in tree.grids if g.parent_id == community.pk]
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "leader", password)
    assert page.get_by_test_id("current-user").inner_text() == "社区书记"

    page.goto(f"{live_server.url}/regions/{community.code}/")
    page.wait_for_selector("#map[data-ready=true]")
    polygons = page.locator("#map path.leaflet-interactive")
    assert polygons.count() >= len(grids)
    assert page.locator("#map .leaflet-tile-pane img").count() == 0  # no tiles configured
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_region.png", full_page=True)

    polygons.first.click()
    page.wait_for_url(re.compile(r"/regions/\d{15}/$"))
    code = page.url.rstrip("/").rsplit("/", 1)[1]
    assert code in {g.code for g in grids}
    page.wait_for_selector("#map[data-ready=true]")
    assert "网格信息" in page.inner_text("[data-testid=facts]")
    assert not errors, errors


def test_tree_expands_lazily(browser: Any, live_server: Any, leader: Any, password: str) -> None:
    tree = leader
    page = browser.new_page(locale="zh-CN")
    sign_in(page, live_server.url, "leader", password)
    page.goto(f"{live_server.url}/regions/")
    # The single root (street 1) opens itself; its communities load by HTMX.
    page.wait_for_selector("text=" + tree.communities[0].name)
    grid = tree.grids[0]
    assert page.locator("text=" + grid.name).count() == 0
    page.locator(f"button[hx-get='/regions/{grid.parent.code}/children/']").click()
    page.wait_for_selector("text=" + grid.name)
    # Search as you type (HTMX), without leaving the page.
    page.fill("input[name=q]", grid.code)
    results = page.wait_for_selector("[data-testid=search-results]")
    assert grid.name in results.inner_text()
    assert page.url == f"{live_server.url}/regions/"


def test_phone_layout_navigation_is_usable(
    browser: Any, live_server: Any, leader: Any, password: str
) -> None:
    tree = leader
    page = browser.new_page(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="zh-CN"
    )
    sign_in(page, live_server.url, "leader", password)
    nav_links = page.locator("[data-testid=nav] a")
    assert nav_links.count() >= 3
    for i in range(nav_links.count()):
        box = nav_links.nth(i).bounding_box()
        assert box is not None and box["height"] >= 44  # large tap targets
    # Nothing wider than the phone: no sideways scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("[data-testid=nav] a[href='/regions/']").click()
    page.wait_for_url(f"{live_server.url}/regions/")
    grid = tree.grids[0]
    page.goto(f"{live_server.url}/regions/{grid.code}/")
    page.wait_for_selector("#map[data-ready=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_phone.png", full_page=True)


def test_language_menu_switches_to_english(browser: Any, live_server: Any) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server.url}/login/")
    assert page.locator("h1").inner_text() == "登录"
    page.get_by_test_id("language").select_option("en")
    page.wait_for_selector("h1:text-is('Sign in')")
    assert page.locator("html").get_attribute("lang") == "en"
