"""Geometry helpers over shapely: GeoJSON in/out, validity repair, derived fields."""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

METRES_PER_DEG_LAT = 110_540.0
METRES_PER_DEG_LON_EQ = 111_320.0


def to_shape(geojson: dict[str, Any]) -> BaseGeometry:
    return shape(geojson)


def to_geojson(geom: BaseGeometry, precision: int = 7) -> dict[str, Any]:
    geom = shapely.set_precision(geom, 10**-precision) if precision else geom
    return dict(mapping(geom))


def polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal part (``make_valid`` may return lines or points too)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return shapely.Polygon()
        return shapely.union_all(polys)
    return shapely.Polygon()


def repair(geom: BaseGeometry) -> tuple[BaseGeometry, str]:
    """Return a valid polygonal geometry and why the input was invalid ('' when it was valid)."""
    if geom.is_valid:
        return geom, ""
    reason = shapely.is_valid_reason(geom)
    fixed = polygonal_part(shapely.make_valid(geom))
    return fixed, reason


def local_scale(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near ``lat`` (equirectangular)."""
    return METRES_PER_DEG_LON_EQ * math.cos(math.radians(lat)), METRES_PER_DEG_LAT


def area_m2(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    c = geom.centroid
    sx, sy = local_scale(c.y)
    return float(geom.area * sx * sy)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine), metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def derived_fields(geom: BaseGeometry | None) -> dict[str, float | None]:
    """Bounding box, a representative point inside the shape, and the area."""
    if geom is None or geom.is_empty:
        return dict.fromkeys(
            ("min_lon", "min_lat", "max_lon", "max_lat", "center_lon", "center_lat", "area_m2")
        )
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    rp = geom.representative_point()
    return {
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "center_lon": rp.x,
        "center_lat": rp.y,
        "area_m2": round(area_m2(geom), 1),
    }
