"""Geo API: every endpoint without login, with permission, and with permission but out of area."""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.accounts.tests.factories import make_user
from wangge.geo import locator
from wangge.geo.crs import from_wgs84

STREET1_GRID = "320571001001001"
STREET2_GRID = "320571002001001"


@pytest.fixture(autouse=True)
def fresh_locator():
    locator.reset()
    yield
    locator.reset()


@pytest.fixture
def worker(tree):
    """A grid worker whose role covers street 1 only."""
    return make_user("wang_street1", role="grid_worker", region=tree.streets[0])


@pytest.fixture
def client_for():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/geo/regions",
        f"/api/v1/geo/regions/{STREET1_GRID}",
        f"/api/v1/geo/regions/{STREET1_GRID}/geojson",
        "/api/v1/geo/locate?lon=120.61&lat=31.32",
    ],
)
def test_anonymous_requests_are_refused(tree, url):
    assert Client().get(url).status_code == 401


def test_region_list_is_scoped_to_the_users_area(worker, client_for):
    response = client_for(worker).get("/api/v1/geo/regions?limit=100")
    assert response.status_code == 200
    codes = {item["code"] for item in response.json()["items"]}
    assert STREET1_GRID in codes and "320571001" in codes
    assert not any(code.startswith("320571002") for code in codes)
    assert "320571" not in codes  # the county is above the grant


def test_region_list_filters(worker, client_for):
    body = client_for(worker).get("/api/v1/geo/regions?level=grid&parent=320571001001").json()
    assert [item["code"] for item in body["items"]] == [STREET1_GRID, "320571001001002"]
    assert body["items"][0]["parent_code"] == "320571001001"
    assert body["items"][0]["center"] is not None


def test_region_detail_in_area_and_404_out_of_area(worker, client_for):
    client = client_for(worker)
    ok = client.get(f"/api/v1/geo/regions/{STREET1_GRID}")
    assert ok.status_code == 200 and ok.json()["households"] == 400
    out = client.get(f"/api/v1/geo/regions/{STREET2_GRID}")
    assert out.status_code == 404
    missing = client.get("/api/v1/geo/regions/320571009009009")
    assert missing.status_code == 404
    assert out.json()["error"]["message"] == missing.json()["error"]["message"]


def test_region_geojson_in_area_and_404_out_of_area(worker, client_for):
    client = client_for(worker)
    feature = client.get(f"/api/v1/geo/regions/{STREET1_GRID}/geojson").json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
    assert client.get(f"/api/v1/geo/regions/{STREET2_GRID}/geojson").status_code == 404


def test_user_without_role_sees_no_regions(tree, client_for):
    client = client_for(make_user("nobody"))
    assert client.get("/api/v1/geo/regions").json()["items"] == []
    assert client.get(f"/api/v1/geo/regions/{STREET1_GRID}").status_code == 404


def test_locate_answers_with_region_and_path(worker, client_for):
    body = client_for(worker).get("/api/v1/geo/locate?lon=120.61&lat=31.32").json()
    assert body["inside"] is True and body["method"] == "contains"
    assert body["region"] == {"code": STREET1_GRID, "name": "第1街道第1社区网格1", "level": "grid"}
    assert [p["code"] for p in body["path"]][:3] == ["320000", "320500", "320571"]
    assert body["path"][-1]["code"] == STREET1_GRID
    assert body["input"]["crs"] == "wgs84"


def test_locate_is_public_geography_even_outside_the_users_area(worker, client_for):
    body = client_for(worker).get("/api/v1/geo/locate?lon=120.65&lat=31.32").json()
    assert body["region"]["code"] == STREET2_GRID
    assert set(body["region"]) == {"code", "name", "level"}  # nothing but the name plate


def test_locate_converts_sdk_coordinates(worker, client_for):
    lon, lat = from_wgs84(120.61, 31.32, "bd09")
    body = client_for(worker).get(f"/api/v1/geo/locate?lon={lon}&lat={lat}&crs=bd09").json()
    assert body["region"]["code"] == STREET1_GRID
    assert body["input"]["wgs84"] == pytest.approx([120.61, 31.32], abs=1e-7)


def test_locate_outside_and_nearest(worker, client_for, settings):
    settings.LOCATOR_FALLBACK_METRES = 50
    client = client_for(worker)
    near = client.get("/api/v1/geo/locate?lon=120.5997&lat=31.32").json()
    assert (near["inside"], near["method"], near["region"]["code"]) == (
        False,
        "nearest",
        STREET1_GRID,
    )
    assert 20 < near["distance_m"] < 40
    far = client.get("/api/v1/geo/locate?lon=121.5&lat=31.32").json()
    assert (far["inside"], far["method"], far["region"], far["path"]) == (
        False,
        "outside",
        None,
        [],
    )


@pytest.mark.parametrize(
    "query", ["lon=120.61&lat=31.32&crs=mercator", "lon=200&lat=31.32", "lon=abc&lat=31"]
)
def test_locate_rejects_bad_input_with_422(worker, client_for, query):
    response = client_for(worker).get(f"/api/v1/geo/locate?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
