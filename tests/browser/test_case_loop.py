"""Browser: the closed loop in Chromium. A resident reports on a phone by clicking the map, gets a
tracking code; the dispatcher accepts and dispatches to the grid worker; the worker claims and
handles with an after-photo; it is verified and closed; the resident rates on /track/<code>.
Plus a 吹哨 to two departments and an overdue escalation shown on the case page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(transactional_db: Any) -> Any:
    """A county of two streets with a small catalogue, two departments and named users
    (``wangge.cases.tests.factories.make_world``)."""
    from django.core.cache import cache

    from wangge.cases import classify
    from wangge.cases.tests.factories import make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    cache.clear()
    locator.reset()
    classify.reset()
    return make_world(make_tree())


def sign_in(browser: Any, base: str, username: str, password: str, **options: Any) -> Any:
    page = browser.new_context(**(options or DESKTOP)).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def take(page: Any, case_id: int, action: str, **fields: str) -> None:
    """Open an action of the case page's panel, fill its fields and submit it."""
    panel = page.locator(f"details[data-action={action}]")
    panel.locator("summary").click()
    form = page.get_by_test_id(f"act-{action}")
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_test_id(f"do-{action}").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/$"))
    page.wait_for_selector("ul.messages li.success")


def test_the_closed_loop_from_a_phone_report_to_the_rating(
    browser: Any, live_server: Any, world: Any, password: str
) -> None:
    from wangge.cases.models import Case

    base = live_server.url
    grid = world.grid
    errors: list[str] = []

    # 1. A resident reports on a phone, placing the problem by clicking the map.
    resident = browser.new_context(**PHONE).new_page()
    resident.on("pageerror", lambda exc: errors.append(str(exc)))
    resident.goto(f"{base}/report/")
    resident.wait_for_selector("[data-pick-map][data-ready=true]")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 360
    resident.screenshot(path=f"{SCREENSHOT_DIR}/wangge_report_phone.png", full_page=True)
    resident.fill("input[name=title]", "小区门口暴露垃圾")
    resident.fill("textarea[name=description]", "垃圾堆了三天，气味很大")
    resident.locator(f'path[data-code="{grid.code}"]').click()  # zooms in on the grid
    resident.wait_for_function(
        "document.querySelector('[data-locate-status]').textContent.includes('放大')"
    )
    resident.locator("[data-pick-map]").click()  # the exact spot, now in the middle
    resident.wait_for_selector("[data-pick-map][data-picked=true]")
    assert resident.input_value("input[name=crs]") == "wgs84"
    assert resident.input_value("input[name=lon]")
    resident.locator("summary", has_text="联系方式").click()
    resident.fill("input[name=reporter_phone]", "13912345678")
    resident.get_by_test_id("submit").click()
    code = resident.get_by_test_id("tracking-code").inner_text().strip()
    case = Case.objects.get(tracking_code=code)
    assert case.grid_id == grid.pk and case.input_crs == "wgs84"
    resident.get_by_test_id("track-link").click()
    resident.wait_for_url(re.compile(rf"/track/{code}$"))
    assert resident.get_by_test_id("track-state").inner_text() == "已上报"

    # 2. The street dispatcher finds it in the queue, accepts it and dispatches it to the worker.
    dispatcher = sign_in(browser, base, "dispatcher", password)
    dispatcher.on("pageerror", lambda exc: errors.append(str(exc)))
    dispatcher.goto(f"{base}/cases/")
    dispatcher.wait_for_selector("[data-points-map][data-ready=true]")
    dispatcher.screenshot(path=f"{SCREENSHOT_DIR}/wangge_queue.png", full_page=True)
    dispatcher.get_by_role("link", name=code).click()
    dispatcher.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    take(dispatcher, case.pk, "accept")
    take(dispatcher, case.pk, "dispatch", assignee=str(world.worker.pk))
    assert dispatcher.get_by_test_id("assignee-name").inner_text() == str(world.worker)

    # 3. The grid worker sees it in "my tasks" on the phone, claims and handles it with a photo.
    worker = sign_in(browser, base, "worker", password, **PHONE)
    worker.on("pageerror", lambda exc: errors.append(str(exc)))
    worker.goto(f"{base}/cases/my/")
    card = worker.locator(f"[data-testid=case-card][data-code='{code}']")
    assert "剩余" in card.inner_text()
    assert worker.get_by_test_id("unread-count").inner_text() != ""
    assert worker.evaluate("document.documentElement.scrollWidth") <= 360
    worker.screenshot(path=f"{SCREENSHOT_DIR}/wangge_my_tasks_phone.png", full_page=True)
    card.get_by_test_id("quick-claim").click()  # a quick action, back on the list
    worker.wait_for_selector("ul.messages li.success")
    assert worker.url == f"{base}/cases/my/"
    card.locator("a.case-link").click()
    worker.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert worker.get_by_test_id("case-state").inner_text() == "处置中"
    worker.locator("details[data-action=handle] summary").click()
    form = worker.get_by_test_id("act-handle")
    form.locator("[name=result]").fill("已清运，地面已冲洗")
    form.locator("[name=photos]").set_input_files(
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": PNG}]
    )
    form.get_by_test_id("do-handle").click()
    worker.wait_for_selector("ul.messages li.success")
    assert worker.get_by_test_id("case-state").inner_text() == "已处置"
    assert worker.locator("[data-testid=photos] img").count() == 1
    worker.screenshot(path=f"{SCREENSHOT_DIR}/wangge_case_phone.png", full_page=True)

    # 4. The dispatcher verifies and closes.
    dispatcher.reload()
    take(dispatcher, case.pk, "verify")
    take(dispatcher, case.pk, "close")
    assert dispatcher.get_by_test_id("case-state").inner_text() == "已结案"

    # 5. The resident rates it on the tracking page with the phone used to report.
    resident.goto(f"{base}/track/{code}")
    assert resident.get_by_test_id("track-state").inner_text() == "已结案"
    resident.fill("input[name=phone]", "13912345678")
    resident.locator("input[name=score][value='5']").check()
    resident.fill("textarea[name=reason]", "很及时")
    resident.get_by_test_id("feedback-submit").click()
    resident.wait_for_selector("ul.messages li.success")
    assert resident.get_by_test_id("track-state").inner_text() == "已评价"
    resident.locator("[data-large-toggle]").click()  # 适老化: large text, remembered
    assert resident.evaluate("document.documentElement.scrollWidth") <= 360
    resident.screenshot(path=f"{SCREENSHOT_DIR}/wangge_track_phone.png", full_page=True)
    timeline = resident.get_by_test_id("track-timeline").inner_text()
    assert "已受理" in timeline and "感谢您的评价" in timeline
    case.refresh_from_db()
    assert (case.state, case.rating) == ("rated", 5)
    assert not errors, errors


