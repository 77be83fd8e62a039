"""The demo city as a pure, in-memory plan: region tree, codes, names, polygons and counts.

Nothing here touches the database, so the geometry can be generated and checked in tests
without one. The same seed always gives the same plan (``plan_digest``).

How the polygons tile their parents: seeded points are spread inside the parent, moved
towards the centroids of their cells a few times (Lloyd relaxation, for even sizes), and the
Voronoi cells of the final points are clipped to the parent on a 1e-7° grid (the precision
the geo services store). Neighbouring cells share their Voronoi edge, so the children cover the
parent without overlaps. A clip that falls apart into pieces (a cell crossing a concave bend of
the parent) keeps its largest piece and hands the others to the neighbour they touch most.

Randomness comes from independent streams keyed by seed, purpose and region code, so a
street's community names do not change when, say, the number of grids elsewhere does, and the
``small`` city is the first street of the full one with fewer communities and grids.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from wangge.geo.choices import GridType, Level
from wangge.geo.geometry import local_scale

from . import names

DEFAULT_SEED = 2026
GRID_SIZE = 1e-7  # degrees (~1 cm); the precision region boundaries are stored at
COORD_DECIMALS = 7

PROVINCE = ("320000", "江苏省")
CITY = ("320500", "苏州市")
DISTRICT = ("320508", "姑苏区")

# A hand-drawn outline around Suzhou's old town and its north-western streets (WGS-84),
# clockwise from the north-west corner.
DISTRICT_OUTLINE: list[tuple[float, float]] = [
    (120.5835, 31.3385),
    (120.5962, 31.3412),
    (120.6071, 31.3366),
    (120.6188, 31.3391),
    (120.6302, 31.3352),
    (120.6415, 31.3374),
    (120.6524, 31.3318),
    (120.6589, 31.3231),
    (120.6613, 31.3127),
    (120.6571, 31.3032),
    (120.6598, 31.2936),
    (120.6552, 31.2838),
    (120.6487, 31.2761),
    (120.6369, 31.2724),
    (120.6248, 31.2741),
    (120.6133, 31.2709),
    (120.6021, 31.2752),
    (120.5948, 31.2836),
    (120.5889, 31.2931),
    (120.5912, 31.3028),
    (120.5847, 31.3119),
    (120.5808, 31.3214),
    (120.5821, 31.3302),
]

# Sizes. The full city: 8 streets × 5–7 communities × 9–12 grids (at least MIN_GRIDS) × 2–4
# micro-grids. The small one: the first street, 2 communities of 4 grids.
COMMUNITIES_PER_STREET = (5, 7)
GRIDS_PER_COMMUNITY = (9, 12)
MICRO_GRIDS_PER_GRID = (2, 4)
MIN_COMMUNITIES = 40
MIN_GRIDS = 400
SMALL_COMMUNITIES = 2
SMALL_GRIDS = 4
DEDICATED_PER_COMMUNITY = (0, 0, 0, 1, 1, 2)  # drawn uniformly
HOUSEHOLDS_ORDINARY = (300, 500)  # urban grid: one grid worker per 300–500 households
HOUSEHOLDS_DEDICATED = (0, 120)  # staff housing on a campus, often none
PERSONS_PER_HOUSEHOLD = (2.3, 3.0)
HOUSEHOLDS_PER_BUILDING = 24


@dataclass
class PlannedRegion:
    level: Level
    code: str
    name: str
    parent_code: str | None
    geom: BaseGeometry | None = None
    grid_type: str = ""
    households: int | None = None
    population: int | None = None
    children: list[PlannedRegion] = field(default_factory=list)

    def walk(self) -> Iterator[PlannedRegion]:
        """This node and its descendants, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def geojson(self) -> dict[str, Any] | None:
        return geojson_of(self.geom) if self.geom is not None else None


@dataclass
class CityPlan:
    seed: int
    small: bool
    province: PlannedRegion
    city: PlannedRegion
    district: PlannedRegion

    def regions(self) -> list[PlannedRegion]:
        return list(self.province.walk())

    def at_level(self, level: Level) -> list[PlannedRegion]:
        return [r for r in self.province.walk() if r.level == level]

    def counts(self) -> dict[str, int]:
        counts = {level.value: 0 for level in Level}
        for region in self.province.walk():
            counts[region.level.value] += 1
        return counts


