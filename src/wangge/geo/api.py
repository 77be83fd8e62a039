"""Geo endpoints. No ``from __future__ import annotations`` here: django-ninja evaluates the
``Query[RegionFilter]`` annotation through the ``@paginate`` wrapper, where a string annotation
cannot be resolved ("QueryParams is not fully defined")."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from .schemas import LocateOut, RegionOut
from .selectors import access_region, region_list_for_user

router = Router(tags=["geo"])


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit and offset within what both databases can take (the fuzzer's 10^20 offset was a
    500 from SQLite's integer overflow): 1–1000 items, offset below 10^9."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=1_000_000_000)


class RegionFilter(Schema):
    level: str | None = None
    parent: str | None = None
    q: str | None = None


@router.get("/regions", response=list[RegionOut])
@paginate(BoundedLimitOffsetPagination, max_limit=1000)
def list_regions(request: HttpRequest, filters: Query[RegionFilter]) -> Any:
    qs = region_list_for_user(request.user).select_related("parent").order_by("path")
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.parent:
        qs = qs.filter(parent__code=filters.parent)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q) | qs.filter(code__startswith=filters.q)
    return qs


@router.get("/regions/{code}", response=RegionOut)
def get_region(request: HttpRequest, code: str) -> Any:
    return access_region(request.user, code)


@router.get("/regions/{code}/geojson")
def get_region_geojson(request: HttpRequest, code: str) -> dict[str, Any]:
    from .exporters import region_feature

    return region_feature(access_region(request.user, code))


@router.get("/locate", response=LocateOut)
def locate(request: HttpRequest, lon: float, lat: float, crs: str = "wgs84") -> Any:
    from .locator import locate_for_api

    return locate_for_api(request.user, lon=lon, lat=lat, crs=crs)
