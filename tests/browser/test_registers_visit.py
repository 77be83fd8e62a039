"""Browser: a grid worker on a 360 px phone opens the due-visits list, records a visit with the
phone's GPS (the page shows the distance to the person's house before submitting), and the
person drops off the due list; then an admin erases a person from the person page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR
from .test_login_map import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path


def test_visit_with_gps_check_in_on_a_phone_then_erasure(
    browser: Any, live_server: Any, password: str
) -> None:
    from wangge.accounts.tests.factories import make_user
    from wangge.geo.tests.factories import make_tree
    from wangge.registers.models import Person, Visit
    from wangge.registers.services import careplan_set
    from wangge.registers.tests.factories import (
        SYSTEM,
        make_building,
        make_house,
        make_person,
        resident_id,
    )

    tree = make_tree(streets=1, communities=1, grids=2)
    grid = tree.grids[0]
    make_user("worker", role="grid_worker", region=tree.communities[0])
    make_user("admin", role="sysadmin", region=tree.streets[0])
    house = make_house(make_building(grid, lon=120.61, lat=31.31))
    person = make_person(
        grid, name="王奶奶", id_number=resident_id(date(1936, 5, 6)), house=house,
        flags={"elderly_alone": True},
    )  # fmt: skip
    careplan_set(actor=SYSTEM, region=tree.streets[0], group="elderly_alone", interval_days=7)

    context = browser.new_context(
        **PHONE, permissions=["geolocation"], geolocation={"longitude": 120.611, "latitude": 31.31}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "worker", password)
    page.goto(f"{live_server.url}/registers/visits/due/")
    page.get_by_test_id(f"visit-{person.pk}").click()
    page.get_by_test_id("visit-form").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("[data-checkin]").click()
    status = page.locator("[data-checkin-status]")
    page.wait_for_function(
        "document.querySelector('[data-checkin-status]').textContent.includes('距目标')"
    )
    assert "距目标约 95 米" in status.inner_text()
    page.locator("textarea[name=notes]").fill("老人身体不错，水电正常")
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_registers_visit_phone.png", full_page=True)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{live_server.url}/registers/people/{person.pk}/")
    assert "签到位置距目标 95 米" in page.content()
    visit = Visit.objects.get()
    assert abs(visit.lon - 120.611) < 1e-6 and 90 < visit.distance_m < 100
    page.goto(f"{live_server.url}/registers/visits/due/")
    assert "王奶奶" not in page.get_by_test_id("due-visits").inner_text()
    assert not errors
    context.close()

    admin = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sign_in(admin, live_server.url, "admin", password)
    admin.goto(f"{live_server.url}/registers/people/{person.pk}/")
    admin.get_by_test_id("erase-reason").fill("本人申请删除")
    admin.get_by_test_id("erase-confirm").check()
    admin.get_by_test_id("erase-submit").click()
    admin.get_by_test_id("erased").wait_for()
    assert Person.objects.get(pk=person.pk).erased_at is not None
    assert "老人身体不错" not in admin.content() and "走访" in admin.content()
    admin.close()
