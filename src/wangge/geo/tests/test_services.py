"""Region services: validated creation, versioned updates, audit, locator freshness."""

from __future__ import annotations

import pytest
from shapely.geometry import shape

from wangge.core.exceptions import ValidationError
from wangge.core.models import AuditRecord
from wangge.geo import locator
from wangge.geo.choices import Level
from wangge.geo.models import LocatorGeneration, Region, RegionVersion
from wangge.geo.services import region_create, region_update
from wangge.geo.tests.factories import square


def generation():
    return LocatorGeneration.objects.get(id=1).generation


def test_create_checks_the_code_against_level_and_parent(tree):
    community = tree.communities[0]
    with pytest.raises(ValidationError) as exc:
        region_create(
            actor=None, level=Level.GRID, code="320599001001001", name="x", parent=community
        )
    assert "不以上级代码" in exc.value.message
    with pytest.raises(ValidationError):
        region_create(actor=None, level=Level.GRID, code="1234", name="x", parent=community)


def test_create_refuses_duplicates_and_wrong_level_order(tree):
    community = tree.communities[0]
    with pytest.raises(ValidationError) as exc:
        region_create(
            actor=None, level=Level.GRID, code=tree.grids[0].code, name="x", parent=community
        )
    assert "已存在" in exc.value.message
    with pytest.raises(ValidationError):
        region_create(actor=None, level=Level.STREET, code="320571001", name="x", parent=community)
    with pytest.raises(ValidationError):
        region_create(actor=None, level=Level.CITY, code="320600", name="x", parent=None)


def test_create_sets_path_depth_derived_fields_and_audits(tree):
    community = tree.communities[0]
    audits = AuditRecord.objects.count()
    before = generation()
    grid = region_create(
        actor=None,
        level=Level.GRID,
        code=f"{community.code}009",
        name="新网格",
        parent=community,
        boundary=square(120.60, 31.30, 0.001),
    )
    assert grid.path == f"{community.path}{grid.pk}/"
    assert grid.depth == community.depth + 1
    assert grid.grid_type == "ordinary"
    assert grid.min_lon == pytest.approx(120.60) and grid.max_lat == pytest.approx(31.301)
    assert grid.area_m2 == pytest.approx(0.001**2 * 111_320 * 0.8545 * 110_540, rel=0.01)
    assert generation() == before + 1
    assert AuditRecord.objects.count() == audits + 1


def test_create_rejects_non_polygons_and_repairs_invalid_ones(tree):
    community = tree.communities[0]
    with pytest.raises(ValidationError):
        region_create(
            actor=None,
            level=Level.GRID,
            code=f"{community.code}009",
            name="点",
            parent=community,
            boundary={"type": "Point", "coordinates": [120.6, 31.3]},
        )
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[120.6, 31.3], [120.61, 31.31], [120.61, 31.3], [120.6, 31.31], [120.6, 31.3]]
        ],
    }
    grid = region_create(
        actor=None,
        level=Level.GRID,
        code=f"{community.code}009",
        name="蝴蝶",
        parent=community,
        boundary=bowtie,
    )
    assert shape(grid.boundary).is_valid


def test_update_keeps_the_previous_version_and_bumps_the_locator(tree):
    grid = tree.grids[0]
    before = generation()
    region_update(actor=None, region=grid, name="改名网格", reason="更名")
    region_update(actor=None, region=grid, boundary=square(120.60, 31.30, 0.01))
    grid.refresh_from_db()
    assert grid.version == 3
    versions = list(RegionVersion.objects.filter(region=grid).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].name == "第1街道第1社区网格1"
    assert versions[0].reason == "更名"
    assert shape(versions[1].boundary).area == pytest.approx(0.02 * 0.04)
    assert generation() == before + 2  # rename and redraw both refresh the locator


def test_households_change_does_not_rebuild_the_locator(tree):
    before = generation()
    region_update(actor=None, region=tree.grids[0], households=450)
    assert generation() == before


def test_update_refuses_unknown_fields(tree):
    with pytest.raises(ValidationError):
        region_update(actor=None, region=tree.grids[0], code="320571001001099")


def test_deactivating_a_grid_removes_it_from_the_locator(tree):
    locator.reset()
    grid = tree.grids[0]
    assert locator.locate(120.605, 31.31).region.code == grid.code
    region_update(actor=None, region=grid, is_active=False)
    assert locator.locate(120.605, 31.31).region.code != grid.code
    assert Region.objects.get(pk=grid.pk).is_active is False
    locator.reset()
