"""Browser + a PyPI GeoReport v2 client: a city's Open311 tool files a request with a photo,
follows its token to the id, staff verify and close it on the case page in Chromium, and the
client sees it ``closed``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport

from wangge.cases.choices import CaseState
from wangge.cases.models import Case
from wangge.cases.tests.factories import JPEG, centre

from .test_case_loop import sign_in, take

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(transactional_db: Any) -> Any:
    from django.core.cache import cache

    from wangge.api.models import ServiceAttribute
    from wangge.api.open311.seed import seed_service_attributes
    from wangge.cases import classify
    from wangge.cases.tests.factories import make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    cache.clear()
    locator.reset()
    classify.reset()
    seed_service_attributes(ServiceAttribute)
    return make_world(make_tree())


def test_an_open311_request_is_closed_by_staff_in_the_ui(browser, live_server, world) -> None:
    from wangge.accounts.tests.factories import PASSWORD
    from wangge.api.open311.keys import client_create

    _client, key = client_create(actor="test", name="city-app")
    root = f"{live_server.url}/open311/v2"
    client = GeoReport(root, api_key=key)
    assert "06010" in [s["service_code"] for s in client.get_service_list()]
    assert client.get_service_definition("06010")["attributes"][0]["code"] == "volume"

    lon, lat = centre(world.grid)
    posted = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": key,
            "service_code": "06010",
            "lat": lat,
            "long": lon,
            "description": "路口暴露垃圾",
            "attribute[volume]": "2",
        },
        files={"media": ("p.jpg", JPEG, "image/jpeg")},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    token = posted.json()[0]["token"]
    request_id = requests.get(f"{root}/tokens/{token}.json", timeout=30).json()[0][
        "service_request_id"
    ]
    assert client.get_service_request(request_id)["status"] == "open"

    # The handler's part is done (handled); the dispatcher verifies and closes on the page.
    case = Case.objects.get(tracking_code=request_id)
    Case.objects.filter(pk=case.pk).update(state=CaseState.HANDLED, step="verify")
    page = sign_in(browser, live_server.url, world.dispatcher.username, PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    take(page, case.pk, "verify")
    take(page, case.pk, "close")
    assert page.get_by_test_id("case-state").inner_text() == "已结案"

    closed = client.get_service_request(request_id)
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "问题已办结，欢迎您评价。"
    xml_client = GeoReport(root, output_format="xml")
    assert xml_client.get_service_request(request_id)["status"] == "closed"
