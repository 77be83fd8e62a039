"""Text with NUL characters is refused with 400 before it reaches a query (PostgreSQL cannot
store it: the fuzzer found a 500 from ``?area=32%0008`` on the indicators API)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from wangge.core.middleware import RejectNulMiddleware


def test_api_query_parameters_with_nul_answer_400_in_the_error_shape(client: Client):
    response = client.get("/api/v1/indicators/?area=32%0008")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"
    assert "空字符" in response.json()["error"]["message"]


def test_json_bodies_with_an_escaped_nul_are_refused(client: Client):
    body = json.dumps({"source": "resident", "title": "a\u0000b", "lon": 120.6, "lat": 31.3})
    response = client.post("/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 400


def test_open311_answers_in_its_own_error_list(client: Client):
    response = client.get("/open311/v2/requests.json?service_code=01%0001")
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400


@pytest.mark.django_db
def test_pages_answer_plain_400(client: Client):
    response = client.get("/track/AB%00CD")
    assert response.status_code == 400


def test_uploaded_files_may_contain_nul_bytes():
    photo = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", content_type="image/png")
    request = RequestFactory().post("/cases/new/", {"title": "路面破损", "photo": photo})
    assert RejectNulMiddleware._has_nul(request) is False
    request = RequestFactory().post("/cases/new/", {"title": "路面\x00破损"})
    assert RejectNulMiddleware._has_nul(request) is True
