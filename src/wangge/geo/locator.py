"""The locator: a point → the deepest active region containing it, with its path to the root.

The index lives in memory in every process. It is built from the database (active regions
with a boundary) into shapely 2 ``STRtree`` s over *prepared* polygons:

* **leaves** — regions with a boundary and no active child with a boundary (normally the
  grids or micro-grids; a community without drawn grids is its own leaf);
* **parents** — every other region with a boundary (streets, communities, …).

Rule, in order (documented in ``docs/geo.md`` and decision 0002):

1. **contains** — the leaves whose polygon *covers* the point (boundary-inclusive). When several
   do (a shared edge or vertex, or an overlap), the one with the **lowest code** wins.
2. **nearest** — else the nearest leaf within ``max_distance_m`` (default
   ``settings.LOCATOR_FALLBACK_METRES``), measured in metres in a local equirectangular
   projection centred on the point; equal distances → lowest code. When a parent region covers
   the point (a gap between grids), only leaves inside that parent's subtree count: the answer
   never leaves the area the point is in.
3. **contains** at a higher level — else the deepest parent region covering the point (e.g. a
   community where no grid is drawn); ties → lowest code.
4. **outside** — ``inside=False``, no region.

Freshness: services bump ``LocatorGeneration`` when a boundary changes. A process compares the
generation it built from with the database at most once per second (thread-safe) and rebuilds
lazily on a change; a bump in this process also invalidates at once.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.conf import settings

from .crs import check_lon_lat, normalize_crs, to_wgs84, to_wgs84_np
from .geometry import METRES_PER_DEG_LAT, METRES_PER_DEG_LON_EQ, to_shape
from .models import LocatorGeneration, Region

CHECK_INTERVAL_SECONDS = 1.0
NONE = -1  # "no region" in id arrays

CONTAINS = "contains"
NEAREST = "nearest"
OUTSIDE = "outside"


@dataclass(frozen=True)
class LocateResult:
    inside: bool
    method: str  # contains | nearest | outside
    region: Region | None
    path: list[Region] = field(default_factory=list)  # root … region (inclusive)
    distance_m: float | None = None  # only for "nearest"
    lon: float | None = None  # the WGS-84 point that was located
    lat: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "inside": self.inside,
            "method": self.method,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
            "region": self.region.summary() if self.region else None,
            "path": [r.summary() for r in self.path],
        }


class LocatorIndex:
    """An immutable spatial index over region polygons (see the module docstring for the rule).

    Build it with :meth:`from_database` or, for benchmarks and tests, :meth:`from_polygons`."""

    def __init__(
        self,
        *,
        ids: list[int],
        codes: list[str],
        depths: list[int],
        polygons: list[Any],
        is_leaf: list[bool],
        regions: dict[int, Region] | None = None,
        ancestors: list[frozenset[int]] | None = None,
        key: Any = None,
    ) -> None:
        self.key = key
        self.regions = regions or {}
        ids_a = np.asarray(ids, dtype=np.int64)
        leaf_mask = np.asarray(is_leaf, dtype=bool)
        geoms = np.asarray(polygons, dtype=object)
        if len(geoms):
            shapely.prepare(geoms)
        codes_a = np.asarray(codes, dtype=object)
        depths_a = np.asarray(depths, dtype=np.int64)

        self.leaf_ids = ids_a[leaf_mask]
        self.leaf_polys = geoms[leaf_mask]
        self.leaf_rank = _ranks(list(codes_a[leaf_mask]))  # lower = wins
        self.leaf_tree = shapely.STRtree(self.leaf_polys)
        # Ancestor ids of each leaf: the nearest fallback stays inside the covering region.
        all_ancestors = ancestors or [frozenset()] * len(ids)
        self.leaf_ancestors = [a for a, leaf in zip(all_ancestors, is_leaf, strict=True) if leaf]
        self.parent_ids = ids_a[~leaf_mask]
        self.parent_polys = geoms[~leaf_mask]
        # Deepest first, then lowest code.
        parent_codes = list(codes_a[~leaf_mask])
        parent_depths = depths_a[~leaf_mask]
        order = sorted(range(len(parent_codes)), key=lambda i: (-parent_depths[i], parent_codes[i]))
        self.parent_rank = np.empty(len(order), dtype=np.int64)
        self.parent_rank[order] = np.arange(len(order))
        self.parent_tree = shapely.STRtree(self.parent_polys)
        # The widest latitude of the leaves: a degree radius computed there bounds a metric
        # radius everywhere in the layer (a degree of longitude is shortest there).
        if len(self.leaf_polys):
            b = shapely.total_bounds(self.leaf_polys)
            self.max_abs_lat = min(89.0, max(abs(b[1]), abs(b[3])))
        else:
            self.max_abs_lat = 0.0

    # --- builders -------------------------------------------------------------------------

    @classmethod
    def from_database(cls, key: Any = None) -> LocatorIndex:
        """Load every active region (without boundaries, for paths) and the active polygons."""
        regions = {
            r.pk: r
            for r in Region.objects.filter(is_active=True).only(
                "id", "code", "name", "level", "parent_id", "path", "depth", "grid_type"
            )
        }
        bounded = list(
            Region.objects.filter(is_active=True, boundary__isnull=False).values_list(
                "id", "parent_id", "boundary"
            )
        )
        with_children = {parent_id for _pk, parent_id, _b in bounded if parent_id}
        ids, codes, depths, polys, leaf = [], [], [], [], []
        ancestors: list[frozenset[int]] = []
        for pk, _parent_id, boundary in bounded:
            if not boundary:
                continue
            geom = to_shape(boundary)
            if geom.is_empty:
                continue
            region = regions[pk]
            ids.append(pk)
            codes.append(region.code)
            depths.append(region.depth)
            polys.append(geom)
            leaf.append(pk not in with_children)
            ancestors.append(frozenset(region.ancestor_ids()))
        return cls(
            ids=ids,
            codes=codes,
            depths=depths,
            polygons=polys,
            is_leaf=leaf,
            regions=regions,
            ancestors=ancestors,
            key=key,
        )

    @classmethod
    def from_polygons(
        cls, *, ids: list[int], codes: list[str], polygons: list[Any]
    ) -> LocatorIndex:
        """An index over one layer of leaves (no parents, no Region objects)."""
        return cls(
            ids=ids,
            codes=codes,
            depths=[0] * len(ids),
            polygons=polygons,
            is_leaf=[True] * len(ids),
        )

    # --- queries ----------------------------------------------------------------------------

    def resolve(
        self, lons: np.ndarray, lats: np.ndarray, max_distance_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """WGS-84 arrays → (region ids, method codes 0=contains 1=nearest 2=parent 3=outside,
        distances in metres (NaN unless nearest))."""
        n = len(lons)
        ids = np.full(n, NONE, dtype=np.int64)
        method = np.full(n, 3, dtype=np.int8)
        dist = np.full(n, np.nan)
        if n == 0:
            return ids, method, dist
        points = shapely.points(lons, lats)

        # 1. leaves covering the point (bounding boxes from the tree, exact test on prepared
        #    polygons; a point intersects a polygon exactly when the polygon covers it).
        hit_p, hit_l = _covering(self.leaf_tree, self.leaf_polys, points, lons, lats)
        if len(hit_p):
            p, leaf = _first_per_point(hit_p, hit_l, self.leaf_rank[hit_l])
            ids[p] = self.leaf_ids[leaf]
            method[p] = 0

        # The deepest parent covering each remaining point (a gap between grids) …
        todo = np.flatnonzero(ids == NONE)
        covering = np.full(len(todo), NONE, dtype=np.int64)
        if len(todo) and len(self.parent_polys):
            hp, hl = _covering(
                self.parent_tree, self.parent_polys, points[todo], lons[todo], lats[todo]
            )
            if len(hp):
                p, par = _first_per_point(hp, hl, self.parent_rank[hl])
                covering[p] = self.parent_ids[par]

        # 2. … limits the nearest leaf within the fallback distance to that parent's subtree.
        if len(todo) and max_distance_m > 0 and len(self.leaf_polys):
            p, leaf, d = self._nearest(todo, covering, points, lons, lats, max_distance_m)
            ids[p] = self.leaf_ids[leaf]
            method[p] = 1
            dist[p] = d

        # 3. otherwise the deepest parent covering the point.
        rest = (ids[todo] == NONE) & (covering != NONE)
        ids[todo[rest]] = covering[rest]
        method[todo[rest]] = 2
        return ids, method, dist

    def _nearest(
        self,
        todo: np.ndarray,
        covering: np.ndarray,
        points: np.ndarray,
        lons: np.ndarray,
        lats: np.ndarray,
        max_distance_m: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale_min = METRES_PER_DEG_LON_EQ * math.cos(math.radians(self.max_abs_lat))
        radius_deg = max_distance_m / min(scale_min, METRES_PER_DEG_LAT) * 1.01
        cp, cl = self.leaf_tree.query(points[todo], predicate="dwithin", distance=radius_deg)
        scoped = covering[cp] != NONE
        if scoped.any():
            keep = ~scoped
            for k in np.flatnonzero(scoped).tolist():
                keep[k] = int(covering[cp[k]]) in self.leaf_ancestors[cl[k]]
            cp, cl = cp[keep], cl[keep]
        if not len(cp):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        # Exact-enough metric distance: shift each candidate polygon to its point and scale
        # longitude by cos(latitude of that point) (equirectangular projection at the point).
        px, py = lons[todo][cp], lats[todo][cp]
        sx = METRES_PER_DEG_LON_EQ * np.cos(np.radians(py))
        polys = self.leaf_polys[cl]
        counts = shapely.get_num_coordinates(polys)
        rx, ry, rsx = np.repeat(px, counts), np.repeat(py, counts), np.repeat(sx, counts)

        def project(coords: np.ndarray) -> np.ndarray:
            out = np.empty_like(coords)
            out[:, 0] = (coords[:, 0] - rx) * rsx
            out[:, 1] = (coords[:, 1] - ry) * METRES_PER_DEG_LAT
            return out

        projected = shapely.transform(polys, project)
        d = shapely.distance(projected, shapely.points(np.zeros(len(cp)), np.zeros(len(cp))))
        keep = d <= max_distance_m
        cp, cl, d = cp[keep], cl[keep], d[keep]
        if not len(cp):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        order = np.lexsort((self.leaf_rank[cl], d, cp))
        cp, cl, d = cp[order], cl[order], d[order]
        _u, first = np.unique(cp, return_index=True)
        return todo[cp[first]], cl[first], d[first]

    def locate_ids(
        self, lons: Any, lats: Any, *, max_distance_m: float | None = None
    ) -> np.ndarray:
        lons = np.ascontiguousarray(lons, dtype=float)
        lats = np.ascontiguousarray(lats, dtype=float)
        if max_distance_m is None:
            max_distance_m = settings.LOCATOR_FALLBACK_METRES
        return self.resolve(lons, lats, max_distance_m)[0]

    def locate_one(self, lon: float, lat: float, *, max_distance_m: float) -> LocateResult:
        pk = self._covering_leaf(lon, lat)
        if pk != NONE:  # the common case, without the array machinery
            region = self.regions.get(pk)
            return LocateResult(
                inside=True,
                method=CONTAINS,
                region=region,
                path=self.path_of(region) if region is not None else [],
                lon=lon,
                lat=lat,
            )
        ids, method, dist = self.resolve(np.array([lon]), np.array([lat]), max_distance_m)
        pk, m = int(ids[0]), int(method[0])
        if pk == NONE:
            return LocateResult(inside=False, method=OUTSIDE, region=None, lon=lon, lat=lat)
        region = self.regions.get(pk)
        path = self.path_of(region) if region is not None else []
        return LocateResult(
            inside=m != 1,
            method=NEAREST if m == 1 else CONTAINS,
            region=region,
            path=path,
            distance_m=float(dist[0]) if m == 1 else None,
            lon=lon,
            lat=lat,
        )

    def _covering_leaf(self, lon: float, lat: float) -> int:
        """Step 1 of the rule for one point: the lowest-code leaf covering it, or NONE."""
        point = shapely.Point(lon, lat)
        best, best_rank = NONE, None
        for j in self.leaf_tree.query(point).tolist():
            rank = self.leaf_rank[j]
            # covers == intersects for a point; the method call on a prepared polygon is
            # far cheaper than a ufunc call for one element.
            if (best_rank is None or rank < best_rank) and self.leaf_polys[j].covers(point):
                best, best_rank = int(self.leaf_ids[j]), rank
        return best

    def path_of(self, region: Region) -> list[Region]:
        return [self.regions[i] for i in region.ancestor_ids() if i in self.regions]


def _ranks(codes: list[str]) -> np.ndarray:
    order = sorted(range(len(codes)), key=lambda i: codes[i])
    ranks = np.empty(len(codes), dtype=np.int64)
    ranks[order] = np.arange(len(codes))
    return ranks


def _covering(
    tree: shapely.STRtree,
    polys: np.ndarray,
    points: np.ndarray,
    lons: np.ndarray,
    lats: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    cand_p, cand_g = tree.query(points)
    if not len(cand_p):
        return cand_p, cand_g
    hit = shapely.intersects_xy(polys[cand_g], lons[cand_p], lats[cand_p])
    return cand_p[hit], cand_g[hit]


def _first_per_point(
    p: np.ndarray, g: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each point index in ``p``, the candidate ``g`` with the lowest ``rank``."""
    order = np.lexsort((rank, p))
    p, g = p[order], g[order]
    _u, first = np.unique(p, return_index=True)
    return p[first], g[first]


