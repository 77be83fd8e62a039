"""Browser: an administrator subscribes a receiver on /integrations/webhooks/, a case is filed,
the delivery log shows the failed attempt, and the replay button (HTMX) resends it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR
from .test_case_loop import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_subscribe_see_the_log_and_replay(browser, live_server) -> None:
    from django.core.cache import cache

    from wangge.accounts.tests.factories import PASSWORD, make_user
    from wangge.api.models import WebhookDelivery
    from wangge.api.tests.receiver import start_receiver
    from wangge.cases import classify
    from wangge.cases.services import case_create
    from wangge.cases.tests.factories import centre, make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    cache.clear()
    locator.reset()
    classify.reset()
    world = make_world(make_tree())
    admin = make_user("hookadmin", role="sysadmin", region=world.tree.streets[0])
    receiver, server = start_receiver()
    try:
        page = sign_in(browser, live_server.url, admin.username, PASSWORD)
        page.get_by_role("link", name="推送订阅").first.click()
        form = page.get_by_test_id("webhook-form")
        form.locator("input[name=name]").fill("城运中心")
        form.locator("input[name=url]").fill(receiver.url)
        form.locator("input[value='case.created']").check()
        form.locator("input[name=region]").fill(world.tree.streets[0].code)
        form.get_by_role("button", name="创建").click()
        assert "whsec_" in page.get_by_test_id("webhook-secret").inner_text()

        receiver.statuses.append(503)  # the first delivery fails
        lon, lat = centre(world.grid)
        case_create(actor=None, source="resident", title="暴露垃圾", lon=lon, lat=lat)
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == "retrying" and delivery.last_status == 503

        page.get_by_role("link", name="城运中心").click()
        row = page.get_by_test_id(f"delivery-{delivery.pk}")
        assert "HTTP 503" in row.inner_text()
        page.get_by_test_id(f"replay-{delivery.pk}").click()
        replay = WebhookDelivery.objects.exclude(pk=delivery.pk)
        page.wait_for_selector("tr.highlight")
        new_row = page.locator("tr.highlight")
        assert "已送达" in new_row.inner_text()
        assert replay.get().state == "succeeded"
        page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_webhooks.png", full_page=True)
        bodies = [json.loads(r.body) for r in receiver.received]
        assert [b["type"] for b in bodies] == ["case.created", "case.created"]
        assert bodies[0]["id"] == bodies[1]["id"]
    finally:
        server.shutdown()
        server.server_close()
