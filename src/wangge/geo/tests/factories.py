"""Small, hand-made region trees for tests: squares that tile their parents exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.geo.services import region_create


def square(lon: float, lat: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


@dataclass
class Tree:
    province: Region
    city: Region
    county: Region
    streets: list[Region] = field(default_factory=list)
    communities: list[Region] = field(default_factory=list)
    grids: list[Region] = field(default_factory=list)

    def by_code(self, code: str) -> Region:
        return Region.objects.get(code=code)


def make_tree(
    *,
    streets: int = 2,
    communities: int = 2,
    grids: int = 2,
    lon: float = 120.6,
    lat: float = 31.3,
    size: float = 0.04,
) -> Tree:
    """County 320571 with ``streets`` × ``communities`` × ``grids``, laid out west→east in
    columns so that children exactly tile their parent."""
    province = region_create(
        actor=None, level=Level.PROVINCE, code="320000", name="江苏省", parent=None, audit=False
    )
    city = region_create(
        actor=None, level=Level.CITY, code="320500", name="苏州市", parent=province, audit=False
    )
    county = region_create(
        actor=None,
        level=Level.COUNTY,
        code="320571",
        name="示范区",
        parent=city,
        boundary=square(lon, lat, size * streets),
        audit=False,
    )
    tree = Tree(province, city, county)
    for s in range(streets):
        s_lon = lon + s * size
        street = region_create(
            actor=None,
            level=Level.STREET,
            code=f"320571{s + 1:03d}",
            name=f"第{s + 1}街道",
            parent=county,
            boundary=_rect(s_lon, lat, size, size * streets),
            audit=False,
        )
        tree.streets.append(street)
        c_h = size * streets / communities
        for c in range(communities):
            c_lat = lat + c * c_h
            community = region_create(
                actor=None,
                level=Level.COMMUNITY,
                code=f"{street.code}{c + 1:03d}",
                name=f"{street.name}第{c + 1}社区",
                parent=street,
                boundary=_rect(s_lon, c_lat, size, c_h),
                audit=False,
            )
            tree.communities.append(community)
            g_w = size / grids
            for g in range(grids):
                grid = region_create(
                    actor=None,
                    level=Level.GRID,
                    code=f"{community.code}{g + 1:03d}",
                    name=f"{community.name}网格{g + 1}",
                    parent=community,
                    boundary=_rect(s_lon + g * g_w, c_lat, g_w, c_h),
                    households=400,
                    audit=False,
                )
                tree.grids.append(grid)
    return tree


def _rect(lon: float, lat: float, w: float, h: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]
        ],
    }