# --- the per-process index ------------------------------------------------------------------

_lock = threading.Lock()
_index: LocatorIndex | None = None
_checked_at = -math.inf


def _clock() -> float:
    return time.monotonic()


def _db_key() -> tuple[int, Any]:
    row = LocatorGeneration.objects.filter(id=1).values_list("generation", "changed_at").first()
    return (row[0], row[1]) if row else (0, None)


def get_index() -> LocatorIndex:
    """This process's index, rebuilt when the generation in the database moved on (checked at
    most once per ``CHECK_INTERVAL_SECONDS``)."""
    global _index, _checked_at
    index = _index
    if index is not None and _clock() - _checked_at < CHECK_INTERVAL_SECONDS:
        return index
    with _lock:
        if _index is not None and _clock() - _checked_at < CHECK_INTERVAL_SECONDS:
            return _index
        # Read the generation *before* the regions: a bump in between makes the next check
        # rebuild again, never keeps a stale index.
        key = _db_key()
        if _index is None or _index.key != key:
            _index = LocatorIndex.from_database(key=key)
        _checked_at = _clock()
        return _index


def invalidate() -> None:
    """Make the next lookup in this process compare generations at once (called on a bump)."""
    global _checked_at
    _checked_at = -math.inf


def reset() -> None:
    """Drop this process's index (tests)."""
    global _index, _checked_at
    with _lock:
        _index = None
        _checked_at = -math.inf


