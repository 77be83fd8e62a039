"""Browser: a resident on a phone asks for an SMS code on /report/ (HTMX posts only the phone;
the code arrives at a loopback SMS gateway), types it and files the report; the phone is
marked verified. A wrong code is a clear form error and files nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "locale": "zh-CN"}
NUMBER = "13912345678"


@pytest.fixture
def world(transactional_db: Any) -> Any:
    from django.core.cache import cache

    from wangge.cases import classify
    from wangge.cases.tests.factories import make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    cache.clear()
    locator.reset()
    classify.reset()
    return make_world(make_tree())


@pytest.fixture
def sms(settings: Any) -> Any:
    from wangge.cases.tests import gateway as gw

    for gateway in gw.serve():
        settings.WANGGE_SMS_ADAPTER = "sms"
        settings.SMS_GATEWAY_URL = f"{gateway.url}/sms"
        settings.SMS_GATEWAY_KEY_ID = gw.SMS_KEY_ID
        settings.SMS_GATEWAY_SECRET = gw.SMS_SECRET
        settings.SMS_CODE_TEMPLATE = "验证码{code}"
        yield gateway


def _fill_report(page: Any, base: str, world: Any) -> None:
    page.goto(f"{base}/report/")
    page.wait_for_selector("[data-pick-map][data-ready=true]")
    page.fill("input[name=title]", "楼道灯坏了")
    page.locator(f'path[data-code="{world.grid.code}"]').click()
    page.wait_for_function(
        "document.querySelector('[data-locate-status]').textContent.includes('放大')"
    )
    page.locator("[data-pick-map]").click()
    page.wait_for_selector("[data-pick-map][data-picked=true]")
    page.locator("summary", has_text="联系方式").click()
    page.fill("input[name=reporter_phone]", NUMBER)


def test_a_resident_verifies_the_phone_with_an_sms_code(
    browser: Any, live_server: Any, world: Any, sms: Any
) -> None:
    from wangge.cases.models import Case

    page = browser.new_context(**PHONE).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _fill_report(page, live_server.url, world)
    page.get_by_test_id("send-code").click()
    status = page.get_by_test_id("phone-code-status")
    status.wait_for()
    assert "验证码已发送" in status.inner_text()
    # Only the phone was sent (not the form and its photos), and it reached the gateway.
    [request] = sms.received
    code = request.json()["text"].removeprefix("验证码")
    assert request.json()["to"] == NUMBER
    # The report is still being written: the page did not navigate away.
    assert page.input_value("input[name=title]") == "楼道灯坏了"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.fill("input[name=phone_code]", wrong)
    page.get_by_test_id("submit").click()
    page.wait_for_selector("text=验证码不正确，还可尝试4次。")
    assert not Case.objects.exists()
    # The page came back with the entries; the location is picked again and the code typed.
    _fill_report(page, live_server.url, world)
    page.fill("input[name=phone_code]", code)
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_report_phone_code.png", full_page=True)
    page.get_by_test_id("submit").click()
    tracking = page.get_by_test_id("tracking-code").inner_text().strip()
    case = Case.objects.get(tracking_code=tracking)
    assert case.events.get(action="report").data["phone_verified"] is True
    assert errors == []
