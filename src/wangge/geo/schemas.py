from __future__ import annotations

from typing import Any

from ninja import Schema


class RegionOut(Schema):
    code: str
    name: str
    level: str
    grid_type: str
    parent_code: str | None
    households: int | None
    population: int | None
    center: list[float] | None

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None

    @staticmethod
    def resolve_center(obj: Any) -> list[float] | None:
        if obj.center_lon is None:
            return None
        return [obj.center_lon, obj.center_lat]


class RegionRef(Schema):
    code: str
    name: str
    level: str


class LocateOut(Schema):
    inside: bool
    method: str  # contains | nearest | outside
    distance_m: float | None = None
    region: RegionRef | None = None
    path: list[RegionRef] = []
    input: dict[str, Any] = {}