# --- public API -----------------------------------------------------------------------------


def locate(
    lon: float, lat: float, crs: str = "wgs84", max_distance_m: float | None = None
) -> LocateResult:
    """Locate one point given in ``crs`` (``wgs84``/``gcj02``/``bd09``)."""
    wlon, wlat = to_wgs84(lon, lat, crs)
    if max_distance_m is None:
        max_distance_m = settings.LOCATOR_FALLBACK_METRES
    return get_index().locate_one(wlon, wlat, max_distance_m=max_distance_m)


def locate_many(
    lons: Any, lats: Any, crs: str = "wgs84", max_distance_m: float | None = None
) -> np.ndarray:
    """Vectorised :func:`locate`: arrays of lon/lat → an array of region ids (``-1`` = outside).

    The same rule as :func:`locate`, point by point."""
    wlons, wlats = to_wgs84_np(lons, lats, crs)
    return get_index().locate_ids(wlons, wlats, max_distance_m=max_distance_m)


def locate_for_api(user: Any, *, lon: float, lat: float, crs: str = "wgs84") -> dict[str, Any]:
    """The ``GET /api/v1/geo/locate`` answer (``geo.schemas.LocateOut``).

    Which grid a point lies in is public geography (it is printed on street signs and used by
    residents to report problems), so the answer is the same for every caller; it carries only
    code, name and level of the region and of each path entry — no households, staff or
    boundaries, which stay behind the scoped region endpoints."""
    canonical = normalize_crs(crs)
    check_lon_lat(lon, lat)
    result = locate(lon, lat, crs=canonical)
    body = result.as_dict()
    body["input"] = {
        "lon": lon,
        "lat": lat,
        "crs": canonical,
        "wgs84": [result.lon, result.lat],
    }
    return body