def rng_for(seed: int, purpose: str, code: str = "") -> random.Random:
    # String seeds are hashed with SHA-512 by ``random``: stable across runs and machines.
    return random.Random(f"wangge-demo:{seed}:{purpose}:{code}")


# --- geometry --------------------------------------------------------------------------------


def _snap(geom: BaseGeometry) -> BaseGeometry:
    # Pointwise: a vertex shared by two cells lands on the same grid point in both.
    return shapely.set_precision(geom, GRID_SIZE, mode="pointwise")


def _random_points(parent: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    min_x, min_y, max_x, max_y = parent.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shapely.contains_xy(parent, x, y):
            points.append((x, y))
    return points


def _clip_cells(parent: BaseGeometry, points: list[tuple[float, float]]) -> list[BaseGeometry]:
    """The Voronoi cells of ``points`` cut to ``parent``, in the order of the points.

    The Voronoi edges and the parent's outline are noded together and polygonized, so two
    neighbouring cells share the very same edge vertices (no slivers between them)."""
    edges = shapely.voronoi_polygons(MultiPoint(points), extend_to=parent, only_edges=True)
    linework = shapely.union(parent.boundary, edges)
    faces = [
        face
        for face in shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
        if parent.contains(face.representative_point())
    ]
    owned: list[list[BaseGeometry]] = [[] for _ in points]
    for face in faces:
        p = face.representative_point()
        nearest = min(
            range(len(points)), key=lambda i: (points[i][0] - p.x) ** 2 + (points[i][1] - p.y) ** 2
        )
        owned[nearest].append(face)
    return [
        shapely.union_all(parts) if len(parts) > 1 else (parts[0] if parts else Polygon())
        for parts in owned
    ]


def _inside_point(cell: BaseGeometry, parent: BaseGeometry) -> tuple[float, float]:
    c = cell.centroid
    if not shapely.contains_xy(parent, c.x, c.y) or not cell.contains(c):
        c = cell.representative_point()
    return (c.x, c.y)


def _merge_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Make every cell one polygon: stray pieces go to the neighbour they share most edge with."""
    cells = list(cells)
    for i, cell in enumerate(cells):
        if cell.geom_type != "MultiPolygon":
            continue
        parts = sorted(cell.geoms, key=lambda p: p.area, reverse=True)
        cells[i] = parts[0]
        for part in parts[1:]:
            near = part.buffer(GRID_SIZE * 10)
            best, best_touch = None, 0.0
            for j, other in enumerate(cells):
                if j == i:
                    continue
                touch = shapely.intersection(near, other).area
                if touch > best_touch:
                    best, best_touch = j, touch
            if best is None:  # cannot happen for a connected parent; keep the piece
                cells[i] = shapely.union(cells[i], part)
                continue
            cells[best] = shapely.union(cells[best], part)
    # A piece that touches its new owner only at a corner leaves a (valid) MultiPolygon: rare,
    # and acceptable to the geo services; the default city has none (tested).
    return cells


def tile(
    parent: BaseGeometry, n: int, rng: random.Random, *, relax: int = 2, attempts: int = 20
) -> list[BaseGeometry]:
    """``n`` polygons that tile ``parent`` (seeded Voronoi cells clipped to it)."""
    if n == 1:
        return [parent]
    mean = parent.area / n
    cells: list[BaseGeometry] = []
    for _ in range(attempts):
        points = _random_points(parent, n, rng)
        for _step in range(relax):
            cells = _clip_cells(parent, points)
            if any(c.is_empty for c in cells):
                break
            points = [_inside_point(c, parent) for c in cells]
        cells = [_snap(c) for c in _merge_fragments(_clip_cells(parent, points))]
        if all(c.is_valid and not c.is_empty and c.area > 0.15 * mean for c in cells):
            return cells
    raise RuntimeError("could not tile a region evenly")  # pragma: no cover - seeds are fixed


def tile_at(parent: BaseGeometry, points: list[tuple[float, float]]) -> list[BaseGeometry]:
    """Tile ``parent`` with the Voronoi cells of given seed points (order kept)."""
    cells = [_snap(c) for c in _merge_fragments(_clip_cells(parent, points))]
    if not all(c.is_valid and not c.is_empty for c in cells):  # pragma: no cover
        raise RuntimeError("seed points do not tile the region")
    return cells


def reading_order(cells: list[BaseGeometry], parent: BaseGeometry) -> list[int]:
    """Indices of ``cells`` numbered west→east within rows taken north→south (GB/T 2260 style
    numbering of unit grids). Rows are bands of the parent's bounding box, as many as keep the
    cells roughly square."""
    min_x, min_y, max_x, max_y = parent.bounds
    sx, sy = local_scale((min_y + max_y) / 2)
    width, height = (max_x - min_x) * sx, (max_y - min_y) * sy
    rows = max(1, round(math.sqrt(len(cells) * height / width))) if width > 0 else 1
    band = (max_y - min_y) / rows

    def key(i: int) -> tuple[int, float, float]:
        c = cells[i].centroid
        row = min(rows - 1, int((max_y - c.y) / band)) if band > 0 else 0
        return (row, c.x, c.y)

    return sorted(range(len(cells)), key=key)


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, COORD_DECIMALS) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def geojson_of(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON (RFC 7946 orientation: exterior rings counter-clockwise) at 7 decimals."""
    if geom.geom_type == "Polygon":
        geom = orient(geom, 1.0)
    elif geom.geom_type == "MultiPolygon":
        geom = shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    gj = dict(mapping(geom))
    return {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])}


