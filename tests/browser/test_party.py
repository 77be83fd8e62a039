"""Browser: one service order from 点单 to 评单 in Chromium. A resident orders a repair on a
phone (large-text form); the branch secretary opens it, reads the matching explanations and
dispatches to the first-ranked member; the member accepts, checks in and completes on a phone;
the resident rates five stars; the member's phone view shows the earned minutes and points."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(transactional_db: Any) -> Any:
    from types import SimpleNamespace

    from wangge.accounts.tests.factories import make_user
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree
    from wangge.party.services.points import point_rules_ensure_defaults
    from wangge.party.tests.factories import make_member, make_party_tree

    locator.reset()
    point_rules_ensure_defaults()  # an earlier transactional test may have flushed them
    tree = make_tree()
    pw = make_party_tree(tree)
    grid = tree.grids[0]
    return SimpleNamespace(
        grid=grid,
        resident=make_user("ayi", role="resident", region=grid),
        secretary=make_user("shuji", role="community_secretary", region=grid),
        fixer=make_member(pw.branch(grid), username="fixer", specialties=["repair"], name="王师傅"),
        lawyer=make_member(pw.branch(grid), username="lawyer", specialties=["law"], name="刘律师"),
    )


def sign_in(browser: Any, base: str, username: str, password: str, options: dict) -> Any:
    page = browser.new_context(**options).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def act(page: Any, action: str, **fields: str) -> None:
    form = page.get_by_test_id(f"act-{action}")
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_test_id(f"do-{action}").click()
    page.wait_for_selector("ul.messages li.success")


def test_one_order_from_dian_dan_to_ping_dan(
    browser: Any, live_server: Any, world: Any, password: str
) -> None:
    from wangge.party.models import ServiceOrder

    base = live_server.url
    errors: list[str] = []

    # 点单: the resident on a phone.
    resident = sign_in(browser, base, "ayi", password, PHONE)
    resident.on("pageerror", lambda e: errors.append(str(e)))
    resident.get_by_role("link", name=re.compile("我要点单")).first.click()
    resident.wait_for_url(f"{base}/party/order/")
    size = resident.eval_on_selector(
        "textarea[name=description]", "e => getComputedStyle(e).fontSize"
    )
    assert float(size.rstrip("px")) >= 19  # large text for elderly residents
    resident.locator("label", has_text="家电维修").click()
    resident.fill("textarea[name=description]", "厨房水龙头一直滴水")
    resident.select_option("select[name=period]", "afternoon")
    resident.fill("input[name=address]", "1幢2单元301室")
    resident.screenshot(path=f"{SCREENSHOT_DIR}/party-order-phone.png", full_page=True)
    resident.get_by_test_id("submit-order").click()
    resident.wait_for_url(f"{base}/party/me/")
    assert "点单成功" in resident.inner_text("ul.messages")
    order = ServiceOrder.objects.get()
    assert order.state == "posted" and order.category == "repair"

    # 派单: the branch secretary reads the explanations and dispatches to the first-ranked.
    secretary = sign_in(browser, base, "shuji", password, DESKTOP)
    secretary.goto(f"{base}/party/orders/")
    secretary.get_by_role("link", name=order.code).click()
    matching = secretary.get_by_test_id("matching")
    first = matching.get_by_test_id("candidate").first
    assert "王师傅" in first.inner_text() and "特长对口" in first.inner_text()
    matching.locator("details summary").click()  # not recommended, with the reason
    assert "刘律师：特长不符" in matching.inner_text()
    secretary.screenshot(path=f"{SCREENSHOT_DIR}/party-matching.png", full_page=True)
    secretary.get_by_test_id("assign-1").click()
    secretary.wait_for_selector("ul.messages li.success")
    assert secretary.get_by_test_id("helper").inner_text() == "王师傅"

    # 接单: the member on a phone accepts, checks in and completes.
    member = sign_in(browser, base, "fixer", password, PHONE)
    member.goto(f"{base}/party/me/")
    assert member.get_by_test_id("my-hours").locator("strong").inner_text() == "0"
    member.get_by_test_id("my-tasks").get_by_role("link").first.click()
    act(member, "accept")
    act(member, "check_in")
    order.refresh_from_db()
    ServiceOrder.objects.filter(pk=order.pk).update(
        checkin_at=order.checkin_at - __import__("datetime").timedelta(minutes=45)
    )
    act(member, "check_out", result="更换了阀芯，不再滴水")
    assert member.get_by_test_id("state").inner_text() == "待评价"

    # 评单: the resident rates five stars.
    resident.goto(f"{base}/party/me/")
    assert "待评价" in resident.get_by_test_id("my-orders").inner_text()
    resident.get_by_test_id("my-orders").get_by_role("link").first.click()
    act(resident, "rate", score="5", comment="师傅很耐心")
    assert resident.get_by_test_id("rating").inner_text() == "5"

    # The member sees the minutes and points it earned.
    member.goto(f"{base}/party/me/")
    minutes = int(member.get_by_test_id("my-hours").locator("strong").inner_text())
    assert 45 <= minutes <= 47
    assert member.get_by_test_id("my-points").locator("strong").inner_text() == "15"
    assert "服务订单" in member.get_by_test_id("statement").inner_text()
    member.screenshot(path=f"{SCREENSHOT_DIR}/party-me-phone.png", full_page=True)
    order.refresh_from_db()
    assert order.state == "rated" and order.rating == 5
    assert not errors, errors


def test_a_resident_volunteers_and_exchanges_hours_on_a_phone(
    browser: Any, live_server: Any, world: Any, password: str
) -> None:
    """Issue 5 follow-up: 志愿者注册 from 我的服务, then 用时间兑换服务 with the statement."""
    from wangge.accounts.tests.factories import make_user
    from wangge.party.choices import TransferKind
    from wangge.party.models import Volunteer
    from wangge.party.services import account_for_org, account_for_person, timebank_transfer
    from wangge.party.tests.factories import make_person
    from wangge.registers.services import phone_hash

    person = make_person(world.grid, name="赵大姐")
    person.phone_hash = phone_hash("13900003333")
    person.save(update_fields=["phone_hash"])
    make_user("zhao", role="resident", region=world.grid, mobile="13900003333")
    timebank_transfer(
        actor=None,
        debit=account_for_org(world.fixer.branch),
        credit=account_for_person(person),
        minutes=120,
        kind=TransferKind.DONATION,
        reason="邻里转赠",
    )
    base = live_server.url
    errors: list[str] = []
    page = sign_in(browser, base, "zhao", password, PHONE)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/party/me/")
    page.get_by_test_id("become-volunteer").click()
    page.wait_for_url(f"{base}/party/volunteer/")
    form = page.get_by_test_id("volunteer-form")
    form.locator("label", has_text="助老陪护").click()
    form.locator("label", has_text="周六").click()
    form.locator("label", has_text="上午").click()
    page.get_by_test_id("submit-volunteer").click()
    page.wait_for_url(f"{base}/party/me/")
    assert "注册成功" in page.inner_text("ul.messages")
    v = Volunteer.objects.get(person=person)
    assert v.specialties == ["elderly_care"] and v.availability == [[5, 480, 720]]

    assert page.get_by_test_id("time-balance").inner_text() == "120"
    exchange = page.get_by_test_id("exchange-form")
    exchange.locator("[name=minutes]").fill("200")
    exchange.locator("[name=reason]").fill("上门理发")
    exchange.get_by_role("button").click()
    page.wait_for_selector("ul.messages li.error")
    assert "时间余额不足：现有120分钟，需要200分钟。" in page.inner_text("ul.messages")
    assert page.get_by_test_id("time-balance").inner_text() == "120"
    exchange = page.get_by_test_id("exchange-form")
    exchange.locator("[name=minutes]").fill("45")
    exchange.locator("[name=reason]").fill("上门理发")
    exchange.get_by_role("button").click()
    page.wait_for_selector("ul.messages li.success")
    assert page.get_by_test_id("time-balance").inner_text() == "75"
    statement = page.get_by_test_id("statement").inner_text()
    assert "上门理发" in statement and "邻里转赠" in statement
    page.screenshot(path=f"{SCREENSHOT_DIR}/party-timebank-phone.png", full_page=True)
    assert not errors, errors
