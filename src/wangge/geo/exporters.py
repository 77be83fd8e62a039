"""GeoJSON out (QGIS-compatible: a FeatureCollection of WGS-84 lon/lat features)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import Region


def region_properties(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "grid_type": region.grid_type or None,
        "parent_code": region.parent.code if region.parent_id and region.parent else None,
        "households": region.households,
        "population": region.population,
        "area_m2": region.area_m2,
        "source_code": region.source_code or None,
        "version": region.version,
    }


def region_feature(region: Region) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": region.code,
        "geometry": region.boundary,
        "properties": region_properties(region),
    }


def feature_collection(regions: Iterable[Region], name: str = "regions") -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [region_feature(r) for r in regions],
    }
