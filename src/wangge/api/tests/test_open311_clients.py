"""A real GeoReport v2 client from PyPI (``georeport`` 0.3.1) against a live server on loopback,
in JSON and XML. That client only reads (it has no create-request or token call, see
docs/open311.md), so the POST with a photo and the token look-up use plain HTTP exactly as the
Open311 client libraries send them (form fields + a multipart ``media`` file)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport

from wangge.cases.choices import CaseState
from wangge.cases.models import Case
from wangge.cases.tests.factories import JPEG, centre

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_world(transactional_db: Any) -> Any:
    from wangge.api.models import ServiceAttribute
    from wangge.api.open311.keys import client_create
    from wangge.api.open311.seed import seed_service_attributes
    from wangge.cases.tests.factories import make_world
    from wangge.geo.tests.factories import make_tree

    seed_service_attributes(ServiceAttribute)  # a flushed database lost the migration's rows
    world = make_world(make_tree())
    _client, raw = client_create(actor="test", name="pypi-client")
    return world, raw


def _post(root: str, fmt: str, world: Any, key: str) -> requests.Response:
    lon, lat = centre(world.grid)
    return requests.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "jurisdiction_id": "wangge",
            "service_code": "01001",
            "lat": lat,
            "long": lon,
            "attribute[cover_state]": "missing",
            "description": "人行道上井盖缺失，很危险",
            "first_name": "Wei",
            "last_name": "Zhang",
            "phone": "13800001111",
        },
        files={"media": ("cover.jpg", JPEG, "image/jpeg")},
        timeout=30,
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_what_the_server_files(live_server, live_world, fmt) -> None:
    world, key = live_world
    root = f"{live_server.url}/open311/v2"
    client = GeoReport(root, jurisdiction="wangge", output_format=fmt)

    services = client.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["01001"]["service_name"] == "供水井盖异常"
    assert str(by_code["01001"]["metadata"]).lower() == "true"
    definition = client.get_service_definition("01001")
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"][0]
    assert attribute["code"] == "cover_state"

    posted = _post(root, fmt, world, key)
    assert posted.status_code == 201, posted.text
    if fmt == "json":
        token = posted.json()[0]["token"]
        by_token = requests.get(f"{root}/tokens/{token}.json", timeout=30).json()[0]
    else:
        import xmltodict

        token = xmltodict.parse(posted.content)["service_requests"]["request"]["token"]
        by_token = xmltodict.parse(requests.get(f"{root}/tokens/{token}.xml", timeout=30).content)[
            "service_requests"
        ]["request"]
    request_id = by_token["service_request_id"]

    one = client.get_service_request(request_id)
    assert one["service_request_id"] == request_id
    assert one["status"] == "open" and one["service_code"] == "01001"
    assert "Zhang" not in str(one) and "13800001111" not in str(one)
    listed = client.get_service_requests(service_code="01001", status="open")
    ids = [r["service_request_id"] for r in (listed if isinstance(listed, list) else [listed])]
    assert request_id in ids

    case = Case.objects.get(tracking_code=request_id)
    assert case.attachments.count() == 1
    Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED, step="", due_at=None)
    assert client.get_service_request(request_id)["status"] == "closed"
    assert client.get_service_requests(service_request_id=request_id, status="closed")
