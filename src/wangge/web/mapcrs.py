"""Display-side coordinate shift for the page map.

Stored geometry is WGS-84. Tiles from 高德/腾讯 are drawn in GCJ-02 (百度 in BD-09), so geometry
drawn over them must be shifted the same way or it sits hundreds of metres off. The conversion
is the geo app's (``wangge.geo.crs``); this module applies it to a FeatureCollection."""

from __future__ import annotations

import copy
from typing import Any

from wangge.core.exceptions import ValidationError
from wangge.geo.crs import WGS84, convert_geometry, normalize_crs


def transform_collection(data: dict[str, Any], crs: str) -> dict[str, Any]:
    """``data`` (a WGS-84 FeatureCollection) in ``crs``; ValueError for an unknown CRS."""
    try:
        target = normalize_crs(crs)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc
    if target == WGS84:
        return data
    result = copy.copy(data)
    result["features"] = [
        {**f, "geometry": convert_geometry(f["geometry"], source=WGS84, target=target)}
        if f.get("geometry")
        else f
        for f in data["features"]
    ]
    result.pop("crs", None)  # no longer CRS84
    result["display_crs"] = target
    return result
