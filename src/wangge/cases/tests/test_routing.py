from __future__ import annotations

import pytest

from wangge.cases.choices import HandlingLevel
from wangge.cases.routing import route_case
from wangge.cases.services.common import rules_for

pytestmark = pytest.mark.django_db


def _route(world, code, *, on_spot=False, grid=None):
    mt = world.matters.get(code) if code else None
    return route_case(matter_type=mt, rules=rules_for(mt), grid=grid or world.grid, on_spot=on_spot)


def test_a_small_admitted_matter_stays_in_the_grid(world):
    r = _route(world, "06010")
    assert (r.level, r.region) == (HandlingLevel.GRID, world.grid)
    assert "准入" in r.reasons[0]


def test_on_the_spot_resolution_is_allowed_only_where_the_catalogue_says_so(world):
    assert _route(world, "06010", on_spot=True).on_spot
    r = _route(world, "06001", on_spot=True)
    assert not r.on_spot and r.level == HandlingLevel.STREET
    assert "不允许网格现场处置" in r.reasons[0]


def test_a_matter_not_admitted_to_grids_is_never_routed_to_a_grid(world):
    r = _route(world, "06028")  # default level says grid, but pushdown is not allowed
    assert r.level == HandlingLevel.COMMUNITY
    assert r.region == world.tree.communities[0]
    assert "未列入网格准入清单" in r.reasons[0]


def test_a_department_matter_goes_to_the_department_responsible_for_the_area(world):
    r = _route(world, "01001")
    assert (r.level, r.department) == (HandlingLevel.DEPARTMENT, world.dept2)
    assert world.dept2.name in r.reasons[0]


def test_the_deepest_responsibility_wins(world):
    from wangge.cases.models import Department, MatterRoute

    local = Department.objects.create(
        code="SZ1", name="第1街道市政所", region=world.tree.streets[0]
    )
    MatterRoute.objects.create(
        matter_type=world.matters["01001"], region=world.tree.streets[0], department=local
    )
    assert _route(world, "01001").department == local
    assert _route(world, "01001", grid=world.other_grid).department == world.dept2


def test_a_department_matter_without_a_responsible_department_goes_to_the_street(world):
    from wangge.cases.models import MatterRoute

    MatterRoute.objects.all().delete()
    r = _route(world, "01001")
    assert (r.level, r.region) == (HandlingLevel.STREET, world.tree.streets[0])
    assert "未配置责任部门" in r.reasons[-1]


def test_street_and_community_levels_and_unclassified_cases(world):
    assert _route(world, "06001").region == world.tree.streets[0]
    assert _route(world, "91001").region == world.tree.communities[0]
    r = _route(world, None)
    assert r.level == HandlingLevel.COMMUNITY and "未确定" in r.reasons[0]
