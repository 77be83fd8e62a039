"""Test helpers for cases: a small catalogue, departments, users by role and cases in any state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from wangge.accounts.models import User
from wangge.accounts.tests.factories import make_user
from wangge.cases.catalogue import catalogue_apply
from wangge.cases.choices import CaseState, Source
from wangge.cases.deadlines import WorkCalendar
from wangge.cases.models import Case, Department, MatterRoute, MatterType
from wangge.cases.services.common import rules_for, step_fields
from wangge.geo.models import Region
from wangge.geo.tests.factories import Tree

# Smallest valid PNG header (magic bytes are what is checked).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

SMALL_CATALOGUE: list[dict[str, Any]] = [
    {
        "code": "06010",
        "name": "暴露垃圾",
        "group_name": "市容环境类",
        "kind": "matter",
        "default_level": "grid",
        "handle_limit": 4,
        "handle_unit": "work_hour",
        "on_spot_allowed": True,
        "pushdown_allowed": True,
        "keywords": ["垃圾", "乱扔"],
    },
    {
        "code": "06001",
        "name": "私搭乱建",
        "group_name": "市容环境类",
        "kind": "matter",
        "default_level": "street",
        "handle_limit": 15,
        "handle_unit": "work_day",
        "keywords": ["违建", "搭建"],
    },
    {
        "code": "06028",
        "name": "噪声扰民",
        "group_name": "市容环境类",
        "kind": "matter",
        "default_level": "grid",  # but not admitted to grids: must go up (准入)
        "pushdown_allowed": False,
        "keywords": ["噪音", "扰民"],
    },
    {
        "code": "01001",
        "name": "供水井盖异常",
        "group_name": "市政公用设施类",
        "kind": "component",
        "default_level": "department",
        "urgency_levels": ["normal", "urgent", "critical"],
        "keywords": ["井盖"],
    },
    {
        "code": "91001",
        "name": "邻里纠纷",
        "group_name": "矛盾纠纷",
        "kind": "social",
        "default_level": "community",
        "keywords": ["邻居", "漏水"],
    },
]

_seq = itertools.count(1)


def load_small_catalogue() -> dict[str, MatterType]:
    catalogue_apply(actor=None, items=SMALL_CATALOGUE, note="test")
    return {m.code: m for m in MatterType.objects.all()}


def centre(region: Region) -> tuple[float, float]:
    assert region.center_lon is not None and region.center_lat is not None
    return region.center_lon, region.center_lat


@dataclass
class World:
    tree: Tree
    grid: Region
    other_grid: Region  # another street: out of area for the people below
    worker: User  # grid_worker on grid
    worker2: User
    secretary: User  # community_secretary on grid's community
    dispatcher: User  # street_dispatcher on grid's street
    outsider: User  # street_dispatcher on the other street
    commander: User  # district_commander on the county
    dept_user: User  # member of dept (department_staff on the county)
    dept2_user: User
    nobody: User  # no roles
    dept: Department
    dept2: Department
    matters: dict[str, MatterType]


def make_world(tree: Tree) -> World:
    grid = tree.grids[0]
    community = tree.communities[0]
    street = tree.streets[0]
    dept = Department.objects.create(code="CG", name="城管", region=tree.county)
    dept2 = Department.objects.create(code="SZ", name="市政", region=tree.county)
    dept_user = make_user("dept_user", role="department_staff", region=tree.county)
    dept2_user = make_user("dept2_user", role="department_staff", region=tree.county)
    dept.members.add(dept_user)
    dept2.members.add(dept2_user)
    matters = load_small_catalogue()
    MatterRoute.objects.create(matter_type=matters["01001"], region=tree.county, department=dept2)
    return World(
        tree=tree,
        grid=grid,
        other_grid=tree.grids[-1],
        worker=make_user("worker", role="grid_worker", region=grid),
        worker2=make_user("worker2", role="grid_worker", region=grid),
        secretary=make_user("secretary", role="community_secretary", region=community),
        dispatcher=make_user("dispatcher", role="street_dispatcher", region=street),
        outsider=make_user("outsider", role="street_dispatcher", region=tree.streets[1]),
        commander=make_user("commander", role="district_commander", region=tree.county),
        dept_user=dept_user,
        dept2_user=dept2_user,
        nobody=make_user("nobody"),
        dept=dept,
        dept2=dept2,
        matters=matters,
    )


def make_case(
    world: World,
    *,
    state: str = CaseState.REPORTED,
    matter: str = "06010",
    grid: Region | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> Case:
    """A case written directly in ``state`` (for table tests; intake is tested separately)."""
    grid = grid or world.grid
    mt = world.matters.get(matter)
    rules = rules_for(mt)
    now = now or timezone.now()
    lon, lat = centre(grid)
    timing = step_fields(
        state=state,
        rules=rules,
        urgency="normal",
        now=now,
        calendar=WorkCalendar(),
        deadlines={},
    )
    values: dict[str, Any] = {
        "tracking_code": f"T{next(_seq):09d}",
        "source": Source.PATROL,
        "title": "测试事件",
        "lon": lon,
        "lat": lat,
        "grid": grid,
        "region_path": grid.path,
        "matter_type": mt,
        "matter_version": mt.current_version if mt else None,
        "rules": rules,
        "urgency": "normal",
        "state": state,
        "handling_level": rules["default_level"] if rules["pushdown_allowed"] else "community",
        "handling_region": grid,
        "reported_at": now,
        **timing,
    }
    values.update(fields)
    return Case.objects.create(**values)
