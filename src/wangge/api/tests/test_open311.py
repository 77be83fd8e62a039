"""GeoReport v2 endpoint: shapes of the spec in both formats, intake, errors, privacy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from wangge.api.models import Open311Client, Open311Request
from wangge.cases.choices import CaseState, Source
from wangge.cases.models import Attachment, Case
from wangge.cases.tests.factories import JPEG, PNG, centre, make_case

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer)
    assert "{" not in root.tag  # no namespace
    return root


def post(client: Client, fmt: str = "json", **data: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data)


def form(world: Any, api_key: str, **extra: Any) -> dict[str, Any]:
    lon, lat = centre(world.grid)
    return {
        "api_key": api_key,
        "service_code": "06010",
        "lat": str(lat),
        "long": str(lon),
        "address_string": "幸福路12号门口",
        "first_name": "小红",
        "last_name": "李",
        "phone": "13912345678",
        "email": "li@example.org",
        "description": "小区门口暴露垃圾三天没人清理",
        **extra,
    }


# --- discovery and services ------------------------------------------------------------------


def test_discovery_in_both_formats(client: Client) -> None:
    data = client.get(f"{BASE}/discovery.json").json()
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert data["changeset"].endswith("Z")
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = root.findall("./endpoints/endpoint/formats/format")
    assert [f.text for f in formats] == ["text/xml", "application/json"]


def test_services_list_public_matter_types_with_group_and_keywords(client, world) -> None:
    data = client.get(f"{BASE}/services.json").json()
    assert next(s for s in data if s["service_code"] == "06001")["metadata"] is False
    world.matters["06001"].is_public = False
    world.matters["06001"].save()
    data = client.get(f"{BASE}/services.json").json()
    codes = [s["service_code"] for s in data]
    assert "06001" not in codes and {"06010", "01001", "91001"} <= set(codes)
    garbage = next(s for s in data if s["service_code"] == "06010")
    assert garbage == {
        "service_code": "06010",
        "service_name": "暴露垃圾",
        "description": garbage["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": "垃圾, 乱扔",
        "group": "市容环境类",
    }
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    items = root.findall("service")
    assert [i.findtext("service_code") for i in items] == codes
    assert items[0].findtext("metadata") in ("true", "false")


def test_service_definitions_cover_every_datatype(client, world) -> None:
    seen = set()
    for code in ("01001", "06010", "06028", "91001"):
        data = client.get(f"{BASE}/services/{code}.json").json()
        assert data["service_code"] == code
        for a in data["attributes"]:
            assert set(a) == {
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
                "values",
            }
            seen.add(a["datatype"])
            if a["datatype"].endswith("valuelist"):
                assert a["values"] and all(set(v) == {"key", "name"} for v in a["values"])
    assert seen == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    root = xml(client.get(f"{BASE}/services/01001.xml"))
    assert root.tag == "service_definition"
    attr = root.find("./attributes/attribute")
    assert attr is not None and attr.findtext("datatype") == "singlevaluelist"
    assert [v.findtext("key") for v in attr.findall("./values/value")][:2] == ["broken", "missing"]


def test_unknown_service_is_404_in_the_spec_error_shape(client, world) -> None:
    response = client.get(f"{BASE}/services/99999.json")
    assert response.status_code == 404
    (err,) = response.json()
    assert err["code"] == 404 and "99999" in err["description"]
    root = xml(client.get(f"{BASE}/services/99999.xml"))
    assert root.tag == "errors" and root.findtext("./error/code") == "404"


def test_jurisdiction_is_checked(client, world, settings) -> None:
    settings.OPEN311_JURISDICTION_ID = "suzhou.example"
    assert client.get(f"{BASE}/services.json?jurisdiction_id=suzhou.example").status_code == 200
    response = client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere")
    assert response.status_code == 404 and response.json()[0]["code"] == 404


# --- POST requests -----------------------------------------------------------------------------


def test_post_form_encoded_files_a_case_through_intake(client, world, api_key) -> None:
    response = post(client, **form(world, api_key, **{"attribute[volume]": "1.5"}))
    assert response.status_code == 201, response.content
    (item,) = response.json()
    assert set(item) == {"service_request_id", "token", "service_notice", "account_id"}
    case = Case.objects.get(tracking_code=item["service_request_id"])
    assert case.source == Source.API and case.state == CaseState.REPORTED
    assert case.matter_type.code == "06010" and case.grid == world.grid
    assert case.reporter_name == "李小红" and case.reporter_phone == "13912345678"
    assert case.address == "幸福路12号门口"
    link = Open311Request.objects.get(case=case)
    assert link.token == item["token"] and link.client.name == "city-311"
    assert link.attributes == {"volume": 1.5} and link.email == "li@example.org"
    assert case.events.filter(action="report").exists()
    assert "工作" in item["service_notice"]


def test_post_multipart_with_a_photo_and_list_attributes(client, world, api_key) -> None:
    data = form(world, api_key, media=SimpleUploadedFile("p.jpg", JPEG, "image/jpeg"))
    data["attribute[waste_kinds][]"] = ["household", "bulky"]
    response = client.post(f"{BASE}/requests.xml", data)  # multipart
    assert response.status_code == 201, response.content
    root = xml(response)
    assert root.tag == "service_requests"
    code = root.findtext("./request/service_request_id")
    case = Case.objects.get(tracking_code=code)
    (photo,) = Attachment.objects.filter(case=case)
    assert photo.content_type == "image/jpeg" and photo.kind == "before"
    assert case.open311.attributes == {"waste_kinds": ["household", "bulky"]}


def test_api_key_from_the_query_string(client, world, api_key) -> None:
    data = form(world, api_key)
    del data["api_key"]
    response = client.post(f"{BASE}/requests.json?api_key={api_key}", data)
    assert response.status_code == 201


@pytest.mark.parametrize("key", ["", "o311_wrong", "wg_staff-token"])
def test_invalid_key_is_403_and_nothing_is_filed(client, world, api_key, key) -> None:
    response = post(client, **form(world, key))
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    assert not Case.objects.exists()


def test_revoked_key_is_refused(client, world, api_key) -> None:
    call_command("open311", "revoke-key", "city-311")
    assert post(client, **form(world, api_key)).status_code == 403
    assert not Open311Client.objects.get(name="city-311").is_active


def test_rate_limit_per_client(client, world) -> None:
    from wangge.api.open311.keys import client_create

    _c, raw = client_create(actor="test", name="slow", rate_per_minute=2)
    codes = [post(client, **form(world, raw)).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert Case.objects.count() == 2


def _bad(world: Any, api_key: str, **changes: Any) -> dict[str, Any]:
    data = form(world, api_key)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


BAD_INPUT = {
    "unknown_service": {"service_code": "99999"},
    "no_service": {"service_code": None},
    "lat_not_a_number": {"lat": "north"},
    "lat_out_of_range": {"lat": "91"},
    "long_infinite": {"long": "inf"},
    "only_lat": {"long": None},
    "no_location": {"lat": None, "long": None, "address_string": None},
    "outside_all_grids": {"lat": "10.0", "long": "10.0"},
    "script_in_description": {"description": "<script>alert(1)</script>"},
    "script_in_attribute": {
        "attribute[volume]": "1",
        "service_code": "06028",
        "attribute[noise_source]": "<img src=x onerror=alert(1)>",
    },
    "bad_email": {"email": "not-an-email"},
    "bad_phone": {"phone": "call me"},
    "description_too_long": {"description": "长" * 2001},
    "unknown_attribute": {"attribute[colour]": "red"},
    "bad_number": {"attribute[volume]": "lots"},
    "bad_multivalue": {"attribute[waste_kinds][]": ["household", "nuclear"]},
    "missing_required": {"service_code": "01001"},
    "bad_single_value": {"service_code": "01001", "attribute[cover_state]": "stolen"},
    "bad_datetime": {
        "service_code": "06028",
        "attribute[noise_source]": "施工",
        "attribute[noise_time]": "yesterday",
    },
    "two_values_single": {
        "service_code": "01001",
        "attribute[cover_state][]": ["broken", "missing"],
    },
    "unknown_address_id": {"lat": None, "long": None, "address_id": "999999999999999"},
    "unlocatable_address": {"lat": None, "long": None, "address_string": "火星基地"},
    "bad_media_url": {"media_url": "javascript:alert(1)"},
    "malformed_attribute_key": {"attribute[a][b]": "x"},
}


@pytest.mark.parametrize("case_name", sorted(BAD_INPUT))
def test_bad_input_is_400_with_a_clear_message_and_nothing_written(
    client, world, api_key, case_name
) -> None:
    before = (Case.objects.count(), Open311Request.objects.count(), Attachment.objects.count())
    response = post(client, **_bad(world, api_key, **BAD_INPUT[case_name]))
    assert response.status_code == 400, response.content
    (err,) = response.json()
    assert err["code"] == 400 and err["description"]
    assert "Traceback" not in err["description"]
    after = (Case.objects.count(), Open311Request.objects.count(), Attachment.objects.count())
    assert after == before


def test_a_photo_that_is_not_an_image_writes_nothing(client, world, api_key) -> None:
    data = form(world, api_key, media=SimpleUploadedFile("x.jpg", b"<svg onload=1>", "image/jpeg"))
    response = client.post(f"{BASE}/requests.json", data)
    assert response.status_code == 400
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_oversized_photo_is_refused(client, world, api_key, settings) -> None:
    settings.CASE_ATTACHMENT_MAX_BYTES = 1000
    data = form(world, api_key, media=SimpleUploadedFile("p.png", PNG + b"\0" * 2000, "image/png"))
    response = client.post(f"{BASE}/requests.json", data)
    assert response.status_code == 400 and not Case.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"service_code": "06010"'),
        ("application/xml", b"<request><service_code>06010</service_code>"),
        ("text/plain", b"hello"),
    ],
)
def test_wrong_content_types_and_malformed_bodies_are_400(client, world, content_type, body):
    response = client.post(f"{BASE}/requests.json", body, content_type=content_type)
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json()[0]["description"]


def test_huge_bodies_are_refused(client, world, api_key, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(client, **form(world, api_key, description="垃" * 20_000))
    assert response.status_code == 413
    assert response.json()[0]["code"] == 413
    assert not Case.objects.exists()


def test_address_id_and_address_string_locate_the_request(client, world, api_key) -> None:
    by_id = post(client, **_bad(world, api_key, lat=None, long=None, address_id=world.grid.code))
    assert by_id.status_code == 201, by_id.content
    case = Case.objects.get(tracking_code=by_id.json()[0]["service_request_id"])
    assert case.grid == world.grid and case.open311.address_id == world.grid.code
    text = f"{world.grid.name}东门"
    by_name = post(client, **_bad(world, api_key, lat=None, long=None, address_string=text))
    assert by_name.status_code == 201, by_name.content
    case = Case.objects.get(tracking_code=by_name.json()[0]["service_request_id"])
    assert case.grid == world.grid and case.address == text


def test_english_errors_with_accept_language(client, world, api_key) -> None:
    response = client.post(
        f"{BASE}/requests.json", _bad(world, api_key, lat="x"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "invalid" in response.json()[0]["description"].lower()


# --- GET requests and tokens -------------------------------------------------------------------


def _filed(client: Client, world: Any, api_key: str, **extra: Any) -> Case:
    response = post(client, **form(world, api_key, **extra))
    assert response.status_code == 201, response.content
    return Case.objects.get(tracking_code=response.json()[0]["service_request_id"])


def test_one_request_in_both_formats_with_every_field(client, world, api_key) -> None:
    case = _filed(client, world, api_key, media_url="https://img.example.org/1.jpg")
    data = client.get(f"{BASE}/requests/{case.tracking_code}.json").json()
    assert isinstance(data, list) and len(data) == 1
    (item,) = data
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == case.tracking_code
    assert item["status"] == "open" and item["service_code"] == "06010"
    assert item["expected_datetime"] == case.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert item["requested_datetime"].endswith("Z") and item["updated_datetime"].endswith("Z")
    assert item["address"] == "幸福路12号门口"
    assert item["lat"] == case.lat and item["long"] == case.lon
    assert item["media_url"] == "https://img.example.org/1.jpg"
    assert item["status_notes"]  # the resident-facing words of the last step
    assert item["agency_responsible"]
    root = xml(client.get(f"{BASE}/requests/{case.tracking_code}.xml"))
    assert root.tag == "service_requests"
    (req,) = root.findall("request")
    assert [c.tag for c in req] == REQUEST_FIELDS
    assert req.findtext("status") == "open"


def test_public_reads_never_show_personal_data(client, world, api_key) -> None:
    case = _filed(client, world, api_key, description="垃圾堆在门口，联系我13912345678")
    dispute = _filed(
        client,
        world,
        api_key,
        service_code="91001",
        description="楼上邻居王大妈家漏水",
        address_string="幸福小区3幢402室",
    )
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}/requests.{fmt}").content.decode()
        for secret in ("李小红", "小红", "13912345678", "li@example.org", "王大妈", "402室"):
            assert secret not in body, (fmt, secret)
    items = {i["service_request_id"]: i for i in client.get(f"{BASE}/requests.json").json()}
    assert "***" in items[case.tracking_code]["description"]
    private = items[dispute.tracking_code]
    assert private["description"] == "" and private["address"] == world.grid.name
    assert private["lat"] == round(dispute.lat, 3)


def test_list_filters_and_paging(client, world, api_key) -> None:
    first = _filed(client, world, api_key)
    second = _filed(client, world, api_key, service_code="91001")
    closed = make_case(world, state=CaseState.CLOSED, tracking_code="T000000CLOSED")
    items = client.get(f"{BASE}/requests.json").json()
    assert [i["service_request_id"] for i in items] == [
        c.tracking_code
        for c in sorted([first, second, closed], key=lambda c: (c.reported_at, c.pk), reverse=True)
    ]

    def codes(query: str) -> list[str]:
        items = client.get(f"{BASE}/requests.json?{query}").json()
        return [i["service_request_id"] for i in items]

    assert codes("status=closed") == [closed.tracking_code]
    assert set(codes("status=open")) == {first.tracking_code, second.tracking_code}
    assert codes("service_code=91001") == [second.tracking_code]
    assert codes(
        f"service_request_id={first.tracking_code},{closed.tracking_code}&status=open"
    ) == [
        c.tracking_code
        for c in sorted([first, closed], key=lambda c: (c.reported_at, c.pk), reverse=True)
    ]
    assert len(codes("page_size=2")) == 2 and len(codes("page_size=2&page=2")) == 1
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(f"start_date={future}") == []
    one = client.get(f"{BASE}/requests.json?service_code=91001").json()
    assert isinstance(one, list) and len(one) == 1  # one item is still a list
    root = xml(client.get(f"{BASE}/requests.xml?service_code=91001"))
    assert len(root.findall("request")) == 1


@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "start_date=yesterday",
        "start_date=2026-01-01T00:00:00",  # no time zone
        "start_date=2025-01-01T00:00:00Z&end_date=2025-12-01T00:00:00Z",  # > 90 days
        "start_date=2025-02-01T00:00:00Z&end_date=2025-01-01T00:00:00Z",
        "page=0",
        "page_size=100000",
        "page=abc",
    ],
)
def test_bad_list_parameters_are_400(client, world, query) -> None:
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400, response.content
    assert response.json()[0]["code"] == 400


def test_unknown_request_and_token_are_404(client, world) -> None:
    assert client.get(f"{BASE}/requests/260101ZZZZZZ.json").status_code == 404
    root = xml(client.get(f"{BASE}/tokens/nope.xml"))
    assert root.findtext("./error/code") == "404"


def test_token_leads_to_the_request_id(client, world, api_key) -> None:
    response = post(client, **form(world, api_key))
    token = response.json()[0]["token"]
    (item,) = client.get(f"{BASE}/tokens/{token}.json").json()
    assert item == {"service_request_id": response.json()[0]["service_request_id"], "token": token}
    root = xml(client.get(f"{BASE}/tokens/{token}.xml"))
    assert root.findtext("./request/token") == token


def test_status_follows_the_case_to_closed(client, world, api_key) -> None:
    from wangge.cases.services import case_transition

    case = _filed(client, world, api_key)
    Case.objects.filter(pk=case.pk).update(state=CaseState.VERIFIED, step="verify")
    case.refresh_from_db()
    case_transition(
        actor=world.dispatcher, case=case, action="close", expected_version=case.version
    )
    (item,) = client.get(f"{BASE}/requests/{case.tracking_code}.json").json()
    assert item["status"] == "closed" and item["expected_datetime"] is None
    assert item["status_notes"] == "问题已办结，欢迎您评价。"


def test_create_key_command_prints_a_working_key(client, world, capsys) -> None:
    call_command("open311", "create-key", "vendor-app", "--rate", "5")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("o311_") and len(raw) > 30
    assert Open311Client.objects.get(name="vendor-app").rate_per_minute == 5
    assert post(client, **form(world, raw)).status_code == 201
    call_command("open311", "list-keys")
    assert "vendor-app" in capsys.readouterr().out
    assert raw not in json.dumps(list(Open311Client.objects.values()), default=str)
