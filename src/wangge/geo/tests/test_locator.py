"""The locator: deepest region, edge rule, fallback, outside answer, freshness across processes.

The ``tree`` fixture: county 320571 at (120.60, 31.30), 2 streets (columns 0.04° wide), each
with 2 communities (rows 0.04° high), each with 2 grids (0.02° × 0.04°)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.db.models import F

from wangge.core.exceptions import ValidationError
from wangge.geo import locator
from wangge.geo.crs import from_wgs84
from wangge.geo.models import LocatorGeneration, Region
from wangge.geo.services import region_update
from wangge.geo.tests.factories import square

G111 = "320571001001001"  # 120.60–120.62, 31.30–31.34
G112 = "320571001001002"  # 120.62–120.64
G121 = "320571001002001"  # 120.60–120.62, 31.34–31.38
G211 = "320571002001001"  # 120.64–120.66, 31.30–31.34


@pytest.fixture(autouse=True)
def fresh_locator():
    locator.reset()
    yield
    locator.reset()


def codes(path):
    return [r.code for r in path]


def test_point_inside_a_grid_gives_the_grid_and_its_path(tree):
    result = locator.locate(120.61, 31.32)
    assert result.inside is True
    assert result.method == "contains"
    assert result.region.code == G111
    assert codes(result.path) == [
        "320000",
        "320500",
        "320571",
        "320571001",
        "320571001001",
        G111,
    ]
    assert result.distance_m is None


def test_shared_edge_goes_to_the_lowest_code(tree):
    # On the edge between two grids of one community …
    assert locator.locate(120.62, 31.32).region.code == G111
    # … and on the edge between two streets.
    assert locator.locate(120.64, 31.32).region.code == G112


def test_shared_vertex_goes_to_the_lowest_code(tree):
    # Four grids meet at (120.62, 31.34).
    assert locator.locate(120.62, 31.34).region.code == G111


def test_outer_boundary_counts_as_inside(tree):
    result = locator.locate(120.60, 31.31)
    assert (result.method, result.region.code) == ("contains", G111)


def test_nearest_grid_within_the_fallback_distance(tree, settings):
    settings.LOCATOR_FALLBACK_METRES = 50
    result = locator.locate(120.60 - 0.0003, 31.32)  # about 28.5 m west of the county
    assert result.inside is False
    assert result.method == "nearest"
    assert result.region.code == G111
    assert result.distance_m == pytest.approx(28.5, abs=0.5)
    assert codes(result.path)[-1] == G111


def test_explicit_outside_answer_beyond_the_fallback(tree, settings):
    settings.LOCATOR_FALLBACK_METRES = 20
    result = locator.locate(120.60 - 0.0003, 31.32)
    assert (result.inside, result.method, result.region, result.path) == (
        False,
        "outside",
        None,
        [],
    )
    assert locator.locate(121.5, 31.0, max_distance_m=1000).method == "outside"


def test_a_hole_in_the_grids_falls_back_to_the_deepest_containing_region(tree):
    grid = Region.objects.get(code=G111)
    region_update(actor=None, region=grid, is_active=False)
    result = locator.locate(120.61, 31.32)  # ~950 m from the nearest other grid
    assert (result.inside, result.method, result.region.code) == (
        True,
        "contains",
        "320571001001",
    )


def test_gcj02_and_bd09_input_are_converted_first(tree):
    for crs in ("gcj02", "bd09"):
        lon, lat = from_wgs84(120.6199, 31.3399, crs)
        assert abs(lon - 120.6199) > 0.002  # the shift is real …
        assert locator.locate(lon, lat, crs=crs).region.code == G111  # … and undone


def test_unknown_crs_is_rejected(tree):
    with pytest.raises(ValidationError):
        locator.locate(120.61, 31.32, crs="mercator")


def test_locate_many_agrees_with_locate_point_by_point(tree):
    rng = np.random.default_rng(3)
    lons = np.concatenate([rng.uniform(120.59, 120.69, 300), [120.62, 120.64, 120.5997]])
    lats = np.concatenate([rng.uniform(31.29, 31.39, 300), [31.34, 31.32, 31.32]])
    ids = locator.locate_many(lons, lats)
    for lon, lat, pk in zip(lons, lats, ids, strict=True):
        result = locator.locate(float(lon), float(lat))
        assert pk == (result.region.pk if result.region else -1)
    assert (ids == -1).any() and (ids != -1).any()


def test_boundary_change_through_the_service_rebuilds_the_index(tree):
    assert locator.locate(120.61, 31.32).region.code == G111
    grid = Region.objects.get(code=G211)
    # Redraw 320571002001001 to cover the point (overlapping, lower codes still win on G111 …)
    region_update(actor=None, region=grid, boundary=square(120.605, 31.315, 0.01))
    # … so deactivate G111 too: the point must now be in the redrawn grid.
    region_update(actor=None, region=Region.objects.get(code=G111), is_active=False)
    assert locator.locate(120.61, 31.32).region.code == G211


def test_another_process_is_seen_within_the_check_interval(
    tree, monkeypatch, django_assert_num_queries
):
    now = [1000.0]
    monkeypatch.setattr(locator, "_clock", lambda: now[0])
    assert locator.locate(120.61, 31.32).region.code == G111
    # Another process redraws G111 away and bumps the generation (no local invalidation here).
    Region.objects.filter(code=G111).update(boundary=square(121.0, 31.0, 0.01))
    LocatorGeneration.objects.filter(id=1).update(generation=F("generation") + 1)
    now[0] += 0.5
    with django_assert_num_queries(0):  # within a second: no database round trip at all
        assert locator.locate(120.61, 31.32).region.code == G111
    now[0] += 0.6
    result = locator.locate(120.61, 31.32)
    assert result.region is None or result.region.code != G111
    assert locator.locate(121.005, 31.005).region.code == G111


def test_concurrent_lookups_share_one_index(tree):
    locator.locate(120.61, 31.32)
    index = locator.get_index()
    seen, errors = [], []

    def work():
        try:
            for _i in range(50):
                seen.append(locator.get_index().locate_one(120.61, 31.32, max_distance_m=0))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {r.region.code for r in seen} == {G111}
    assert locator.get_index() is index


def test_index_from_polygons_without_the_database():
    from shapely.geometry import shape

    index = locator.LocatorIndex.from_polygons(
        ids=[1, 2],
        codes=["B", "A"],
        polygons=[shape(square(0, 0, 1)), shape(square(1, 0, 1))],
    )
    ids = index.locate_ids(
        np.array([0.5, 1.0, 1.5, 5.0]), np.array([0.5, 0.5, 0.5, 5.0]), max_distance_m=0
    )
    assert ids.tolist() == [1, 2, 2, -1]  # the shared edge goes to code "A"


def test_cli_locate_prints_json(tree, capsys):
    import json

    from django.core.management import call_command

    call_command("geo", "locate", "120.61", "31.32")
    body = json.loads(capsys.readouterr().out)
    assert body["inside"] is True and body["method"] == "contains"
    assert body["region"] == {"code": G111, "name": "第1街道第1社区网格1", "level": "grid"}
    assert [p["level"] for p in body["path"]] == [
        "province",
        "city",
        "county",
        "street",
        "community",
        "grid",
    ]
    lon, lat = from_wgs84(120.61, 31.32, "gcj02")
    call_command("geo", "locate", str(lon), str(lat), "--crs", "gcj02")
    assert json.loads(capsys.readouterr().out)["region"]["code"] == G111
    call_command("geo", "locate", "121.5", "31.0")
    outside = json.loads(capsys.readouterr().out)
    assert (outside["inside"], outside["method"], outside["region"]) == (False, "outside", None)


def test_cli_locate_rejects_an_unknown_crs(tree):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="不支持的坐标系"):
        call_command("geo", "locate", "120.61", "31.32", "--crs", "utm")


def test_empty_database_answers_outside(db):
    result = locator.locate(120.61, 31.32)
    assert (result.inside, result.method, result.region) == (False, "outside", None)
    assert locator.locate_many(np.array([120.61]), np.array([31.32])).tolist() == [-1]


def test_agrees_with_brute_force_on_edges_and_vertices(tree):
    """A lattice through every vertex x and y of the stored grids, the midpoints between them
    and points just outside: vertices, edges, interiors and the outside, exactly."""
    import shapely
    from shapely.geometry import Point, shape

    grids = sorted(Region.objects.filter(level="grid"), key=lambda r: r.code)
    shapes = [shape(g.boundary) for g in grids]
    coords = shapely.get_coordinates(shapes)

    def axis(values):
        v = np.unique(values)
        return np.concatenate([[v[0] - 0.001], v, (v[:-1] + v[1:]) / 2, [v[-1] + 0.001]])

    lons, lats = np.meshgrid(axis(coords[:, 0]), axis(coords[:, 1]))
    lons, lats = lons.ravel(), lats.ravel()
    expected = []
    for lon, lat in zip(lons, lats, strict=True):
        hits = [g.pk for g, s in zip(grids, shapes, strict=True) if s.covers(Point(lon, lat))]
        expected.append(hits[0] if hits else -1)  # grids are sorted by code
    ids = locator.locate_many(lons, lats, max_distance_m=0)
    assert ids.tolist() == expected
    inside = sum(e != -1 for e in expected)
    assert inside == (len(np.unique(lons)) - 2) * (len(np.unique(lats)) - 2)  # edges included


def test_micro_grids_are_the_deepest_level_where_drawn(tree, settings):
    from wangge.geo.services import region_create

    settings.LOCATOR_FALLBACK_METRES = 50
    grid = Region.objects.get(code=G111)  # 120.60–120.62 × 31.30–31.34
    micro = region_create(
        actor=None,
        level="micro_grid",
        code=f"{G111}001",
        name="1号楼",
        parent=grid,
        boundary=square(120.60, 31.30, 0.005),
    )
    inside = locator.locate(120.601, 31.301)
    assert (inside.method, inside.region.code) == ("contains", micro.code)
    assert [r.level for r in inside.path][-2:] == ["grid", "micro_grid"]
    # In the grid but far from its only micro-grid: the grid itself (deepest covering region).
    rest = locator.locate(120.615, 31.33)
    assert (rest.inside, rest.method, rest.region.code) == (True, "contains", G111)
    # Just outside the micro-grid: its nearest leaf within 50 m wins over the covering grid.
    near = locator.locate(120.6053, 31.301)
    assert (near.method, near.region.code) == ("nearest", micro.code)


def test_nearest_fallback_stays_inside_the_covering_region(tree, settings):
    settings.LOCATOR_FALLBACK_METRES = 50
    # Deactivating G111 leaves a hole in community 320571001001 (only G112 remains there).
    region_update(actor=None, region=Region.objects.get(code=G111), is_active=False)
    # 22 m south of G121 (another community) but 47.5 m west of G112 (this community).
    result = locator.locate(120.6195, 31.3398)
    assert (result.method, result.region.code) == ("nearest", G112)
    assert result.distance_m == pytest.approx(47.5, abs=0.5)
    # Outside every region, the nearest leaf anywhere counts.
    outside = locator.locate(120.6195, 31.3802)  # 22 m north of G121, above the county
    assert (outside.method, outside.region.code) == ("nearest", G121)
