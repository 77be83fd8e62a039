"""REST API additions and the OpenAPI document: ordering of the case list, one matter type, the
webhooks section, the rendered documentation served without a CDN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from wangge.accounts.services import api_token_create
from wangge.cases.tests.factories import make_case

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(actor=None, user=user, name='t')[1]}"}


def test_case_list_ordering(client: Client, world) -> None:
    now = timezone.now()
    old = make_case(world, now=now - timedelta(days=2))
    new = make_case(world, now=now - timedelta(hours=1))
    auth = bearer(world.dispatcher)

    def codes(ordering: str) -> list[str]:
        page = client.get(f"/api/v1/cases/?ordering={ordering}", **auth).json()
        return [r["tracking_code"] for r in page["results"]]

    assert codes("-reported_at") == [new.tracking_code, old.tracking_code]
    assert codes("reported_at") == [old.tracking_code, new.tracking_code]
    assert codes("id") == [old.tracking_code, new.tracking_code]
    bad = client.get("/api/v1/cases/?ordering=reporter_phone", **auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_one_matter_type(client: Client, world) -> None:
    data = client.get("/api/v1/cases/matter-types/06010").json()
    assert data["code"] == "06010" and data["name"] == "暴露垃圾"
    missing = client.get("/api/v1/cases/matter-types/99999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_openapi_document_and_docs_page(client: Client, db) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["version"] == "1"
    assert "/api/v1/webhooks/subscriptions" in schema["paths"]
    assert "/api/v1/cases/{case_id}/transitions" in schema["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


@pytest.mark.parametrize("ids", [[10**30], [0], list(range(1, 1200))])
def test_notification_ids_out_of_range_are_422_not_500(client: Client, world, ids) -> None:
    """Found by the fuzzer: an id above 2^63 overflowed SQLite (500)."""
    import json

    response = client.post(
        "/api/v1/cases/notifications/read",
        json.dumps({"ids": ids}),
        content_type="application/json",
        **bearer(world.dispatcher),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"title": "x"', "application/json", 400, "malformed_body"),
        (b"<case><title>x</title></case>", "application/xml", 400, "malformed_body"),
        (b"title=x", "application/x-www-form-urlencoded", 400, "malformed_body"),
        (b"[1, 2]", "application/json", 422, "validation_error"),
        (b'{"title": "x", "lon": 999, "lat": 31.3}', "application/json", 422, "validation_error"),
        (b'{"title": "x", "lon": NaN, "lat": 31.3}', "application/json", 422, "validation_error"),
        (
            b'{"title": "<script>alert(1)</script>", "lon": 120.6, "lat": 31.3}',
            "application/json",
            422,
            "validation_error",
        ),
        (
            b'{"title": "x", "lon": 120.61, "lat": 31.31, "matter_type": "99999"}',
            "application/json",
            422,
            "validation_error",
        ),
    ],
)
def test_bad_bodies_get_clear_errors_and_write_nothing(
    client: Client, world, settings, body, content_type, status, code
) -> None:
    from wangge.cases.models import Case

    settings.CASES_PUBLIC_RATE_PER_MINUTE = 1000
    response = client.post("/api/v1/cases/", body, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert not Case.objects.exists()


def test_a_huge_body_is_413_in_the_error_shape(client: Client, world, settings) -> None:
    import json

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"title": "x", "description": "长" * 20_000, "lon": 120.61, "lat": 31.31})
    response = client.post("/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