def test_whistle_to_two_departments_and_an_overdue_escalation_on_the_case_page(
    browser: Any, live_server: Any, world: Any, password: str
) -> None:
    from django.utils import timezone

    from wangge.cases.choices import CaseState
    from wangge.cases.services import case_escalate_overdue
    from wangge.cases.tests.factories import make_case

    base = live_server.url
    case = make_case(world, state=CaseState.ACCEPTED, title="井盖缺失，路面塌陷")
    dispatcher = sign_in(browser, base, "dispatcher", password)
    errors: list[str] = []
    dispatcher.on("pageerror", lambda exc: errors.append(str(exc)))
    dispatcher.goto(f"{base}/cases/{case.pk}/")
    dispatcher.wait_for_selector("[data-case-map][data-ready=true]")
    dispatcher.locator("details[data-action=whistle] summary").click()
    form = dispatcher.get_by_test_id("act-whistle")
    form.locator("[name=lead]").select_option(str(world.dept.pk))
    form.locator(f"input[name=co][value='{world.dept2.pk}']").check()
    form.locator("[name=instructions]").fill("城管牵头，市政协助修复井盖")
    form.get_by_test_id("do-whistle").click()
    dispatcher.wait_for_selector("ul.messages li.success")
    subtasks = dispatcher.get_by_test_id("subtasks").inner_text()
    assert world.dept.name in subtasks and world.dept2.name in subtasks
    assert "牵头单位" in subtasks and "协办单位" in subtasks

    # The department handler accepts its part from the work-orders page.
    dept = sign_in(browser, base, "dept_user", password, **PHONE)
    dept.goto(f"{base}/cases/work-orders/")
    order = dept.locator(f"[data-testid=subtask][data-code='{case.tracking_code}']")
    order.get_by_test_id("subtask-accept").click()
    dept.wait_for_selector("ul.messages li.success")
    order = dept.locator(f"[data-testid=subtask][data-code='{case.tracking_code}']")
    assert "处置中" in order.inner_text()

    # Nobody finished in time: one escalation pass a month later climbs a rung and says so.
    case_escalate_overdue(now=timezone.now() + timedelta(days=30))
    dispatcher.reload()
    assert "已超时升级至" in dispatcher.get_by_test_id("escalated").inner_text()
    assert dispatcher.get_by_test_id("supervisions").count() == 1
    dispatcher.screenshot(path=f"{SCREENSHOT_DIR}/wangge_case_escalated.png", full_page=True)
    assert not errors, errors
