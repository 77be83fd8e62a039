"""WGS-84 ↔ GCJ-02 ↔ BD-09 against published reference pairs, and round trips."""

from __future__ import annotations

import numpy as np
import pytest

from wangge.core.exceptions import ValidationError
from wangge.geo import crs

# Published test vectors of the standard algorithm:
# * wandergis/coordtransform README, input (116.404, 39.915);
# * googollee/eviltransform tests (Shanghai, Shenzhen, Beijing), WGS-84 → GCJ-02.
WGS_TO_GCJ = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
GCJ_TO_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]
# The same libraries' one-step inverses (approximate; ours iterate to the exact inverse).
ONE_STEP_GCJ_TO_WGS = ((116.404, 39.915), (116.39775550083061, 39.91359571849836))
ONE_STEP_BD_TO_GCJ = ((116.404, 39.915), (116.39762729119315, 39.90865673957631))
# Tiananmen flag pole (WGS-84) and its GCJ-02 / BD-09 images derived with the algorithm above.
TIANANMEN_WGS = (116.391275, 39.906217)
TIANANMEN_GCJ = (116.39751600497861, 39.907618208170675)
TIANANMEN_BD = (116.40388994480598, 39.91396193189531)


def close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < tol


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    assert close(crs.wgs84_to_gcj02(*wgs), gcj, 1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_inverts_exactly(wgs, gcj):
    assert close(crs.gcj02_to_wgs84(*gcj), wgs, 1e-7)


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published_pair(gcj, bd):
    assert close(crs.gcj02_to_bd09(*gcj), bd, 1e-9)
    assert close(crs.bd09_to_gcj02(*bd), gcj, 1e-7)


def test_inverse_is_better_than_the_one_step_approximation():
    gcj, approx = ONE_STEP_GCJ_TO_WGS
    exact = crs.gcj02_to_wgs84(*gcj)
    assert close(exact, approx, 2e-6)  # the approximation is near …
    assert close(crs.wgs84_to_gcj02(*exact), gcj, 1e-9)  # … but only ours maps back exactly
    assert not close(crs.wgs84_to_gcj02(*approx), gcj, 1e-7)
    bd, approx_gcj = ONE_STEP_BD_TO_GCJ
    exact_gcj = crs.bd09_to_gcj02(*bd)
    assert close(exact_gcj, approx_gcj, 2e-6)
    assert close(crs.gcj02_to_bd09(*exact_gcj), bd, 1e-9)


def test_tiananmen_through_the_public_api():
    assert close(crs.from_wgs84(*TIANANMEN_WGS, "gcj02"), TIANANMEN_GCJ, 1e-9)
    assert close(crs.from_wgs84(*TIANANMEN_WGS, "bd09"), TIANANMEN_BD, 1e-9)
    assert close(crs.to_wgs84(*TIANANMEN_GCJ, "gcj02"), TIANANMEN_WGS, 1e-7)
    assert close(crs.to_wgs84(*TIANANMEN_BD, "BD-09"), TIANANMEN_WGS, 1e-7)
    assert crs.to_wgs84(*TIANANMEN_WGS, "cgcs2000") == TIANANMEN_WGS
    # The offset is real: hundreds of metres, not noise.
    assert abs(TIANANMEN_GCJ[0] - TIANANMEN_WGS[0]) > 0.005


def test_round_trips_across_china_stay_below_1e_6_degrees():
    rng = np.random.default_rng(7)
    lons = rng.uniform(73.5, 135.0, 20_000)
    lats = rng.uniform(18.0, 53.5, 20_000)
    for target in ("gcj02", "bd09"):
        x, y = crs.from_wgs84_np(lons, lats, target)
        bx, by = crs.to_wgs84_np(x, y, target)
        assert np.abs(bx - lons).max() < 1e-7
        assert np.abs(by - lats).max() < 1e-7


def test_vectorised_equals_scalar():
    lons = np.array([116.404, 121.5272106, 120.7])
    lats = np.array([39.915, 31.1774276, 31.3])
    x, y = crs.to_wgs84_np(lons, lats, "bd09")
    for i in range(3):
        assert close((x[i], y[i]), crs.to_wgs84(lons[i], lats[i], "bd09"), 1e-9)


def test_outside_china_gcj_equals_wgs():
    assert crs.wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)  # Paris
    assert crs.to_wgs84(-74.006, 40.7128, "gcj02") == (-74.006, 40.7128)


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(ValidationError) as exc:
        crs.to_wgs84(120.0, 31.0, "epsg:3857")
    assert "不支持的坐标系" in exc.value.message


@pytest.mark.parametrize(("lon", "lat"), [(181.0, 31.0), (120.0, -91.0), (float("nan"), 31.0)])
def test_out_of_range_coordinates_are_rejected(lon, lat):
    with pytest.raises(ValidationError) as exc:
        crs.to_wgs84(lon, lat, "gcj02")
    assert "坐标超出范围" in exc.value.message
    with pytest.raises(ValidationError):
        crs.to_wgs84_np(np.array([120.0, lon]), np.array([31.0, lat]), "wgs84")


def test_geojson_geometry_conversion_round_trips():
    polygon = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[120.7, 31.3], [120.71, 31.3], [120.71, 31.31, 5.0], [120.7, 31.3]]],
        ],
    }
    gcj = crs.convert_geometry(polygon, source="wgs84", target="gcj02")
    assert gcj["type"] == "MultiPolygon"
    first = gcj["coordinates"][0][0][0]
    assert close(tuple(first), crs.wgs84_to_gcj02(120.7, 31.3), 1e-12)
    assert gcj["coordinates"][0][0][2][2] == 5.0  # altitude kept
    back = crs.convert_geometry(gcj, source="gcj02", target="wgs84")
    for p, q in zip(back["coordinates"][0][0], polygon["coordinates"][0][0], strict=True):
        assert close(tuple(p[:2]), tuple(q[:2]), 1e-7)
    assert crs.convert_geometry(polygon, source="cgcs2000", target="wgs84") is polygon
