"""Coordinate systems used by Chinese map SDKs: WGS-84 ↔ GCJ-02 (火星坐标) ↔ BD-09.

* **WGS-84** is what we store (CGCS2000 is treated as equal at our precision).
* **GCJ-02** is the obfuscated system of 高德, 腾讯 and WeChat; the forward transform is the
  widely published algorithm (Krasovsky ellipsoid constants). It has no closed-form inverse,
  so GCJ-02 → WGS-84 iterates the forward transform until the residual is below 1e-9°,
  not the common one-step approximation (which is off by up to ~1e-5°, about a metre).
* **BD-09** is Baidu's extra rotation/offset on top of GCJ-02; its published inverse is
  approximate too, so it is refined the same way.

Outside China (the customary rough box) GCJ-02 equals WGS-84 — the SDKs do not shift there.

Scalar functions take and return ``(lon, lat)``; the ``*_np`` variants take numpy arrays;
:func:`convert_geometry` converts GeoJSON geometries.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from wangge.core.exceptions import ValidationError

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
CRS_CHOICES = (WGS84, GCJ02, BD09)
CRS_ALIASES = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "epsg:4326": WGS84,
    "4326": WGS84,
    "crs84": WGS84,
    "cgcs2000": WGS84,
    "epsg:4490": WGS84,
    "4490": WGS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd09ll": BD09,
}

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the published algorithm
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE = 1e-9  # degrees; the brief asks for < 1e-7
_MAX_ITERATIONS = 30

Array = np.ndarray


def normalize_crs(crs: str | None) -> str:
    """The canonical name of ``crs`` (``wgs84``/``gcj02``/``bd09``) or a ValidationError."""
    key = (crs or WGS84).strip().lower()
    if key not in CRS_ALIASES:
        raise ValidationError(
            _("不支持的坐标系：%(crs)s（可选 wgs84、gcj02、bd09）") % {"crs": crs},
            errors={"crs": [str(crs)]},
        )
    return CRS_ALIASES[key]


def check_lon_lat(lon: float, lat: float) -> None:
    if not (
        isinstance(lon, int | float)
        and isinstance(lat, int | float)
        and math.isfinite(lon)
        and math.isfinite(lat)
        and -180.0 <= lon <= 180.0
        and -90.0 <= lat <= 90.0
    ):
        raise ValidationError(
            _("坐标超出范围：经度应在-180至180之间，纬度应在-90至90之间（%(lon)s, %(lat)s）")
            % {"lon": lon, "lat": lat},
            errors={"lon": [str(lon)], "lat": [str(lat)]},
        )


def _check_arrays(lons: Array, lats: Array) -> None:
    ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= 180.0) & (np.abs(lats) <= 90.0)
    if not ok.all():
        i = int(np.argmin(ok))
        check_lon_lat(float(lons[i]), float(lats[i]))


# --- the forward transforms (numpy, so scalar and vector share one implementation) -----------


def out_of_china_np(lons: Array, lats: Array) -> Array:
    return (lons < 72.004) | (lons > 137.8347) | (lats < 0.8293) | (lats > 55.8271)


def _offsets(lons: Array, lats: Array) -> tuple[Array, Array]:
    x = lons - 105.0
    y = lats - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lats / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    dlon, dlat = _offsets(lons, lats)
    outside = out_of_china_np(lons, lats)
    return np.where(outside, lons, lons + dlon), np.where(outside, lats, lats + dlat)


def gcj02_to_bd09_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    x = np.asarray(lons, dtype=float)
    y = np.asarray(lats, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lons: Array, lats: Array) -> tuple[Array, Array]:
    x = lons - 0.0065
    y = lats - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[Array, Array], tuple[Array, Array]],
    lons: Array,
    lats: Array,
    start: tuple[Array, Array],
) -> tuple[Array, Array]:
    """Solve ``forward(w) = target`` by fixed-point iteration ``w += target - forward(w)``.

    The shifts change by well under 1 % of a step per step (their derivative is ~1e-3), so each
    iteration shrinks the error several hundred-fold: three or four iterations reach 1e-9°."""
    wx, wy = start
    for _i in range(_MAX_ITERATIONS):
        fx, fy = forward(wx, wy)
        ex, ey = lons - fx, lats - fy
        wx, wy = wx + ex, wy + ey
        if max(float(np.max(np.abs(ex), initial=0.0)), float(np.max(np.abs(ey), initial=0.0))) < (
            _INVERSE_TOLERANCE
        ):
            break
    return wx, wy


def gcj02_to_wgs84_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    dlon, dlat = _offsets(lons, lats)
    wx, wy = _invert(wgs84_to_gcj02_np, lons, lats, (lons - dlon, lats - dlat))
    outside = out_of_china_np(lons, lats)
    return np.where(outside, lons, wx), np.where(outside, lats, wy)


def bd09_to_gcj02_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    return _invert(gcj02_to_bd09_np, lons, lats, _bd09_to_gcj02_approx(lons, lats))


def wgs84_to_bd09_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    return gcj02_to_bd09_np(*wgs84_to_gcj02_np(lons, lats))


def bd09_to_wgs84_np(lons: Array, lats: Array) -> tuple[Array, Array]:
    return gcj02_to_wgs84_np(*bd09_to_gcj02_np(lons, lats))


def to_wgs84_np(lons: Any, lats: Any, crs: str) -> tuple[Array, Array]:
    """Vectorised :func:`to_wgs84`: arrays of lon/lat in ``crs`` → WGS-84 arrays."""
    crs = normalize_crs(crs)
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    _check_arrays(lons, lats)
    if crs == GCJ02:
        return gcj02_to_wgs84_np(lons, lats)
    if crs == BD09:
        return bd09_to_wgs84_np(lons, lats)
    return lons, lats


def from_wgs84_np(lons: Any, lats: Any, crs: str) -> tuple[Array, Array]:
    """Vectorised :func:`from_wgs84`: WGS-84 arrays → arrays in ``crs``."""
    crs = normalize_crs(crs)
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    _check_arrays(lons, lats)
    if crs == GCJ02:
        return wgs84_to_gcj02_np(lons, lats)
    if crs == BD09:
        return wgs84_to_bd09_np(lons, lats)
    return lons, lats


# --- scalar API -------------------------------------------------------------------------------


def _scalar(fn: Callable[[Array, Array], tuple[Array, Array]], lon: float, lat: float) -> tuple:
    x, y = fn(np.array([lon], dtype=float), np.array([lat], dtype=float))
    return float(x[0]), float(y[0])


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(wgs84_to_gcj02_np, lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(gcj02_to_wgs84_np, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(gcj02_to_bd09_np, lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(bd09_to_gcj02_np, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(wgs84_to_bd09_np, lon, lat)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return _scalar(bd09_to_wgs84_np, lon, lat)


def to_wgs84(lon: float, lat: float, crs: str = WGS84) -> tuple[float, float]:
    """``(lon, lat)`` given in ``crs`` → WGS-84. Raises ValidationError for an unknown CRS or
    coordinates out of range."""
    crs = normalize_crs(crs)
    check_lon_lat(lon, lat)
    if crs == WGS84:
        return float(lon), float(lat)
    return _scalar(gcj02_to_wgs84_np if crs == GCJ02 else bd09_to_wgs84_np, lon, lat)


def from_wgs84(lon: float, lat: float, crs: str = WGS84) -> tuple[float, float]:
    """WGS-84 ``(lon, lat)`` → ``crs`` (for output to 高德/腾讯/百度 SDKs)."""
    crs = normalize_crs(crs)
    check_lon_lat(lon, lat)
    if crs == WGS84:
        return float(lon), float(lat)
    return _scalar(wgs84_to_gcj02_np if crs == GCJ02 else wgs84_to_bd09_np, lon, lat)


# --- GeoJSON geometries -----------------------------------------------------------------------


def convert_geometry(geometry: dict[str, Any], *, source: str, target: str) -> dict[str, Any]:
    """A GeoJSON geometry with every position converted from ``source`` to ``target`` CRS.

    Positions keep any extra ordinates (altitude) unchanged. All positions of the geometry are
    converted in one vectorised call."""
    source, target = normalize_crs(source), normalize_crs(target)
    if source == target or geometry is None:
        return geometry
    positions: list[list[float]] = []
    _collect(geometry, positions)
    if not positions:
        return geometry
    lons = np.array([p[0] for p in positions], dtype=float)
    lats = np.array([p[1] for p in positions], dtype=float)
    if source != WGS84:
        lons, lats = to_wgs84_np(lons, lats, source)
    if target != WGS84:
        lons, lats = from_wgs84_np(lons, lats, target)
    it = iter(zip(lons.tolist(), lats.tolist(), strict=True))
    return _rebuild(geometry, it)


def _collect(geometry: dict[str, Any], out: list[list[float]]) -> None:
    if geometry.get("type") == "GeometryCollection":
        for g in geometry.get("geometries", []):
            _collect(g, out)
        return
    _collect_coords(geometry.get("coordinates"), out)


def _collect_coords(coords: Any, out: list[list[float]]) -> None:
    if not coords:
        return
    if isinstance(coords[0], int | float):
        out.append(coords)
        return
    for c in coords:
        _collect_coords(c, out)


def _rebuild(geometry: dict[str, Any], it: Any) -> dict[str, Any]:
    result = dict(geometry)
    if geometry.get("type") == "GeometryCollection":
        result["geometries"] = [_rebuild(g, it) for g in geometry.get("geometries", [])]
        return result
    result["coordinates"] = _rebuild_coords(geometry.get("coordinates"), it)
    return result


def _rebuild_coords(coords: Any, it: Any) -> Any:
    if not coords:
        return coords
    if isinstance(coords[0], int | float):
        x, y = next(it)
        return [x, y, *coords[2:]]
    return [_rebuild_coords(c, it) for c in coords]