# --- households ------------------------------------------------------------------------------


def _population(households: int, rng: random.Random) -> int:
    return round(households * rng.uniform(*PERSONS_PER_HOUSEHOLD))


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _proportional(total: int, weights: list[int]) -> list[int]:
    if not sum(weights):
        return [0] * len(weights)
    shares = [total * w // sum(weights) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _sum_up(region: PlannedRegion) -> None:
    for child in region.children:
        if child.children:
            _sum_up(child)
    if region.children:
        region.households = sum(c.households or 0 for c in region.children)
        region.population = sum(c.population or 0 for c in region.children)


# --- the plan --------------------------------------------------------------------------------


def _grid_counts(seed: int, street_codes_and_counts: list[tuple[str, int]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for street_code, n_communities in street_codes_and_counts:
        for c in range(1, n_communities + 1):
            code = f"{street_code}{c:03d}"
            counts[code] = rng_for(seed, "grids", code).randint(*GRIDS_PER_COMMUNITY)
    # Top up in code order so the city always has at least MIN_GRIDS grids.
    codes = sorted(counts)
    i = 0
    while sum(counts.values()) < MIN_GRIDS:
        counts[codes[i % len(codes)]] += 1
        i += 1
    return counts


def _community_counts(seed: int, street_codes: list[str]) -> dict[str, int]:
    counts = {
        code: rng_for(seed, "communities", code).randint(*COMMUNITIES_PER_STREET)
        for code in street_codes
    }
    i = 0
    while sum(counts.values()) < MIN_COMMUNITIES:
        counts[street_codes[i % len(street_codes)]] += 1
        i += 1
    return counts


def plan_city(seed: int = DEFAULT_SEED, *, small: bool = False) -> CityPlan:
    """The whole demo city for ``seed``; ``small`` keeps only the first street, with
    2 communities of 4 grids."""
    province = PlannedRegion(Level.PROVINCE, PROVINCE[0], PROVINCE[1], None)
    city = PlannedRegion(Level.CITY, CITY[0], CITY[1], PROVINCE[0])
    province.children.append(city)
    outline = _snap(Polygon(DISTRICT_OUTLINE))
    district = PlannedRegion(Level.COUNTY, DISTRICT[0], DISTRICT[1], CITY[0], outline)
    city.children.append(district)

    # Streets: Voronoi cells around their (slightly jittered) real locations.
    rng = rng_for(seed, "streets")
    anchors = [
        (lon + rng.uniform(-0.0015, 0.0015), lat + rng.uniform(-0.0015, 0.0015))
        for _name, lon, lat in names.STREET_ANCHORS
    ]
    cells = tile_at(outline, anchors)
    order = reading_order(cells, outline)
    streets = [
        PlannedRegion(
            Level.STREET,
            f"{DISTRICT[0]}{seq:03d}",
            names.STREET_ANCHORS[i][0],
            DISTRICT[0],
            cells[i],
        )
        for seq, i in enumerate(order, start=1)
    ]
    if small:
        streets = streets[:1]
    district.children.extend(streets)

    n_communities = (
        dict.fromkeys((s.code for s in streets), SMALL_COMMUNITIES)
        if small
        else _community_counts(seed, [s.code for s in streets])
    )
    n_grids = (
        {f"{streets[0].code}{c:03d}": SMALL_GRIDS for c in range(1, SMALL_COMMUNITIES + 1)}
        if small
        else _grid_counts(seed, [(s.code, n_communities[s.code]) for s in streets])
    )
    facilities = list(names.FACILITIES)
    rng_for(seed, "facilities").shuffle(facilities)

    for street in streets:
        _plan_communities(seed, street, n_communities[street.code], n_grids, facilities)
    _sum_up(district)
    return CityPlan(seed=seed, small=small, province=province, city=city, district=district)


def _children(
    seed: int, parent: PlannedRegion, n: int, level: Level, *, relax: int = 2
) -> list[PlannedRegion]:
    assert parent.geom is not None
    cells = tile(parent.geom, n, rng_for(seed, "geometry", parent.code), relax=relax)
    order = reading_order(cells, parent.geom)
    return [
        PlannedRegion(level, f"{parent.code}{seq:03d}", "", parent.code, cells[i])
        for seq, i in enumerate(order, start=1)
    ]


def _plan_communities(
    seed: int,
    street: PlannedRegion,
    n: int,
    n_grids: dict[str, int],
    facilities: list[str],
) -> None:
    communities = _children(seed, street, n, Level.COMMUNITY)
    for community, name in zip(
        communities,
        names.community_names(street.name, n, rng_for(seed, "names", street.code)),
        strict=True,
    ):
        community.name = name
        _plan_grids(seed, community, n_grids[community.code], facilities)
    street.children.extend(communities)


def _plan_grids(seed: int, community: PlannedRegion, n: int, facilities: list[str]) -> None:
    rng = rng_for(seed, "grid-types", community.code)
    n_dedicated = min(rng.choice(DEDICATED_PER_COMMUNITY), n - 1, len(facilities))
    # Grid 001 of a community is always a 综合网格, the others are drawn.
    dedicated = set(rng.sample(range(2, n + 1), n_dedicated)) if n_dedicated else set()
    grids = _children(seed, community, n, Level.GRID)
    ordinal = 0
    for seq, grid in enumerate(grids, start=1):
        hh_rng = rng_for(seed, "households", grid.code)
        if seq in dedicated:
            facility = facilities.pop(0)
            grid.name = f"{facility}专属网格"
            grid.grid_type = GridType.DEDICATED
            grid.households = hh_rng.randint(*HOUSEHOLDS_DEDICATED)
        else:
            ordinal += 1
            grid.name = f"{community.name}第{ordinal}网格"
            grid.grid_type = GridType.ORDINARY
            grid.households = hh_rng.randint(*HOUSEHOLDS_ORDINARY)
        grid.population = _population(grid.households, hh_rng)
        _plan_micro_grids(seed, grid, hh_rng)
    community.children.extend(grids)


def _plan_micro_grids(seed: int, grid: PlannedRegion, rng: random.Random) -> None:
    n = rng.randint(*MICRO_GRIDS_PER_GRID)
    households = _split(grid.households or 0, n, rng)
    population = _proportional(grid.population or 0, households)
    micro_grids = _children(seed, grid, n, Level.MICRO_GRID, relax=1)
    building = 1
    for seq, (micro, hh, pop) in enumerate(
        zip(micro_grids, households, population, strict=True), start=1
    ):
        buildings = max(1, math.ceil(hh / HOUSEHOLDS_PER_BUILDING))
        if grid.grid_type == GridType.ORDINARY:
            micro.name = f"第{seq}微网格（{building}–{building + buildings - 1}幢）"
        else:
            micro.name = f"第{seq}微网格"
        building += buildings
        micro.households, micro.population = hh, pop
    grid.children.extend(micro_grids)


def plan_digest(plan: CityPlan) -> str:
    """SHA-256 over every node's code, name, type, counts and stored boundary."""
    h = hashlib.sha256()
    for r in plan.regions():
        h.update(
            repr(
                (
                    r.level.value,
                    r.code,
                    r.name,
                    r.parent_code,
                    r.grid_type,
                    r.households,
                    r.population,
                    r.geojson(),
                )
            ).encode()
        )
    return h.hexdigest()
